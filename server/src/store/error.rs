//! The store's one error type and result.

/// Store failures: a refusal for the user (no such row, invalid, not allowed on this row) as
/// the one error kind, or a database failure (logged, never shown).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Refused(#[from] app::error::Error),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// The database cannot answer now — unreachable or restarting, the pool exhausted, a
    /// connection dropped, SQLite's write lock held past the busy timeout — so the same request
    /// may succeed later. Any other failure is Drydock's own.
    pub fn is_outage(&self) -> bool {
        let StoreError::Db(e) = self else { return false };
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => {
                true
            }
            sqlx::Error::Database(d) => {
                if let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    // Class 08: connection exception; 57P01-57P03: shutting down, starting up;
                    // 53300: too many connections.
                    let code = pg.code();
                    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
                } else if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
                    d.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6))
                } else {
                    false
                }
            }
            _ => false,
        }
    }

    pub fn not_found(message: impl Into<String>) -> StoreError {
        StoreError::Refused(app::error::Error::NotFound(message.into()))
    }
    /// The caller may not do this to this row (the message names no other team).
    pub fn forbidden(message: impl Into<String>) -> StoreError {
        StoreError::Refused(app::error::Error::Forbidden(message.into()))
    }
    /// `field` is wrong: the message reads `field: what`.
    pub fn invalid(field: impl Into<String>, what: impl std::fmt::Display) -> StoreError {
        StoreError::Refused(app::error::Error::invalid(field, what))
    }
    /// The input is wrong as a whole.
    pub fn invalid_input(message: impl Into<String>) -> StoreError {
        StoreError::Refused(app::error::Error::invalid_input(message))
    }
}

impl From<crate::domain::FieldError> for StoreError {
    fn from(e: crate::domain::FieldError) -> StoreError {
        StoreError::invalid(e.field, e.message)
    }
}

/// Crate-wide store result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
