//! The `drydock` binary itself: stdout carries only output, SQLite files are created, and a second
//! process can write to the database while `serve` runs on it.

use super::helpers::fixture_path;
use drydock::store::capabilities::*;
use std::process::{Command, Stdio};
use std::time::Duration;

fn drydock() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drydock"));
    c.env_remove("DRYDOCK_DATABASE_URL").env_remove("DRYDOCK_CONFIG").env("RUST_LOG", "info");
    c
}

#[test]
fn token_create_prints_only_the_token_and_creates_a_relative_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = drydock()
        .current_dir(dir.path())
        .args(["token", "create", "--name", "ci", "--role", "admin", "--database-url", "sqlite://rel.db"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the token on stdout: {stdout:?}");
    assert!(lines[0].starts_with("ddk_"));
    assert!(dir.path().join("rel.db").exists(), "relative SQLite file created");

    let bad = drydock()
        .current_dir(dir.path())
        .args(["token", "create", "--name", "x", "--role", "root", "--database-url", "sqlite://rel.db"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
}

#[test]
fn ingest_into_an_absolute_sqlite_path_summarises_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("abs.db").display());
    assert!(url.starts_with("sqlite:///"));
    let out = drydock()
        .args(["ingest", "--database-url", &url])
        .arg(fixture_path("trivy/juice-shop-v10.2.0.json"))
        .arg(fixture_path("trivy/alpine-310.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("juice-shop-v10.2.0.json: stored sha256:b1802758"), "{stdout}");
    assert!(stdout.contains("236 findings"), "{stdout}");

    // A broken file fails the command, names the file, and the good one is still reported.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, b"{\"SchemaVersion\": 2,").unwrap();
    let out = drydock().args(["ingest", "--database-url", &url]).arg(&broken).arg(fixture_path("trivy/alpine-310.json")).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.json"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("already stored"));
}

#[test]
fn a_second_process_writes_while_serve_runs() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut serve = drydock()
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--database-url", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if probe::http_ok(&format!("{base}/healthz")) {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(up, "serve did not come up");
    // Direct database writes from another process…
    let token = drydock().args(["token", "create", "--name", "ci", "--role", "ingest", "--database-url", &url]).output().unwrap();
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    let direct = drydock().args(["ingest", "--database-url", &url]).arg(fixture_path("trivy/centos-7.json")).output().unwrap();
    // …and through the running server, with the token the other process created.
    let remote =
        drydock().args(["ingest", "--server", &base, "--token", &token]).arg(fixture_path("trivy/debian-buster.json")).output().unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(direct.status.success(), "{}", String::from_utf8_lossy(&direct.stderr));
    assert!(remote.status.success(), "{}", String::from_utf8_lossy(&remote.stderr));
    assert!(String::from_utf8_lossy(&remote.stdout).contains("stored"));
}

mod probe {
    /// A minimal blocking GET over std (no extra HTTP client features for one probe).
    pub fn http_ok(url: &str) -> bool {
        use std::io::{Read, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
        let Ok(addr) = host.parse::<std::net::SocketAddr>() else { return false };
        let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)) else { return false };
        // Never block the test on a half-open connection.
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
        let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200")
    }
}

#[test]
fn ingest_tokens_are_created_bound_to_clusters_and_registries() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let out = drydock()
        .args(["token", "create", "--name", "edge", "--role", "ingest", "--cluster", "edge-1", "--cluster", "edge-2", "--registry", "hub"])
        .args(["--database-url", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let tokens = rt.block_on(async { drydock::store::Store::connect(&url).await.unwrap().list_tokens().await.unwrap() });
    assert_eq!(tokens[0].cluster_list(), vec!["edge-1".to_string(), "edge-2".to_string()]);
    assert_eq!(tokens[0].registry_list(), vec!["hub".to_string()]);
    // Bindings make no sense for other roles: refused, naming why.
    let bad = drydock()
        .args(["token", "create", "--name", "v", "--role", "viewer", "--cluster", "edge-1", "--database-url", &url])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("only ingest tokens"));
}
