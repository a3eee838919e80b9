//! `drydock-bench`: Drydock at a chosen estate size, measured as its users meet it. For each
//! `--database-url` it loads a generated estate (`drydock::generator`) through the HTTP API of
//! the real router (the same parsing and storing as any upload), runs the jobs a day brings
//! (evaluation, snapshot, a campaign), then times uploads, searches, the ledger and the pages under
//! 64 connections beside a static file and `/healthz` from the same server, and prints one JSON
//! object per backend on standard output (progress goes to standard error).
//!
//! `cargo run --release -p server --bin drydock-bench -- --preset small --database-url sqlite:///tmp/b.db`
//! The database must be new (an SQLite file that does not exist yet, or an empty PostgreSQL
//! database): the bench refuses one that already holds images.

mod admission;
mod http_load;
mod load;
mod measures;
mod server;

use clap::Parser;
use drydock::generator::{Estate, Preset};

#[derive(Parser, Debug)]
#[command(name = "drydock-bench", about = "Drydock at enterprise scale: one JSON object of figures per database")]
struct Args {
    /// small (CI), medium (4,000 images) or enterprise (20,000 images, 2,000,000 findings).
    #[arg(long, default_value = "small")]
    preset: String,
    /// A new database to load and measure (sqlite://FILE or postgres://…); repeat for both backends.
    #[arg(long = "database-url", required = true)]
    database_urls: Vec<String>,
    /// The generator's seed (the same seed, the same estate).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds of load per page at 64 connections (default: 3 at small, 10 otherwise).
    #[arg(long)]
    load_seconds: Option<u64>,
    /// Where the built site is (`/pkg/drydock.css`); a stand-in is made when it is missing.
    #[arg(long, default_value = "target/site")]
    site_root: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let preset = Preset::by_name(&args.preset).map_err(anyhow::Error::msg)?;
    // DRYDOCK_TRACE_SPANS=1 logs each service and store call as it ends, as `drydock serve` does.
    let spans = match std::env::var("DRYDOCK_TRACE_SPANS").as_deref() {
        Ok("1") => tracing_subscriber::fmt::format::FmtSpan::CLOSE,
        _ => tracing_subscriber::fmt::format::FmtSpan::NONE,
    };
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_span_events(spans)
        .with_writer(std::io::stderr)
        .init();
    // Two workers, as on the machines Drydock is sized for; the load generator shares them (as
    // wrk on the same machine would).
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async {
        let site = server::site_root(&args.site_root)?;
        for url in &args.database_urls {
            let estate = Estate::new(preset, args.seed);
            let seconds = args.load_seconds.unwrap_or(if preset == Preset::SMALL { 3 } else { 10 });
            let figures = run(&estate, url, &site, seconds).await?;
            println!("{}", serde_json::to_string(&figures)?);
        }
        Ok(())
    })
}

/// Everything measured on one database, as one JSON object.
async fn run(estate: &Estate, url: &str, site: &std::path::Path, seconds: u64) -> anyhow::Result<serde_json::Value> {
    let bench = server::Bench::start(estate, url, site).await?;
    eprintln!("[{}] loading the {} estate", bench.backend, estate.preset.name);
    let mut f = load::load_estate(&bench, estate).await?;
    eprintln!("[{}] estate loaded; the day's jobs", bench.backend);
    measures::jobs(&bench, &mut f).await?;
    eprintln!("[{}] uploads, searches and the ledger", bench.backend);
    measures::uploads(&bench, estate, &mut f).await?;
    measures::searches(&bench, &mut f).await?;
    measures::ledger(&bench, &mut f).await?;
    measures::statistics(&bench, &mut f).await?;
    admission::admission(&bench, estate, &mut f).await?;
    eprintln!("[{}] pages under 64 connections, {seconds} s each", bench.backend);
    let run_peak = measures::peak_rss_mb();
    // The goal is the memory under the page load: the high-water mark is reset before it, so
    // the loading of the estate and the uploads before do not count (the whole run's is kept).
    let reset = measures::reset_peak_rss();
    http_load::pages(&bench, estate, &mut f, std::time::Duration::from_secs(seconds)).await?;
    let pages_peak = measures::peak_rss_mb();
    f.insert("peak_rss_mb".into(), serde_json::json!(run_peak.max(pages_peak)));
    f.insert("page_load_peak_rss_mb".into(), serde_json::json!(reset.then_some(pages_peak)));
    bench.stop().await;
    Ok(serde_json::Value::Object(f))
}
