use std::cell::Cell;

use super::*;
use crate::rescue::journey::Breaker;

fn rescue(retries: u32, stale: bool, fallback: bool) -> Rescue {
    Rescue {
        timeout_ms: 1000,
        retries,
        stale,
        fallback: fallback.then(|| "http://b/x".into()),
    }
}

fn journey(stage: Stage, r: Rescue, attempts: u32, hears: Option<Hears>) -> Journey {
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

const FACTS: Facts<'static> = Facts {
    elapsed_ms: 0.0,
    jitter: 0,
    primary_origin: "http://o",
};

fn failed(cause: Cause) -> Failed {
    Failed {
        failure: Failure::new(cause, "m"),
        retry_after: Some(RetryAfter::Origin("9".into())),
    }
}

/// Every outcome, each failure cause among them.
fn every_came() -> Vec<Came> {
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
fn name(d: &Decision) -> &'static str {
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
fn decide(j: &Journey, came: Came, open: bool) -> (Decision, Option<bool>) {
    let heard = Cell::new(None);
    let d = next(j, came, &FACTS, |good| {
        heard.set(Some(good));
        open
    });
    (d, heard.get())
}

fn came_name(c: &Came) -> String {
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
fn only_unreachable_is_retried_and_only_within_the_timeout() {
    // retries, attempts, elapsed, jitter, cause → step
    let retry = |delay_ms, timeout_ms| Decision::Retry {
        delay_ms,
        timeout_ms,
    };
    let table = [
        (2, 1, 0.0, 0, Cause::OriginUnreachable, Some(retry(25, 975))),
        (
            2,
            2,
            100.0,
            25,
            Cause::OriginUnreachable,
            Some(retry(75, 825)),
        ),
        (2, 3, 0.0, 0, Cause::OriginUnreachable, None),
        (2, 1, 975.0, 0, Cause::OriginUnreachable, None),
        (2, 1, 974.0, 0, Cause::OriginUnreachable, Some(retry(25, 1))),
        (0, 1, 0.0, 0, Cause::OriginUnreachable, None),
        (2, 1, 0.0, 0, Cause::OriginTimeout, None),
        (2, 1, 0.0, 0, Cause::OriginErrorStatus, None),
        (2, 1, 0.0, 0, Cause::WorkerPanic, None),
    ];
    for (retries, attempts, elapsed_ms, jitter, cause, want) in table {
        let j = journey(
            Stage::Origin { store: false },
            rescue(retries, false, false),
            attempts,
            None,
        );
        let facts = Facts {
            elapsed_ms,
            jitter,
            ..FACTS
        };
        let d = next(&j, Came::Failed(failed(cause)), &facts, |_| false);
        let want = want.unwrap_or_else(|| Decision::Fail(failed(cause)));
        assert_eq!(d, want, "{retries} {attempts} {elapsed_ms} {cause}");
    }
}

#[test]
fn the_order_of_rescue_is_retries_then_the_fallback_then_a_stale_copy() {
    // retries, stale, fallback, attempts, cause → step
    let table = [
        (1, true, true, 1, Cause::OriginUnreachable, "retry"),
        (1, true, true, 2, Cause::OriginUnreachable, "fallback"),
        (1, true, true, 1, Cause::OriginErrorStatus, "fallback"),
        (1, true, true, 1, Cause::OriginTimeout, "fallback"),
        (1, true, false, 1, Cause::OriginTimeout, "look up"),
        (1, false, false, 1, Cause::OriginTimeout, "fail"),
        (1, true, true, 1, Cause::WorkerError, "fail"),
        (1, true, true, 1, Cause::ConfigError, "fail"),
    ];
    for (retries, stale, fallback, attempts, cause, want) in table {
        let j = journey(
            Stage::Origin { store: false },
            rescue(retries, stale, fallback),
            attempts,
            None,
        );
        let (d, _) = decide(&j, Came::Failed(failed(cause)), false);
        assert_eq!(
            name(&d),
            want,
            "{retries} {stale} {fallback} {attempts} {cause}"
        );
    }
}

#[test]
fn the_breaker_hears_the_last_try_once_and_good_answers_only_when_it_asked() {
    let r = rescue(1, false, false);
    let unreachable = || Came::Failed(failed(Cause::OriginUnreachable));
    // A retry is not heard; the last try is.
    let j = |attempts, hears| journey(Stage::Origin { store: false }, r.clone(), attempts, hears);
    assert_eq!(
        decide(&j(1, Some(Hears::Failures)), unreachable(), true).1,
        None
    );
    let (d, heard) = decide(&j(2, Some(Hears::Failures)), unreachable(), true);
    assert_eq!(heard, Some(false));
    let Decision::Fail(f) = d else {
        panic!("{d:?}")
    };
    assert_eq!(f.failure.field("circuit"), Some(&"open".into()));
    // Still closed: no mark.
    let (d, _) = decide(&j(2, Some(Hears::Failures)), unreachable(), false);
    let Decision::Fail(f) = d else {
        panic!("{d:?}")
    };
    assert_eq!(f.failure.field("circuit"), None);
    // Not the origin's failure: never heard.
    for cause in [Cause::WorkerError, Cause::ConfigError] {
        let (_, heard) = decide(
            &j(2, Some(Hears::Failures)),
            Came::Failed(failed(cause)),
            true,
        );
        assert_eq!(heard, None, "{cause}");
    }
    let (_, heard) = decide(
        &j(1, Some(Hears::Failures)),
        Came::Looped { ours: true },
        true,
    );
    assert_eq!(heard, None);
    // Good answers: only when it asked.
    for (hears, want) in [
        (None, None),
        (Some(Hears::Failures), None),
        (Some(Hears::Answers), Some(true)),
        (Some(Hears::Probe(2.0)), Some(true)),
    ] {
        assert_eq!(decide(&j(1, hears), Came::Good, false).1, want, "{hears:?}");
    }
    // Never at the fallback, a look-up, a held or failed-open request.
    let primary = failed(Cause::OriginTimeout);
    for stage in [
        Stage::Fallback {
            primary: primary.clone(),
        },
        Stage::LookingUp { failure: primary },
        Stage::Held { open_for: 3 },
        Stage::FailedOpen {
            failure: Failure::new(Cause::WorkerPanic, "p"),
        },
    ] {
        for came in every_came() {
            let j = journey(
                stage.clone(),
                rescue(1, true, true),
                1,
                Some(Hears::Answers),
            );
            assert_eq!(
                decide(&j, came.clone(), true).1,
                None,
                "{stage:?} {}",
                came_name(&came)
            );
        }
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

#[test]
fn backoff_doubles_from_25_ms_with_up_to_25_ms_of_jitter() {
    let table = [
        (1, 0, 25),
        (2, 0, 50),
        (3, 0, 100),
        (7, 0, 1600),
        (20, 0, 1600),
        (1, 25, 50),
        (1, 26, 25),
        (1, 255, 46),
    ];
    for (attempt, jitter, want) in table {
        assert_eq!(backoff_ms(attempt, jitter), want, "{attempt} {jitter}");
    }
}
