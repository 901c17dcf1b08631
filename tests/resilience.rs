//! Resilience end to end (README § Resilience): the origin's own failing
//! status kept (`RESPONSE_STATUS=origin`), the fallback origin, the circuit
//! breaker and fail-open. "Not contacted" is proven by the fake origin's
//! hit counters; every "never" runs next to a request that does.

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use error_shield_harness::{
    echo_header, get, poll, send, unique_id, DeadPort, Env, Launch, Origin,
};
use serde_json::Value;

/// The fake origin, a `backup` origin and a dead port, and the workers:
/// `keeps` (`RESPONSE_STATUS=origin`), `falls_back` (a dead primary with
/// the backup as its fallback), `times_out` (the fake origin with a 1 s
/// timeout and the backup as its fallback) and `fails_open`
/// (`FAULT_INJECTION=on`, `ON_WORKER_FAILURE=fail-open`).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let (backup, dead) = (Origin::start(), DeadPort::bind());
        let falls_back = Launch::proxy().vars(&[
            ("ORIGIN_URL", &dead.url()),
            ("FALLBACK_ORIGIN_URL", &backup.url()),
        ]);
        let times_out = Launch::proxy().vars(&[
            ("ORIGIN_TIMEOUT_MS", "1000"),
            ("FALLBACK_ORIGIN_URL", &backup.url()),
        ]);
        let fails_open = Launch::proxy().vars(&[
            ("FAULT_INJECTION", "on"),
            ("ON_WORKER_FAILURE", "fail-open"),
            ("MAINTENANCE_BYPASS_TOKEN", BYPASS),
        ]);
        Env::build()
            .origin(Origin::start())
            .other_origin("backup", backup)
            .hold(dead)
            .fronting("keeps", Launch::proxy().var("RESPONSE_STATUS", "origin"))
            .worker("falls_back", falls_back)
            .fronting("times_out", times_out)
            .fronting("fails_open", fails_open)
            .start()
    })
}

/// The fail-open worker's bypass token: a secret that never reaches the origin.
const BYPASS: &str = "bypass-secret-7f3a";

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("JSON body")
}

#[test]
fn an_origins_failing_status_is_kept_with_its_valid_retry_after_and_nothing_else() {
    let e = env();
    let table = [
        ("503", "120", 503, Some("120"), "Service Unavailable"),
        (
            "503",
            "Sun,%2006%20Nov%201994%2008:49:37%20GMT",
            503,
            Some("Sun, 06 Nov 1994 08:49:37 GMT"),
            "Service Unavailable",
        ),
        ("503", "soon", 503, None, "Service Unavailable"),
        ("500", "5", 500, Some("5"), "Internal Server Error"),
        ("529", "", 529, None, "Server Error"),
    ];
    for (code, retry_after, want, kept, title) in table {
        let id = unique_id("keep");
        let url = e
            .worker("keeps")
            .url(&format!("/status/{code}?retry_after={retry_after}"));
        let r = get(
            &url,
            &[("x-request-id", &id), ("accept", "application/json")],
        );
        assert_eq!(r.status, want, "{code} {retry_after}");
        assert_eq!(r.header("retry-after"), kept, "{code} {retry_after}");
        let doc = json(&r.body);
        assert_eq!(
            (doc["status"].as_u64(), doc["title"].as_str()),
            (Some(u64::from(want)), Some(title))
        );
        // Nothing else of the origin's response: its secret headers stay out.
        assert_eq!(r.header("set-cookie"), None);
        assert_eq!(r.header("x-powered-by"), None);
        let record = e.worker("keeps").record_for(&id);
        assert_eq!(
            (record["cause"].as_str(), record["status"].as_u64()),
            (Some("origin_error_status"), Some(u64::from(want)))
        );
    }
    // Uniform within one status: two different origin bodies, one answer.
    let a = get(
        &e.worker("keeps").url("/status/503?retry_after=1"),
        &[("x-request-id", "same-id")],
    );
    let b = get(
        &e.worker("keeps").url("/sleep?ms=1&status=503"),
        &[("x-request-id", "same-id")],
    );
    assert_eq!((a.status, &a.body), (b.status, &b.body));
}

#[test]
fn a_request_whose_primary_failed_is_served_by_the_fallback_once() {
    let e = env();
    let id = unique_id("fb");
    let key = unique_id("k");
    let r = get(
        &e.worker("falls_back").url(&format!("/echo?key={key}")),
        &[("x-request-id", &id)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let echo = json(&r.body);
    assert_eq!(
        echo["target"],
        format!("/echo?key={key}"),
        "same path and query"
    );
    assert_eq!(e.other_origin("backup").hits_for("/echo", &key), 1);
    let record = e.worker("falls_back").record_for(&id);
    assert_eq!(record["cause"], "origin_unreachable");
    assert_eq!(
        (record["fallback"].as_str(), record["status"].as_u64()),
        (Some("served"), Some(200))
    );
    assert!(record.get("fallback_cause").is_none());
    assert_names_the_primary(e, &record);
}

/// A record of a request that also tried the fallback names the origin that
/// failed: the primary (a dead port on loopback), never the backup.
fn assert_names_the_primary(e: &Env, record: &Value) {
    let origin = record["origin"].as_str().unwrap_or_default();
    assert!(origin.starts_with("http://127.0.0.1:"), "{record}");
    assert_ne!(origin, e.other_origin("backup").url(), "{record}");
}

#[test]
fn a_failing_fallback_is_judged_like_the_primary_and_named_in_the_one_record() {
    let e = env();
    let id = unique_id("fbfail");
    let key = unique_id("k");
    let r = get(
        &e.worker("falls_back")
            .url(&format!("/status/502?key={key}")),
        &[("x-request-id", &id)],
    );
    assert_eq!(r.status, 500);
    assert_eq!(
        e.other_origin("backup").hits_for("/status/502", &key),
        1,
        "tried once"
    );
    let record = e.worker("falls_back").record_for(&id);
    assert_eq!(
        record["cause"], "origin_unreachable",
        "the primary's failure"
    );
    assert_eq!(record["fallback_cause"], "origin_error_status");
    assert!(record.get("fallback").is_none());
    assert_names_the_primary(e, &record);
}

#[test]
fn a_post_never_goes_to_the_fallback_while_a_get_does() {
    let e = env();
    let key = unique_id("post");
    let id = unique_id("post");
    let r = send(
        "POST",
        &e.worker("falls_back").url(&format!("/echo?key={key}")),
        &[("x-request-id", &id)],
        Some(b"x"),
    );
    assert_eq!(r.status, 500);
    assert_eq!(e.other_origin("backup").hits_for("/echo", &key), 0);
    let record = e.worker("falls_back").record_for(&id);
    assert!(record.get("fallback").is_none() && record.get("fallback_cause").is_none());
    // The control: the same URL by GET reaches the fallback.
    assert_eq!(
        get(
            &e.worker("falls_back").url(&format!("/echo?key={key}")),
            &[]
        )
        .status,
        200
    );
    assert_eq!(e.other_origin("backup").hits_for("/echo", &key), 1);
}

#[test]
fn a_worker_failure_before_the_fetch_fails_open_to_the_origin() {
    let e = env();
    for fault in ["panic", "error", "abort"] {
        let key = unique_id("open");
        let r = get(
            &e.worker("fails_open").url(&format!("/echo?key={key}")),
            &[("x-fault-inject", fault), ("x-maintenance-bypass", BYPASS)],
        );
        assert_eq!(r.status, 200, "{fault}: {}", r.text());
        assert_eq!(e.origin().hits_for("/echo", &key), 1, "{fault}");
        // As it came, but the bypass secret stays behind; the id goes along.
        let echo = r.text();
        assert!(
            !echo.contains(BYPASS),
            "{fault}: the token reached the origin: {echo}"
        );
        // The id the worker minted went along, and names the one record.
        let id = echo_header(&json(&r.body), "x-request-id")
            .expect("an id at the origin")
            .to_owned();
        assert_eq!(id.len(), 32, "{fault}: minted {id}");
        let record = e.worker("fails_open").record_for(&id);
        let cause = match fault {
            "panic" => "worker_panic",
            "error" => "worker_error",
            _ => "worker_trap",
        };
        assert_eq!(record["cause"], cause, "{fault}");
        assert_eq!(
            (record["failed_open"].as_bool(), record["status"].as_u64()),
            (Some(true), Some(200)),
            "{fault}"
        );
    }
}

#[test]
fn without_fail_open_the_same_failure_gets_the_uniform_error_and_no_origin() {
    let e = env();
    // The keeps worker has no FAULT_INJECTION: the header passes through,
    // so use one with injection on and the default ON_WORKER_FAILURE.
    let uniform = Launch::proxy()
        .vars(&[("ORIGIN_URL", &e.origin().url()), ("FAULT_INJECTION", "on")])
        .start();
    let key = unique_id("uniform");
    let id = unique_id("uniform");
    let r = get(
        &uniform.url(&format!("/echo?key={key}")),
        &[("x-request-id", &id), ("x-fault-inject", "panic")],
    );
    assert_eq!(r.status, 500);
    assert_eq!(e.origin().hits_for("/echo", &key), 0);
    assert!(uniform.record_for(&id).get("failed_open").is_none());
}

#[test]
fn the_breaker_opens_answers_at_once_lets_one_probe_through_and_closes() {
    let origin = Origin::start();
    let w = Launch::proxy()
        .vars(&[
            ("ORIGIN_URL", &origin.url()),
            ("CIRCUIT_FAILURES", "2"),
            ("CIRCUIT_OPEN_SECONDS", "2"),
            ("RESPONSE_STATUS", "by-cause"),
        ])
        .start();
    let events = |name: &str| w.records().iter().filter(|r| r["event"] == name).count();
    // A good answer between two failures resets the count: still closed.
    assert_eq!(get(&w.url("/status/500"), &[]).status, 502);
    assert_eq!(get(&w.url("/echo"), &[]).status, 200);
    let second = unique_id("second");
    assert_eq!(
        get(&w.url("/status/500"), &[("x-request-id", &second)]).status,
        502
    );
    assert!(w.record_for(&second).get("circuit").is_none(), "closed yet");
    assert_eq!(events("circuit_open"), 0, "not two in a row");
    // Two failures in a row open it; the one that does is recorded open.
    let third = unique_id("third");
    assert_eq!(
        get(&w.url("/status/500"), &[("x-request-id", &third)]).status,
        502
    );
    poll("circuit_open", Duration::from_secs(5), || {
        (events("circuit_open") == 1).then_some(())
    });
    assert_eq!(w.record_for(&third)["circuit"], "open");
    let open = w
        .records()
        .into_iter()
        .find(|r| r["event"] == "circuit_open")
        .unwrap();
    assert_eq!(open["level"], "warn");
    assert_eq!(open["origin"], origin.url());
    // While open: the uniform 503 at once, Retry-After, the origin untouched.
    let key = unique_id("open");
    let id = unique_id("open");
    let started = Instant::now();
    let r = get(
        &w.url(&format!("/sleep?ms=3000&key={key}")),
        &[("x-request-id", &id)],
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 503);
    let retry: u32 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(origin.hits_for("/sleep", &key), 0);
    let record = w.record_for(&id);
    assert_eq!(
        (record["circuit"].as_str(), record["status"].as_u64()),
        (Some("open"), Some(503))
    );
    // After the open period exactly one probe goes; the rest still wait.
    thread::sleep(Duration::from_millis(2100));
    let probe_key = unique_id("probe");
    let probe = {
        let url = w.url(&format!("/sleep?ms=800&key={probe_key}"));
        thread::spawn(move || get(&url, &[]).status)
    };
    // The probe is at the origin (800 ms to go) before the next one asks.
    poll("the probe at the origin", Duration::from_secs(5), || {
        (origin.hits_for("/sleep", &probe_key) == 1).then_some(())
    });
    let other = unique_id("other");
    assert_eq!(
        get(&w.url(&format!("/echo?key={other}")), &[]).status,
        503,
        "not the probe"
    );
    assert_eq!(origin.hits_for("/echo", &other), 0);
    assert_eq!(probe.join().unwrap(), 200);
    assert_eq!(origin.hits_for("/sleep", &probe_key), 1);
    poll("circuit_closed", Duration::from_secs(5), || {
        (events("circuit_closed") == 1).then_some(())
    });
    // Closed again: requests reach the origin.
    assert_eq!(get(&w.url(&format!("/echo?key={other}")), &[]).status, 200);
    assert_eq!(origin.hits_for("/echo", &other), 1);
    assert_eq!(events("circuit_open"), 1, "one line per transition");
}

/// A primary that timed out is aborted when the fallback is tried, not
/// left open while it runs: the primary sees its connection close at its
/// own timeout (1 s), though the request goes on for the fallback's (the
/// backup holds too, and is let go at its own timeout, 1 s later).
#[test]
fn a_timed_out_primary_is_aborted_when_the_fallback_is_tried() {
    let e = env();
    let key = unique_id("abort");
    let r = get(
        &e.worker("times_out")
            .url(&format!("/hold?key={key}&ms=8000")),
        &[],
    );
    assert_eq!(r.status, 500);
    let limit = Duration::from_secs(4);
    let primary = e.origin().let_go_after(&key, limit);
    let backup = e.other_origin("backup").let_go_after(&key, limit);
    // The control: the fallback was tried, and held until its own timeout.
    assert!(
        (800..1700).contains(&backup),
        "the backup was let go after {backup} ms"
    );
    // Let go only with the request, the primary would close after 2 s.
    assert!(
        (800..1700).contains(&primary),
        "the primary was let go after {primary} ms, not at its timeout"
    );
}
