//! The circuit breaker: per isolate and per origin, `CIRCUIT_FAILURES`
//! consecutive failures open the circuit for `CIRCUIT_OPEN_SECONDS`; while
//! open nothing waits for the origin; then exactly one probe goes through,
//! and its answer closes or reopens the circuit. Pure: time is passed in,
//! so the state machine is tested natively.

use std::collections::HashMap;

/// One origin's circuit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Circuit {
    /// Requests go through; `failures` in a row so far.
    Closed {
        /// Consecutive failures.
        failures: u32,
    },
    /// Nothing goes through until `until_ms`.
    Open {
        /// When the probe may go.
        until_ms: f64,
    },
    /// One probe is on its way (since `since_ms`); the rest wait as if open.
    Probing {
        /// When it was let through.
        since_ms: f64,
    },
}

/// Whether a request may go to the origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Admission {
    /// Go; report the answer only after a failure (a good one resets).
    Pass {
        /// Whether the answer must be reported (failures were counted).
        report: bool,
    },
    /// Go as the one probe (`token` names it); report the answer.
    Probe {
        /// Only the report carrying it may close or reopen the circuit.
        token: f64,
    },
    /// Do not wait for the origin; the probe goes in `retry_after` s.
    Reject {
        /// Seconds until the probe (at least 1).
        retry_after: u32,
    },
}

/// What a report changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Nothing worth a line.
    None,
    /// The circuit opened (or reopened after a failed probe).
    Opened,
    /// The probe's good answer closed it.
    Closed,
}

/// How the breaker is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Consecutive failures that open the circuit (> 0).
    pub failures: u32,
    /// How long it stays open (s).
    pub open_seconds: u32,
    /// A probe that has not reported after this long is taken as lost, and
    /// the next request probes again (the origin timeout plus a margin).
    pub probe_ms: u32,
}

impl Circuit {
    /// Whether a request at `now_ms` may go; a due probe is taken.
    pub fn admit(&mut self, l: &Limits, now_ms: f64) -> Admission {
        match *self {
            Circuit::Closed { failures } => Admission::Pass {
                report: failures > 0,
            },
            Circuit::Open { until_ms } if now_ms < until_ms => Admission::Reject {
                retry_after: seconds(until_ms - now_ms),
            },
            Circuit::Probing { since_ms } if now_ms - since_ms < f64::from(l.probe_ms) => {
                Admission::Reject { retry_after: 1 }
            }
            Circuit::Open { .. } | Circuit::Probing { .. } => {
                *self = Circuit::Probing { since_ms: now_ms };
                Admission::Probe { token: now_ms }
            }
        }
    }

    /// Reports a request's answer: `good` or an origin failure; `probe`:
    /// the token of the probe it was, if it was one.
    pub fn report(
        &mut self,
        l: &Limits,
        good: bool,
        now_ms: f64,
        probe: Option<f64>,
    ) -> Transition {
        let open = Circuit::Open {
            until_ms: now_ms + f64::from(l.open_seconds) * 1000.0,
        };
        match (*self, good) {
            (Circuit::Closed { .. }, true) => {
                *self = Circuit::Closed { failures: 0 };
                Transition::None
            }
            (Circuit::Closed { failures }, false) if failures + 1 >= l.failures => {
                *self = open;
                Transition::Opened
            }
            (Circuit::Closed { failures }, false) => {
                *self = Circuit::Closed {
                    failures: failures + 1,
                };
                Transition::None
            }
            (Circuit::Probing { since_ms }, true) if probe == Some(since_ms) => {
                *self = Circuit::Closed { failures: 0 };
                Transition::Closed
            }
            (Circuit::Probing { since_ms }, false) if probe == Some(since_ms) => {
                *self = open;
                Transition::Opened
            }
            // A request let through before the circuit opened, or a probe
            // given up as lost: its answer changes nothing now.
            (Circuit::Open { .. } | Circuit::Probing { .. }, _) => Transition::None,
        }
    }
}

impl Circuit {
    /// Whether requests are held off (open, or one probe out).
    pub fn is_open(&self) -> bool {
        !matches!(self, Circuit::Closed { .. })
    }
}

fn seconds(ms: f64) -> u32 {
    ((ms / 1000.0).ceil() as u32).max(1)
}

/// Most origins an isolate keeps a circuit for (rules may name many).
const MAX_ORIGINS: usize = 256;

/// This isolate's circuits, by origin.
#[derive(Debug, Default)]
pub struct Breakers(HashMap<String, Circuit>);

impl Breakers {
    /// The circuit of `origin` (closed when new).
    pub fn of(&mut self, origin: &str, now_ms: f64) -> &mut Circuit {
        if self.0.len() >= MAX_ORIGINS && !self.0.contains_key(origin) {
            // Forget the closed and the due ones first: an open circuit is
            // worth more. Still full (every one open): start afresh, so the
            // map stays bounded whatever hosts a client names.
            self.0
                .retain(|_, c| matches!(c, Circuit::Open { until_ms } if *until_ms > now_ms));
            if self.0.len() >= MAX_ORIGINS {
                self.0.clear();
            }
        }
        self.0
            .entry(origin.to_owned())
            .or_insert(Circuit::Closed { failures: 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        failures: 3,
        open_seconds: 30,
        probe_ms: 5_000,
    };

    fn closed() -> Circuit {
        Circuit::Closed { failures: 0 }
    }

    #[test]
    fn n_consecutive_failures_open_it_and_a_good_answer_resets_the_count() {
        let mut c = closed();
        assert_eq!(c.admit(&L, 0.0), Admission::Pass { report: false });
        assert_eq!(c.report(&L, false, 0.0, None), Transition::None);
        assert_eq!(c.report(&L, false, 1.0, None), Transition::None);
        assert_eq!(c.admit(&L, 1.0), Admission::Pass { report: true });
        assert_eq!(
            c.report(&L, true, 2.0, None),
            Transition::None,
            "a good answer resets"
        );
        assert_eq!(c, closed());
        for t in 0..2 {
            assert_eq!(c.report(&L, false, f64::from(t), None), Transition::None);
        }
        assert_eq!(
            c.report(&L, false, 10.0, None),
            Transition::Opened,
            "the third in a row"
        );
        assert_eq!(c, Circuit::Open { until_ms: 30_010.0 });
    }

    #[test]
    fn while_open_nothing_goes_then_exactly_one_probe() {
        let mut c = Circuit::Open { until_ms: 30_000.0 };
        assert_eq!(c.admit(&L, 0.0), Admission::Reject { retry_after: 30 });
        assert_eq!(c.admit(&L, 29_001.0), Admission::Reject { retry_after: 1 });
        assert_eq!(c.admit(&L, 30_000.0), Admission::Probe { token: 30_000.0 });
        for t in [30_000.0, 31_000.0, 34_999.0] {
            assert_eq!(c.admit(&L, t), Admission::Reject { retry_after: 1 }, "{t}");
        }
        // A probe that never reported is taken as lost: one more goes.
        assert_eq!(c.admit(&L, 35_000.0), Admission::Probe { token: 35_000.0 });
        // The lost probe's late answer is not the new probe's.
        assert_eq!(
            c.report(&L, true, 35_100.0, Some(30_000.0)),
            Transition::None
        );
        assert_eq!(c, Circuit::Probing { since_ms: 35_000.0 });
    }

    #[test]
    fn the_probes_answer_closes_or_reopens_it() {
        let mut c = Circuit::Probing { since_ms: 0.0 };
        // Another request's answer while the probe is out changes nothing.
        assert_eq!(c.report(&L, true, 50.0, None), Transition::None);
        assert_eq!(c.report(&L, false, 60.0, None), Transition::None);
        assert_eq!(c.report(&L, true, 100.0, Some(0.0)), Transition::Closed);
        assert_eq!(c.admit(&L, 100.0), Admission::Pass { report: false });
        let mut c = Circuit::Probing { since_ms: 0.0 };
        assert_eq!(c.report(&L, false, 100.0, Some(0.0)), Transition::Opened);
        assert_eq!(c.admit(&L, 100.0), Admission::Reject { retry_after: 30 });
        // A late answer from before it opened changes nothing.
        assert_eq!(c.report(&L, true, 200.0, None), Transition::None);
        assert_eq!(c.report(&L, false, 200.0, None), Transition::None);
        assert_eq!(c, Circuit::Open { until_ms: 30_100.0 });
    }

    #[test]
    fn one_failure_opens_it_when_the_limit_is_one() {
        let l = Limits { failures: 1, ..L };
        let mut c = closed();
        assert_eq!(c.report(&l, false, 0.0, None), Transition::Opened);
    }

    #[test]
    fn each_origin_has_its_own_circuit_and_open_ones_are_kept_longest() {
        let mut b = Breakers::default();
        *b.of("http://a", 0.0) = Circuit::Open { until_ms: 9.0 };
        assert_eq!(*b.of("http://b", 0.0), closed());
        for i in 0..MAX_ORIGINS {
            b.of(&format!("http://{i}"), 0.0);
        }
        assert!(b.0.len() <= MAX_ORIGINS);
        assert_eq!(*b.of("http://a", 0.0), Circuit::Open { until_ms: 9.0 });
        // Every one open, and more hosts than room: still bounded.
        for i in 0..3 * MAX_ORIGINS {
            *b.of(&format!("http://open{i}"), 0.0) = Circuit::Open { until_ms: 1e12 };
            assert!(b.0.len() <= MAX_ORIGINS);
        }
    }

    #[test]
    fn only_a_closed_circuit_lets_requests_through() {
        assert!(!closed().is_open());
        assert!(!Circuit::Closed { failures: 2 }.is_open());
        assert!(Circuit::Open { until_ms: 1.0 }.is_open());
        assert!(Circuit::Probing { since_ms: 1.0 }.is_open());
    }

    #[test]
    fn a_new_origin_forgets_no_count_until_the_map_is_full() {
        let mut b = Breakers::default();
        *b.of("http://a", 0.0) = Circuit::Closed { failures: 2 };
        b.of("http://b", 0.0);
        assert_eq!(*b.of("http://a", 0.0), Circuit::Closed { failures: 2 });
        // Full: the closed ones go first, an open one stays.
        let mut full = Breakers::default();
        *full.of("http://open", 0.0) = Circuit::Open { until_ms: 9.0 };
        for i in 1..MAX_ORIGINS {
            *full.of(&format!("http://{i}"), 0.0) = Circuit::Closed { failures: 1 };
        }
        full.of("http://new", 0.0);
        assert_eq!(
            *full.of("http://open", 0.0),
            Circuit::Open { until_ms: 9.0 }
        );
        assert_eq!(*full.of("http://1", 0.0), closed(), "forgotten, new again");
    }
}
