//! Every failure cause, end to end: the uniform 500 in the negotiated
//! format, with exactly one log record, and nothing of the request or the
//! failing origin leaks; in the default configuration and with
//! stale-if-error and retries on. Configuration is `config.rs`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use error_shield_harness::origin::{SECRET_BODY, SECRET_HEADERS};
use error_shield_harness::{
    get, header_lines, raw_exchange, raw_send, unique_id, Env, Launch, Origin, RawReq, Resp, Worker,
};

const TITLE: &str = "Oops <b>\"&'";
const MESSAGE: &str = "We are on it </p><script>alert(1)</script>";
const SUPPORT: &str = "https://status.example.com/?a=1&b=2";
const TIMEOUT_MS: u64 = 1500;

/// `main`, and `resilient`: the same configuration with stale-if-error and
/// retries on: the pipeline takes its extra steps, the answers must not
/// change.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let timeout = TIMEOUT_MS.to_string();
        let main = Launch::proxy().vars(&[
            ("ORIGIN_TIMEOUT_MS", &timeout),
            ("FAILURE_STATUSES", "500,502-599"),
            ("FAULT_INJECTION", "on"),
            ("ERROR_TITLE", TITLE),
            ("ERROR_MESSAGE", MESSAGE),
            ("SUPPORT_URL", SUPPORT),
            ("PROBLEM_TYPE", "https://errors.example.com/internal"),
            ("LOG_ORIGIN_BODY_BYTES", "32"),
        ]);
        let resilient =
            (main.clone()).vars(&[("STALE_IF_ERROR_SECONDS", "60"), ("ORIGIN_RETRIES", "2")]);
        Env::build()
            .origin(Origin::start())
            .fronting("main", main)
            .fronting("resilient", resilient)
            .start()
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
    match accept {
        Some(a) => {
            headers.push(("accept", a));
            get(&worker.url(s.path), &headers)
        }
        // Raw: an HTTP client would add `Accept: */*`.
        None => raw_send(&worker.base, "GET", s.path, &headers),
    }
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
    for (config, worker) in [
        ("defaults", e.worker("main")),
        ("stale + retries", e.worker("resilient")),
    ] {
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
        let (head_id, get_id) = (unique_id("head"), unique_id("get"));
        let lines = |id: &str| {
            header_lines(&[s.headers, &[("x-request-id", id), ("accept", "text/html")]].concat())
        };
        let (head_lines, get_lines) = (lines(&head_id), lines(&get_id));
        // On one connection: the HEAD, then the GET (the control: it has
        // the page). The GET's answer must start right where the HEAD's head
        // ends, so a body byte after that head fails the read.
        let answers = raw_exchange(
            &e.worker("main").base,
            &[
                RawReq::new("HEAD", s.path).lines(&head_lines),
                RawReq::new("GET", s.path).lines(&get_lines),
            ],
        );
        let (head, got) = (&answers[0], &answers[1]);
        assert_eq!((head.status, got.status), (500, 500), "{}", s.name);
        assert!(
            got.body.starts_with(b"<!doctype html>"),
            "{}: {got:?}",
            s.name
        );
        assert_eq!(head.fixed_headers(), got.fixed_headers(), "{}", s.name);
        assert_eq!(head.header("x-request-id"), Some(head_id.as_str()));
        // No length announced for a body that is not there. (workerd drops
        // a body a worker returns for HEAD without a trace, so the worker's
        // own part is the renderer's unit test `head_has_headers_and_no_body`.)
        assert!(
            matches!(head.header("content-length"), None | Some("0"))
                && head.header("transfer-encoding").is_none(),
            "{}: {head:?}",
            s.name
        );
        assert_eq!(e.worker("main").record_for(&head_id)["method"], "HEAD");
    }
}

#[test]
fn statuses_outside_failure_statuses_pass_through() {
    let e = env();
    let r = get(&e.worker("main").url("/status/501"), &[]);
    assert_eq!(r.status, 501);
    assert_eq!(r.text(), SECRET_BODY);
}
