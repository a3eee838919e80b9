//! tower-sessions records kept in Drydock's own database (SQLite or PostgreSQL), so replicas
//! share sessions and no extra service is needed.

use crate::store::capabilities::*;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};

/// The session store over the store's session rows; expiry is judged by the application's clock.
#[derive(Debug, Clone)]
pub struct DbSessionStore<S>(pub S, pub crate::clock::SharedClock);

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
            .0
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
        self.0
            .session_save(&record.id.to_string(), &data, record.expiry_date.unix_timestamp(), subject_of(record).as_deref())
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = self.1.now().timestamp();
        let (row, version) = self.0.session_load(&id.to_string(), now).await.map_err(backend)?;
        let _ = VERSION_SEEN.try_with(|seen| seen.set(Some(version)));
        let Some((data, expires)) = row else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(expires).map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.0.session_delete(&id.to_string()).await.map_err(backend)
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
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
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
        async fn session_load(&self, id: &str, now_unix: i64) -> std::result::Result<(Option<(String, i64)>, i64), StoreError> {
            self.check()?;
            let rows = self.rows.lock().unwrap();
            Ok((rows.get(id).filter(|r| r.1 > now_unix).map(|r| (r.0.clone(), r.1)), rows.len() as i64))
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
        let store = DbSessionStore(rows.clone(), ManualClock::new(start()) as SharedClock);
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
        let store = DbSessionStore(rows, ManualClock::new(start()) as SharedClock);
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

    #[tokio::test]
    async fn a_clashing_id_is_drawn_again() {
        let rows = Rows::default();
        let store = DbSessionStore(rows.clone(), ManualClock::new(start()) as SharedClock);
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
        let store = DbSessionStore(rows, clock.clone() as SharedClock);
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
        let store = DbSessionStore(rows, ManualClock::new(start()) as SharedClock);
        let r = record(start() + chrono::Duration::hours(1), "s");
        assert!(matches!(store.load(&r.id).await, Err(Error::Backend(m)) if m.contains("pool timed out")));
        assert!(matches!(store.save(&r).await, Err(Error::Backend(_))));
    }
}
