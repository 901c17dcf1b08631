//! The unit tests of `next.rs`, one table per stage; the order of rescue,
//! retries and the breaker are in `next_order_tests.rs`.

use std::cell::Cell;

use super::*;
use crate::rescue::journey::Breaker;

pub(super) fn rescue(retries: u32, stale: bool, fallback: bool) -> Rescue {
    Rescue {
        timeout_ms: 1000,
        retries,
        stale,
        fallback: fallback.then(|| "http://b/x".into()),
    }
}

pub(super) fn journey(stage: Stage, r: Rescue, attempts: u32, hears: Option<Hears>) -> Journey {
    Journey {
        id: "r1".into(),
        nonces: String::new(),
        rule: 0,
        trace_id: None,
        started: 0.0,
        attempts,
        rescue: r,
        copy: None,
        breaker: hears.map(|hears| Breaker {
            origin: "http://o".into(),
            hears,
        }),
        stage,
    }
}

pub(super) const FACTS: Facts<'static> = Facts {
    elapsed_ms: 0.0,
    jitter: 0,
    primary_origin: "http://o",
};

pub(super) fn failed(cause: Cause) -> Failed {
    Failed {
        failure: Failure::new(cause, "m"),
        retry_after: Some(RetryAfter::Origin("9".into())),
    }
}

/// Every outcome, each failure cause among them.
pub(super) fn every_came() -> Vec<Came> {
    let mut all = vec![
        Came::Nothing,
        Came::Good,
        Came::Looped { ours: true },
        Came::Looped { ours: false },
        Came::CacheHit { servable: true },
        Came::CacheHit { servable: false },
        Came::CacheMiss,
        Came::UploadEnded,
    ];
    all.extend(Cause::ALL.iter().map(|c| Came::Failed(failed(*c))));
    all
}

/// The decision's name, for tables.
pub(super) fn name(d: &Decision) -> &'static str {
    match d {
        Decision::Retry { .. } => "retry",
        Decision::Fallback { .. } => "fallback",
        Decision::LookUp { .. } => "look up",
        Decision::Fail(_) => "fail",
        Decision::Pass { record: None } => "pass",
        Decision::Pass { record: Some(_) } => "pass recorded",
        Decision::Store => "store",
        Decision::Stale(_) => "stale",
        Decision::PassBack => "pass back",
        Decision::Quiet => "quiet",
    }
}

/// The decision, and what the breaker heard (`None`: nothing).
pub(super) fn decide(j: &Journey, came: Came, open: bool) -> (Decision, Option<bool>) {
    let heard = Cell::new(None);
    let d = next(j, came, &FACTS, |good| {
        heard.set(Some(good));
        open
    });
    (d, heard.get())
}

pub(super) fn came_name(c: &Came) -> String {
    match c {
        Came::Failed(f) => format!("failed {}", f.failure.cause),
        other => format!("{other:?}"),
    }
}
#[test]
fn at_the_origin_every_outcome_has_its_one_step() {
    let both = rescue(0, true, true);
    let j = journey(Stage::Origin { store: false }, both.clone(), 1, None);
    let stored = journey(Stage::Origin { store: true }, both, 1, None);
    for came in every_came() {
        let want = match &came {
            Came::Good => "pass",
            Came::Failed(f) if f.failure.cause.is_origin() => "fallback",
            Came::Failed(_) => "fail",
            Came::Looped { ours: true } => "fail",
            Came::Looped { ours: false } => "pass back",
            Came::UploadEnded => "quiet",
            Came::Nothing | Came::CacheHit { .. } | Came::CacheMiss => "fail",
        };
        let (d, heard) = decide(&j, came.clone(), false);
        assert_eq!((name(&d), heard), (want, None), "{}", came_name(&came));
        let (d, _) = decide(&stored, came.clone(), false);
        let want = if want == "pass" { "store" } else { want };
        assert_eq!(name(&d), want, "stored, {}", came_name(&came));
    }
}

#[test]
fn a_loop_of_ours_is_a_config_error_and_an_unexpected_outcome_the_workers() {
    let j = journey(
        Stage::Origin { store: false },
        rescue(2, true, true),
        1,
        None,
    );
    let (d, _) = decide(&j, Came::Looped { ours: true }, false);
    let Decision::Fail(f) = d else {
        panic!("{d:?}")
    };
    assert_eq!((f.failure.cause, f.retry_after), (Cause::ConfigError, None));
    assert_eq!(
        f.failure.context,
        vec![("variable".into(), "ORIGIN_URL".into())]
    );
    for came in [
        Came::Nothing,
        Came::CacheMiss,
        Came::CacheHit { servable: true },
    ] {
        let (d, _) = decide(&j, came, false);
        let Decision::Fail(f) = d else {
            panic!("{d:?}")
        };
        assert_eq!(f.failure.cause, Cause::WorkerError);
    }
}
#[test]
fn a_held_request_goes_to_the_fallback_then_a_stale_copy_then_the_503() {
    for (stale, fallback, want) in [
        (true, true, "fallback"),
        (false, true, "fallback"),
        (true, false, "look up"),
        (false, false, "fail"),
    ] {
        let j = journey(
            Stage::Held { open_for: 7 },
            rescue(2, stale, fallback),
            0,
            None,
        );
        for came in every_came() {
            let (d, _) = decide(&j, came, true);
            assert_eq!(name(&d), want, "{stale} {fallback}");
            let failed = match d {
                Decision::Fallback { primary } => primary,
                Decision::LookUp { failure } | Decision::Fail(failure) => failure,
                other => panic!("{other:?}"),
            };
            assert_eq!(failed.retry_after, Some(RetryAfter::Circuit(7)));
            assert_eq!(failed.failure.cause, Cause::OriginUnreachable);
            assert_eq!(failed.failure.field("circuit"), Some(&"open".into()));
        }
    }
}

#[test]
fn at_the_fallback_the_record_names_the_primary_and_the_fallbacks_cause() {
    let primary = failed(Cause::OriginTimeout);
    for stale in [true, false] {
        let j = journey(
            Stage::Fallback {
                primary: primary.clone(),
            },
            rescue(2, stale, true),
            2,
            None,
        );
        for came in every_came() {
            let (d, _) = decide(&j, came.clone(), false);
            let label = came_name(&came);
            let rescued = if stale { "look up" } else { "fail" };
            let want = match &came {
                Came::Good => "pass recorded",
                Came::Failed(_) | Came::Looped { .. } => rescued,
                Came::UploadEnded => "quiet",
                _ => "fail",
            };
            assert_eq!(name(&d), want, "{label}");
            match (d, &came) {
                (Decision::Pass { record: Some(f) }, _) => {
                    assert_eq!(f.cause, Cause::OriginTimeout);
                    assert_eq!(f.field("fallback"), Some(&"served".into()));
                    assert_eq!(f.field("origin"), Some(&"http://o".into()));
                }
                (Decision::LookUp { failure } | Decision::Fail(failure), Came::Failed(f)) => {
                    assert_eq!(failure.failure.cause, Cause::OriginTimeout, "{label}");
                    let cause = f.failure.cause.as_str();
                    assert_eq!(failure.failure.field("fallback_cause"), Some(&cause.into()));
                    assert_eq!(failure.failure.field("origin"), Some(&"http://o".into()));
                    // The primary's Retry-After, never the fallback's.
                    assert_eq!(failure.retry_after, primary.retry_after);
                }
                (Decision::LookUp { failure } | Decision::Fail(failure), Came::Looped { .. }) => {
                    let cause = failure.failure.field("fallback_cause");
                    assert_eq!(cause, Some(&"config_error".into()));
                }
                _ => {}
            }
        }
    }
}

#[test]
fn a_request_that_failed_open_answers_with_the_workers_failure_or_the_origins_answer() {
    let worker = Failure::new(Cause::WorkerPanic, "p").with_field("failed_open", true);
    let j = journey(
        Stage::FailedOpen {
            failure: worker.clone(),
        },
        rescue(0, false, false),
        1,
        None,
    );
    for came in every_came() {
        let (d, _) = decide(&j, came.clone(), false);
        let want = match came {
            Came::Good => Decision::Pass {
                record: Some(worker.clone()),
            },
            _ => Decision::Fail(Failed::bare(worker.clone())),
        };
        assert_eq!(d, want, "{}", came_name(&came));
    }
}

#[test]
fn a_look_up_serves_a_servable_copy_and_else_the_error() {
    let failure = failed(Cause::OriginErrorStatus);
    let j = journey(
        Stage::LookingUp {
            failure: failure.clone(),
        },
        rescue(0, true, false),
        1,
        None,
    );
    for came in every_came() {
        let (d, _) = decide(&j, came.clone(), false);
        let want = match came {
            Came::CacheHit { servable: true } => {
                Decision::Stale(failure.failure.clone().with_field("served_stale", true))
            }
            _ => Decision::Fail(failure.clone()),
        };
        assert_eq!(d, want, "{}", came_name(&came));
    }
}
