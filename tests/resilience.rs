//! Stale-if-error from the Cache API, and safe retries, end to end.

mod common;

use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use common::{get, send, unique_id, Stack};

const WINDOW_S: u64 = 5;

fn env() -> &'static Stack {
    static ENV: OnceLock<Stack> = OnceLock::new();
    ENV.get_or_init(|| {
        let window = WINDOW_S.to_string();
        Stack::start(&[
            ("STALE_IF_ERROR_SECONDS", &window),
            ("ORIGIN_RETRIES", "2"),
            ("ORIGIN_TIMEOUT_MS", "2000"),
        ])
    })
}

/// Fetches `/cacheable?key=…` once while the origin is healthy, then makes
/// that key fail at the origin.
fn prime_then_fail(e: &Stack, key: &str, cc: &str, headers: &[(&str, &str)]) -> String {
    let url = e.worker.url(&format!("/cacheable?key={key}&cc={cc}"));
    let first = get(&url, headers);
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(first.header("x-served-stale").is_none());
    // The copy is stored off the hot path: give waitUntil a moment.
    thread::sleep(Duration::from_millis(300));
    e.origin.set_flag(&format!("fail:{key}"), "1");
    url
}

#[test]
fn a_stale_copy_is_served_when_the_origin_starts_failing() {
    let e = env();
    let url = prime_then_fail(e, "fresh", "max-age%3D0", &[]);
    let id = unique_id("stale");
    let r = get(&url, &[("x-request-id", &id)]);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "fresh fresh");
    assert_eq!(r.header("x-served-stale"), Some("1"));
    assert_eq!(r.header("cache-control"), Some("max-age=0"));
    let age: u64 = r.header("age").expect("Age").parse().expect("numeric Age");
    assert!(age <= WINDOW_S);
    let record = e.worker.record_for(&id);
    assert_eq!(record["cause"], "origin_error_status");
    assert_eq!(record["served_stale"], true);
}

#[test]
fn a_stale_copy_is_not_served_past_its_window() {
    let e = env();
    let url = prime_then_fail(e, "expired", "max-age%3D0", &[]);
    thread::sleep(Duration::from_millis(WINDOW_S * 1000 + 700));
    let r = get(&url, &[]);
    assert_eq!(r.status, 500);
    assert!(r.header("x-served-stale").is_none());
}

#[test]
fn the_origins_stale_if_error_directive_wins() {
    let e = env();
    let url = prime_then_fail(e, "directive", "max-age%3D0%2C%20stale-if-error%3D2", &[]);
    assert_eq!(get(&url, &[]).status, 200, "within the origin's 2 s");
    thread::sleep(Duration::from_millis(2700));
    assert_eq!(
        get(&url, &[]).status,
        500,
        "the origin said 2 s, not {WINDOW_S} s"
    );
}

#[test]
fn personal_requests_and_uncacheable_responses_never_get_stale_copies() {
    let e = env();
    // Stored from an anonymous request, but asked for with a cookie: no.
    let url = prime_then_fail(e, "cookie", "max-age%3D0", &[]);
    assert_eq!(get(&url, &[("cookie", "sid=1")]).status, 500);
    assert_eq!(get(&url, &[("authorization", "Bearer x")]).status, 500);
    // Asked for with credentials first: never stored.
    let url = prime_then_fail(e, "authed", "max-age%3D0", &[("authorization", "Bearer x")]);
    assert_eq!(get(&url, &[]).status, 500);
    // no-store and private responses are never stored.
    for (key, cc) in [
        ("nostore", "no-store"),
        ("private", "private%2C%20max-age%3D60"),
    ] {
        let url = prime_then_fail(e, key, cc, &[]);
        assert_eq!(get(&url, &[]).status, 500, "{key}");
    }
}

#[test]
fn a_get_is_retried_after_a_failed_connect_and_succeeds() {
    let e = env();
    let r = get(&e.worker.url("/flaky?key=get"), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "ok after 2 connections");
}

#[test]
fn a_post_is_never_retried() {
    let e = env();
    let id = unique_id("post");
    let r = send(
        "POST",
        &e.worker.url("/flaky?key=post"),
        &[("x-request-id", &id)],
        Some(b"body"),
    );
    assert_eq!(r.status, 500);
    let record = e.worker.record_for(&id);
    assert_eq!(record["cause"], "origin_unreachable");
    assert_eq!(record["attempts"], 1);
}

#[test]
fn retries_stop_after_origin_retries_and_record_the_attempts() {
    let e = env();
    let id = unique_id("reset");
    let before = e.origin.hits("/reset");
    let r = get(&e.worker.url("/reset"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 500);
    assert_eq!(e.worker.record_for(&id)["attempts"], 3);
    assert_eq!(e.origin.hits("/reset") - before, 3);
}

#[test]
fn a_timeout_is_never_retried() {
    let e = env();
    let id = unique_id("timeout");
    let r = get(&e.worker.url("/sleep?ms=4000"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 500);
    let record = e.worker.record_for(&id);
    assert_eq!(record["cause"], "origin_timeout");
    assert_eq!(record["attempts"], 1);
    assert_eq!(e.origin.hits("/sleep"), 1);
}

/// With stale-if-error or retries on, requests run inside a Rust future: a
/// trap there leaves their promises unsettled, and the JS entry answers every
/// in-flight request from workerd's global `error` event.
#[test]
fn a_trap_leaves_the_requests_in_flight_unharmed() {
    // Its own worker: the module traps while other requests are in flight.
    static TRAPPING: OnceLock<Stack> = OnceLock::new();
    let e = TRAPPING
        .get_or_init(|| Stack::start(&[("ORIGIN_RETRIES", "1"), ("FAULT_INJECTION", "on")]));
    let in_flight = |query: &'static str, tag: &str| {
        let (base, id) = (e.worker.base.clone(), unique_id(tag));
        let sent = id.clone();
        let handle = thread::spawn(move || {
            get(&format!("{base}/sleep?{query}"), &[("x-request-id", &sent)])
        });
        (id, handle)
    };
    let (ok_id, ok) = in_flight("ms=1800", "inflight-ok");
    let (bad_id, bad) = in_flight("ms=1800&status=502", "inflight-502");
    thread::sleep(Duration::from_millis(500));
    for kind in ["abort", "stack_overflow"] {
        let id = unique_id(kind);
        let r = get(
            &e.worker.url("/echo"),
            &[
                ("x-fault-inject", kind),
                ("x-request-id", &id),
                ("accept", "text/plain"),
            ],
        );
        assert_eq!(r.status, 500, "{kind}");
        assert!(
            r.text().contains(&format!("Request ID: {id}")),
            "{kind}: {}",
            r.text()
        );
        let record = e.worker.record_for(&id);
        assert_eq!(record["cause"], "worker_trap", "{record}");
    }
    // No Rust runs while a request waits on the origin, so a trap elsewhere
    // costs it nothing: it gets the origin's answer…
    let r = ok.join().expect("request in flight");
    assert_eq!((r.status, r.text().as_str()), (200, "slept"), "{r:?}");
    assert!(e.worker.records_for(&ok_id).is_empty());
    // …or, when that answer fails, the uniform 500 from the re-instantiated
    // module under the id it already had.
    let r = bad.join().expect("failing request in flight");
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(r.header("x-request-id"), Some(bad_id.as_str()));
    let record = e.worker.record_for(&bad_id);
    assert_eq!(
        (record["cause"].as_str(), record["origin_status"].as_u64()),
        (Some("origin_error_status"), Some(502))
    );
    // And the re-instantiated module serves.
    assert_eq!(get(&e.worker.url("/echo"), &[]).status, 200);
}
