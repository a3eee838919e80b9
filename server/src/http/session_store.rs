//! tower-sessions records kept in Drydock's own database (SQLite or PostgreSQL), so replicas
//! share sessions and no extra service is needed.

use crate::store::capabilities::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};

/// The session store over the store's session rows; expiry is judged by the application's clock.
/// Loads are answered in batches (`Loads`): under many concurrent pages one statement reads every
/// session asked for meanwhile, with the data version.
#[derive(Debug, Clone)]
pub struct DbSessionStore<S> {
    store: S,
    clock: crate::clock::SharedClock,
    loads: Arc<Mutex<Loads>>,
}

impl<S> DbSessionStore<S> {
    pub fn new(store: S, clock: crate::clock::SharedClock) -> DbSessionStore<S> {
        DbSessionStore { store, clock, loads: Arc::default() }
    }
}

/// Most sessions one statement reads.
const MOST_PER_LOAD: usize = 256;

/// A session's row (data, expiry in unix seconds) when it exists, and the data version read with
/// it; or the store's failure, as text (every waiter of a batch gets it).
type Loaded = std::result::Result<(Option<(String, i64)>, i64), String>;

/// Session loads waiting for the next statement, and whether a task is reading them. A load that
/// arrives while a statement runs waits for the next one, which starts after it arrived: what it
/// reads was committed no later than then, so a write answered on any replica is seen (the
/// read-your-write of one statement per request), while 64 concurrent pages cost a few statements
/// instead of 64.
#[derive(Debug, Default)]
struct Loads {
    reading: bool,
    waiting: Vec<(String, tokio::sync::oneshot::Sender<Loaded>)>,
}

/// Reads the waiting loads a batch at a time until none waits.
async fn read_waiting<S: SessionStore>(store: S, loads: Arc<Mutex<Loads>>) {
    let mut ends = ReadingEnds { loads: loads.clone(), done: false };
    loop {
        let batch: Vec<_> = {
            let mut l = loads.lock().unwrap_or_else(|e| e.into_inner());
            if l.waiting.is_empty() {
                // Decided under the lock: a load pushed after this starts the next reader.
                l.reading = false;
                ends.done = true;
                return;
            }
            let n = l.waiting.len().min(MOST_PER_LOAD);
            l.waiting.drain(..n).collect()
        };
        let mut ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        let answer = store.sessions_load(&ids).await;
        let mut rows: HashMap<String, (String, i64)> = HashMap::new();
        let answer = answer.map(|(found, version)| {
            rows.extend(found.into_iter().map(|s| (s.id, (s.data, s.expires_at))));
            version
        });
        for (id, answer_to) in batch {
            let loaded = match &answer {
                Ok(version) => Ok((rows.get(&id).cloned(), *version)),
                Err(e) => Err(e.to_string()),
            };
            let _ = answer_to.send(loaded);
        }
    }
}

/// Should the reading task end before it decided to (a panic in the store, the runtime shutting
/// down), the loads still waiting fail and the next load starts a new task, instead of every later
/// page waiting.
struct ReadingEnds {
    loads: Arc<Mutex<Loads>>,
    done: bool,
}

impl Drop for ReadingEnds {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut l = self.loads.lock().unwrap_or_else(|e| e.into_inner());
        l.reading = false;
        l.waiting.clear();
    }
}

/// Whose session a record is (the signed-in person's subject), so their sessions can be ended.
fn subject_of(record: &Record) -> Option<String> {
    record.data.get("drydock.user")?.get("user")?.get("subject")?.as_str().map(str::to_string)
}

tokio::task_local! {
    /// The data version read with the request's session (`remember_version` scopes it).
    static VERSION_SEEN: std::cell::Cell<Option<i64>>;
}

/// Middleware outside the session layer: lets the session's load hand the data version it read
/// to the layers inside (the page cache), so a kept page costs one statement, not two.
pub async fn remember_version(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    VERSION_SEEN.scope(std::cell::Cell::new(None), next.run(req)).await
}

/// The data version read with this request's session, when it was loaded.
pub fn version_seen() -> Option<i64> {
    VERSION_SEEN.try_with(std::cell::Cell::get).ok().flatten()
}

fn backend(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

#[async_trait::async_trait]
impl<S: SessionStore + Clone + std::fmt::Debug + 'static> tower_sessions::SessionStore for DbSessionStore<S> {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        // A clash of 128-bit random ids is astronomically unlikely; draw again if it happens.
        while !self
            .store
            .session_create(&record.id.to_string(), &data, record.expiry_date.unix_timestamp(), subject_of(record).as_deref())
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        self.store
            .session_save(&record.id.to_string(), &data, record.expiry_date.unix_timestamp(), subject_of(record).as_deref())
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = self.clock.now().timestamp();
        let (answer, answered) = tokio::sync::oneshot::channel();
        let start_reading = {
            let mut l = self.loads.lock().unwrap_or_else(|e| e.into_inner());
            l.waiting.push((id.to_string(), answer));
            !std::mem::replace(&mut l.reading, true)
        };
        if start_reading {
            tokio::spawn(read_waiting(self.store.clone(), self.loads.clone()));
        }
        let (row, version) =
            answered.await.map_err(|_| backend("the session was not read: its reader stopped"))?.map_err(Error::Backend)?;
        let _ = VERSION_SEEN.try_with(|seen| seen.set(Some(version)));
        let Some((data, expires)) = row.filter(|(_, expires)| *expires > now) else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(expires).map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.store.session_delete(&id.to_string()).await.map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    //! The session layer over a small in-memory `SessionStore`: what is tested here is how
    //! records become rows (subject, expiry by the application's clock, id clashes, failures),
    //! not the SQL, which the store suite runs on both databases.
    use super::*;
    use crate::clock::{ManualClock, SharedClock};
    use crate::store::StoreError;
    use chrono::{DateTime, Utc};
    use tower_sessions::SessionStore as _;

    /// A stored session: data, expiry (unix seconds), subject.
    type Row = (String, i64, Option<String>);

    /// Rows by id.
    #[derive(Debug, Clone, Default)]
    struct Rows {
        rows: Arc<Mutex<HashMap<String, Row>>>,
        /// Ids `session_create` reports as taken (a clash) without storing.
        taken: Arc<Mutex<Vec<String>>>,
        down: bool,
        /// Statements `sessions_load` ran.
        statements: Arc<std::sync::atomic::AtomicUsize>,
        /// When set, each statement waits for a permit before it reads.
        gate: Option<Arc<tokio::sync::Semaphore>>,
        /// When set, the next statement panics (and clears it).
        panic_next: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Rows {
        fn check(&self) -> std::result::Result<(), StoreError> {
            if self.down {
                Err(StoreError::Db(sqlx::Error::PoolTimedOut))
            } else {
                Ok(())
            }
        }
    }

    impl SessionStore for Rows {
        async fn sessions_load(&self, ids: &[String]) -> std::result::Result<(Vec<crate::store::StoredSession>, i64), StoreError> {
            self.check()?;
            self.statements.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.panic_next.swap(false, std::sync::atomic::Ordering::SeqCst) {
                panic!("the store panicked");
            }
            // Read as the statement starts (a snapshot), answered once the gate opens.
            let read = {
                let rows = self.rows.lock().unwrap();
                let found = ids
                    .iter()
                    .filter_map(|id| {
                        rows.get(id).map(|r| crate::store::StoredSession { id: id.clone(), data: r.0.clone(), expires_at: r.1 })
                    })
                    .collect();
                (found, rows.len() as i64)
            };
            if let Some(gate) = &self.gate {
                gate.acquire().await.unwrap().forget();
            }
            Ok(read)
        }
        async fn session_create(&self, id: &str, data: &str, expires: i64, subject: Option<&str>) -> std::result::Result<bool, StoreError> {
            self.check()?;
            let mut taken = self.taken.lock().unwrap();
            if let Some(i) = taken.iter().position(|t| t == id) {
                taken.remove(i);
                return Ok(false);
            }
            let mut rows = self.rows.lock().unwrap();
            if rows.contains_key(id) {
                return Ok(false);
            }
            rows.insert(id.into(), (data.into(), expires, subject.map(str::to_string)));
            Ok(true)
        }
        async fn session_save(&self, id: &str, data: &str, expires: i64, subject: Option<&str>) -> std::result::Result<(), StoreError> {
            self.check()?;
            self.rows.lock().unwrap().insert(id.into(), (data.into(), expires, subject.map(str::to_string)));
            Ok(())
        }
        async fn session_delete(&self, id: &str) -> std::result::Result<(), StoreError> {
            self.check()?;
            self.rows.lock().unwrap().remove(id);
            Ok(())
        }
        async fn session_delete_expired(&self, now_unix: i64) -> std::result::Result<u64, StoreError> {
            self.check()?;
            let mut rows = self.rows.lock().unwrap();
            let before = rows.len();
            rows.retain(|_, r| r.1 > now_unix);
            Ok((before - rows.len()) as u64)
        }
    }

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-06-30T12:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn record(expires: DateTime<Utc>, subject: &str) -> Record {
        let mut data = HashMap::new();
        data.insert("drydock.user".to_string(), serde_json::json!({ "user": { "subject": subject } }));
        Record { id: Id::default(), data, expiry_date: time::OffsetDateTime::from_unix_timestamp(expires.timestamp()).unwrap() }
    }

    #[tokio::test]
    async fn a_record_is_stored_with_its_subject_and_read_back() {
        let rows = Rows::default();
        let store = DbSessionStore::new(rows.clone(), ManualClock::new(start()) as SharedClock);
        let mut r = record(start() + chrono::Duration::hours(1), "https://idp#alice");
        store.create(&mut r).await.unwrap();
        let stored = rows.rows.lock().unwrap().get(&r.id.to_string()).cloned().unwrap();
        assert_eq!(stored.2.as_deref(), Some("https://idp#alice"), "the subject is kept so the person's sessions can be ended");
        assert_eq!(stored.1, (start() + chrono::Duration::hours(1)).timestamp());
        let back = store.load(&r.id).await.unwrap().expect("a live session loads");
        assert_eq!(back.data, r.data);
        assert_eq!(back.expiry_date, r.expiry_date);
        store.delete(&r.id).await.unwrap();
        assert!(store.load(&r.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn the_data_version_read_with_the_session_is_handed_on() {
        let rows = Rows::default();
        let store = DbSessionStore::new(rows, ManualClock::new(start()) as SharedClock);
        let mut r = record(start() + chrono::Duration::hours(1), "s");
        store.create(&mut r).await.unwrap();
        assert_eq!(version_seen(), None, "outside a request's scope");
        let loaded = |id: Id| {
            let store = store.clone();
            VERSION_SEEN.scope(std::cell::Cell::new(None), async move {
                assert_eq!(version_seen(), None, "nothing read yet");
                let found = store.load(&id).await.unwrap().is_some();
                (found, version_seen())
            })
        };
        // The test rows' version is how many sessions there are.
        assert_eq!(loaded(r.id).await, (true, Some(1)));
        assert_eq!(loaded(Id::default()).await, (false, Some(1)), "an unknown session still reads the version");
    }

    /// Whether `load` finds the session `id`, and the data version it hands on.
    async fn version_of_load(store: &DbSessionStore<Rows>, id: Id) -> (bool, Option<i64>) {
        let store = store.clone();
        VERSION_SEEN
            .scope(std::cell::Cell::new(None), async move {
                let found = store.load(&id).await.unwrap().is_some();
                (found, version_seen())
            })
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn loads_waiting_together_are_read_by_one_statement_and_see_writes_made_before_they_came() {
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let rows = Rows { gate: Some(gate.clone()), ..Rows::default() };
        let store = DbSessionStore::new(rows.clone(), ManualClock::new(start()) as SharedClock);
        let mut first = record(start() + chrono::Duration::hours(1), "a");
        store.create(&mut first).await.unwrap();
        // The first load's statement is held at the gate: it is running.
        let held = tokio::spawn({
            let store = store.clone();
            async move { version_of_load(&store, first.id).await }
        });
        while rows.statements.load(std::sync::atomic::Ordering::SeqCst) < 1 {
            tokio::task::yield_now().await;
        }
        // A session written now, then 40 loads that came after the write: they wait for the
        // next statement, which must see it (and the version it moved: one more session).
        let mut second = record(start() + chrono::Duration::hours(1), "b");
        store.create(&mut second).await.unwrap();
        let later: Vec<_> = (0..40)
            .map(|i| {
                let store = store.clone();
                let id = if i % 2 == 0 { second.id } else { Id::default() };
                tokio::spawn(async move { (i, version_of_load(&store, id).await) })
            })
            .collect();
        while store.loads.lock().unwrap().waiting.len() < 40 {
            tokio::task::yield_now().await;
        }
        gate.add_permits(2);
        assert_eq!(held.await.unwrap(), (true, Some(1)), "the held statement read before the second session");
        for l in later {
            let (i, answer) = l.await.unwrap();
            assert_eq!(answer, (i % 2 == 0, Some(2)), "load {i} reads what was written before it came");
        }
        assert_eq!(rows.statements.load(std::sync::atomic::Ordering::SeqCst), 2, "41 loads, two statements");
        assert!(!store.loads.lock().unwrap().reading, "the reader stops when no load waits");
    }

    /// Loads that come just as the reader decides to stop start the next reader, and nothing
    /// of the stopping one fails them: many loads from several tasks, every one answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_load_is_answered_however_loads_and_readers_interleave() {
        let rows = Rows::default();
        let store = DbSessionStore::new(rows.clone(), ManualClock::new(start()) as SharedClock);
        let mut r = record(start() + chrono::Duration::hours(1), "s");
        store.create(&mut r).await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    for _ in 0..3_000 {
                        assert!(store.load(&r.id).await.expect("a load is answered").is_some());
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let statements = rows.statements.load(std::sync::atomic::Ordering::SeqCst);
        assert!(statements <= 24_000, "no more statements than loads: {statements}");
    }

    #[tokio::test]
    async fn a_reader_that_panics_fails_its_loads_and_the_next_load_reads_again() {
        let rows = Rows::default();
        let store = DbSessionStore::new(rows.clone(), ManualClock::new(start()) as SharedClock);
        let mut r = record(start() + chrono::Duration::hours(1), "s");
        store.create(&mut r).await.unwrap();
        rows.panic_next.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(matches!(store.load(&r.id).await, Err(Error::Backend(m)) if m.contains("reader stopped")), "a failed load, not a hang");
        assert!(!store.loads.lock().unwrap().reading, "the panicked reader is no longer counted as reading");
        assert_eq!(version_of_load(&store, r.id).await, (true, Some(1)), "a new reader answers the next load");
    }

    #[tokio::test]
    async fn a_failed_batch_fails_its_loads_and_the_next_load_reads_again() {
        let rows = Rows::default();
        let store = DbSessionStore::new(rows.clone(), ManualClock::new(start()) as SharedClock);
        let mut r = record(start() + chrono::Duration::hours(1), "s");
        store.create(&mut r).await.unwrap();
        let down = DbSessionStore { store: Rows { down: true, ..rows.clone() }, ..store.clone() };
        assert!(matches!(down.load(&r.id).await, Err(Error::Backend(m)) if m.contains("pool timed out")));
        assert_eq!(version_of_load(&store, r.id).await, (true, Some(1)), "the same loads read again once the store answers");
    }

    #[tokio::test]
    async fn a_clashing_id_is_drawn_again() {
        let rows = Rows::default();
        let store = DbSessionStore::new(rows.clone(), ManualClock::new(start()) as SharedClock);
        let mut r = record(start() + chrono::Duration::hours(1), "s");
        let first = r.id;
        rows.taken.lock().unwrap().push(first.to_string());
        store.create(&mut r).await.unwrap();
        assert_ne!(r.id, first, "the record carries the id it was stored under");
        assert!(rows.rows.lock().unwrap().contains_key(&r.id.to_string()));
        assert!(!rows.rows.lock().unwrap().contains_key(&first.to_string()));
    }

    #[tokio::test]
    async fn expiry_is_judged_by_the_application_clock() {
        let rows = Rows::default();
        let clock = ManualClock::new(start());
        let store = DbSessionStore::new(rows, clock.clone() as SharedClock);
        let mut r = record(start() + chrono::Duration::minutes(30), "s");
        store.create(&mut r).await.unwrap();
        clock.advance(chrono::Duration::minutes(29));
        assert!(store.load(&r.id).await.unwrap().is_some());
        clock.advance(chrono::Duration::minutes(2));
        assert!(store.load(&r.id).await.unwrap().is_none(), "past its expiry on the application's clock");
    }

    #[tokio::test]
    async fn a_store_failure_is_a_backend_error_not_a_missing_session() {
        let rows = Rows { down: true, ..Rows::default() };
        let store = DbSessionStore::new(rows, ManualClock::new(start()) as SharedClock);
        let r = record(start() + chrono::Duration::hours(1), "s");
        assert!(matches!(store.load(&r.id).await, Err(Error::Backend(m)) if m.contains("pool timed out")));
        assert!(matches!(store.save(&r).await, Err(Error::Backend(_))));
    }
}
