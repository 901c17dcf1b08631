//! Load from wrk (bench/report.lua prints one machine-readable line) and the
//! serving process group's CPU time over the run, from /proc.

use std::path::Path;
use std::process::Command;

use crate::machine::{clk_tck, group_ticks};

/// One wrk run against one row.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub socket_errors: u64,
    pub non2xx: u64,
    pub requests: u64,
    /// Server CPU µs per request, rounded (`None` without requests).
    pub cpu_us: Option<f64>,
}

pub struct Wrk<'a> {
    pub wrk: &'a Path,
    pub script: &'a Path,
    pub threads: u32,
    pub connections: u32,
}

impl Wrk<'_> {
    /// Loads `url` for `seconds`, counting the CPU time of group `pgid`.
    pub fn run(&self, url: &str, seconds: u64, pgid: u32) -> Result<Run, String> {
        let t0 = group_ticks(pgid);
        let out = Command::new(self.wrk)
            .arg(format!("-t{}", self.threads))
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{seconds}s"))
            .args(["--timeout", "5s", "-s"])
            .arg(self.script)
            .arg(url)
            .output()
            .map_err(|e| format!("wrk: {e}"))?;
        let ticks = group_ticks(pgid).saturating_sub(t0);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            return Err(format!("wrk on {url} failed: {text}"));
        }
        parse(&text, ticks as f64 / clk_tck())
            .ok_or_else(|| format!("wrk on {url} printed no result: {text}"))
    }
}

/// `RESULT <req/s> <p50 ms> <p99 ms> <socket errors> <non-2xx/3xx> <requests>`
/// and the server's CPU seconds over the run.
fn parse(text: &str, cpu_s: f64) -> Option<Run> {
    let line = text.lines().find_map(|l| l.strip_prefix("RESULT "))?;
    let f: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| f.get(i)?.parse::<f64>().ok();
    let int = |i: usize| f.get(i)?.parse::<u64>().ok();
    let requests = int(5)?;
    Some(Run {
        rps: num(0)?,
        p50_ms: num(1)?,
        p99_ms: num(2)?,
        socket_errors: int(3)?,
        non2xx: int(4)?,
        requests,
        cpu_us: (requests > 0).then(|| (cpu_s * 1e6 / requests as f64).round()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_line_and_cpu_per_request() {
        let text = "Running 2s test\nRESULT 5009.5 5.565 95.523 0 3 40000\n";
        let run = parse(text, 8.0).unwrap();
        assert_eq!(run.rps, 5009.5);
        assert_eq!((run.socket_errors, run.non2xx, run.requests), (0, 3, 40000));
        assert_eq!(run.cpu_us, Some(200.0));
        assert!(parse("no result\n", 1.0).is_none());
    }
}
