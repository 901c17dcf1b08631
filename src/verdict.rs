//! After an attempt failed: what the failure is, and what to do next (try
//! again, look for a stored copy, or answer). Pure: tested natively.

use error_shield::parts::{fit, status};
use error_shield::{Cause, Failure};

use crate::plan::Rescue;
use crate::settings::{Settings, StatusPolicy};

/// How an attempt at the origin failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// The origin answered with a status in `FAILURE_STATUSES`.
    Status {
        /// The status.
        status: u16,
        /// The first bytes of its body (at most `LOG_ORIGIN_BODY_BYTES`).
        excerpt: &'a [u8],
    },
    /// No response headers within the timeout.
    TimedOut,
    /// The fetch failed (DNS, connect, reset, TLS, not HTTP).
    Unreachable(String),
    /// The body broke after the headers went to the client, which had
    /// `sent` bytes of it by then.
    BrokenBody {
        /// The stream's error.
        message: String,
        /// Body bytes that reached the client.
        sent: u64,
    },
}

/// The failure of `attempt`, the `attempts`-th try.
pub fn classify(s: &Settings, attempt: Attempt<'_>, attempts: u32) -> Failure {
    let mut failure = match attempt {
        Attempt::Status { status, excerpt } => {
            let f = Failure::new(
                Cause::OriginErrorStatus,
                format!("origin answered {status}"),
            )
            .with_origin_status(status);
            if s.log_origin_body_bytes > 0 {
                f.with_origin_body(self::excerpt(excerpt, s.log_origin_body_bytes as usize))
            } else {
                f
            }
        }
        Attempt::TimedOut => Failure::new(
            Cause::OriginTimeout,
            format!("no response headers within {} ms", s.timeout_ms),
        ),
        Attempt::Unreachable(message) => Failure::new(Cause::OriginUnreachable, message),
        Attempt::BrokenBody { message, sent } => Failure::new(
            Cause::OriginUnreachable,
            format!("body broke after the headers, {sent} bytes sent: {message}"),
        )
        .with_field("after_headers", true)
        .with_field("bytes", sent),
    };
    // With retries configured, every record says how many tries it took.
    if s.retries > 0 {
        failure.set_field("attempts", attempts);
    }
    failure
}

/// The start of a failing body as text for the log, at most `max` bytes
/// as the record writes it (after JSON escaping: a control byte takes six,
/// so a body of them cannot grow a record sixfold). Invalid UTF-8 (and a
/// character cut in half at the end) becomes U+FFFD.
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]);
    fit::within(&text, max).to_owned()
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again after `delay_ms`, with `timeout_ms` left for the headers.
    Retry {
        /// The backoff.
        delay_ms: u32,
        /// What is left of the timeout after the backoff.
        timeout_ms: u32,
    },
    /// Send it once to the fallback origin, with its own timeout.
    Fallback,
    /// Look for a stored copy to serve instead of the error.
    LookUp,
    /// Answer with the error.
    Fail,
}

/// The next step after `failure` on the `attempts`-th try, `elapsed_ms`
/// after the first began (`fallen`: that try was the fallback's); `jitter`
/// is a random byte. The order of rescue: retries, the fallback, a stale
/// copy, the error.
pub fn next(
    plan: &Rescue,
    failure: &Failure,
    attempts: u32,
    elapsed_ms: f64,
    jitter: u8,
    fallen: bool,
) -> Next {
    if fallen {
        return if plan.stale { Next::LookUp } else { Next::Fail };
    }
    if failure.cause == Cause::OriginUnreachable && attempts <= plan.retries {
        let delay_ms = backoff_ms(attempts, jitter);
        let left = f64::from(plan.timeout_ms) - elapsed_ms - f64::from(delay_ms);
        if left >= 1.0 {
            return Next::Retry {
                delay_ms,
                timeout_ms: left as u32,
            };
        }
    }
    if !failure.cause.is_origin() {
        return Next::Fail;
    }
    if plan.fallback.is_some() {
        return Next::Fallback;
    }
    if plan.stale {
        return Next::LookUp;
    }
    Next::Fail
}

/// 25 ms, 50 ms, 100 ms, … (capped at 1.6 s) plus 0–25 ms of jitter.
pub fn backoff_ms(attempt: u32, jitter: u8) -> u32 {
    25 * (1 << attempt.saturating_sub(1).min(6)) + u32::from(jitter) % 26
}

/// The status of the uniform error for `failure` under `policy`: with
/// `by-cause`, the cause's gateway status (502, 504, 500); with `origin`,
/// the same except that an origin's failing status is kept.
pub fn status_for(policy: StatusPolicy, failure: &Failure) -> u16 {
    match (policy, failure.origin_status) {
        (StatusPolicy::Always500, _) => status::INTERNAL_SERVER_ERROR,
        (StatusPolicy::Origin, Some(origin))
            if failure.cause == Cause::OriginErrorStatus && status::RANGE.contains(&origin) =>
        {
            origin
        }
        _ => failure.cause.gateway_status(),
    }
}

/// The status of the uniform error while the circuit is open: 503 ("come
/// back later", with `Retry-After`) unless every failure is a 500.
pub fn open_status(policy: StatusPolicy) -> u16 {
    match policy {
        StatusPolicy::Always500 => status::INTERNAL_SERVER_ERROR,
        StatusPolicy::ByCause | StatusPolicy::Origin => status::SERVICE_UNAVAILABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(retries: u32, log_bytes: u32) -> Settings {
        Settings {
            retries,
            log_origin_body_bytes: log_bytes,
            timeout_ms: 1000,
            ..Settings::default()
        }
    }

    fn plan(retries: u32, stale: bool) -> Rescue {
        Rescue {
            timeout_ms: 1000,
            retries,
            stale,
            fallback: None,
        }
    }

    #[test]
    fn each_attempt_becomes_its_cause_with_the_details_for_the_log() {
        let f = classify(
            &settings(0, 4),
            Attempt::Status {
                status: 502,
                excerpt: b"stack trace",
            },
            1,
        );
        assert_eq!(
            (f.cause, f.message.as_str()),
            (Cause::OriginErrorStatus, "origin answered 502")
        );
        assert_eq!(
            (f.origin_status, f.origin_body.as_deref()),
            (Some(502), Some("stac"))
        );
        assert_eq!(f.field("attempts"), None);
        let f = classify(
            &settings(0, 0),
            Attempt::Status {
                status: 500,
                excerpt: b"x",
            },
            1,
        );
        assert_eq!(f.origin_body, None);
        let f = classify(&settings(2, 4), Attempt::TimedOut, 3);
        assert_eq!(
            (f.cause, f.message.as_str()),
            (Cause::OriginTimeout, "no response headers within 1000 ms")
        );
        assert_eq!(f.field("attempts"), Some(&3.into()));
        let f = classify(&settings(1, 4), Attempt::Unreachable("reset".into()), 2);
        assert_eq!(
            (f.cause, f.message.as_str(), f.field("attempts")),
            (Cause::OriginUnreachable, "reset", Some(&2.into()))
        );
    }

    #[test]
    fn only_unreachable_is_retried_and_only_within_the_timeout() {
        let unreachable = Failure::new(Cause::OriginUnreachable, "reset");
        let timeout = Failure::new(Cause::OriginTimeout, "slow");
        let status = Failure::new(Cause::OriginErrorStatus, "502");
        let table = [
            (
                plan(2, false),
                &unreachable,
                1,
                0.0,
                0,
                Next::Retry {
                    delay_ms: 25,
                    timeout_ms: 975,
                },
            ),
            (
                plan(2, false),
                &unreachable,
                2,
                100.0,
                25,
                Next::Retry {
                    delay_ms: 75,
                    timeout_ms: 825,
                },
            ),
            (plan(2, false), &unreachable, 3, 0.0, 0, Next::Fail),
            (plan(2, false), &unreachable, 1, 975.0, 0, Next::Fail),
            (
                plan(2, false),
                &unreachable,
                1,
                974.0,
                0,
                Next::Retry {
                    delay_ms: 25,
                    timeout_ms: 1,
                },
            ),
            (plan(0, false), &unreachable, 1, 0.0, 0, Next::Fail),
            (plan(2, false), &timeout, 1, 0.0, 0, Next::Fail),
            (plan(2, false), &status, 1, 0.0, 0, Next::Fail),
            (plan(2, true), &status, 1, 0.0, 0, Next::LookUp),
            (plan(2, true), &unreachable, 3, 0.0, 0, Next::LookUp),
            (
                plan(0, true),
                &Failure::new(Cause::WorkerPanic, "p"),
                1,
                0.0,
                0,
                Next::Fail,
            ),
        ];
        for (p, f, attempts, elapsed, jitter, want) in table {
            assert_eq!(
                next(&p, f, attempts, elapsed, jitter, false),
                want,
                "{p:?} {f:?} {attempts} {elapsed}"
            );
        }
    }

    #[test]
    fn statuses_follow_the_cause_only_when_asked() {
        let by_cause = [
            (Cause::OriginUnreachable, 502),
            (Cause::OriginErrorStatus, 502),
            (Cause::OriginTimeout, 504),
            (Cause::WorkerError, 500),
            (Cause::WorkerPanic, 500),
            (Cause::WorkerTrap, 500),
            (Cause::ConfigError, 500),
        ];
        for (cause, status) in by_cause {
            let f = Failure::new(cause, "m");
            assert_eq!(status_for(StatusPolicy::ByCause, &f), status, "{cause}");
            assert_eq!(status_for(StatusPolicy::Origin, &f), status, "{cause}");
            assert_eq!(status_for(StatusPolicy::Always500, &f), 500, "{cause}");
        }
    }

    #[test]
    fn the_origin_policy_keeps_the_origins_failing_status_and_only_that() {
        let answered = |s| Failure::new(Cause::OriginErrorStatus, "m").with_origin_status(s);
        for (origin, want) in [(503, 503), (500, 500), (599, 599), (429, 429), (302, 502)] {
            assert_eq!(
                status_for(StatusPolicy::Origin, &answered(origin)),
                want,
                "{origin}"
            );
            assert_eq!(
                status_for(StatusPolicy::ByCause, &answered(origin)),
                502,
                "{origin}"
            );
        }
    }

    #[test]
    fn the_order_of_rescue_is_retries_then_the_fallback_then_a_stale_copy() {
        let both = Rescue {
            fallback: Some("http://b/x".into()),
            ..plan(1, true)
        };
        let unreachable = Failure::new(Cause::OriginUnreachable, "reset");
        let status = Failure::new(Cause::OriginErrorStatus, "503");
        let worker = Failure::new(Cause::WorkerError, "bug");
        let table = [
            (&unreachable, 1, false, "retry"),
            (&unreachable, 2, false, "fallback"),
            (&status, 1, false, "fallback"),
            (&worker, 1, false, "fail"),
            // After the fallback failed: the stale copy, never the fallback again.
            (&status, 3, true, "look up"),
            (&unreachable, 1, true, "look up"),
        ];
        for (f, attempts, fallen, want) in table {
            let got = match next(&both, f, attempts, 0.0, 0, fallen) {
                Next::Retry { .. } => "retry",
                Next::Fallback => "fallback",
                Next::LookUp => "look up",
                Next::Fail => "fail",
            };
            assert_eq!(got, want, "{f:?} {attempts} {fallen}");
        }
        let only_fallback = Rescue {
            stale: false,
            ..both
        };
        assert_eq!(next(&only_fallback, &status, 1, 0.0, 0, true), Next::Fail);
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

    #[test]
    fn excerpts_are_capped_and_lossy() {
        assert_eq!(excerpt(b"hello world", 5), "hello");
        assert_eq!(excerpt(b"hi", 0), "");
        assert_eq!(excerpt("héllo".as_bytes(), 2), "h");
        assert_eq!(excerpt(&"héllo".as_bytes()[..2], 4), "h\u{fffd}");
        assert_eq!(excerpt(&[0xff, b'a'], 10), "\u{fffd}a");
        // Bounded as written in the record: escapes and U+FFFD count whole.
        assert_eq!(excerpt(&[1; 100], 20), "\u{1}\u{1}\u{1}");
        assert_eq!(excerpt(b"a\"b\"", 4), "a\"b");
        assert_eq!(excerpt(&[0xff; 10], 7), "\u{fffd}\u{fffd}");
        for max in [0, 1, 5, 6, 7, 2048] {
            let e = excerpt(&[0, 1, b'\n', b'x', 0xc3, 0xa9, 0xff].repeat(400), max);
            assert!(fit::escaped_len(&e) <= max, "{max}: {e:?}");
        }
    }
}
