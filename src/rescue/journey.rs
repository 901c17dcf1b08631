//! The journey: what Rust knows of one request between its steps, owned by
//! Rust and carried by the executor as an opaque string. Its stage is an
//! enum, so an illegal combination (a probe that reports nothing, a
//! fallback that failed open) cannot be written down. Pure: tested natively.

use error_shield::Failure;
use serde::{Deserialize, Serialize};

pub use crate::answer::retry_after::RetryAfter;
use crate::rescue::plan::Rescue;

/// One request's journey from `decide` to its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    /// The request id.
    pub id: String,
    /// The nonces sent beside the hop markers (`hop`): ours is the last.
    pub nonces: String,
    /// Which settings apply: 0 the top level's, `i + 1` those of `ROUTES[i]`.
    pub rule: u32,
    /// The trace-id of a valid `traceparent`.
    pub trace_id: Option<String>,
    /// `Date.now()` at arrival.
    pub started: f64,
    /// Attempts at an origin so far (the fallback's included).
    pub attempts: u32,
    /// What the plan allows when an attempt fails.
    pub rescue: Rescue,
    /// The key of the request's stored copy, when it is a stale-if-error
    /// candidate.
    pub copy: Option<String>,
    /// The breaker that hears of the answer, when one is on.
    pub breaker: Option<Breaker>,
    /// Where the request is now.
    pub stage: Stage,
}

/// The origin whose breaker hears of the request's answer, and which
/// answers it hears.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breaker {
    /// The origin (its circuit's key).
    pub origin: String,
    /// Which answers it hears.
    pub hears: Hears,
}

/// Which answers a breaker hears of (a failure always).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Hears {
    /// Failures only: nothing was counted, a good answer changes nothing.
    Failures,
    /// Good answers too: they reset the count.
    Answers,
    /// The request is the probe (its token): its answer closes or reopens.
    Probe(f64),
}

/// Where a request is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Stage {
    /// At its origin: the first attempt or a retry (`Journey::attempts`);
    /// `store`: a good answer is due for storing under `Journey::copy`.
    Origin {
        /// The stored copy is due for a refresh.
        store: bool,
    },
    /// The circuit is open: the origin is not contacted, its probe is
    /// `open_for` seconds away.
    Held {
        /// Seconds until the probe.
        open_for: u32,
    },
    /// At the fallback origin, after the primary failed.
    Fallback {
        /// The primary's failure.
        primary: Failed,
    },
    /// Sent as it came after the worker failed on it (fail-open).
    FailedOpen {
        /// The worker's failure.
        failure: Failure,
    },
    /// Looking up a stored copy to serve instead of the error.
    LookingUp {
        /// The failure it would stand in for.
        failure: Failed,
    },
}

/// A failure judged, with the `Retry-After` its answer may carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failed {
    /// The failure.
    pub failure: Failure,
    /// The `Retry-After` its answer may carry.
    pub retry_after: Option<RetryAfter>,
}

impl Failed {
    /// A failure with no `Retry-After` of its own.
    pub fn bare(failure: Failure) -> Failed {
        Failed {
            failure,
            retry_after: None,
        }
    }
}

impl Journey {
    /// Whether a good answer comes back to Rust: to be stored, counted by
    /// the breaker, or recorded as the answer to a failure.
    pub fn hands_back(&self) -> bool {
        match &self.stage {
            Stage::Origin { store } => {
                *store
                    || self
                        .breaker
                        .as_ref()
                        .is_some_and(|b| b.hears != Hears::Failures)
            }
            Stage::Fallback { .. } | Stage::FailedOpen { .. } => true,
            Stage::Held { .. } | Stage::LookingUp { .. } => false,
        }
    }

    /// The journey as the executor carries it.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The journey back from what the executor carried; `None` when it is
    /// not one (the executor and Rust out of step).
    pub fn from_text(text: &str) -> Option<Journey> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use error_shield::Cause;

    fn journey(stage: Stage, hears: Option<Hears>) -> Journey {
        Journey {
            id: "r1".into(),
            nonces: "00000000000000aa".into(),
            rule: 2,
            trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
            started: 1_765_000_000_123.0,
            attempts: 1,
            rescue: Rescue {
                timeout_ms: 1000,
                retries: 2,
                stale: true,
                fallback: Some("http://b/x".into()),
            },
            copy: Some("k".into()),
            breaker: hears.map(|hears| Breaker {
                origin: "http://o".into(),
                hears,
            }),
            stage,
        }
    }

    #[test]
    fn a_journey_survives_the_trip_through_the_executor_with_every_field() {
        let failure = Failure::new(Cause::OriginErrorStatus, "origin answered 503")
            .with_origin_status(503)
            .with_origin_body("busy")
            .with_field("attempts", 2u32)
            .with_field("circuit", "open");
        let stages = [
            Stage::Origin { store: true },
            Stage::Held { open_for: 7 },
            Stage::Fallback {
                primary: Failed {
                    failure: failure.clone(),
                    retry_after: Some(RetryAfter::Origin("120".into())),
                },
            },
            Stage::FailedOpen {
                failure: Failure::new(Cause::WorkerPanic, "p").with_field("failed_open", true),
            },
            Stage::LookingUp {
                failure: Failed {
                    failure,
                    retry_after: Some(RetryAfter::Circuit(3)),
                },
            },
        ];
        for stage in stages {
            let j = journey(stage, Some(Hears::Probe(1.5)));
            let back = Journey::from_text(&j.to_text()).unwrap();
            assert_eq!(back, j);
            // Counts stay integers in the record.
            if let Stage::Fallback { primary } = &back.stage {
                assert_eq!(primary.failure.field("attempts"), Some(&2.into()));
            }
        }
        assert_eq!(Journey::from_text("not json"), None);
        assert_eq!(Journey::from_text(""), None);
    }

    #[test]
    fn a_good_answer_comes_back_only_when_something_waits_for_it() {
        let table = [
            (Stage::Origin { store: false }, None, false),
            (Stage::Origin { store: false }, Some(Hears::Failures), false),
            (Stage::Origin { store: false }, Some(Hears::Answers), true),
            (
                Stage::Origin { store: false },
                Some(Hears::Probe(1.0)),
                true,
            ),
            (Stage::Origin { store: true }, None, true),
            (
                Stage::Fallback {
                    primary: Failed::bare(Failure::new(Cause::OriginTimeout, "t")),
                },
                None,
                true,
            ),
            (
                Stage::FailedOpen {
                    failure: Failure::new(Cause::WorkerError, "e"),
                },
                None,
                true,
            ),
            (Stage::Held { open_for: 1 }, Some(Hears::Answers), false),
            (
                Stage::LookingUp {
                    failure: Failed::bare(Failure::new(Cause::OriginTimeout, "t")),
                },
                None,
                false,
            ),
        ];
        for (stage, hears, want) in table {
            let j = journey(stage, hears);
            assert_eq!(j.hands_back(), want, "{j:?}");
        }
    }
}
