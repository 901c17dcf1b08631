//! Retries end to end (README § Stale-if-error and retries): GET, HEAD and
//! OPTIONS without a body are retried on `origin_unreachable` only, with a
//! backoff that stays inside `ORIGIN_TIMEOUT_MS`, and every record says how
//! many attempts it took. Each "never" runs next to a request that is
//! retried in the same test.

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use error_shield_harness::{
    assert_traps_answered, get, poll, send, unique_id, Env, Launch, Origin,
};

/// `ORIGIN_TIMEOUT_MS` of the tight worker.
const TIGHT_MS: u64 = 300;

/// A worker with 2 retries (`main`), and one with 5 retries in a 300 ms
/// budget (`tight`), in front of one origin.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let budget = TIGHT_MS.to_string();
        let tight =
            Launch::proxy().vars(&[("ORIGIN_RETRIES", "5"), ("ORIGIN_TIMEOUT_MS", &budget)]);
        let main = Launch::proxy().vars(&[("ORIGIN_RETRIES", "2"), ("ORIGIN_TIMEOUT_MS", "2000")]);
        Env::build()
            .origin(Origin::start())
            .fronting("tight", tight)
            .fronting("main", main)
            .start()
    })
}

/// Checks that `method` without a body is retried on a failed connect: a
/// connection that fails once recovers, one that always fails is tried
/// 1 + 2 times, and the record says so.
fn assert_retried(e: &Env, method: &str) {
    let key = format!("recover-{method}");
    let r = send(
        method,
        &e.worker("main").url(&format!("/flaky?key={key}")),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{method} was not retried: {}", r.text());
    if method != "HEAD" {
        assert_eq!(r.text(), "ok after 2 connections");
    }
    assert_eq!(e.origin().hits_for("/flaky", &key), 2, "{method}");
    let (key, id) = (format!("down-{method}"), unique_id("down"));
    let url = e.worker("main").url(&format!("/reset?key={key}"));
    let r = send(method, &url, &[("x-request-id", &id)], None);
    assert_eq!(r.status, 500, "{method}");
    let record = e.worker("main").record_for(&id);
    assert_eq!(
        (&record["cause"], &record["method"], &record["attempts"]),
        (&"origin_unreachable".into(), &method.into(), &3.into()),
        "{record}"
    );
    assert_eq!(e.origin().hits_for("/reset", &key), 3, "{method}");
}

#[test]
fn get_and_head_are_retried_after_a_failed_connect() {
    for method in ["GET", "HEAD"] {
        assert_retried(env(), method);
    }
}

/// workerd gives every method but GET and HEAD a body stream, empty or not
/// (and a bare OPTIONS `Content-Length: 0`), so the worker reads a body off
/// the request's framing instead (`traits` in src/pipeline.rs): a bare
/// OPTIONS is retried like a GET. Bodies: `trust.rs`.
#[test]
fn options_without_a_body_is_retried_after_a_failed_connect() {
    assert_retried(env(), "OPTIONS");
}

#[test]
fn only_a_failed_connect_without_a_body_is_retried() {
    let e = env();
    // (method, path, key=… and more query, body, cause, attempts)
    type Row<'a> = (&'a str, &'a str, &'a str, Option<&'a [u8]>, &'a str, u32);
    #[rustfmt::skip] // one request per line
    let table: [Row; 4] = [
        // The control: a failed connect is retried twice.
        ("GET", "/reset", "only-reset", None, "origin_unreachable", 3),
        ("GET", "/status/503", "only-status", None, "origin_error_status", 1),
        ("GET", "/sleep", "only-timeout&ms=4000", None, "origin_timeout", 1),
        ("POST", "/flaky", "only-post", Some(b"body"), "origin_unreachable", 1),
    ];
    for (method, path, query, body, cause, attempts) in table {
        let id = unique_id("only");
        let url = e.worker("main").url(&format!("{path}?key={query}"));
        let r = send(method, &url, &[("x-request-id", &id)], body);
        assert_eq!(r.status, 500, "{method} {path}");
        let record = e.worker("main").record_for(&id);
        assert_eq!(record["cause"], cause, "{record}");
        assert_eq!(record["attempts"], attempts, "{record}");
        let key = query.split('&').next().unwrap_or(query);
        assert_eq!(e.origin().hits_for(path, key), attempts, "{method} {path}");
    }
}

#[test]
fn retries_and_their_backoff_stay_within_the_timeout() {
    let e = env();
    // 5 retries would wait 25 + 50 + 100 + 200 + 400 ms (plus jitter): far
    // more than the 300 ms budget, which must cut them short.
    let id = unique_id("budget");
    let start = Instant::now();
    let r = get(
        &e.worker("tight").url("/reset?key=budget"),
        &[("x-request-id", &id)],
    );
    let took = start.elapsed();
    assert_eq!(r.status, 500);
    let record = e.worker("tight").record_for(&id);
    let attempts = record["attempts"].as_u64().expect("attempts");
    assert!((2..=4).contains(&attempts), "{attempts} attempts: {record}");
    assert_eq!(u64::from(e.origin().hits_for("/reset", "budget")), attempts);
    let duration = record["duration_ms"].as_u64().expect("duration_ms");
    // The budget plus the last connect; an uncut schedule waits 775 ms.
    assert!(duration < 2 * TIGHT_MS, "{duration} ms: {record}");
    assert!(
        took < Duration::from_millis(TIGHT_MS + 1500),
        "answered after {took:?}"
    );
}

/// A trap re-instantiates the module while other requests wait on the
/// origin: each still gets its own answer, the origin's or the uniform 500
/// under its own id (`conclude` on the new instance).
#[test]
fn a_trap_leaves_the_requests_in_flight_with_their_own_answers() {
    // Its own worker: the trap resets the instance every request shares.
    static TRAPPING: OnceLock<Env> = OnceLock::new();
    let e =
        TRAPPING.get_or_init(|| Env::proxy(&[("ORIGIN_RETRIES", "1"), ("FAULT_INJECTION", "on")]));
    let in_flight = |path: &'static str| {
        let (base, id) = (e.worker("main").base.clone(), unique_id("inflight"));
        let sent = id.clone();
        (
            id,
            thread::spawn(move || get(&format!("{base}{path}"), &[("x-request-id", &sent)])),
        )
    };
    let (ok_id, ok) = in_flight("/sleep?ms=3000");
    let (failing_id, failing) = in_flight("/sleep?ms=3000&status=502");
    // Both have reached the origin before the trap.
    poll(
        "both requests at the origin",
        Duration::from_secs(5),
        || (e.origin().hits("/sleep") == 2).then_some(()),
    );
    assert_traps_answered(e.worker("main"));
    assert!(
        !ok.is_finished() && !failing.is_finished(),
        "the requests were no longer in flight after the traps"
    );
    let r = ok.join().expect("request in flight");
    assert_eq!((r.status, r.text().as_str()), (200, "slept"), "{r:?}");
    let r = failing.join().expect("failing request in flight");
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(r.header("x-request-id"), Some(failing_id.as_str()));
    assert_eq!(
        e.worker("main").record_for(&failing_id)["cause"],
        "origin_error_status"
    );
    e.worker("main").assert_no_records(&[&ok_id]);
    // And the re-instantiated module serves.
    assert_eq!(get(&e.worker("main").url("/echo"), &[]).status, 200);
}
