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
        let Some((data, expires)) = self.0.session_load(&id.to_string(), now).await.map_err(backend)? else {
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
