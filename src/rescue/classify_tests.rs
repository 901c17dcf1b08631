//! The unit tests of `classify.rs`.

use super::*;

fn settings(retries: u32, log_bytes: u32) -> Settings {
    Settings {
        retries,
        log_origin_body_bytes: log_bytes,
        timeout_ms: 1000,
        ..Settings::default()
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
