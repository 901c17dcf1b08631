//! The performance targets: the one table of them, printed with every
//! report (and from there copied into the README).

use crate::results::{ratio, Results};
use crate::rows::{Row, Server, Worker};

/// What a target compares.
pub enum Measure {
    /// Server CPU µs per request of a row over another's (mean of the two
    /// runs; lower is cheaper). Its req/s ratio is reported next to it.
    Cpu(Row, Row),
    /// Median MB/s streaming 48 MiB, of a server over another's.
    Stream(Server, Server),
    /// Median cold start ms, of a worker over another's.
    Cold(Worker, Worker),
    /// gzip -9 bytes of the bundle's Wasm.
    WasmGzip,
}

pub enum Bound {
    AtMost(f64),
    AtLeast(f64),
}

pub struct Target {
    pub what: &'static str,
    pub measure: Measure,
    pub bound: Bound,
}

use Bound::{AtLeast, AtMost};
use Measure::{Cold, Cpu, Stream, WasmGzip};
use Row::{Fail, Pass};
use Worker::{Equal, Js, Open, Resilient, Route1, Route64, Shield, Stale, Unwatched};

const KIB: f64 = 1024.0;

/// The targets: what error-shield must stay within, against the
/// baselines of the same run (README.md, Benchmarks, copies this table).
#[rustfmt::skip]
pub const TARGETS: &[Target] = &[
    cpu("error-shield pass-through / equal-function JS", Pass(Shield), Pass(Equal), 1.00),
    cpu("error-shield pass-through / minimal JS", Pass(Shield), Pass(Js), 1.10),
    cpu("error-shield failure path / equal-function JS failure path", Fail(Shield), Fail(Equal), 1.00),
    cpu("stale+retries pass-through / error-shield pass-through", Pass(Stale), Pass(Shield), 1.03),
    cpu("watched bodies (the default) / WATCH_BODIES=off, pass-through", Pass(Shield), Pass(Unwatched), 1.03),
    cpu("1 rule pass-through / no rules", Pass(Route1), Pass(Shield), 1.03),
    cpu("64 rules pass-through / no rules", Pass(Route64), Pass(Shield), 1.03),
    cpu("fallback + breaker on pass-through / error-shield pass-through", Pass(Resilient), Pass(Shield), 1.03),
    cpu("open circuit's answer / error-shield failure path", Fail(Open), Fail(Shield), 1.00),
    Target {
        what: "48 MiB streamed, error-shield / minimal JS (median MB/s)",
        measure: Stream(Server::Worker(Shield), Server::Worker(Js)),
        bound: AtLeast(0.95),
    },
    Target {
        what: "48 MiB streamed, watched / WATCH_BODIES=off (median MB/s)",
        measure: Stream(Server::Worker(Shield), Server::Worker(Unwatched)),
        bound: AtLeast(0.95),
    },
    Target {
        what: "cold start, error-shield / minimal JS (median ms)",
        measure: Cold(Shield, Js),
        bound: AtMost(1.2),
    },
    Target { what: "Wasm, gzip -9", measure: WasmGzip, bound: AtMost(120.0 * KIB) },
];

/// Row `a` at most `k` times row `b`'s server CPU per request.
const fn cpu(what: &'static str, a: Row, b: Row, k: f64) -> Target {
    Target {
        what,
        measure: Cpu(a, b),
        bound: AtMost(k),
    }
}

impl Bound {
    pub fn holds(&self, x: f64) -> bool {
        match *self {
            AtMost(k) => x <= k,
            AtLeast(k) => x >= k,
        }
    }
}

/// A target against one run's results.
pub struct Verdict {
    pub bound: String,
    pub measured: String,
    pub holds: bool,
}

impl Target {
    pub fn judge(&self, r: &Results) -> Verdict {
        let (a, b, show): (f64, f64, fn(f64) -> String) = match self.measure {
            WasmGzip => {
                let gz = r.wasm_gzip as f64;
                return Verdict {
                    bound: format!("≤ {} ({})", bytes(self.limit()), kib(self.limit())),
                    measured: format!("{} ({})", bytes(gz), kib(gz)),
                    holds: self.bound.holds(gz),
                };
            }
            Cpu(x, y) => (r.mean_cpu(x), r.mean_cpu(y), |v| format!("{v:.1}")),
            Stream(x, y) => (r.stream_median(x), r.stream_median(y), |v| {
                format!("{v:.0}")
            }),
            Cold(x, y) => (r.cold_median(x), r.cold_median(y), num),
        };
        Verdict {
            bound: match self.bound {
                AtMost(k) => format!("≤ {k:.2}×"),
                AtLeast(k) => format!("≥ {k:.2}×"),
            },
            measured: format!("{:.2}× ({} / {})", ratio(a, b), show(a), show(b)),
            holds: self.bound.holds(ratio(a, b)),
        }
    }

    /// A CPU target as req/s: (the pair's req/s ratio, its bound 1/k).
    pub fn as_rps(&self, r: &Results) -> Option<(String, f64, bool)> {
        let (Cpu(x, y), AtMost(k)) = (&self.measure, &self.bound) else {
            return None;
        };
        let (a, b) = (r.mean_rps(*x), r.mean_rps(*y));
        let measured = format!("{:.2}× ({a:.1} / {b:.1})", ratio(a, b));
        Some((measured, 1.0 / k, ratio(a, b) >= 1.0 / k))
    }

    /// What it says, with its measure when the name does not say it.
    pub fn label(&self) -> String {
        match self.measure {
            Cpu(..) => format!("{} (server CPU µs/req)", self.what),
            _ => self.what.to_string(),
        }
    }

    fn limit(&self) -> f64 {
        match self.bound {
            AtMost(k) | AtLeast(k) => k,
        }
    }
}

/// `x` as the tables print figures: whole numbers without a fraction.
pub fn num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

pub fn bytes(b: f64) -> String {
    format!("{b:.0} B")
}

pub fn kib(b: f64) -> String {
    format!("{:.1} KiB", b / KIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_include_their_limit() {
        assert!(AtMost(1.03).holds(1.03) && !AtMost(1.03).holds(1.04));
        assert!(AtLeast(0.95).holds(0.95) && !AtLeast(0.95).holds(0.94));
    }

    #[test]
    fn every_row_a_target_names_is_measured() {
        for t in TARGETS {
            if let Cpu(a, b) = t.measure {
                assert!(Row::ALL.contains(&a) && Row::ALL.contains(&b), "{}", t.what);
            }
        }
    }
}
