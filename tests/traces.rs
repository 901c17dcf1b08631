//! Failures on the request's trace, read back from `wrangler dev`'s local
//! trace store (`/cdn-cgi/explorer/api/local/observability/query`): the
//! record's facts on the root span, the worker's own failures as
//! exceptions, the rescue steps as child spans, the record naming the
//! trace, and nothing on a request that passed.

use std::sync::OnceLock;
use std::time::Duration;

use error_shield_harness::origin::SECRET_BODY;
use error_shield_harness::{
    get, poll, read_until_closed, unique_id, until_stale, DeadPort, Env, Launch, Origin,
};

/// `main` (the fake origin, a retry, fault injection), `falls_back` (a
/// dead origin, the backup as its fallback) and `keeps` (stale-if-error).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let (backup, dead) = (Origin::start(), DeadPort::bind());
        let falls_back = Launch::proxy().vars(&[
            ("ORIGIN_URL", &dead.url()),
            ("FALLBACK_ORIGIN_URL", &backup.url()),
        ]);
        Env::build()
            .origin(Origin::start())
            .other_origin("backup", backup)
            .hold(dead)
            .fronting(
                "main",
                Launch::proxy().vars(&[("ORIGIN_RETRIES", "1"), ("FAULT_INJECTION", "on")]),
            )
            .worker("falls_back", falls_back)
            .fronting("keeps", Launch::proxy().var("STALE_IF_ERROR_SECONDS", "60"))
            .start()
    })
}

#[test]
fn a_failure_is_on_its_root_span_and_its_record_names_that_trace() {
    let w = env().worker("main");
    // The control, which also shows the store works: a request that
    // passed has its root span, with nothing of ours on it.
    error_shield_harness::spans::assert_a_pass_leaves_its_span_alone(w, "/echo");

    let id = unique_id("failed");
    let r = get(&w.url("/status/503?page=2"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 500);
    let record = w.record_for(&id);
    let span = w.failed_span(&id);
    let a = &span.attributes;
    assert_eq!(a["error.type"], "origin_error_status", "{a}");
    assert_eq!(a["error_shield.status"], 500, "{a}");
    assert_eq!(a["error_shield.origin_status"], 503, "{a}");
    // An origin's failure is no exception of the worker's.
    assert!(span.error.is_null(), "{:?}", span.error);
    // The record leads to the trace: no traceparent, so the platform's id.
    assert_eq!(record["trace_id"], span.trace_id.as_str(), "{record}");
    assert!(record.get("platform_trace_id").is_none(), "{record}");
}

#[test]
fn a_client_trace_the_platform_did_not_take_puts_the_platforms_in_the_record() {
    error_shield_harness::spans::assert_client_trace_kept_beside_the_platforms(
        env().worker("main"),
        "/status/502",
    );
}

#[test]
fn a_panic_and_a_trap_are_exceptions_on_their_spans() {
    let w = env().worker("main");
    for (kind, cause, says) in [
        ("panic", "worker_panic", "injected panic"),
        ("error", "worker_error", "injected error"),
        ("abort", "worker_trap", "unreachable"),
    ] {
        let id = unique_id(kind);
        let r = get(
            &w.url("/echo?secret=k3y"),
            &[("x-request-id", &id), ("x-fault-inject", kind)],
        );
        assert_eq!(r.status, 500, "{kind}");
        let span = w.failed_span(&id);
        assert_eq!(span.attributes["error.type"], cause, "{kind}");
        let error = span.error.as_str().unwrap_or_default();
        assert!(error.contains(says), "{kind}: {error}");
        // The URL as the record shows it, not as the client sent it.
        assert_eq!(
            span.attributes["url.full"],
            w.url("/echo?secret=REDACTED"),
            "{kind}"
        );
    }
}

#[test]
fn a_retry_is_a_child_span_with_its_outcome() {
    let w = env().worker("main");
    let id = unique_id("retry");
    let r = get(&w.url("/reset"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 500);
    let span = w.failed_span(&id);
    assert_eq!(span.attributes["error_shield.attempts"], 2);
    let steps = poll("the retry's span", Duration::from_secs(5), || {
        let c = w.children(&span);
        c.iter()
            .any(|(n, _)| n == "error-shield.retry")
            .then_some(c)
    });
    let (_, retry) = steps
        .iter()
        .find(|(n, _)| n == "error-shield.retry")
        .unwrap();
    assert_eq!(retry["error_shield.attempt"], 2, "{retry}");
    assert_eq!(retry["error_shield.outcome"], "fetch_error", "{retry}");
    // The control: the first attempt is no rescue step.
    let rescues = steps
        .iter()
        .filter(|(n, _)| n.starts_with("error-shield."))
        .count();
    assert_eq!(rescues, 1, "{steps:?}");
}

#[test]
fn a_fallback_attempt_is_a_child_span_and_the_root_says_served() {
    let w = env().worker("falls_back");
    let id = unique_id("fallback");
    let r = get(&w.url("/echo"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 200);
    let record = w.record_for(&id);
    assert_eq!(record["fallback"], "served");
    let span = w.failed_span(&id);
    assert_eq!(span.attributes["error.type"], "origin_unreachable");
    assert_eq!(span.attributes["error_shield.fallback"], "served");
    assert_eq!(span.attributes["error_shield.status"], 200);
    assert_eq!(record["trace_id"], span.trace_id.as_str());
    let steps = poll("the fallback's span", Duration::from_secs(5), || {
        let c = w.children(&span);
        c.iter()
            .any(|(n, _)| n == "error-shield.fallback")
            .then_some(c)
    });
    let (_, step) = steps
        .iter()
        .find(|(n, _)| n == "error-shield.fallback")
        .unwrap();
    assert_eq!(step["error_shield.outcome"], "good", "{step}");
}

#[test]
fn no_credential_and_no_origin_body_reaches_the_trace_store() {
    let w = env().worker("main");
    let id = unique_id("never");
    let token = format!("tok{}", unique_id("q").replace(['-', '.'], ""));
    let bearer = "Bearer sekrit-span-token";
    let r = get(
        &w.url(&format!("/status/503?token={token}")),
        &[("x-request-id", &id), ("authorization", bearer)],
    );
    assert_eq!(r.status, 500);
    // The control: the record has the body, so the worker did read it.
    let record = w.record_for(&id);
    assert!(record["origin_body"].as_str().unwrap().contains("hunter2"));
    let span = w.failed_span(&id);
    let text = w.every_span();
    assert!(text.contains(&id), "the store holds the failure");
    for never in [&SECRET_BODY[..20], "hunter2", "sekrit-span-token"] {
        assert!(!text.contains(never), "{never} reached the trace store");
    }
    // The URL's credential: not on the root span, whose URL is the
    // record's (the platform's own span of the origin fetch quotes the
    // URL it fetched; the worker sets nothing there).
    let root_text = span.attributes.to_string();
    assert!(!root_text.contains(&token), "{root_text}");
    assert!(root_text.contains("token=REDACTED"), "{root_text}");
}

#[test]
fn a_body_that_breaks_under_way_is_on_the_span_it_keeps_open() {
    let w = env().worker("main");
    let id = unique_id("cut");
    let (head, _) = read_until_closed(&w.base, "/truncated?n=5000", &id);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let record = w.record_for(&id);
    assert_eq!(record["after_headers"], true, "{record}");
    // The body streaming keeps the root span open: the failure is on it,
    // and the record leads to it.
    let span = w.failed_span(&id);
    assert_eq!(record["trace_id"], span.trace_id.as_str(), "{record}");
    let a = &span.attributes;
    assert_eq!(a["error.type"], "origin_unreachable", "{a}");
    assert_eq!(a["error_shield.after_headers"], true, "{a}");
    assert_eq!(a["error_shield.status"], 200, "{a}");
}

#[test]
fn a_stale_look_up_is_a_child_span_and_the_root_says_served_stale() {
    let e = env();
    let w = e.worker("keeps");
    let key = unique_id("stale");
    let url = w.url(&format!("/cacheable?key={key}"));
    assert_eq!(get(&url, &[]).status, 200);
    e.origin().set_flag(&format!("fail:{key}"), "503");
    until_stale(&url, &[]);
    let id = unique_id("served");
    let r = get(&url, &[("x-request-id", &id)]);
    assert_eq!(r.header("x-served-stale"), Some("1"));
    let record = w.record_for(&id);
    assert_eq!(record["served_stale"], true, "{record}");
    let span = w.failed_span(&id);
    assert_eq!(span.attributes["error_shield.served_stale"], true);
    assert_eq!(span.attributes["error_shield.status"], 200);
    let steps = poll("the look-up's span", Duration::from_secs(5), || {
        let c = w.children(&span);
        c.iter()
            .any(|(n, _)| n == "error-shield.stale")
            .then_some(c)
    });
    let (_, step) = steps
        .iter()
        .find(|(n, _)| n == "error-shield.stale")
        .unwrap();
    assert_eq!(step["error_shield.outcome"], "cache_hit", "{step}");
}
