//! The performance targets: the one table of them, printed with every
//! report (and from there copied into the README). Each is judged on the
//! median of its per-run ratios, run i of one side over run i of the other
//! (the runs are interleaved, so a pair shares the machine's mood).

use crate::results::{median, paired, Results, Spread};
use crate::rows::{Row, Server, Worker};

/// What a target compares, run by run.
pub enum Measure {
    /// Server CPU µs per request of a row over another's (lower is cheaper).
    /// Its req/s ratio is reported next to it.
    Cpu(Row, Row),
    /// Requests per second at saturation of a row over another's.
    Rps(Row, Row),
    /// MB/s streaming 48 MiB, of a server over another's.
    Stream(Server, Server),
    /// Cold start ms (workerd start → first 200), of a worker over another's.
    Cold(Worker, Worker),
    /// The first request's own ms, of a worker over another's.
    First(Worker, Worker),
    /// gzip -9 bytes of the bundle's Wasm.
    WasmGzip,
}

pub enum Bound {
    AtMost(f64),
    AtLeast(f64),
    /// No bound: shown for what it tells.
    Informative,
}

pub struct Target {
    pub what: &'static str,
    pub measure: Measure,
    pub bound: Bound,
}

use Bound::{AtLeast, AtMost, Informative};
use Measure::{Cold, Cpu, First, Rps, Stream, WasmGzip};
use Row::{Fail, Pass};
use Worker::{Equal, Js, Open, Resilient, Route1, Route64, Shield, Stale, Unwatched, Watching};

const KIB: f64 = 1024.0;

/// The targets (issue "Performance"): what error-shield must stay within,
/// against the baselines of the same run (README.md, Benchmarks, copies
/// this table).
#[rustfmt::skip]
pub const TARGETS: &[Target] = &[
    cpu("error-shield pass-through (bodies watched) / JS watching peer", Pass(Shield), Pass(Watching), AtMost(1.00)),
    cpu("error-shield WATCH_BODIES=off pass-through / JS equal-function peer", Pass(Unwatched), Pass(Equal), AtMost(1.00)),
    cpu("error-shield pass-through / minimal JS, the stretch", Pass(Shield), Pass(Js), AtMost(1.10)),
    cpu("error-shield failure path / JS equal-function failure path", Fail(Shield), Fail(Equal), AtMost(1.00)),
    cpu("stale+retries pass-through / error-shield pass-through", Pass(Stale), Pass(Shield), AtMost(1.03)),
    cpu("1 rule pass-through / no rules", Pass(Route1), Pass(Shield), AtMost(1.03)),
    cpu("64 rules pass-through / no rules", Pass(Route64), Pass(Shield), AtMost(1.03)),
    cpu("fallback + breaker on pass-through / error-shield pass-through", Pass(Resilient), Pass(Shield), AtMost(1.03)),
    cpu("watched bodies (the default) / WATCH_BODIES=off, pass-through", Pass(Shield), Pass(Unwatched), Informative),
    cpu("open circuit's answer / error-shield failure path", Fail(Open), Fail(Shield), Informative),
    Target {
        what: "requests/s at saturation, error-shield pass-through / JS watching peer",
        measure: Rps(Pass(Shield), Pass(Watching)),
        bound: AtLeast(0.90),
    },
    Target {
        what: "cold start, error-shield / minimal JS (ms, workerd start → first 200)",
        measure: Cold(Shield, Js),
        bound: AtMost(1.2),
    },
    Target {
        what: "first request, error-shield / minimal JS (ms)",
        measure: First(Shield, Js),
        bound: AtMost(1.5),
    },
    Target {
        what: "48 MiB streamed, error-shield / minimal JS (MB/s)",
        measure: Stream(Server::Worker(Shield), Server::Worker(Js)),
        bound: AtLeast(0.95),
    },
    Target {
        what: "48 MiB streamed, watched / WATCH_BODIES=off (MB/s)",
        measure: Stream(Server::Worker(Shield), Server::Worker(Unwatched)),
        bound: Informative,
    },
    Target { what: "Wasm, gzip -9", measure: WasmGzip, bound: AtMost(100.0 * KIB) },
];

/// Row `a`'s server CPU per request over row `b`'s, within `bound`.
const fn cpu(what: &'static str, a: Row, b: Row, bound: Bound) -> Target {
    Target {
        what,
        measure: Cpu(a, b),
        bound,
    }
}

impl Bound {
    pub fn holds(&self, x: f64) -> bool {
        match *self {
            AtMost(k) => x <= k,
            AtLeast(k) => x >= k,
            Informative => true,
        }
    }

    fn shown(&self) -> String {
        match self {
            AtMost(k) => format!("≤ {k:.2}×"),
            AtLeast(k) => format!("≥ {k:.2}×"),
            Informative => "–".into(),
        }
    }

    /// "holds", "missed", or "informative" without a bound.
    pub fn verdict(&self, x: f64) -> &'static str {
        match (self, self.holds(x)) {
            (Informative, _) => "informative",
            (_, true) => "holds",
            (_, false) => "missed",
        }
    }
}

/// A target against one run's results.
pub struct Verdict {
    pub bound: String,
    pub measured: String,
    pub verdict: &'static str,
}

/// The per-run figures of both sides of a pair, and how to print one.
type Sides = (Vec<f64>, Vec<f64>, usize, &'static str);

impl Target {
    pub fn judge(&self, r: &Results) -> Verdict {
        let (a, b, digits, unit) = match self.measure {
            WasmGzip => return self.judge_size(r),
            Cpu(x, y) => (r.cpu(x), r.cpu(y), 0, " µs"),
            Rps(x, y) => (r.rps(x), r.rps(y), 0, " req/s"),
            Stream(x, y) => (r.stream_mb_s(x), r.stream_mb_s(y), 0, " MB/s"),
            Cold(x, y) => (r.cold_ms(x), r.cold_ms(y), 0, " ms"),
            First(x, y) => (r.first_ms(x), r.first_ms(y), 1, " ms"),
        };
        pair_verdict(&self.bound, (a, b, digits, unit))
    }

    fn judge_size(&self, r: &Results) -> Verdict {
        let gz = r.wasm_gzip as f64;
        let limit = match self.bound {
            AtMost(k) | AtLeast(k) => k,
            Informative => 0.0,
        };
        Verdict {
            bound: format!("≤ {} ({})", bytes(limit), kib(limit)),
            measured: format!("{} ({})", bytes(gz), kib(gz)),
            verdict: self.bound.verdict(gz),
        }
    }

    /// A CPU target as req/s: the same pair's req/s, its bound 1/k.
    pub fn as_rps(&self, r: &Results) -> Option<Verdict> {
        let Cpu(x, y) = self.measure else {
            return None;
        };
        let bound = match self.bound {
            AtMost(k) => AtLeast(1.0 / k),
            _ => Informative,
        };
        Some(pair_verdict(&bound, (r.rps(x), r.rps(y), 0, " req/s")))
    }

    /// What it says, with its measure when the name does not say it.
    pub fn label(&self) -> String {
        match self.measure {
            Cpu(..) => format!("{} (server CPU µs/req)", self.what),
            _ => self.what.to_string(),
        }
    }
}

/// "1.05× (runs 0.98–1.12×; 320 / 305 µs)": the median of the paired
/// ratios, their spread, and each side's median.
fn pair_verdict(bound: &Bound, (a, b, digits, unit): Sides) -> Verdict {
    let ratios = paired(&a, &b);
    let m = median(&ratios);
    let spread = match Spread::of(&ratios) {
        Some(s) if ratios.len() > 1 => format!("runs {:.2}–{:.2}×; ", s.min, s.max),
        _ => String::new(),
    };
    let measured = format!(
        "{m:.2}× ({spread}{:.digits$} / {:.digits$}{unit})",
        median(&a),
        median(&b)
    );
    Verdict {
        bound: bound.shown(),
        measured,
        verdict: if ratios.is_empty() {
            "not measured"
        } else {
            bound.verdict(m)
        },
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
    use crate::load::Run;

    #[test]
    fn bounds_include_their_limit() {
        assert!(AtMost(1.03).holds(1.03) && !AtMost(1.03).holds(1.04));
        assert!(AtLeast(0.95).holds(0.95) && !AtLeast(0.95).holds(0.94));
        assert_eq!(Informative.verdict(9.0), "informative");
    }

    #[test]
    fn every_row_a_target_names_is_measured() {
        for t in TARGETS {
            if let Cpu(a, b) | Rps(a, b) = t.measure {
                assert!(Row::ALL.contains(&a) && Row::ALL.contains(&b), "{}", t.what);
            }
            if let Cold(a, b) | First(a, b) = t.measure {
                assert!(
                    Worker::COLD.contains(&a) && Worker::COLD.contains(&b),
                    "{}",
                    t.what
                );
            }
        }
    }

    #[test]
    fn the_default_meets_the_watching_peer_and_unwatched_the_equal_one() {
        let pairs: Vec<(Row, Row)> = TARGETS
            .iter()
            .filter_map(|t| match t.measure {
                Cpu(a, b) => Some((a, b)),
                _ => None,
            })
            .collect();
        assert!(pairs.contains(&(Pass(Shield), Pass(Watching))));
        assert!(pairs.contains(&(Pass(Unwatched), Pass(Equal))));
        // Each pair against a JS worker is the row's own peer, or the minimal.
        for (a, b) in pairs {
            if matches!(b, Pass(Equal | Watching) | Fail(Equal)) {
                assert_eq!(a.peer(), Some(b), "{a:?}");
            }
        }
    }

    fn run(rps: f64, cpu: f64) -> Run {
        let (p50_ms, p99_ms, socket_errors, non2xx, requests) = (1.0, 2.0, 0, 0, 1000);
        let cpu_us = Some(cpu);
        Run {
            rps,
            p50_ms,
            p99_ms,
            socket_errors,
            non2xx,
            requests,
            cpu_us,
        }
    }

    #[test]
    fn a_target_is_judged_on_the_median_of_paired_runs() {
        let mut r = Results::default();
        let shield = [run(900.0, 300.0), run(500.0, 600.0), run(900.0, 330.0)];
        let peer = [run(1000.0, 300.0), run(500.0, 600.0), run(3000.0, 100.0)];
        r.load.insert(Pass(Shield), shield.to_vec());
        r.load.insert(Pass(Watching), peer.to_vec());
        let v = TARGETS[0].judge(&r);
        assert_eq!(v.measured, "1.00× (runs 1.00–3.30×; 330 / 300 µs)");
        assert_eq!((v.bound.as_str(), v.verdict), ("≤ 1.00×", "holds"));
        let by_rps = TARGETS[0].as_rps(&r).unwrap();
        assert_eq!(by_rps.measured, "0.90× (runs 0.30–1.00×; 900 / 1000 req/s)");
        assert_eq!(by_rps.verdict, "missed");
        assert_eq!(TARGETS[1].judge(&r).verdict, "not measured");
    }
}
