//! The pages form handlers answer with outside the Leptos router (a created token's secret, a
//! refusal with the way back, sign-out), rendered from the app's components
//! (`app::pages::plain`), and the one wording of a failed form for every error kind.

use crate::service::Error;
use app::pages::plain::{render, Refusal};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use leptos::prelude::*;

/// A component's page as an answer.
pub(crate) fn plain<V: IntoView + 'static>(status: StatusCode, page: impl FnOnce() -> V) -> Response {
    (status, Html(render(page))).into_response()
}

/// A refusal page with a way back to the admin page the form came from.
pub(crate) fn refuse(back: (&str, &str), status: StatusCode, msg: &str) -> Response {
    let (message, back_href, back_label) = (msg.to_string(), back.0.to_string(), back.1.to_string());
    plain(status, move || view! { <Refusal message back_href back_label/> })
}

/// A service refusal or failure of a form, as its page (the service logged internal causes).
pub(crate) fn failure(back: (&str, &str), e: Error, what: &str) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match e {
        Error::Unauthenticated(_) => "Sign in first.".to_string(),
        Error::Invalid { message, .. } => format!("The {what} was not done: {message}"),
        Error::Internal | Error::Call(_) => format!("The {what} failed; the cause is in the server log."),
        other => other.to_string(),
    };
    refuse(back, status, &message)
}
