//! The listener's discipline: each connection is HTTP/1.1 with a header-read timeout (which also
//! closes a kept-alive connection that sends no next request in time), the number of open
//! connections is capped (beyond it, new ones wait in the kernel's backlog), and shutdown has a
//! deadline: on the signal the listener closes, idle connections close, in-flight requests get
//! until `grace`, and then the function returns whatever clients still hold.

pub use crate::config::ConnectionLimits;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How serving ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Every connection finished within the grace period.
    Drained,
    /// The deadline passed with this many connections still open (they are dropped).
    DeadlinePassed(usize),
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains for at most `limits.grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    tls: Option<Arc<super::tls::Certificates>>,
    shutdown: impl Future<Output = ()>,
) -> Ended {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors (or a connection reset before accept): pause, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(
            tower::ServiceBuilder::new().layer(tower_http::timeout::RequestBodyTimeoutLayer::new(limits.body_idle)).service(app.clone()),
        );
        let Some(tls) = &tls else {
            let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                drop(slot);
            });
            continue;
        };
        // The handshake happens in the connection's task, within the header-read time, so a
        // client that never finishes it holds only its own slot.
        let (acceptor, watcher, http) = (tls.acceptor(), graceful.watcher(), http.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(limits.header_read, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => {
                    if let Err(e) = watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake not finished in time"),
            }
            drop(slot);
        });
    }
    drop(listener);
    let open = limits.max_connections.max(1) - slots.available_permits();
    tracing::info!(open, grace_s = limits.grace.as_secs_f64(), "shutting down: no new connections; in-flight requests may finish");
    tokio::select! {
        () = graceful.shutdown() => Ended::Drained,
        () = tokio::time::sleep(limits.grace) => {
            let open = limits.max_connections.max(1) - slots.available_permits();
            tracing::warn!(open, "the shutdown deadline passed: closing the connections still open");
            Ended::DeadlinePassed(open)
        }
    }
}

/// Raises this process's open-file limit to its hard limit (a connection is a file).
pub fn raise_open_file_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit read and write a plain struct owned here.
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            let wanted = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) != 0 {
                tracing::debug!("the open-file limit could not be raised");
            }
        }
    }
}

/// The open-file limit now (None where it cannot be read).
pub fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    // SAFETY: getrlimit writes a plain struct owned here.
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not everywhere
            return Some(lim.rlim_cur as u64);
        }
    }
    None
}
