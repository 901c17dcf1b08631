//! A hostile origin, a mixed load, and a panic storm.
//! Bounded in count and time; loopback only.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use common::origin::SECRET_BODY;
use common::{get, raw_get, unique_id, Stack};

const TIMEOUT_MS: u64 = 1500;

fn env() -> &'static Stack {
    static ENV: OnceLock<Stack> = OnceLock::new();
    let timeout = TIMEOUT_MS.to_string();
    ENV.get_or_init(|| {
        Stack::start(&[
            ("ORIGIN_TIMEOUT_MS", &timeout),
            ("FAULT_INJECTION", "on"),
            ("LOG_ORIGIN_BODY_BYTES", "64"),
        ])
    })
}

/// A second worker for the tests that read its memory: the load test's
/// traffic must not show in their figures.
fn quiet() -> &'static Stack {
    static QUIET: OnceLock<Stack> = OnceLock::new();
    QUIET
        .get_or_init(|| Stack::start(&[("FAULT_INJECTION", "on"), ("LOG_ORIGIN_BODY_BYTES", "64")]))
}

fn assert_no_leak(body: &str, context: &str) {
    for secret in ["ORIGIN-SECRET", "hunter2", "Traceback", "SecretOrigin"] {
        assert!(!body.contains(secret), "{context}: leaked {secret}");
    }
}

#[test]
fn hostile_origins_get_the_uniform_500_and_the_right_cause() {
    let e = env();
    // (path, cause, what the record's origin_body must be)
    let table: [(&str, &str, Option<&str>); 5] = [
        ("/slowloris", "origin_timeout", None),
        (
            "/reset-after-headers",
            "origin_error_status",
            Some("ORIGIN-SECRET-BODY partial"),
        ),
        ("/bytes?n=0&status=500", "origin_error_status", Some("")),
        ("/reset", "origin_unreachable", None),
        ("/garbage", "origin_unreachable", None),
    ];
    for (path, cause, excerpt) in table {
        let rid = unique_id("hostile");
        let start = Instant::now();
        let r = get(&e.worker.url(path), &[("x-request-id", &rid)]);
        assert_eq!(r.status, 500, "{path}");
        assert!(
            start.elapsed() < Duration::from_millis(TIMEOUT_MS + 2000),
            "{path} took {:?}",
            start.elapsed()
        );
        assert_no_leak(&r.text(), path);
        assert!(
            r.header("server").is_none(),
            "{path}: origin Server header copied"
        );
        let record = e.worker.record_for(&rid);
        assert_eq!(record["cause"], cause, "{path}: {record}");
        if let Some(want) = excerpt {
            assert_eq!(record["origin_body"], want, "{path}");
        }
    }
}

#[test]
fn a_100_mb_failing_body_is_answered_fast_with_a_capped_excerpt() {
    let e = quiet();
    let rss_before = e.worker.workerd_rss_kb();
    let rid = unique_id("huge");
    let start = Instant::now();
    let r = get(
        &e.worker.url("/bytes?n=100000000&status=500"),
        &[("x-request-id", &rid)],
    );
    let took = start.elapsed();
    assert_eq!(r.status, 500);
    assert!(
        took < Duration::from_secs(3),
        "answered after {took:?}: the body was read whole?"
    );
    let record = e.worker.record_for(&rid);
    let excerpt = record["origin_body"].as_str().expect("excerpt");
    let first: Vec<u8> = (0..64).map(common::origin::pattern).collect();
    assert_eq!(
        excerpt,
        String::from_utf8_lossy(&first),
        "the excerpt is the first 64 bytes"
    );
    let rss_after = e.worker.workerd_rss_kb();
    eprintln!(
        "100 MB failing body: answered in {took:?}; workerd RSS {rss_before} KiB → {rss_after} KiB"
    );
    assert!(
        rss_after < rss_before + 64 * 1024,
        "workerd grew by {} KiB",
        rss_after - rss_before
    );
}

#[test]
fn two_hundred_set_cookie_headers_pass_intact() {
    let e = env();
    // Raw: common clients cap the number of headers below 200.
    let r = raw_get(&e.worker.base, "/cookies?n=200", &[]);
    assert_eq!(r.status, 200);
    let cookies = r.all("set-cookie");
    assert_eq!(cookies.len(), 200);
    assert!(cookies
        .iter()
        .enumerate()
        .all(|(i, c)| *c == format!("c{i}=v{i}; Path=/; HttpOnly")));
}

#[test]
fn invalid_response_header_bytes_never_crash_or_leak() {
    let e = env();
    let rid = unique_id("badheader");
    let r = raw_get(
        &e.worker.base,
        "/bad-header",
        &[format!("X-Request-Id: {rid}").as_bytes()],
    );
    // workerd either passes the response on or refuses it; refused is a failure of ours.
    match r.status {
        200 => assert_eq!(r.body, b"ok"),
        500 => assert_eq!(e.worker.record_for(&rid)["cause"], "origin_unreachable"),
        other => panic!("unexpected status {other}"),
    }
    assert_eq!(get(&e.worker.url("/echo"), &[]).status, 200);
}

/// What a load request is and what its answer must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Pass,
    Status,
    Timeout,
    Panic,
    Error,
}

impl Kind {
    fn pick(i: usize) -> Kind {
        match i % 100 {
            0 => Kind::Timeout,
            1..=10 => Kind::Status,
            11..=20 => Kind::Panic,
            21..=30 => Kind::Error,
            _ => Kind::Pass,
        }
    }
    fn cause(self) -> Option<&'static str> {
        match self {
            Kind::Pass => None,
            Kind::Status => Some("origin_error_status"),
            Kind::Timeout => Some("origin_timeout"),
            Kind::Panic => Some("worker_panic"),
            Kind::Error => Some("worker_error"),
        }
    }
}

#[test]
fn ten_thousand_mixed_requests_at_concurrency_32_get_exactly_the_right_answers() {
    const TOTAL: usize = 10_000;
    const CONCURRENCY: usize = 32;
    let e = env();
    let next = Arc::new(AtomicUsize::new(0));
    let wrong = Arc::new(Mutex::new(Vec::<String>::new()));
    let failures = Arc::new(Mutex::new(HashMap::<String, Kind>::new()));
    let start = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (next, wrong, failures) =
                (Arc::clone(&next), Arc::clone(&wrong), Arc::clone(&failures));
            let base = e.worker.base.clone();
            thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .redirects(0)
                    .timeout(Duration::from_secs(30))
                    .build();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= TOTAL {
                        break;
                    }
                    let kind = Kind::pick(i);
                    let rid = format!("load-{}-{i}", std::process::id());
                    let (path, fault) = match kind {
                        Kind::Pass => ("/echo", None),
                        Kind::Status => ("/status/503", None),
                        Kind::Timeout => ("/sleep?ms=3000", None),
                        Kind::Panic => ("/echo", Some("panic")),
                        Kind::Error => ("/echo", Some("error")),
                    };
                    let mut req = agent
                        .get(&format!("{base}{path}"))
                        .set("x-request-id", &rid);
                    if let Some(f) = fault {
                        req = req.set("x-fault-inject", f);
                    }
                    let (status, body) = match req.call() {
                        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
                        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
                        Err(err) => (0, err.to_string()),
                    };
                    let ok = match kind {
                        Kind::Pass => {
                            status == 200 && body.contains(&format!("\"x-request-id\",\"{rid}\""))
                        }
                        _ => {
                            status == 500
                                && body.contains(&rid)
                                && !body.contains("ORIGIN-SECRET")
                                && !body.contains(SECRET_BODY)
                        }
                    };
                    if !ok {
                        wrong.lock().unwrap().push(format!(
                            "{kind:?} {rid}: {status} {}",
                            body.chars().take(200).collect::<String>()
                        ));
                    }
                    if kind != Kind::Pass {
                        failures.lock().unwrap().insert(rid, kind);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("load thread");
    }
    let took = start.elapsed();
    let wrong = wrong.lock().unwrap();
    assert!(
        wrong.is_empty(),
        "{} wrong answers, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    // Exactly one record per failure, with the right cause, and none for the rest.
    thread::sleep(Duration::from_secs(2));
    let failures = failures.lock().unwrap();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in e.worker.records() {
        let rid = record["request_id"].as_str().unwrap_or("").to_string();
        if !rid.starts_with(&format!("load-{}-", std::process::id())) {
            continue;
        }
        let kind = failures
            .get(&rid)
            .unwrap_or_else(|| panic!("record for a request that did not fail: {record}"));
        assert_eq!(record["cause"], kind.cause().unwrap(), "{record}");
        *seen.entry(rid).or_default() += 1;
    }
    assert_eq!(
        seen.len(),
        failures.len(),
        "failures without a record: {}",
        failures.len() - seen.len()
    );
    assert!(seen.values().all(|n| *n == 1), "duplicate records");
    eprintln!("load: {TOTAL} requests at concurrency {CONCURRENCY} in {took:?}; {} failures, {} records, 0 wrong", failures.len(), seen.len());
}

#[test]
fn a_thousand_panics_in_a_row_leave_the_instance_serving_with_bounded_memory() {
    let e = quiet();
    let storm = |n: usize| {
        for _ in 0..n {
            let r = get(&e.worker.url("/echo"), &[("x-fault-inject", "panic")]);
            assert_eq!(r.status, 500);
        }
    };
    // 1000 panics in a row, then 2000 more. The Wasm memory stays flat
    // (checked by hand: 18 pages throughout, externref table constant); RSS
    // climbs while V8 and wrangler's inspector keep garbage and log entries,
    // then levels off. The bound catches a leak of whole requests per panic.
    storm(1000);
    let after_1000 = e.worker.workerd_rss_kb();
    let r = get(&e.worker.url("/echo?after=storm"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["target"], "/echo?after=storm");
    storm(2000);
    let after_3000 = e.worker.workerd_rss_kb();
    eprintln!(
        "panic storm: workerd RSS {after_1000} KiB after 1000 panics, {after_3000} KiB after 3000"
    );
    assert_eq!(get(&e.worker.url("/echo"), &[]).status, 200);
    assert!(
        after_3000 < 448 * 1024,
        "workerd at {after_3000} KiB after 3000 panics"
    );
}
