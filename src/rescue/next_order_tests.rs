//! The unit tests of `next.rs` on the order of rescue: retries within the
//! timeout, then the fallback, then a stale copy; what the breaker hears.

use super::tests::{came_name, decide, every_came, failed, journey, name, rescue, FACTS};
use super::*;

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
