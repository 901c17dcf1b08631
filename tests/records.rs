//! The log record end to end: one line of JSON per failure with the fields
//! the operator needs (status, excerpt, location, first frames, timeout) and
//! nothing the client sent in confidence or the origin set.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use error_shield_harness::origin::{SECRET_BODY, SECRET_HEADERS};
use error_shield_harness::{assert_traps_answered, get, unique_id, Env};

const TIMEOUT_MS: u64 = 1500;

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let timeout = TIMEOUT_MS.to_string();
        Env::proxy(&[
            ("ORIGIN_TIMEOUT_MS", &timeout),
            ("FAILURE_STATUSES", "500,502-599"),
            ("FAULT_INJECTION", "on"),
            ("LOG_ORIGIN_BODY_BYTES", "32"),
        ])
    })
}

#[test]
fn origin_error_record_has_status_capped_excerpt_and_redacted_url() {
    let e = env();
    let id = unique_id("rec");
    let credentials = [
        ("authorization", "Bearer sekrit-token"),
        ("cookie", "sid=sekrit-cookie"),
        ("proxy-authorization", "Basic c2Vrcml0LXByb3h5"),
    ];
    // The control: on pass-through, every credential reaches the origin and
    // the origin's Set-Cookie reaches the client (501 is not a failure here).
    let echo = get(&e.worker("main").url("/echo"), &credentials).json();
    for (name, value) in credentials {
        let sent = echo["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h[0] == name && h[1] == value);
        assert!(sent, "{name} did not reach the origin: {echo}");
    }
    let passed = get(&e.worker("main").url("/status/501"), &[]);
    assert_eq!(passed.header("set-cookie"), Some(SECRET_HEADERS[0].1));

    let mut headers = credentials.to_vec();
    headers.push(("x-request-id", &id));
    let r = get(
        &e.worker("main").url("/status/503?token=abc123&user=bob"),
        &headers,
    );
    assert_eq!(r.status, 500);
    let record = e.worker("main").record_for(&id);
    assert_eq!(record["cause"], "origin_error_status");
    assert_eq!(record["origin_status"], 503);
    assert_eq!(record["origin_body"], &SECRET_BODY[..32]);
    // The URL the client asked for (the worker's own), not the origin's.
    assert_eq!(
        record["url"],
        e.worker("main")
            .url("/status/503?token=REDACTED&user=REDACTED"),
        "{record}"
    );
    let raw = record.to_string();
    for secret in [
        "abc123",
        "bob",
        "sekrit",
        "c2Vrcml0LXByb3h5",
        "origin_session",
    ] {
        assert!(!raw.contains(secret), "record leaks {secret}: {raw}");
    }
    // Nor any other line wrangler printed (records of other tests included).
    let output = e.worker("main").output();
    for secret in ["sekrit", "c2Vrcml0LXByb3h5", "origin_session=leaked"] {
        assert!(!output.contains(secret), "the log leaks {secret}");
    }
    for absent in ["location", "attempts", "served_stale"] {
        assert!(record.get(absent).is_none(), "{absent} in {record}");
    }
}

#[test]
fn panic_record_has_message_and_location_and_the_instance_keeps_serving() {
    let e = env();
    for _ in 0..3 {
        let id = unique_id("panic");
        let r = get(
            &e.worker("main").url("/echo"),
            &[("x-fault-inject", "panic"), ("x-request-id", &id)],
        );
        assert_eq!(r.status, 500);
        let record = e.worker("main").record_for(&id);
        assert_eq!(record["cause"], "worker_panic");
        assert!(
            record["message"]
                .as_str()
                .unwrap()
                .contains("injected panic"),
            "{record}"
        );
        assert!(
            record["location"]
                .as_str()
                .unwrap()
                .starts_with("src/fault.rs:"),
            "{record}"
        );
        let ok = get(&e.worker("main").url("/echo"), &[]);
        assert_eq!(
            ok.status,
            200,
            "the request after a panic failed: {}",
            ok.text()
        );
    }
}

#[test]
fn a_trap_is_answered_and_the_module_serves_the_next_request() {
    let e = env();
    for (kind, record) in assert_traps_answered(e.worker("main")) {
        let message = record["message"].as_str().unwrap();
        assert!(message.contains("RuntimeError"), "{record}");
        // The error and its first frames only: a stack overflow's trace is
        // thousands of frames long.
        assert!(
            message.lines().count() <= 6 && message.len() <= 1000,
            "{record}"
        );
        assert_eq!(
            get(&e.worker("main").url("/echo"), &[]).status,
            200,
            "after {kind}"
        );
    }
}

#[test]
fn timeout_answers_within_the_timeout_plus_a_margin() {
    let e = env();
    let id = unique_id("timeout");
    let start = Instant::now();
    let r = get(
        &e.worker("main").url("/sleep?ms=4000"),
        &[("x-request-id", &id)],
    );
    let took = start.elapsed();
    assert_eq!(r.status, 500);
    assert!(
        took >= Duration::from_millis(TIMEOUT_MS),
        "answered after {took:?}, before the timeout"
    );
    assert!(
        took < Duration::from_millis(TIMEOUT_MS + 1500),
        "answered after {took:?}"
    );
    let record = e.worker("main").record_for(&id);
    assert_eq!(record["cause"], "origin_timeout");
    assert!(
        record["message"].as_str().unwrap().contains("1500 ms"),
        "{record}"
    );
    // The time the request took at the worker: the timeout, and no more
    // than the client waited (give or take the clocks' whole milliseconds).
    let duration = record["duration_ms"].as_u64().expect("duration_ms");
    assert!(
        (TIMEOUT_MS..=took.as_millis() as u64 + 1).contains(&duration),
        "duration_ms {duration}, the client waited {took:?}: {record}"
    );
}

/// The origin request that timed out is let go with the answer, not left
/// to run: the origin sees its connection close right after the timeout.
/// The control: a hold shorter than the timeout is answered, not closed.
#[test]
fn a_timed_out_origin_request_is_dropped_with_the_answer() {
    let e = env();
    let (key, control) = (unique_id("dropped"), unique_id("held"));
    let r = get(
        &e.worker("main").url(&format!("/hold?key={key}&ms=8000")),
        &[],
    );
    assert_eq!(r.status, 500);
    // The origin holds it 8 s; let go with the answer, it is closed at once.
    let ms = e.origin().let_go_after(&key, Duration::from_secs(3));
    // The origin's clock starts once it has read the request, a little
    // after the worker's timer did.
    assert!(
        (TIMEOUT_MS - 200..TIMEOUT_MS + 1500).contains(&ms),
        "the origin request was closed after {ms} ms, timeout {TIMEOUT_MS} ms"
    );
    let ok = get(
        &e.worker("main").url(&format!("/hold?key={control}&ms=300")),
        &[],
    );
    assert_eq!((ok.status, ok.text().as_str()), (200, "held"));
    assert_eq!(e.origin().ended(&control).as_deref(), Some("complete"));
}
