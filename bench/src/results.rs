//! Everything one run measured, and the figures the report derives from it
//! (rounded as printed, so a ratio and its verdict agree with the table).

use std::collections::HashMap;

use crate::load::Run;
use crate::rows::{Row, Server, Worker};

/// 48 MiB downloads of one server, bytes per second.
#[derive(Default)]
pub struct Stream {
    pub speeds: Vec<f64>,
}

impl Stream {
    /// The best and the median, MB/s rounded to whole numbers.
    pub fn best_mb_s(&self) -> f64 {
        (self.speeds.iter().copied().fold(0.0, f64::max) / 1e6).round()
    }

    pub fn median_mb_s(&self) -> f64 {
        (median(&self.speeds) / 1e6).round()
    }
}

/// The cold starts of one worker.
#[derive(Default)]
pub struct Cold {
    /// workerd start → first 200, ms.
    pub runs_ms: Vec<u64>,
    /// The first successful request itself, ms (to 0.1).
    pub first_ms: Vec<f64>,
}

impl Cold {
    pub fn median_ms(&self) -> f64 {
        median(&self.runs_ms.iter().map(|&m| m as f64).collect::<Vec<_>>())
    }

    pub fn first_median_ms(&self) -> f64 {
        median(&self.first_ms)
    }
}

#[derive(Default)]
pub struct Results {
    /// The two runs of each row.
    pub load: HashMap<Row, Vec<Run>>,
    pub stream: HashMap<Server, Stream>,
    pub cold: HashMap<Worker, Cold>,
    /// The bundle's Wasm file (content-hashed name).
    pub wasm_name: String,
    pub wasm_raw: u64,
    pub wasm_gzip: u64,
    pub js_raw: u64,
    pub js_gzip: u64,
}

impl Results {
    pub fn runs(&self, row: Row) -> &[Run] {
        self.load.get(&row).map_or(&[], Vec::as_slice)
    }

    /// Mean req/s of the row's runs, to 0.1.
    pub fn mean_rps(&self, row: Row) -> f64 {
        round1(mean(self.runs(row).iter().map(|r| r.rps)))
    }

    /// Mean server CPU µs/req of the row's runs (each rounded), to 0.1.
    pub fn mean_cpu(&self, row: Row) -> f64 {
        round1(mean(self.runs(row).iter().map(|r| r.cpu_us.unwrap_or(0.0))))
    }

    pub fn stream_median(&self, server: Server) -> f64 {
        self.stream.get(&server).map_or(0.0, Stream::median_mb_s)
    }

    pub fn cold_median(&self, w: Worker) -> f64 {
        self.cold.get(&w).map_or(0.0, Cold::median_ms)
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / f64::from(n)
    }
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `a / b`, 0 when `b` is not positive.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
