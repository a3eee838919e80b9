//! One typed configuration: defaults, then an optional TOML file, then `DRYDOCK_`-prefixed
//! environment variables, then command-line flags (each layer overrides the one before).

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// Drydock's settings. Secrets in here never reach `Debug` output or logs.
#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://relative.db`, `sqlite:///abs/path.db` or `postgres://...`.
    pub database_url: String,
    /// Address `serve` listens on.
    pub addr: String,
    /// Largest request body accepted (scanner reports can be big).
    pub max_body_bytes: usize,
    /// Load the demo estate into an empty database on `serve`.
    pub demo: bool,
    /// Where the compiled site (`pkg/` with wasm, js, css) lives.
    pub site_root: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://drydock.db".into(),
            addr: "127.0.0.1:3000".into(),
            max_body_bytes: 64 * 1024 * 1024,
            demo: false,
            site_root: "target/site".into(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("addr", &self.addr)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("demo", &self.demo)
            .field("site_root", &self.site_root)
            .finish()
    }
}

/// A database URL with any password replaced, safe for logs.
pub fn redact_url(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => u.to_string(),
    }
}

impl Config {
    /// Loads defaults, then `file` (or `drydock.toml` in the working directory when it exists),
    /// then `DRYDOCK_*` variables (e.g. `DRYDOCK_DATABASE_URL`, `DRYDOCK_MAX_BODY_BYTES`).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(p) => {
                anyhow::ensure!(p.exists(), "config file {} does not exist", p.display());
                fig = fig.merge(Toml::file(p));
            }
            None if Path::new("drydock.toml").exists() => fig = fig.merge(Toml::file("drydock.toml")),
            None => {}
        }
        // DRYDOCK_CONFIG names the file itself; it is not a setting.
        fig = fig.merge(Env::prefixed("DRYDOCK_").ignore(&["config"]));
        fig.extract().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
    }
}
