//! The one error kind (compiled for the server and the browser): the service answers it, the
//! API renders it as `{"error", "field"?}`, pages and forms show it, server functions carry it,
//! the CLI prints it. Its HTTP status comes from one table, [`Error::status`]; the field at
//! fault is data, never read back out of the message.

/// Why something could not be done, already safe to show (internal causes are logged by the
/// server, never carried here).
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum Error {
    /// Nobody is signed in, or no valid token was sent: says what is missing.
    #[error("{0}")]
    Unauthenticated(String),
    /// The role (or team, or a token's bindings) does not allow it; never names another team.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request cannot be read (not JSON, a malformed parameter); `field` names it when one is.
    #[error("{message}")]
    Malformed { field: Option<String>, message: String },
    /// The input is read but wrong; `field` names it when one field is to blame.
    #[error("{message}")]
    Invalid { field: Option<String>, message: String },
    /// A body over the configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// A body of a type Drydock does not take (a report of an unknown format).
    #[error("{0}")]
    Unsupported(String),
    /// The request contradicts the current state (what it saw is no longer so): 409 everywhere.
    #[error("{0}")]
    Conflict(String),
    /// Something Drydock depends on is down or busy; try again after `retry_after` seconds.
    #[error("{message}")]
    Unavailable { message: String, retry_after: Option<u32> },
    /// A failure of Drydock's own: the cause is in the server log.
    #[error("internal error; the cause is in the server log")]
    Internal,
    /// The call itself failed (network, encoding): from the server-function machinery.
    #[error("{0}")]
    Call(leptos::prelude::ServerFnErrorErr),
}

impl Error {
    /// The status every adapter answers with: the one table.
    pub fn status(&self) -> u16 {
        match self {
            Error::Malformed { .. } => 400,
            Error::Unauthenticated(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::Conflict(_) => 409,
            Error::TooLarge(_) => 413,
            Error::Unsupported(_) => 415,
            Error::Invalid { .. } => 422,
            Error::Unavailable { .. } => 503,
            Error::Internal | Error::Call(_) => 500,
        }
    }

    /// The field at fault, when one is named.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Malformed { field, .. } | Error::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// Nobody is signed in.
    pub fn sign_in() -> Error {
        Error::Unauthenticated("sign in first".into())
    }

    /// `field` is wrong: the message reads `field: what`.
    pub fn invalid(field: impl Into<String>, what: impl std::fmt::Display) -> Error {
        let field = field.into();
        Error::Invalid { message: format!("{field}: {what}"), field: Some(field) }
    }

    /// The input is wrong as a whole (no one field to blame).
    pub fn invalid_input(message: impl Into<String>) -> Error {
        Error::Invalid { field: None, message: message.into() }
    }

    /// The request cannot be read.
    pub fn malformed(message: impl Into<String>) -> Error {
        Error::Malformed { field: None, message: message.into() }
    }

    /// A dependency is down, with no retry hint.
    pub fn unavailable(message: impl Into<String>) -> Error {
        Error::Unavailable { message: message.into(), retry_after: None }
    }

    /// The same error about a query parameter instead of a body: invalid input there is a
    /// malformed request (400).
    pub fn in_query(self) -> Error {
        match self {
            Error::Invalid { field, message } => Error::Malformed { field, message },
            other => other,
        }
    }

    /// The same error with its message prefixed by `what` (`registry: url: ...`), field kept.
    pub fn within(self, what: &str) -> Error {
        match self {
            Error::Invalid { field, message } => Error::Invalid { field, message: format!("{what}: {message}") },
            other => other,
        }
    }
}

impl leptos::prelude::FromServerFnError for Error {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::prelude::ServerFnErrorErr) -> Self {
        Error::Call(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_is_data_and_the_status_comes_from_one_table() {
        let e = Error::invalid("name", "1 to 64 letters");
        assert_eq!(e.to_string(), "name: 1 to 64 letters");
        assert_eq!(e.field(), Some("name"));
        assert_eq!(e.status(), 422);
        assert_eq!(e.clone().in_query().status(), 400);
        assert_eq!(e.clone().in_query().field(), Some("name"));
        assert_eq!(e.within("registry").to_string(), "registry: name: 1 to 64 letters");
        assert_eq!(Error::invalid_input("the body is empty").field(), None);
        assert_eq!(Error::Conflict("x".into()).status(), 409);
        assert_eq!(Error::unavailable("x").status(), 503);
    }
}
