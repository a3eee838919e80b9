//! The plain pages form handlers answer with outside the Leptos shell (a created token's secret,
//! a refusal with the way back, sign-out): one document frame, text escaped, and the one
//! wording of a failed form for every error kind.

use crate::service::Error;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A plain page with Drydock's header and stylesheet; `body` is HTML its caller escaped.
pub(crate) fn simple_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} · Drydock</title><link rel=\"stylesheet\" href=\"/pkg/drydock.css\"><link rel=\"icon\" href=\"/favicon.svg\"></head><body><header class=\"topbar\"><a class=\"brand\" href=\"/\">⚓ Drydock</a></header><main class=\"content narrow\"><h1>{}</h1>{}</main></body></html>",
        html_escape(title),
        html_escape(title),
        body
    )
}

/// Text made safe for HTML content and attribute values.
pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A refusal page with a way back to the admin page the form came from.
pub(crate) fn refuse(back: (&str, &str), status: StatusCode, msg: &str) -> Response {
    let body = format!(
        "<div class=\"notice notice-error\" role=\"alert\"><p>{}</p></div><p><a href=\"{}\">Back to {}</a></p>",
        html_escape(msg),
        back.0,
        back.1
    );
    (status, Html(simple_page("Not done", &body))).into_response()
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
