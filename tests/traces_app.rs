//! Library mode on the request's trace, end to end on `examples/app`: an
//! app's failure under `Shield::run` is on the request's root span (read
//! back from `wrangler dev`'s local trace store) as the proxy's are, its
//! errors, panics and traps as exceptions, its record naming the trace,
//! and nothing on a request that passed.

use std::sync::{Mutex, OnceLock};

use error_shield_harness::{get, unique_id, Env, Launch, Worker};

/// The example app twice: `app`, and `trap` for traps (a trap ends every
/// request in flight, so traps have an app of their own).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        Env::build()
            .worker("app", Launch::app())
            .worker("trap", Launch::app())
            .start()
    })
}

fn app() -> &'static Worker {
    env().worker("app")
}

#[test]
fn an_app_failure_is_on_its_root_span_and_its_record_names_that_trace() {
    let w = app();
    // The control, which also shows the store works: a request that
    // passed has its root span, with nothing of ours on it.
    error_shield_harness::spans::assert_a_pass_leaves_its_span_alone(w, "/hello");

    let id = unique_id("failed");
    let r = get(&w.url("/upstream"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 500);
    let record = w.record_for(&id);
    let span = w.failed_span(&id);
    let a = &span.attributes;
    assert_eq!(a["error.type"], "origin_error_status", "{a}");
    assert_eq!(a["error_shield.status"], 500, "{a}");
    assert_eq!(a["error_shield.origin_status"], 503, "{a}");
    assert_eq!(a["error_shield.attempts"], 2, "{a}");
    // The app's origin body stays in the record.
    assert_eq!(record["origin_body"], "maintenance", "{record}");
    assert!(!a.to_string().contains("maintenance"), "{a}");
    // An origin's failure is no exception of the app's.
    assert!(span.error.is_null(), "{:?}", span.error);
    // The record leads to the trace: no traceparent, so the platform's id.
    assert_eq!(record["trace_id"], span.trace_id.as_str(), "{record}");
    assert!(record.get("platform_trace_id").is_none(), "{record}");
}

#[test]
fn a_client_trace_the_platform_did_not_take_puts_the_platforms_in_the_record() {
    error_shield_harness::spans::assert_client_trace_kept_beside_the_platforms(app(), "/orders/7");
}

/// Traps take turns: a trap ends every request in flight.
fn trap_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn an_app_error_a_panic_and_a_trap_are_exceptions_on_their_spans() {
    let _turn = trap_turn();
    // (worker, path, cause, what the exception says)
    let table = [
        ("app", "/items/seven", "worker_error", "bad item id"),
        ("app", "/panic", "worker_panic", "index out of bounds"),
        ("trap", "/abort", "worker_trap", "aborted"),
        ("trap", "/overflow", "worker_trap", "aborted"),
    ];
    for (worker, path, cause, says) in table {
        let w = env().worker(worker);
        let id = unique_id(cause);
        let r = get(&w.url(&format!("{path}?key=k3y")), &[("x-request-id", &id)]);
        assert_eq!(r.status, 500, "{path}");
        let record = w.record_for(&id);
        assert_eq!(record["cause"], cause, "{record}");
        let span = w.failed_span(&id);
        assert_eq!(span.attributes["error.type"], cause, "{path}");
        let error = span.error.as_str().unwrap_or_default();
        assert!(error.contains(says), "{path}: {error}");
        // The URL as the record shows it, not as the client sent it.
        let shown = w.url(&format!("{path}?key=REDACTED"));
        assert_eq!(span.attributes["url.full"], shown.as_str(), "{path}");
        assert_eq!(record["trace_id"], span.trace_id.as_str(), "{record}");
    }
}

#[test]
fn a_credential_in_the_url_never_reaches_the_trace_store() {
    let w = app();
    let id = unique_id("never");
    let token = format!("tok{}", unique_id("q").replace(['-', '.'], ""));
    // `/report` fails with a message quoting its URL: the credential is in
    // the URL the platform saw and in the app's own error.
    let r = get(
        &w.url(&format!("/report?token={token}")),
        &[("x-request-id", &id)],
    );
    assert_eq!(r.status, 500);
    let record = w.record_for(&id);
    assert!(
        record["message"]
            .as_str()
            .unwrap()
            .contains("/report?token=REDACTED"),
        "{record}"
    );
    // Its root span, found by the URL's part before the credential.
    let filter = "json_extract(attributes, '$.\"url.full\"') LIKE ? || '%'";
    let span = w.root_span(filter, &w.url("/report?token="));
    let text = w.every_span();
    assert!(!text.contains(&token), "the token reached the trace store");
    // The control: the store holds the failure and the URL's other parts.
    assert_eq!(span.attributes["error_shield.request_id"], id.as_str());
    assert!(text.contains("/report?token=REDACTED"), "{text}");
    let error = span.error.as_str().unwrap_or_default();
    assert!(error.contains("/report?token=REDACTED"), "{error}");
}

#[test]
fn a_panic_in_work_after_the_response_is_on_the_span_that_work_keeps_open() {
    let w = app();
    let (id, tag) = (unique_id("later"), unique_id("tag"));
    // `Shield::wait_until` work that panics once the client has its 200.
    let r = get(&w.url(&format!("/later/{tag}")), &[("x-request-id", &id)]);
    assert_eq!((r.status, r.text().as_str()), (200, "accepted"));
    let record = w.record_for(&id);
    assert_eq!(record["cause"], "worker_panic", "{record}");
    // The runtime keeps the root span open while `waitUntil` work runs.
    let span = w.failed_span(&id);
    assert_eq!(span.attributes["error.type"], "worker_panic");
    assert_eq!(span.attributes["error_shield.status"], 200);
    let error = span.error.as_str().unwrap_or_default();
    assert!(error.contains(&format!("later panic {tag}")), "{error}");
    assert_eq!(record["trace_id"], span.trace_id.as_str(), "{record}");
}
