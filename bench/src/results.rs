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

    /// The median of the rounded runs, as the targets take it.
    pub fn median_mb_s(&self) -> f64 {
        let runs: Vec<f64> = self.speeds.iter().map(|b| (b / 1e6).round()).collect();
        median(&runs)
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
}

#[derive(Default)]
pub struct Results {
    /// The interleaved runs of each row, in order.
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

    /// Req/s of each of the row's runs, in order.
    pub fn rps(&self, row: Row) -> Vec<f64> {
        self.runs(row).iter().map(|r| r.rps).collect()
    }

    /// Server CPU µs/req of each of the row's runs (each rounded), in order.
    pub fn cpu(&self, row: Row) -> Vec<f64> {
        let runs = self.runs(row).iter();
        runs.map(|r| r.cpu_us.unwrap_or(0.0)).collect()
    }

    /// MB/s of each 48 MiB download, rounded, in order (run i of every server
    /// taken in the same turn).
    pub fn stream_mb_s(&self, server: Server) -> Vec<f64> {
        let speeds = self.stream.get(&server).map_or(&[][..], |s| &s.speeds[..]);
        speeds.iter().map(|b| (b / 1e6).round()).collect()
    }

    /// Each cold start in ms, in order (run i of every worker in one turn).
    pub fn cold_ms(&self, w: Worker) -> Vec<f64> {
        let runs = self.cold.get(&w).map_or(&[][..], |c| &c.runs_ms[..]);
        runs.iter().map(|&m| m as f64).collect()
    }

    /// Each first request in ms, in order.
    pub fn first_ms(&self, w: Worker) -> Vec<f64> {
        self.cold.get(&w).map_or(Vec::new(), |c| c.first_ms.clone())
    }
}

/// The median of some runs and how far they spread.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// `None` without values.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let min = values.iter().copied().reduce(f64::min)?;
        let max = values.iter().copied().reduce(f64::max)?;
        Some(Spread {
            median: median(values),
            min,
            max,
        })
    }

    /// "median (min–max)" with `digits` decimals; "–" without runs.
    pub fn show(s: Option<Spread>, digits: usize) -> String {
        match s {
            None => "–".into(),
            Some(s) if s.min == s.max => format!("{:.digits$}", s.median),
            Some(s) => format!(
                "{:.digits$} ({:.digits$}–{:.digits$})",
                s.median, s.min, s.max
            ),
        }
    }
}

/// Run i of `a` over run i of `b`, each to 0.01 (as printed, so that a
/// ratio and its verdict agree), for as many pairs as both have.
pub fn paired(a: &[f64], b: &[f64]) -> Vec<f64> {
    let pairs = a.iter().zip(b);
    pairs.map(|(x, y)| round2(ratio(*x, *y))).collect()
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

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
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

    #[test]
    fn a_spread_is_the_median_and_the_extremes() {
        let s = Spread::of(&[310.0, 290.0, 420.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (310.0, 290.0, 420.0));
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::show(Some(s), 0), "310 (290–420)");
        assert_eq!(Spread::show(Spread::of(&[1.5]), 2), "1.50");
        assert_eq!(Spread::show(None, 1), "–");
    }

    #[test]
    fn runs_pair_by_their_turn_not_by_their_size() {
        // B's run 3 met a quiet spell: paired, the median ratio is 1.00×,
        // though A's median over B's median is 1.10×.
        let (a, b) = ([300.0, 600.0, 330.0], [300.0, 600.0, 100.0]);
        assert_eq!(paired(&a, &b), [1.0, 1.0, 3.3]);
        assert_eq!(median(&paired(&a, &b)), 1.0);
        assert!((median(&a) / median(&b) - 1.1).abs() < 1e-9);
        assert_eq!(paired(&[1.0, 2.0], &[3.0]), [0.33]);
        assert_eq!(paired(&[1.0], &[0.0]), [0.0], "no ratio to a zero");
    }
}
