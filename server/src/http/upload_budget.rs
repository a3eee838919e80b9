//! Uploads take their turn: a request with a body first reserves the memory reading and parsing
//! it will hold (six times its declared length; the limit when it declares none) from a budget
//! (`upload_memory_mb`), and holds it until it is answered. Eight 60 MB reports at once then run
//! one or two at a time instead of holding gigabytes together.

use super::AppState;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

/// What a body of n bytes is reckoned to hold while it is parsed.
const EXPANSION: u64 = 6;

pub struct UploadBudget {
    permits: Semaphore,
    /// The budget in KiB (one permit each).
    kib: u32,
}

impl UploadBudget {
    pub fn new(mib: usize) -> UploadBudget {
        let kib = (mib.max(1) as u64 * 1024).min(Semaphore::MAX_PERMITS as u64).min(u32::MAX as u64) as u32;
        UploadBudget { permits: Semaphore::new(kib as usize), kib }
    }

    /// KiB to reserve for a body of `len` bytes (at least one, at most the whole budget).
    fn cost(&self, len: u64) -> u32 {
        (len.saturating_mul(EXPANSION) / 1024).clamp(1, self.kib as u64) as u32
    }
}

pub async fn admit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::POST | Method::PUT) {
        return next.run(req).await;
    }
    let limit = state.config.max_body_bytes as u64;
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let cost = state.uploads.cost(declared.unwrap_or(limit).min(limit));
    // The semaphore is never closed: acquiring fails only then.
    let _held = state.uploads.permits.acquire_many(cost).await;
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_reserves_six_times_its_size_within_the_budget() {
        let b = UploadBudget::new(512);
        assert_eq!(b.cost(0), 1);
        assert_eq!(b.cost(1024 * 1024), 6 * 1024);
        assert_eq!(b.cost(60 * 1024 * 1024), 360 * 1024, "one 60 MB report: 360 MiB of the 512");
        assert_eq!(b.cost(200 * 1024 * 1024), 512 * 1024, "never more than the whole budget (it runs alone)");
    }
}
