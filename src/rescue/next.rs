//! Rescue in one room: from where a request is (its [`Journey`]) and what
//! came back, the one next step. The order of rescue — retries, the
//! fallback origin, a stored copy, the uniform error — is written here
//! once. Pure: the breaker is heard through a function, time and jitter are
//! passed in; table-tested natively over every stage and outcome.

use error_shield::{Cause, Failure};

use super::journey::{Failed, Hears, Journey, RetryAfter, Stage};
use crate::config::hop::loop_failure;
use crate::rescue::plan::Rescue;

/// What came back, as the decision needs it (the response itself stays
/// with the one who carries the decision out).
#[derive(Debug, Clone, PartialEq)]
pub enum Came {
    /// Nothing: the breaker held the request off.
    Nothing,
    /// A good answer Rust asked to see.
    Good,
    /// The attempt failed, as judged.
    Failed(Failed),
    /// An answer carrying a loop signal: `ours` when our own request came
    /// back, else another deployment's loop passing back through us.
    Looped {
        /// The loop is ours.
        ours: bool,
    },
    /// The stored copy, `servable` to this request now (its window, its
    /// `Vary`, its coding) or not.
    CacheHit {
        /// It may be served.
        servable: bool,
    },
    /// No stored copy.
    CacheMiss,
    /// The client's upload stalled or broke before the origin answered.
    UploadEnded,
}

/// The next step.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Another attempt at the origin after `delay_ms`, with `timeout_ms`
    /// left until the headers.
    Retry {
        /// The backoff.
        delay_ms: u32,
        /// What is left of the timeout after it.
        timeout_ms: u32,
    },
    /// One attempt at the fallback origin, with its own timeout.
    Fallback {
        /// The primary's failure, carried to the one record.
        primary: Failed,
    },
    /// Look up the stored copy.
    LookUp {
        /// The failure it would stand in for.
        failure: Failed,
    },
    /// The uniform error and the one record.
    Fail(Failed),
    /// The good answer to the client; `record`: the failure it answers
    /// (the fallback's or a fail-open's), recorded first.
    Pass {
        /// The one record, when the answer stands in for a failure.
        record: Option<Failure>,
    },
    /// The good answer to the client, a copy stored for stale-if-error.
    Store,
    /// The stored copy to the client, with the record of the failure it
    /// stands in for (`served_stale`).
    Stale(Failure),
    /// Another deployment's loop signal passed back: its uniform error and
    /// no record (the hop that sent it writes it).
    PassBack,
    /// The uniform error with no record: the client's upload ended the
    /// request (the operator gets a warn line instead).
    Quiet,
}

/// What the decision needs besides the journey.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Milliseconds since the request arrived.
    pub elapsed_ms: f64,
    /// A random byte for the backoff.
    pub jitter: u8,
    /// The primary origin as a record names it (redacted), for a record
    /// of a request the fallback answered or failed.
    pub primary_origin: &'a str,
}

/// The next step after `came`. `tell` gives the request's breaker an
/// answer (`true`: a good one) and says whether its circuit is open now;
/// it is called only when the journey has a breaker that hears it.
pub fn next(
    j: &Journey,
    came: Came,
    facts: &Facts<'_>,
    tell: impl FnOnce(bool) -> bool,
) -> Decision {
    match &j.stage {
        Stage::Origin { store } => at_origin(j, *store, came, facts, tell),
        Stage::Held { open_for } => rescue(&j.rescue, held(*open_for)),
        Stage::Fallback { primary } => at_fallback(&j.rescue, primary, came, facts),
        Stage::FailedOpen { failure } => match came {
            Came::Good => Decision::Pass {
                record: Some(failure.clone()),
            },
            // The origin failed the request sent as it came, or the upload
            // ended: one record, the worker's failure that started it.
            _ => Decision::Fail(Failed::bare(failure.clone())),
        },
        Stage::LookingUp { failure } => match came {
            Came::CacheHit { servable: true } => {
                Decision::Stale(failure.failure.clone().with_field("served_stale", true))
            }
            _ => Decision::Fail(failure.clone()),
        },
    }
}

fn at_origin(
    j: &Journey,
    store: bool,
    came: Came,
    facts: &Facts<'_>,
    tell: impl FnOnce(bool) -> bool,
) -> Decision {
    let mut failed = match came {
        Came::Good => {
            if j.breaker
                .as_ref()
                .is_some_and(|b| b.hears != Hears::Failures)
            {
                tell(true);
            }
            return if store {
                Decision::Store
            } else {
                Decision::Pass { record: None }
            };
        }
        Came::Failed(failed) => failed,
        Came::Looped { ours: true } => Failed::bare(loop_failure()),
        Came::Looped { ours: false } => return Decision::PassBack,
        Came::UploadEnded => return Decision::Quiet,
        Came::Nothing | Came::CacheHit { .. } | Came::CacheMiss => return unexpected(),
    };
    let cause = failed.failure.cause;
    if cause == Cause::OriginUnreachable && j.attempts <= j.rescue.retries {
        let delay_ms = backoff_ms(j.attempts, facts.jitter);
        let left = f64::from(j.rescue.timeout_ms) - facts.elapsed_ms - f64::from(delay_ms);
        if left >= 1.0 {
            return Decision::Retry {
                delay_ms,
                timeout_ms: left as u32,
            };
        }
    }
    // The last try at this origin: a retried request counts once.
    if cause.is_origin() && j.breaker.is_some() && tell(false) {
        failed.failure.set_field("circuit", "open");
    }
    rescue(&j.rescue, failed)
}

/// After the fallback's attempt: its good answer, or the primary's failure
/// with the fallback's cause, then a stored copy or the error.
fn at_fallback(r: &Rescue, primary: &Failed, came: Came, facts: &Facts<'_>) -> Decision {
    let named = |f: Failure| f.with_field("origin", facts.primary_origin);
    let cause = match came {
        Came::Good => {
            let record = named(primary.failure.clone().with_field("fallback", "served"));
            return Decision::Pass {
                record: Some(record),
            };
        }
        Came::Failed(f) => f.failure.cause,
        // A fallback that loops back to the worker: a broken configuration.
        Came::Looped { .. } => loop_failure().cause,
        Came::UploadEnded => return Decision::Quiet,
        Came::Nothing | Came::CacheHit { .. } | Came::CacheMiss => return unexpected(),
    };
    let failed = Failed {
        failure: named(
            primary
                .failure
                .clone()
                .with_field("fallback_cause", cause.as_str()),
        ),
        retry_after: primary.retry_after.clone(),
    };
    if r.stale {
        Decision::LookUp { failure: failed }
    } else {
        Decision::Fail(failed)
    }
}

/// The order of rescue after the origin's last try: the fallback, then a
/// stored copy, then the uniform error (only for the origin's failures).
fn rescue(r: &Rescue, failed: Failed) -> Decision {
    if !failed.failure.cause.is_origin() {
        Decision::Fail(failed)
    } else if r.fallback.is_some() {
        Decision::Fallback { primary: failed }
    } else if r.stale {
        Decision::LookUp { failure: failed }
    } else {
        Decision::Fail(failed)
    }
}

/// The failure of a request the open circuit held off.
fn held(open_for: u32) -> Failed {
    Failed {
        failure: Failure::new(
            Cause::OriginUnreachable,
            format!("circuit open: the origin is not contacted for {open_for} s"),
        )
        .with_field("circuit", "open"),
        retry_after: Some(RetryAfter::Circuit(open_for)),
    }
}

/// An outcome this stage never asked for (the executor and Rust out of
/// step): the worker's own failure.
fn unexpected() -> Decision {
    Decision::Fail(Failed::bare(Failure::new(
        Cause::WorkerError,
        "the executor handed back an outcome this step did not ask for",
    )))
}

/// 25 ms, 50 ms, 100 ms, … (capped at 1.6 s) plus 0–25 ms of jitter.
pub fn backoff_ms(attempt: u32, jitter: u8) -> u32 {
    25 * (1 << attempt.saturating_sub(1).min(6)) + u32::from(jitter) % 26
}

#[cfg(test)]
#[path = "next_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "next_order_tests.rs"]
mod order_tests;
