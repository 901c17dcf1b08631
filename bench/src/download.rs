//! The 48 MiB downloads of the streaming rows, each on a fresh connection
//! like one curl call, counted without being kept. (The bench's single
//! requests, readiness and the sanity checks, are `error_shield_rig::fetch`.)

use std::io::Read;
use std::time::{Duration, Instant};

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .max_idle_connections(0)
        .build()
}

/// GET `url`, counting the body's bytes without keeping them: (status,
/// bytes, seconds from the request to the body's end).
pub fn download(url: &str, timeout: Duration) -> Result<(u16, u64, f64), String> {
    let t0 = Instant::now();
    let resp = match agent(timeout).get(url).call() {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let mut reader = resp.into_reader();
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes += n as u64,
            Err(e) => return Err(format!("{url}: after {bytes} bytes: {e}")),
        }
    }
    Ok((status, bytes, t0.elapsed().as_secs_f64()))
}
