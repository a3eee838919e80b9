//! Building and running the application: one function returns a running server on a given
//! listener, so tests start the real thing on port 0.

use crate::config::Config;
use crate::http::{router, AppState};
use crate::store::Store;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The process's allocator, for every binary built on this library (the server, the bench, the
/// tests): mimalloc. glibc's malloc took a fifth of the CPU of loading an estate through the API
/// (`malloc`, `_int_malloc`, `_int_free`, `malloc_consolidate` in a `perf` profile of
/// `drydock-bench`'s load), and under 64 concurrent pages it kept up to sixteen arenas on two
/// cores unless limited to four. mimalloc keeps a heap per thread and returns freed pages to the
/// system after a short delay (BENCHMARKS.md, "Session 28").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Leptos settings from our config (no dependency on cargo-leptos environment variables, so the
/// binary run from the repository root finds `target/site`).
pub fn leptos_options(config: &Config, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("drydock")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(leptos::config::Env::PROD)
        .build()
}

/// The router for `store` and `config`; fails on configuration that cannot work.
pub fn app(store: Store, config: Arc<Config>, addr: std::net::SocketAddr) -> anyhow::Result<axum::Router> {
    Ok(router(state(store, config, addr, Arc::new(crate::clock::SystemClock))?))
}

/// As `app`, on a given clock (tests move it).
pub fn app_with_clock(
    store: Store,
    config: Arc<Config>,
    addr: std::net::SocketAddr,
    clock: crate::clock::SharedClock,
) -> anyhow::Result<axum::Router> {
    Ok(router(state(store, config, addr, clock)?))
}

/// The application's shared state on `clock`; starts the job worker unless `jobs_worker` is off.
pub fn state(store: Store, config: Arc<Config>, addr: std::net::SocketAddr, clock: crate::clock::SharedClock) -> anyhow::Result<AppState> {
    config.check_demo()?;
    let leptos_options = leptos_options(&config, addr);
    let group_mappings = match &config.group_roles {
        Some(spec) => crate::auth::mapping::parse(spec).map_err(|e| anyhow::anyhow!("DRYDOCK_GROUP_ROLES: {e}"))?,
        None => vec![],
    };
    let oidc = match config.oidc()? {
        Some(settings) => Some(Arc::new(crate::auth::oidc::Oidc::new(settings)?)),
        None => None,
    };
    let promotion = config.promotion()?;
    let ledger_key =
        crate::ledger::load_or_create_key(config.ledger_key.as_deref(), &config.database_url).map(Arc::new).map_err(|e| e.to_string());
    if let Err(e) = &ledger_key {
        tracing::warn!(error = %e, "ledger checkpoints cannot be signed");
    }
    let jobs = crate::jobs::Jobs::new(
        store.clone(),
        crate::jobs::JobSettings::from_config(&config)?,
        config.collect_settings()?,
        ledger_key.clone(),
        clock.clone(),
    );
    if config.jobs_worker {
        jobs.start();
    }
    let service = Arc::new(crate::service::Service {
        store,
        clock: clock.clone(),
        promotion,
        scan_max_age_days: config.scan_max_age_days,
        jobs,
        ledger_key,
        ledger_witness: config.ledger_witness.clone(),
        configured_mappings: Arc::new(group_mappings),
        webhook_policy: Arc::new(config.webhook_policy()?),
        admission_tally: Default::default(),
        admission_cache: Default::default(),
    });
    let uploads = Arc::new(crate::http::upload_budget::UploadBudget::new(config.upload_memory_mb));
    Ok(AppState { config, leptos_options: Arc::new(leptos_options), oidc, service, clock, pages: Default::default(), uploads })
}

/// Serves until ctrl-c / SIGTERM, then shuts down within `shutdown_grace_seconds`: no new
/// connections, in-flight requests and running jobs get until the deadline, jobs still running
/// then are handed back to the other replicas, and the function returns whatever clients hold.
pub async fn serve(listener: TcpListener, store: Store, config: Arc<Config>) -> anyhow::Result<()> {
    use crate::http::connections;
    let limits = config.connection_limits()?;
    connections::raise_open_file_limit();
    if let Some(files) = connections::open_file_limit().filter(|&f| (limits.max_connections as u64).saturating_add(64) > f) {
        tracing::warn!(max_connections = limits.max_connections, open_file_limit = files, "max_connections is near the open-file limit");
    }
    let addr = listener.local_addr()?;
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(crate::http::tls::Certificates::load(cert, key)?),
        (None, None) => None,
        _ => anyhow::bail!("tls_cert and tls_key go together: set both or neither"),
    };
    let state = state(store, config.clone(), addr, Arc::new(crate::clock::SystemClock))?;
    let jobs = state.service.jobs.clone();
    let service = state.service.clone();
    let batches = tokio::spawn(write_admission_batches(service.clone()));
    let router = router(state);
    let reloading = tls.as_ref().map(|t| t.watch());
    tracing::info!("Drydock listening on {}://{addr}", if tls.is_some() { "https" } else { "http" });
    let (signalled, signal) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = signalled.send(true);
    });
    let when_signalled = |mut signal: tokio::sync::watch::Receiver<bool>| async move {
        let _ = signal.wait_for(|s| *s).await;
    };
    let serving = connections::serve(listener, router, limits, tls, when_signalled(signal.clone()));
    let stopping_jobs = async {
        when_signalled(signal).await;
        jobs.stop(tokio::time::Instant::now() + limits.grace).await;
    };
    let (ended, ()) = tokio::join!(serving, stopping_jobs);
    batches.abort();
    if let Some(r) = reloading {
        r.abort();
    }
    if let Err(e) = service.flush_admission_decisions().await {
        tracing::warn!(error = %e, "the last admission decisions could not be written to the ledger");
    }
    match ended {
        connections::Ended::Drained => tracing::info!("stopped: every request finished"),
        connections::Ended::DeadlinePassed(open) => tracing::warn!(open, "stopped at the deadline: connections still open were closed"),
    }
    Ok(())
}

/// How often the admission decisions counted are written to the ledger, as one entry.
const ADMISSION_BATCH: std::time::Duration = std::time::Duration::from_secs(30);

async fn write_admission_batches(service: Arc<crate::service::Service>) {
    let mut tick = tokio::time::interval(ADMISSION_BATCH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = service.flush_admission_decisions().await {
            tracing::warn!(error = %e, "admission decisions kept for the next batch");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
