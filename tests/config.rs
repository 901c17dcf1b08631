//! Configuration end to end: every validated variable, when bad, gives the
//! uniform 500 and a `config_error` naming it and its exact value; a request
//! that comes back to the worker fails fast; and the variables that shape
//! the answer (`DEFAULT_FORMAT`, `ERROR_PAGE_HTML`, `LOG_ORIGIN_BODY_BYTES`)
//! and the zone-route mode (no `ORIGIN_URL`) do what the README says.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use error_shield::Page;
use error_shield_harness::origin::SECRET_BODY;
use error_shield_harness::{
    checks::HTML_CSP, echo_header, free_port, get, raw_send, unique_id, Env, Launch, Origin,
};
use serde_json::{json, Value};

/// (variable, bad value, what the record's `context.value` must be). The
/// record names `variable`, or for a rule of `ROUTES` the one in
/// [`NAMED`].
const BAD_CONFIGS: [(&str, &str, &str); 16] = [
    ("ORIGIN_URL", "not a url", "not a url"),
    (
        "ORIGIN_URL",
        "https://user:hunter2@host/a b",
        "https://REDACTED@host/a b",
    ),
    // No scheme: the credential is hidden all the same.
    (
        "ORIGIN_URL",
        "svc:hunter2@api.example.com",
        "REDACTED@api.example.com",
    ),
    // A ROUTES that does not parse is described by the error, not its text.
    (
        "ROUTES",
        r#"[{"prefix":"/a/","origin_url":"https://svc:hunter2@api.example.com"}"#,
        "EOF while parsing a list at line 1 column 68",
    ),
    (
        "ROUTES",
        r#"[{"prefix":"/a/","origin":"https://svc:hunter2@api.example.com"}]"#,
        "(a string)",
    ),
    ("ORIGIN_TIMEOUT_MS", "soon", "soon"),
    ("FAILURE_STATUSES", "5xx", "5xx"),
    ("DEFAULT_FORMAT", "xml", "xml"),
    // The value named is the bad placeholder, not the whole page.
    ("ERROR_PAGE_HTML", "<p>{{secret_key}}</p>", "{{secret_key}}"),
    ("SUPPORT_URL", "javascript:alert(1)", "javascript:alert(1)"),
    ("PROBLEM_TYPE", "not a uri", "not a uri"),
    ("LOG_ORIGIN_BODY_BYTES", "65537", "65537"),
    ("STALE_IF_ERROR_SECONDS", "1h", "1h"),
    // One copy is collected whole: more than 16 MiB could exhaust an isolate.
    ("STALE_MAX_BYTES", "16777217", "16777217"),
    ("ORIGIN_RETRIES", "6", "6"),
    ("FAULT_INJECTION", "maybe", "maybe"),
];

/// The variable a bad value of `ROUTES` is named by, when it is a rule's.
const NAMED: [(&str, &str); 1] = [(
    r#"[{"prefix":"/a/","origin":"https://svc:hunter2@api.example.com"}]"#,
    "ROUTES[0].origin",
)];

/// An `ERROR_PAGE_HTML` using every placeholder (one with spaces inside).
const PAGE: &str = r#"<!doctype html><html lang="en"><title>{{title}}</title><h1>{{ title }}</h1><p>{{message}}</p><p>Ref: <code>{{request_id}}</code></p><a href="{{support_url}}">help</a></html>"#;
const TITLE: &str = r#"Down <for> "maintenance" & 'more'"#;
const MESSAGE: &str = "Back at 10:00 </p><script>alert(1)</script>";
const SUPPORT: &str = "https://help.example.com/?a=1&b=<2>";
/// `PAGE` filled, escaped by hand, with `{id}` for the request id.
const FILLED: &str = r#"<!doctype html><html lang="en"><title>Down &lt;for&gt; &quot;maintenance&quot; &amp; &#39;more&#39;</title><h1>Down &lt;for&gt; &quot;maintenance&quot; &amp; &#39;more&#39;</h1><p>Back at 10:00 &lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p><p>Ref: <code>{id}</code></p><a href="https://help.example.com/?a=1&amp;b=&lt;2&gt;">help</a></html>"#;

/// The workers: `bad i` for `BAD_CONFIGS[i]` (in front of the origin
/// unless the bad variable is `ORIGIN_URL`), and:
/// - `looping`: no `ORIGIN_URL` and nothing in front: the request comes back;
/// - `own_address`: `ORIGIN_URL` is the worker's own address;
/// - `zone`: no `ORIGIN_URL`, wrangler's upstream (the zone's origin) is
///   the fake origin; `DEFAULT_FORMAT=text`, `LOG_ORIGIN_BODY_BYTES=0`,
///   fail-open and fault injection on;
/// - `page`: `ORIGIN_URL` set, `ERROR_PAGE_HTML` and `DEFAULT_FORMAT=html`.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let origin = Origin::start();
        let upstream = format!("127.0.0.1:{}", origin.port);
        let mut env = Env::build().origin(origin);
        for (i, &(var, value, _)) in BAD_CONFIGS.iter().enumerate() {
            let launch = Launch::proxy().var(var, value);
            env = match var {
                "ORIGIN_URL" => env.worker(&bad(i), launch),
                _ => env.fronting(&bad(i), launch),
            };
        }
        let port = free_port();
        let own = format!("http://127.0.0.1:{port}");
        let zone = Launch::proxy()
            .vars(&[
                ("DEFAULT_FORMAT", "text"),
                ("LOG_ORIGIN_BODY_BYTES", "0"),
                ("ON_WORKER_FAILURE", "fail-open"),
                ("FAULT_INJECTION", "on"),
            ])
            .args(&["--local-upstream", &upstream, "--upstream-protocol", "http"]);
        let page = Launch::proxy().vars(&[
            ("ERROR_PAGE_HTML", PAGE),
            ("ERROR_TITLE", TITLE),
            ("ERROR_MESSAGE", MESSAGE),
            ("SUPPORT_URL", SUPPORT),
            ("DEFAULT_FORMAT", "html"),
        ]);
        // The control of the shipped configuration's start: a flag its date
        // already turns on, spelled out.
        let flagged = Launch::proxy().toml("compatibility_flags = [\"enable_request_signal\"]");
        env.worker("looping", Launch::proxy())
            .worker("flagged", flagged)
            .worker(
                "own_address",
                Launch::proxy().port(port).var("ORIGIN_URL", &own),
            )
            .worker("zone", zone)
            .fronting("page", page)
            .start()
    })
}

/// The name of the worker of `BAD_CONFIGS[i]`.
fn bad(i: usize) -> String {
    format!("bad {i}")
}

#[test]
fn each_bad_config_gives_the_uniform_500_and_names_the_variable_and_value() {
    let e = env();
    for (i, (var, value, logged)) in BAD_CONFIGS.iter().enumerate() {
        let worker = e.worker(&bad(i));
        let id = unique_id("config");
        let r = get(&worker.url("/echo"), &[("x-request-id", &id)]);
        assert_eq!(r.status, 500, "{var}={value}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        // The default answer, byte for byte: nothing of the config leaks.
        let want = json!({"type": "about:blank", "title": "Internal Server Error",
            "status": 500, "detail": Page::default().message, "request_id": id});
        assert_eq!(r.json(), want, "{var}={value}");
        let record = worker.record_for(&id);
        assert_eq!(record["cause"], "config_error", "{record}");
        let named = NAMED
            .iter()
            .find(|(v, _)| v == value)
            .map_or(*var, |(_, n)| *n);
        assert_eq!(record["context"]["variable"], named, "{record}");
        assert_eq!(record["context"]["value"], *logged, "{record}");
        assert!(!record.to_string().contains("hunter2"), "{record}");
    }
}

#[test]
fn a_request_that_comes_back_to_the_worker_fails_fast_with_config_error() {
    let e = env();
    for (name, worker) in [
        ("unset", e.worker("looping")),
        ("own address", e.worker("own_address")),
    ] {
        let id = unique_id("loop");
        let start = Instant::now();
        let r = get(&worker.url("/anything"), &[("x-request-id", &id)]);
        assert_eq!(r.status, 500, "{name}");
        assert!(start.elapsed() < Duration::from_secs(5), "{name}");
        assert_eq!(r.request_id(), id, "{name}");
        // Exactly one record for the one client request: the copy that came
        // back writes none (it could be a client replaying a marker) and
        // answers with its signal; the first, which sent it, records the
        // config_error.
        let record = worker.record_for(&id);
        assert_eq!(record["cause"], "config_error", "{name}: {record}");
        assert_eq!(record["context"]["variable"], "ORIGIN_URL", "{name}");
    }
}

#[test]
fn without_origin_url_the_incoming_url_is_fetched_and_the_incoming_host_forwarded() {
    let e = env();
    // As planned, and as sent as it came after the worker failed (fail-open).
    for fault in ["", "error"] {
        let zone = get(
            &e.worker("zone").url("/echo?zone=1"),
            &[
                ("x-request-id", "zone-1"),
                ("x-fault-inject", fault),
                ("x-forwarded-host", "evil.example"),
                // The control: the same value under another name arrives.
                ("x-forwarded-hostname", "evil.example"),
            ],
        )
        .json();
        assert_eq!(zone["target"], "/echo?zone=1");
        assert_eq!(echo_header(&zone, "x-request-id"), Some("zone-1"));
        assert_eq!(echo_header(&zone, "x-fault-inject"), Some(fault));
        // The client's X-Forwarded-Host is replaced by the host the worker
        // was asked for (on a zone route, the origin's own host).
        let forwarded: Vec<&Value> = zone["headers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h[0] == "x-forwarded-host")
            .map(|h| &h[1])
            .collect();
        let host = echo_header(&zone, "host").expect("a Host header");
        assert_eq!(forwarded, [host], "{fault:?}: {zone}");
        assert_eq!(
            echo_header(&zone, "x-forwarded-hostname"),
            Some("evil.example")
        );
    }
    // With ORIGIN_URL too.
    let proxied = get(&e.worker("page").url("/echo"), &[]).json();
    let host = e.worker("page").base.trim_start_matches("http://");
    assert_eq!(echo_header(&proxied, "x-forwarded-host"), Some(host));
}

#[test]
fn default_format_applies_when_accept_does_not_decide() {
    let e = env();
    let (text, html, json) = (
        "text/plain; charset=utf-8",
        "text/html; charset=utf-8",
        "application/problem+json",
    );
    // (worker, Accept, the format it must get)
    let table = [
        (e.worker("zone"), None, text),
        (e.worker("zone"), Some("image/webp"), text),
        (e.worker("zone"), Some("application/json"), json),
        (e.worker("page"), None, html),
        (e.worker("page"), Some("image/webp"), html),
        (e.worker("page"), Some("text/plain"), text),
    ];
    // Raw: an HTTP client would add `Accept: */*` where there is none.
    for (worker, accept, want) in table {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        let r = raw_send(&worker.base, "GET", "/status/502", &headers);
        assert_eq!(r.status, 500);
        assert_eq!(
            r.header("content-type"),
            Some(want),
            "{} {accept:?}",
            worker.base
        );
    }
    let plain = raw_send(
        &e.worker("zone").base,
        "GET",
        "/status/502",
        &[("x-request-id", "fmt-1")],
    );
    assert_eq!(
        String::from_utf8_lossy(&plain.body),
        format!(
            "Internal Server Error\n\n{}\n\nRequest ID: fmt-1\n",
            Page::default().message
        )
    );
}

#[test]
fn a_custom_error_page_is_served_filled_and_escaped_with_the_same_headers() {
    let e = env();
    let accept = ("accept", "text/html");
    let custom = raw_send(
        &e.worker("page").base,
        "GET",
        "/status/502",
        &[accept, ("x-request-id", "page-1")],
    );
    assert_eq!(custom.status, 500);
    assert_eq!(
        String::from_utf8_lossy(&custom.body),
        FILLED.replace("{id}", "page-1")
    );
    assert_eq!(custom.header("x-request-id"), Some("page-1"));
    assert_eq!(custom.header("content-security-policy"), Some(HTML_CSP));
    // The same headers as the built-in page.
    let builtin = raw_send(&e.worker("zone").base, "GET", "/status/502", &[accept]);
    assert!(String::from_utf8_lossy(&builtin.body).contains("<main>"));
    assert_eq!(custom.fixed_headers(), builtin.fixed_headers());
}

#[test]
fn log_origin_body_bytes_0_keeps_the_body_out_of_the_record() {
    let e = env();
    // (worker, the record's origin_body): the control has the default 2048.
    let table = [
        (e.worker("page"), Some(SECRET_BODY)),
        (e.worker("zone"), None),
    ];
    for (worker, want) in table {
        let id = unique_id("excerpt");
        assert_eq!(
            get(&worker.url("/status/502"), &[("x-request-id", &id)]).status,
            500
        );
        let record = worker.record_for(&id);
        assert_eq!(record["origin_status"], 502, "{record}");
        assert_eq!(
            record.get("origin_body").and_then(Value::as_str),
            want,
            "{record}"
        );
    }
}

/// A compatibility flag that the compatibility date already turns on is
/// refused when the worker is deployed; `wrangler dev` only warns. The
/// shipped `wrangler.toml` names none; the control spells out one its date
/// turns on (`enable_request_signal`, the default since 2026-11-17).
#[test]
fn the_shipped_configuration_names_no_flag_its_date_already_turns_on() {
    const REFUSED: &str = "does not need to be specified anymore";
    let flagged = env().worker("flagged").output();
    assert!(flagged.contains(REFUSED), "{flagged}");
    let shipped = env().worker("looping").output();
    assert!(shipped.contains("Ready on"), "{shipped}");
    assert!(!shipped.contains(REFUSED), "{shipped}");
}
