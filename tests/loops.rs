//! Loops between deployments, end to end: two deployments whose origins
//! point at each other end the cycle at its second pass, fast, and only the
//! deployment whose marker came back writes the `config_error`; a fallback
//! origin that points back at the worker writes one record, the primary's
//! failure with `fallback_cause: "config_error"`. A chain keeps every
//! feature of each deployment: the markers and their fresh nonces are no
//! part of what identifies a client to the one behind.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use error_shield_harness::{get, is_stale, unique_id, until_stale, Env, Launch, Origin, Worker};
use serde_json::Value;

/// `a` and `b`, each the other's origin.
fn cycle() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        Env::addressed(None, &["a", "b"], |p| {
            vec![
                Launch::proxy().var("ORIGIN_URL", &at(p[1])),
                Launch::proxy().var("ORIGIN_URL", &at(p[0])),
            ]
        })
    })
}

/// `self_fallback`: in front of the fake origin, with itself as the
/// fallback.
fn fallback() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let origin = Origin::start();
        let url = origin.url();
        Env::addressed(Some(origin), &["self_fallback"], |p| {
            let launch = Launch::proxy().var("ORIGIN_URL", &url);
            vec![launch.var("FALLBACK_ORIGIN_URL", &at(p[0]))]
        })
    })
}

/// `outer` in front of `inner`, which keeps stale copies, in front of the
/// fake origin.
fn chain() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let inner = Launch::proxy().var("STALE_IF_ERROR_SECONDS", "60");
        let mut env = Env::build()
            .origin(Origin::start())
            .fronting("inner", inner)
            .start();
        let base = env.worker("inner").base.clone();
        env.add("outer", Launch::proxy().var("ORIGIN_URL", &base));
        env
    })
}

fn at(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The error records `worker` printed for `id`, read once a later request
/// (`control`, which fails with a record) has its record: a record of
/// anything sent before it would have been printed first.
fn errors_after_control(worker: &Worker, id: &str, control: &str) -> Vec<Value> {
    let control_id = unique_id("control");
    let r = get(&worker.url(control), &[("x-request-id", &control_id)]);
    assert!(r.status >= 500, "the control fails");
    let records = worker.records_for(&control_id);
    assert!(!records.is_empty(), "the control's record");
    (worker.records().into_iter())
        .filter(|r| r["request_id"] == id && r["level"] == "error")
        .collect()
}

#[test]
fn a_cycle_between_two_deployments_ends_fast_with_one_record_from_the_one_whose_marker_came_back() {
    let e = cycle();
    for (first, second) in [("a", "b"), ("b", "a")] {
        let id = unique_id("cycle");
        let began = Instant::now();
        let r = get(&e.worker(first).url("/x"), &[("x-request-id", &id)]);
        let took = began.elapsed();
        assert_eq!(r.status, 500, "{first}: {}", r.text());
        assert!(took < Duration::from_secs(10), "{first}: {took:?}");
        assert_eq!(r.header("x-error-shield-hop"), None);
        // The first deployment sent the request and got its own marker's
        // signal back: the one config_error. The second passed it back.
        let mine = errors_after_control(e.worker(first), &id, "/x");
        assert_eq!(mine.len(), 1, "{first}: {mine:?}");
        assert_eq!(mine[0]["cause"], "config_error", "{first}");
        let theirs = errors_after_control(e.worker(second), &id, "/x");
        assert!(theirs.is_empty(), "{second}: {theirs:?}");
    }
}

#[test]
fn a_fallback_that_loops_back_writes_the_primarys_record_with_config_error_as_its_cause() {
    let e = fallback();
    let w = e.worker("self_fallback");
    let id = unique_id("fallback-loop");
    let r = get(&w.url("/status/503"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 500, "{}", r.text());
    let records = errors_after_control(w, &id, "/status/500");
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record["cause"], "origin_error_status", "{record}");
    assert_eq!(record["origin_status"], 503, "{record}");
    assert_eq!(record["fallback_cause"], "config_error", "{record}");
    assert_eq!(record["status"], 500, "{record}");
    // The control: a good primary is not sent to the fallback at all.
    let r = get(&w.url("/echo"), &[]);
    assert_eq!(r.status, 200);
}

#[test]
fn in_a_chain_the_deployment_behind_serves_its_stale_copy_to_every_request() {
    let e = chain();
    // Without it, the inner wrangler's proxy compresses for the outer.
    let identity = [("accept-encoding", "identity")];
    let url = e.worker("outer").url("/cacheable?key=chained");
    let r = get(&url, &identity);
    assert_eq!((r.status, r.text()), (200, "fresh chained".to_owned()));
    // The origin fails: the inner deployment's copy, stored for a request
    // whose nonce was another, reaches a later one through the outer.
    e.origin().set_flag("fail:chained", "503");
    let r = until_stale(&url, &identity);
    assert!(is_stale(&r), "{r:?}");
    assert_eq!(r.text(), "fresh chained");
    // The control: a URL never stored gets the error.
    let r = get(&e.worker("outer").url("/cacheable?key=never"), &[]);
    assert_eq!(r.status, 200, "healthy first");
    e.origin().set_flag("fail:never-stored", "503");
    let r = get(&e.worker("outer").url("/cacheable?key=never-stored"), &[]);
    assert_eq!(r.status, 500);
}
