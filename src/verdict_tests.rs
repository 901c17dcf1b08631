//! The unit tests of `verdict.rs`.

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
            secrets: &Secrets::default(),
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
            secrets: &Secrets::default(),
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
fn a_refused_websocket_handshake_is_the_origins_protocol_failure_not_its_status() {
    let runtime = b"Server failed WebSocket handshake: incorrect Sec-WebSocket-Accept header";
    let status = |status, excerpt: &[u8]| {
        let attempt = Attempt::Status {
            status,
            excerpt,
            secrets: &Secrets::default(),
        };
        classify(&settings(0, 2048), attempt, 1)
    };
    let f = status(502, runtime);
    assert_eq!(f.cause, Cause::OriginUnreachable);
    assert!(f.message.ends_with("incorrect Sec-WebSocket-Accept header"));
    assert_eq!((f.origin_status, f.origin_body), (None, None));
    // The controls: the same text on another status, another text on a 502.
    assert_eq!(status(500, runtime).cause, Cause::OriginErrorStatus);
    assert_eq!(status(502, b"Bad gateway").cause, Cause::OriginErrorStatus);
}
