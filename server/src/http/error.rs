//! The API's error policy: every failure answers `{"error": "..."}` with a message that names
//! what is wrong; internal causes are logged, never sent. The status is decided here only.

use crate::ingest::IngestError;
use crate::service::Error;
use crate::store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An API failure: the one error kind, answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl ApiError {
    pub fn bad_request(m: impl Into<String>) -> ApiError {
        ApiError(Error::malformed(m))
    }
    pub fn unauthorized(m: impl Into<String>) -> ApiError {
        ApiError(Error::Unauthenticated(m.into()))
    }
    pub fn forbidden(m: impl Into<String>) -> ApiError {
        ApiError(Error::Forbidden(m.into()))
    }
    pub fn not_found(m: impl Into<String>) -> ApiError {
        ApiError(Error::NotFound(m.into()))
    }
    /// Invalid input with no one field named.
    pub fn unprocessable(m: impl Into<String>) -> ApiError {
        ApiError(Error::invalid_input(m))
    }
    pub fn too_large(m: impl Into<String>) -> ApiError {
        ApiError(Error::TooLarge(m.into()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = match self.0.field() {
            Some(f) => serde_json::json!({ "error": self.0.to_string(), "field": f }),
            None => serde_json::json!({ "error": self.0.to_string() }),
        };
        let mut resp = (status, Json(body)).into_response();
        match &self.0 {
            Error::Unauthenticated(_) => {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::Unavailable { retry_after: Some(s), .. } => {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*s));
            }
            _ => {}
        }
        resp
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> ApiError {
        let message = e.to_string();
        ApiError(match e {
            IngestError::NotJson(_) => Error::malformed(message),
            IngestError::UnknownFormat(_) => Error::Unsupported(message),
            IngestError::Invalid(_) => Error::invalid_input(message),
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError(Error::from(e))
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError(e)
    }
}
