//! Rescues together (README § Resilience, "Together"): the breaker with the
//! fallback and with retries, timeouts and unreachable origins opening it,
//! the fallback with a stale copy, fail-open with a body, the rule keys
//! `fallback_origin_url` and `on_worker_failure`, a kept 429 with its
//! `Retry-After`, and a fallback's body that breaks. "Not contacted" is
//! proven by the fake origins' hit counters, next to a request that is.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use error_shield_harness::origin::{echo_header, fnv, pattern, FNV_START};
use error_shield_harness::{
    get, poll, read_until_closed, send, unique_id, DeadPort, Env, Launch, Origin, Worker,
};
use serde_json::Value;

/// The fake origin, a `backup` origin, a dead port, and one worker per
/// combination (each breaker is its own worker's).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let (backup, dead) = (Origin::start(), DeadPort::bind());
        let (b, d) = (backup.url(), dead.url());
        let routes = format!(
            r#"[{{"prefix": "/any/fb/", "origin_url": "{d}", "fallback_origin_url": "{b}"}},
                {{"prefix": "/any/open/", "on_worker_failure": "fail-open"}}]"#
        );
        Env::build()
            .origin(Origin::start())
            .other_origin("backup", backup)
            .hold(dead)
            .fronting("guarded", breaker(1, &[("FALLBACK_ORIGIN_URL", &b)]))
            .worker(
                "dead_retrying",
                breaker(2, &[("ORIGIN_URL", &d), ("ORIGIN_RETRIES", "2")]),
            )
            .fronting("timing_out", breaker(1, &[("ORIGIN_TIMEOUT_MS", "500")]))
            .fronting(
                "stale_fallback",
                Launch::proxy().vars(&[
                    ("FALLBACK_ORIGIN_URL", &b),
                    ("STALE_IF_ERROR_SECONDS", "60"),
                ]),
            )
            .fronting(
                "ruled",
                Launch::proxy().vars(&[("FAULT_INJECTION", "on"), ("ROUTES", &routes)]),
            )
            .fronting(
                "keeps_429",
                Launch::proxy().vars(&[
                    ("RESPONSE_STATUS", "origin"),
                    ("FAILURE_STATUSES", "429,500-599"),
                ]),
            )
            .worker(
                "dead_fallback",
                Launch::proxy().vars(&[("ORIGIN_URL", &d), ("FALLBACK_ORIGIN_URL", &b)]),
            )
            .start()
    })
}

/// A breaker that opens at the `failures`-th failure in a row and stays
/// open a minute.
fn breaker(failures: u32, vars: &[(&str, &str)]) -> Launch {
    Launch::proxy()
        .var("CIRCUIT_FAILURES", &failures.to_string())
        .vars(&[
            ("CIRCUIT_OPEN_SECONDS", "60"),
            ("RESPONSE_STATUS", "by-cause"),
        ])
        .vars(vars)
}

/// GET `path` on `w` with a fresh id: the answer, its id, how long it took.
fn timed_get(w: &Worker, path: &str) -> (error_shield_harness::Resp, String, Duration) {
    let id = unique_id("combo");
    let started = Instant::now();
    let r = get(&w.url(path), &[("x-request-id", &id)]);
    (r, id, started.elapsed())
}

/// Waits for `w`'s `circuit_open` line.
fn until_open(w: &Worker) {
    poll("circuit_open", Duration::from_secs(5), || {
        w.records()
            .iter()
            .any(|r| r["event"] == "circuit_open")
            .then_some(())
    });
}

#[test]
fn while_open_the_fallback_answers_at_once_and_a_post_gets_the_503_at_once() {
    let e = env();
    let (w, backup) = (e.worker("guarded"), e.other_origin("backup"));
    // The control: closed, a POST reaches the primary.
    let before = unique_id("post-closed");
    let r = send(
        "POST",
        &w.url(&format!("/echo?key={before}")),
        &[],
        Some(b"x"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(e.origin().hits_for("/echo", &before), 1);
    // One primary failure opens it; the backup serves that request.
    let opener = unique_id("opener");
    e.origin().set_flag(&format!("fail:{opener}"), "503");
    let (r, id, _) = timed_get(w, &format!("/cacheable?key={opener}"));
    assert_eq!((r.status, r.text()), (200, format!("fresh {opener}")));
    assert_eq!(w.record_for(&id)["fallback"], "served");
    until_open(w);
    // Open: a GET whose primary would hang 10 s is the backup's at once.
    let hung = unique_id("hung");
    e.origin().set_flag(&format!("fail:{hung}"), "hang");
    let (r, id, took) = timed_get(w, &format!("/cacheable?key={hung}"));
    assert_eq!((r.status, r.text()), (200, format!("fresh {hung}")));
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(e.origin().hits_for("/cacheable", &hung), 0);
    assert_eq!(backup.hits_for("/cacheable", &hung), 1);
    let record = w.record_for(&id);
    assert_eq!(
        (record["circuit"].as_str(), record["fallback"].as_str()),
        (Some("open"), Some("served")),
        "{record}"
    );
    // A POST goes to neither: the 503 at once, with Retry-After.
    let post = unique_id("post-open");
    let started = Instant::now();
    let r = send(
        "POST",
        &w.url(&format!("/echo?key={post}")),
        &[],
        Some(b"x"),
    );
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.header("retry-after").is_some());
    assert_eq!(e.origin().hits_for("/echo", &post), 0);
    assert_eq!(backup.hits_for("/echo", &post), 0);
}

#[test]
fn a_retried_request_counts_once_and_an_unreachable_origin_opens_the_breaker() {
    let w = env().worker("dead_retrying");
    // The harness's readiness probe was the first failure: three attempts.
    let ready = (w.records().into_iter())
        .find(|r| r["url"].as_str().is_some_and(|u| u.ends_with("/__ready")))
        .expect("the readiness probe's record");
    assert_eq!(ready["attempts"], 3, "{ready}");
    assert!(ready.get("circuit").is_none(), "{ready}");
    // Had each attempt counted, this request would find the circuit open.
    let (r, second, _) = timed_get(w, "/echo");
    assert_eq!(r.status, 502, "the retried probe opened the circuit");
    let record = w.record_for(&second);
    assert_eq!(record["attempts"], 3, "{record}");
    // The second failure (of two needed) opens it.
    assert_eq!(record["circuit"], "open", "{record}");
    until_open(w);
    // Now open: the 503 at once, no attempt.
    let (r, third, _) = timed_get(w, "/echo");
    assert_eq!(r.status, 503);
    let record = w.record_for(&third);
    assert_eq!(record["circuit"], "open", "{record}");
    assert!(record.get("attempts").is_none(), "{record}");
}

#[test]
fn a_timeout_opens_the_breaker() {
    let e = env();
    let w = e.worker("timing_out");
    // The control: closed, the origin is reached.
    let reached = unique_id("reached");
    assert_eq!(
        get(&w.url(&format!("/echo?key={reached}")), &[]).status,
        200
    );
    assert_eq!(e.origin().hits_for("/echo", &reached), 1);
    let (r, id, _) = timed_get(w, "/sleep?ms=2000");
    assert_eq!(r.status, 504);
    assert_eq!(w.record_for(&id)["cause"], "origin_timeout");
    until_open(w);
    let untouched = unique_id("untouched");
    let (r, _, took) = timed_get(w, &format!("/echo?key={untouched}"));
    assert_eq!(r.status, 503);
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(e.origin().hits_for("/echo", &untouched), 0);
}

#[test]
fn a_failing_fallback_leaves_the_stale_copy_and_one_record_naming_both() {
    let e = env();
    let w = e.worker("stale_fallback");
    let key = unique_id("stale-fb");
    let path = format!("/cacheable?key={key}");
    let fresh = get(&w.url(&path), &[]);
    assert_eq!((fresh.status, fresh.text()), (200, format!("fresh {key}")));
    e.origin().set_flag(&format!("fail:{key}"), "503");
    // The control: the backup alone serves it while it is healthy.
    let (r, id, _) = timed_get(w, &path);
    assert_eq!(r.status, 200);
    assert!(r.header("x-served-stale").is_none());
    assert_eq!(w.record_for(&id)["fallback"], "served");
    e.other_origin("backup")
        .set_flag(&format!("fail:{key}"), "reset");
    let (r, id, _) = timed_get(w, &path);
    assert_eq!((r.status, r.text()), (200, format!("fresh {key}")));
    assert!(r.header("x-served-stale").is_some());
    let record = w.record_for(&id);
    assert_eq!(
        (
            record["cause"].as_str(),
            record["fallback_cause"].as_str(),
            record["served_stale"].as_bool()
        ),
        (
            Some("origin_error_status"),
            Some("origin_unreachable"),
            Some(true)
        ),
        "{record}"
    );
}

#[test]
fn fail_open_sends_the_body_as_it_came() {
    let e = env();
    let w = e.worker("ruled");
    let body: Vec<u8> = (0..10_000).map(pattern).collect();
    let sum = format!("{:016x}", fnv(FNV_START, &body));
    let id = unique_id("open-body");
    let r = send(
        "POST",
        &w.url("/any/open/x"),
        &[("x-request-id", &id), ("x-fault-inject", "panic")],
        Some(&body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let echo: Value = r.json();
    assert_eq!(
        (&echo["body_len"], echo["body_sum"].as_str()),
        (&body.len().into(), Some(sum.as_str())),
        "{echo}"
    );
    assert_eq!(echo_header(&echo, "x-request-id"), Some(id.as_str()));
    let record = w.record_for(&id);
    assert_eq!(
        (record["cause"].as_str(), record["failed_open"].as_bool()),
        (Some("worker_panic"), Some(true))
    );
}

#[test]
fn the_rule_keys_fallback_origin_url_and_on_worker_failure_apply_to_their_prefix_only() {
    let e = env();
    let w = e.worker("ruled");
    // `/any/fb/`: a dead primary, the backup serves it.
    let key = unique_id("rule-fb");
    let (r, id, _) = timed_get(w, &format!("/any/fb/x?key={key}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["target"], format!("/any/fb/x?key={key}"));
    let record = w.record_for(&id);
    assert_eq!(
        (record["fallback"].as_str(), record["route"].as_str()),
        (Some("served"), Some("/any/fb/")),
        "{record}"
    );
    // `/any/open/`: a panic goes to the origin as it came.
    let open = unique_id("rule-open");
    let r = get(
        &w.url(&format!("/any/open/x?key={open}")),
        &[("x-fault-inject", "panic")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(e.origin().seen(&open).len(), 1);
    // The control: outside the rule, the same panic gets the uniform error
    // and the origin never sees it.
    let shut = unique_id("rule-shut");
    let r = get(
        &w.url(&format!("/any/x?key={shut}")),
        &[("x-fault-inject", "panic")],
    );
    assert_eq!(r.status, 500);
    assert!(e.origin().seen(&shut).is_empty());
}

#[test]
fn a_kept_429_in_failure_statuses_keeps_its_retry_after() {
    let w = env().worker("keeps_429");
    let (r, id, _) = timed_get(w, "/status/429?retry_after=7");
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.header("retry-after"), Some("7"));
    let record = w.record_for(&id);
    assert_eq!(
        (record["cause"].as_str(), record["status"].as_u64()),
        (Some("origin_error_status"), Some(429))
    );
    // The control: an invalid one is dropped, the status still kept.
    let r = get(&w.url("/status/429?retry_after=soon"), &[]);
    assert_eq!((r.status, r.header("retry-after")), (429, None));
}

#[test]
fn a_fallbacks_body_that_breaks_gets_its_own_record_naming_the_fallback() {
    let e = env();
    let w = e.worker("dead_fallback");
    let id = unique_id("fb-cut");
    let (head, body) = read_until_closed(&w.base, "/truncated?n=5000", &id);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body.len(), 5000);
    let records = poll("two records", Duration::from_secs(5), || {
        let found = w.records_for(&id);
        (found.len() == 2).then_some(found)
    });
    let (primary, cut) = (&records[0], &records[1]);
    assert_eq!(
        (primary["cause"].as_str(), primary["fallback"].as_str()),
        (Some("origin_unreachable"), Some("served")),
        "{primary}"
    );
    assert_eq!(
        (cut["cause"].as_str(), cut["after_headers"].as_bool()),
        (Some("origin_unreachable"), Some(true)),
        "{cut}"
    );
    assert_eq!(cut["origin"], e.other_origin("backup").url(), "{cut}");
}
