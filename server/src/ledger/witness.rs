//! Handing new checkpoints to an outside witness: in the background, bounded in time, retried.

/// The server's way to witness a new checkpoint: in the background, with a timeout per attempt
/// and retries, never on a request's path.
pub fn witness_in_background(witness: Option<&str>, note: &str) {
    if let Some(w) = witness {
        let (w, note) = (w.to_string(), note.to_string());
        tokio::spawn(async move { push_with_retries(&w, &note, WITNESS_ATTEMPTS, WITNESS_TIMEOUT).await });
    }
}

/// Attempts per checkpoint, and the time each may take.
pub const WITNESS_ATTEMPTS: u32 = 4;
pub const WITNESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Pushes to the witness, retrying with a growing pause (1 s, 2 s, 4 s...); answers whether it
/// was taken. Failures are logged.
pub async fn push_with_retries(witness: &str, note: &str, attempts: u32, timeout: std::time::Duration) -> bool {
    for attempt in 1..=attempts {
        match tokio::time::timeout(timeout, push_to_witness(witness, note, timeout)).await {
            Ok(Ok(())) => return true,
            Ok(Err(e)) => tracing::warn!(witness, attempt, error = %e, "the checkpoint could not be pushed to the witness"),
            Err(_) => tracing::warn!(witness, attempt, "the witness did not answer in time"),
        }
        if attempt < attempts {
            tokio::time::sleep(std::time::Duration::from_secs(1 << (attempt - 1).min(6))).await;
        }
    }
    false
}

/// Hands a new checkpoint to an external witness: POSTed to an http(s) URL, or appended to a
/// file (one signed note after another). Someone holding the database and the key still cannot
/// rewrite history without the witness's copies disagreeing.
pub async fn push_to_witness(witness: &str, note: &str, timeout: std::time::Duration) -> anyhow::Result<()> {
    if witness.starts_with("http://") || witness.starts_with("https://") {
        let client = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build()?;
        let resp = client.post(witness).header("content-type", "text/plain").body(note.to_string()).send().await?;
        anyhow::ensure!(resp.status().is_success(), "the witness answered {}", resp.status());
    } else {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(witness)?;
        f.write_all(note.as_bytes())?;
        f.write_all(b"\n")?;
    }
    Ok(())
}
