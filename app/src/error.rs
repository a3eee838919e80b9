//! The one error pages and server functions share (compiled for the server and the browser).

/// A failure behind a port, already safe to show (details are logged by the server). It is the
/// server functions' own error type: pages match on its variants, never on message text.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum PortError {
    /// Nobody is signed in.
    #[error("sign in to see this page")]
    Unauthenticated,
    /// Signed in, but the role or team does not allow it.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The input is wrong; `field` names it when one field is to blame.
    #[error("{message}")]
    Invalid { field: Option<String>, message: String },
    /// Something Drydock depends on is missing or down.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
    /// The call itself failed (network, encoding): from the server-function machinery.
    #[error("{0}")]
    Call(leptos::prelude::ServerFnErrorErr),
}

impl PortError {
    /// The HTTP status a caller of the server function's endpoint sees.
    pub fn status(&self) -> u16 {
        match self {
            PortError::Unauthenticated => 401,
            PortError::Forbidden(_) => 403,
            PortError::NotFound(_) => 404,
            PortError::Invalid { .. } => 422,
            PortError::Unavailable(_) => 503,
            PortError::Internal(_) | PortError::Call(_) => 500,
        }
    }
}

impl leptos::prelude::FromServerFnError for PortError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::prelude::ServerFnErrorErr) -> Self {
        PortError::Call(value)
    }
}
