//! Every failure cause, end to end: becomes the uniform 500
//! in the negotiated format, with exactly one log record, and nothing of the
//! request or the failing origin leaks.

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use common::origin::{SECRET_BODY, SECRET_HEADERS};
use common::{get, raw_get, send, unique_id, Origin, Resp, Worker};
use serde_json::Value;

const TITLE: &str = "Oops <b>\"&'";
const MESSAGE: &str = "We are on it </p><script>alert(1)</script>";
const SUPPORT: &str = "https://status.example.com/?a=1&b=2";
const TIMEOUT_MS: u64 = 1500;

struct Env {
    // Kept alive for the workers.
    _origin: Origin,
    main: Worker,
    /// The same configuration with stale-if-error and retries on: the
    /// pipeline takes its extra steps, the answers must not change.
    resilient: Worker,
    looping: Worker,
    bad: Vec<(&'static str, &'static str, Worker)>,
}

/// Bad configurations, each on its own worker.
const BAD_CONFIGS: [(&str, &str); 5] = [
    ("ORIGIN_URL", "not a url"),
    ("ORIGIN_TIMEOUT_MS", "soon"),
    ("FAILURE_STATUSES", "5xx"),
    ("DEFAULT_FORMAT", "xml"),
    ("ERROR_PAGE_HTML", "<p>{{secret_key}}</p>"),
];

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let origin = Origin::start();
        let url = origin.url();
        // Start every worker at once: wrangler's start-up dominates.
        let looping = thread::spawn(|| Worker::start(&[("FAULT_INJECTION", "on")]));
        let bad: Vec<_> = BAD_CONFIGS
            .iter()
            .map(|&(var, value)| {
                let url = url.clone();
                thread::spawn(move || {
                    let vars = if var == "ORIGIN_URL" {
                        vec![(var, value)]
                    } else {
                        vec![("ORIGIN_URL", url.as_str()), (var, value)]
                    };
                    (var, value, Worker::start(&vars))
                })
            })
            .collect();
        let timeout = TIMEOUT_MS.to_string();
        let main_vars = [
            ("ORIGIN_URL", url.as_str()),
            ("ORIGIN_TIMEOUT_MS", &timeout),
            ("FAILURE_STATUSES", "500,502-599"),
            ("FAULT_INJECTION", "on"),
            ("ERROR_TITLE", TITLE),
            ("ERROR_MESSAGE", MESSAGE),
            ("SUPPORT_URL", SUPPORT),
            ("PROBLEM_TYPE", "https://errors.example.com/internal"),
            ("LOG_ORIGIN_BODY_BYTES", "32"),
        ];
        let resilient_vars: Vec<(&'static str, String)> = main_vars
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .chain([
                ("STALE_IF_ERROR_SECONDS", "60".to_string()),
                ("ORIGIN_RETRIES", "2".to_string()),
            ])
            .collect();
        let resilient = thread::spawn(move || {
            let vars: Vec<(&str, &str)> = resilient_vars
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect();
            Worker::start(&vars)
        });
        let main = Worker::start(&main_vars);
        Env {
            _origin: origin,
            main,
            resilient: resilient.join().expect("resilient worker"),
            looping: looping.join().expect("loop worker"),
            bad: bad
                .into_iter()
                .map(|h| h.join().expect("bad-config worker"))
                .collect(),
        }
    })
}

/// A way to make the main worker fail, with the cause the log must name.
struct Scenario {
    name: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    cause: &'static str,
}

const SCENARIOS: [Scenario; 9] = [
    Scenario {
        name: "origin 502",
        path: "/status/502",
        headers: &[],
        cause: "origin_error_status",
    },
    Scenario {
        name: "origin 500",
        path: "/status/500",
        headers: &[],
        cause: "origin_error_status",
    },
    Scenario {
        name: "connection reset",
        path: "/reset",
        headers: &[],
        cause: "origin_unreachable",
    },
    Scenario {
        name: "garbage instead of HTTP",
        path: "/garbage",
        headers: &[],
        cause: "origin_unreachable",
    },
    Scenario {
        name: "no headers in time",
        path: "/sleep?ms=4000",
        headers: &[],
        cause: "origin_timeout",
    },
    Scenario {
        name: "handler error",
        path: "/echo",
        headers: &[("x-fault-inject", "error")],
        cause: "worker_error",
    },
    Scenario {
        name: "panic",
        path: "/echo",
        headers: &[("x-fault-inject", "panic")],
        cause: "worker_panic",
    },
    Scenario {
        name: "abort",
        path: "/echo",
        headers: &[("x-fault-inject", "abort")],
        cause: "worker_trap",
    },
    Scenario {
        name: "stack overflow",
        path: "/echo",
        headers: &[("x-fault-inject", "stack_overflow")],
        cause: "worker_trap",
    },
];

/// The formats and the `Accept` values that must choose them.
const FORMATS: [(&str, Option<&str>); 5] = [
    ("json", Some("application/json")),
    ("json", None),
    (
        "html",
        Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ),
    ("text", Some("text/plain")),
    ("json", Some("image/webp")),
];

fn fail(worker: &Worker, s: &Scenario, accept: Option<&str>, id: &str) -> Resp {
    let mut headers: Vec<(&str, &str)> = s.headers.to_vec();
    headers.push(("x-request-id", id));
    if let Some(a) = accept {
        headers.push(("accept", a));
    }
    get(&worker.url(s.path), &headers)
}

/// Checks the uniform 500 and returns its body with the id
/// replaced by `{id}`.
fn assert_uniform_500(r: &Resp, format: &str, id: &str, context: &str) -> String {
    assert_eq!(r.status, 500, "{context}: {}", r.text());
    let content_type = match format {
        "json" => "application/problem+json",
        "html" => "text/html; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    assert_eq!(r.header("content-type"), Some(content_type), "{context}");
    assert_eq!(r.header("cache-control"), Some("no-store"), "{context}");
    assert_eq!(r.header("x-request-id"), Some(id), "{context}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{context}"
    );
    assert_eq!(r.header("vary"), Some("Accept"), "{context}");
    let csp = r.header("content-security-policy");
    if format == "html" {
        let csp = csp.unwrap_or_else(|| panic!("{context}: no CSP"));
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script-src"),
            "{context}: {csp}"
        );
    } else {
        assert!(csp.is_none(), "{context}");
    }
    for (name, value) in SECRET_HEADERS {
        assert!(
            !r.all(name).contains(&value),
            "{context}: origin header {name} leaked"
        );
    }
    let body = r.text();
    for secret in [
        "ORIGIN-SECRET",
        "hunter2",
        "Traceback",
        "RuntimeError",
        "PanicError",
        "injected",
        "fault.rs",
        "wasm",
    ] {
        assert!(
            !body.contains(secret),
            "{context}: body leaks {secret}: {body}"
        );
    }
    match format {
        "json" => {
            let v = r.json();
            assert_eq!(v["type"], "https://errors.example.com/internal");
            assert_eq!(v["title"], TITLE);
            assert_eq!(v["status"], 500);
            assert_eq!(v["detail"], MESSAGE);
            assert_eq!(v["request_id"], id);
            assert_eq!(v["support_url"], SUPPORT);
        }
        "html" => {
            assert!(
                body.contains("Oops &lt;b&gt;&quot;&amp;&#39;"),
                "{context}: {body}"
            );
            assert!(body.contains("&lt;/p&gt;&lt;script&gt;"), "{context}");
            assert!(!body.contains("<script"), "{context}");
            assert!(body.contains(&format!("<code>{id}</code>")), "{context}");
            assert!(
                body.contains("href=\"https://status.example.com/?a=1&amp;b=2\""),
                "{context}"
            );
        }
        _ => {
            assert!(body.starts_with(TITLE), "{context}: {body}");
            assert!(
                body.contains(MESSAGE) && body.contains(&format!("Request ID: {id}")),
                "{context}: {body}"
            );
        }
    }
    body.replace(id, "{id}")
}

#[test]
fn every_cause_in_every_format_is_the_uniform_500_with_one_record() {
    let e = env();
    // One body per format, whatever the cause and the configuration.
    let mut bodies: HashMap<&str, String> = HashMap::new();
    for (config, worker) in [("defaults", &e.main), ("stale + retries", &e.resilient)] {
        for s in &SCENARIOS {
            for (format, accept) in FORMATS {
                let id = unique_id("cause");
                let context = format!("{config}: {} / Accept {accept:?}", s.name);
                let r = fail(worker, s, accept, &id);
                let body = assert_uniform_500(&r, format, &id, &context);
                let first = bodies.entry(format).or_insert_with(|| body.clone());
                assert_eq!(*first, body, "{context}: body differs from other causes");
                let record = worker.record_for(&id);
                assert_eq!(record["cause"], s.cause, "{context}: {record}");
                assert_eq!(record["level"], "error");
                assert_eq!(record["method"], "GET");
                assert_eq!(record["status"], 500, "{context}: {record}");
                assert!(record["duration_ms"].is_u64(), "{record}");
                // Retries are on in the second configuration only, and only
                // an unreachable origin is tried again.
                let attempts = match (config, s.cause) {
                    ("defaults", _) => Value::Null,
                    (_, "origin_unreachable") => Value::from(3),
                    (_, c) if c.starts_with("origin_") => Value::from(1),
                    _ => Value::Null,
                };
                assert_eq!(record["attempts"], attempts, "{context}: {record}");
            }
        }
    }
}

#[test]
fn head_gets_the_same_status_and_headers_and_no_body() {
    let e = env();
    for s in [&SCENARIOS[0], &SCENARIOS[6]] {
        let id = unique_id("head");
        let r = send(
            "HEAD",
            &e.main.url(s.path),
            &[
                s.headers,
                &[("x-request-id", id.as_str()), ("accept", "text/html")],
            ]
            .concat(),
            None,
        );
        assert_eq!(r.status, 500);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(r.header("x-request-id"), Some(id.as_str()));
        assert!(r.header("content-security-policy").is_some());
        assert!(r.body.is_empty());
        assert_eq!(e.main.record_for(&id)["method"], "HEAD");
    }
}

#[test]
fn origin_error_record_has_status_capped_excerpt_and_redacted_url() {
    let e = env();
    let id = unique_id("rec");
    let r = get(
        &e.main.url("/status/503?token=abc123&user=bob"),
        &[
            ("x-request-id", &id),
            ("authorization", "Bearer sekrit-token"),
            ("cookie", "sid=sekrit-cookie"),
        ],
    );
    assert_eq!(r.status, 500);
    let record = e.main.record_for(&id);
    assert_eq!(record["cause"], "origin_error_status");
    assert_eq!(record["origin_status"], 503);
    assert_eq!(record["origin_body"], &SECRET_BODY[..32]);
    assert!(
        record["url"]
            .as_str()
            .unwrap()
            .ends_with("/status/503?token=REDACTED&user=REDACTED"),
        "{record}"
    );
    let raw = record.to_string();
    for secret in ["abc123", "bob", "sekrit-token", "sekrit-cookie"] {
        assert!(!raw.contains(secret), "record leaks {secret}: {raw}");
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
        let r = fail(&e.main, &SCENARIOS[6], None, &id);
        assert_eq!(r.status, 500);
        let record = e.main.record_for(&id);
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
        let ok = get(&e.main.url("/echo"), &[]);
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
    for s in [&SCENARIOS[7], &SCENARIOS[8]] {
        let id = unique_id("trap");
        let r = fail(&e.main, s, Some("text/plain"), &id);
        assert_uniform_500(&r, "text", &id, s.name);
        let record = e.main.record_for(&id);
        assert_eq!(record["cause"], "worker_trap");
        let message = record["message"].as_str().unwrap();
        assert!(message.contains("RuntimeError"), "{record}");
        // The error and its first frames only: a stack overflow's trace is
        // thousands of frames long.
        assert!(
            message.lines().count() <= 6 && message.len() <= 1000,
            "{record}"
        );
        assert_eq!(
            get(&e.main.url("/echo"), &[]).status,
            200,
            "after {}",
            s.name
        );
    }
}

#[test]
fn timeout_answers_within_the_timeout_plus_a_margin() {
    let e = env();
    let id = unique_id("timeout");
    let start = Instant::now();
    let r = fail(&e.main, &SCENARIOS[4], None, &id);
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
    let record = e.main.record_for(&id);
    assert_eq!(record["cause"], "origin_timeout");
    assert!(
        record["message"].as_str().unwrap().contains("1500 ms"),
        "{record}"
    );
}

#[test]
fn statuses_outside_failure_statuses_pass_through() {
    let e = env();
    let r = get(&e.main.url("/status/501"), &[]);
    assert_eq!(r.status, 501);
    assert_eq!(r.text(), SECRET_BODY);
}

#[test]
fn hostile_request_ids_are_replaced() {
    let e = env();
    let long = "a".repeat(129);
    let hostile: [&[u8]; 9] = [
        b"<script>alert(1)</script>",
        b"id with spaces",
        b"\"quoted\"",
        long.as_bytes(),
        "\u{fc}n\u{ef}code".as_bytes(),
        b"\xff\xfe",
        b"a/b",
        b"x;y",
        b"a\x01b",
    ];
    for bad in hostile {
        let line = [b"X-Request-Id: ".as_slice(), bad].concat();
        let r = raw_get(&e.main.base, "/status/502", &[&line, b"Accept: text/html"]);
        assert_eq!(r.status, 500);
        let id = r.request_id();
        assert_eq!(id.len(), 32, "minted id {id}");
        let shown = String::from_utf8_lossy(bad);
        assert!(
            bad.len() < 4 || !r.text().contains(shown.as_ref()),
            "hostile id reflected"
        );
        assert_eq!(e.main.record_for(&id)["request_id"], id);
    }
    // A well-formed cf-ray is the id when the client sends none, and is logged.
    let r = get(
        &e.main.url("/status/502"),
        &[("cf-ray", "8c3f1a2b3c4d5e6f-AMS")],
    );
    assert_eq!(r.request_id(), "8c3f1a2b3c4d5e6f-AMS");
    assert_eq!(
        e.main.record_for("8c3f1a2b3c4d5e6f-AMS")["cf_ray"],
        "8c3f1a2b3c4d5e6f-AMS"
    );
}

#[test]
fn hostile_accept_headers_never_error_or_406() {
    let e = env();
    let huge = "text/html;q=0.1, ".repeat(2000);
    let accepts: [&[u8]; 10] = [
        huge.as_bytes(),
        b"*/*;q=0",
        b"text/html;q=0, application/json;q=0, text/plain;q=0",
        b";;;,,,",
        b"text/",
        b"/json",
        b"*/*;q=abc",
        b"application/json;q=0.5;q=1",
        b"\x01\x02",
        b"\xff\xfe/\xfa",
    ];
    for accept in accepts {
        let id = unique_id("accept");
        let r = raw_get(
            &e.main.base,
            "/status/502",
            &[
                &[b"Accept: ".as_slice(), accept].concat(),
                format!("X-Request-Id: {id}").as_bytes(),
            ],
        );
        assert_eq!(
            r.status,
            500,
            "Accept {:?}",
            String::from_utf8_lossy(accept)
        );
        assert!(r.header("content-type").is_some());
        assert!(r.text().contains(&id));
    }
}

#[test]
fn each_bad_config_gives_the_uniform_500_and_names_the_variable() {
    let e = env();
    for (var, value, worker) in &e.bad {
        let id = unique_id("config");
        let r = get(&worker.url("/echo"), &[("x-request-id", &id)]);
        assert_eq!(r.status, 500, "{var}={value}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let v = r.json();
        assert_eq!(
            (v["title"].as_str(), v["request_id"].as_str()),
            (Some("Internal Server Error"), Some(id.as_str()))
        );
        assert!(
            !r.text().contains(var) && !r.text().contains(value),
            "{var}: config leaked to client"
        );
        let record = worker.record_for(&id);
        assert_eq!(record["cause"], "config_error", "{record}");
        assert_eq!(record["context"]["variable"], *var, "{record}");
        let logged = record["context"]["value"].as_str().unwrap();
        assert!(
            value.contains(logged) || logged.contains("secret_key"),
            "{var}: logged value {logged}"
        );
    }
}

#[test]
fn a_request_that_loops_back_fails_fast_with_config_error() {
    let e = env();
    let id = unique_id("loop");
    let start = Instant::now();
    let r = get(&e.looping.url("/anything"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 500);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(r.request_id(), id);
    // Exactly one record for the one client request: the inner hop's
    // config_error; the outer hop that got its 500 writes none.
    let record = e.looping.record_for(&id);
    assert_eq!(record["cause"], "config_error", "{record}");
    assert_eq!(record["context"]["variable"], "ORIGIN_URL", "{record}");
}
