//! Library mode end to end: `examples/app`, a workers-rs `Router` app whose
//! handler runs under `Shield::run`, served by `wrangler dev`.

use std::sync::OnceLock;

use error_shield_harness::checks::HTML_CSP;
use error_shield_harness::{
    ensure_built, get, raw_send, root, unique_id, Env, Launch, Project, Worker,
};
use serde_json::json;

const MESSAGE: &str = "Try <again> & \"soon\"";
const SUPPORT: &str = "https://help.example.com/app?x=1&y=2";
const PROBLEM_TYPE: &str = "https://errors.example.com/app";
const PAGE: &str = r#"<h1>{{title}}</h1><p>{{ message }}</p><code>{{request_id}}</code><a href="{{support_url}}">help</a>"#;
/// `PAGE` filled and escaped by hand, `{id}` for the request id.
const FILLED: &str = r#"<h1>App failure</h1><p>Try &lt;again&gt; &amp; &quot;soon&quot;</p><code>{id}</code><a href="https://help.example.com/app?x=1&amp;y=2">help</a>"#;

/// Every variable the proxy alone reads, each with a bad value.
const PROXY_VARS: [(&str, &str); 11] = [
    ("RESPONSE_STATUS", "sometimes"),
    ("MAINTENANCE", "maybe"),
    ("MAINTENANCE_BYPASS_PATHS", "healthz"),
    ("ROUTES", "not json"),
    ("ORIGIN_URL", "not a url"),
    ("ORIGIN_TIMEOUT_MS", "soon"),
    ("FAILURE_STATUSES", "5xx"),
    ("LOG_ORIGIN_BODY_BYTES", "lots"),
    ("STALE_IF_ERROR_SECONDS", "1h"),
    ("ORIGIN_RETRIES", "lots"),
    ("FAULT_INJECTION", "maybe"),
];

/// The example app as `app` (the page variables set,
/// `DEFAULT_FORMAT=text`), `bad_format` (`DEFAULT_FORMAT=xml`: a
/// config_error) and `proxy_vars` (only bad proxy variables: nothing the
/// guard reads).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let app = Launch::app().vars(&[
            ("ERROR_TITLE", "App failure"),
            ("ERROR_MESSAGE", MESSAGE),
            ("SUPPORT_URL", SUPPORT),
            ("PROBLEM_TYPE", PROBLEM_TYPE),
            ("ERROR_PAGE_HTML", PAGE),
            ("DEFAULT_FORMAT", "text"),
        ]);
        Env::build()
            .worker("app", app)
            .worker("bad_format", Launch::app().var("DEFAULT_FORMAT", "xml"))
            .worker("proxy_vars", Launch::app().vars(&PROXY_VARS))
            .start()
    })
}

fn app() -> &'static Worker {
    env().worker("app")
}

#[test]
fn a_route_that_succeeds_is_untouched() {
    let r = get(&app().url("/hello"), &[]);
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "hello from a guarded app")
    );
    assert!(r.header("x-request-id").is_none());
    assert_eq!(get(&app().url("/items/7"), &[]).text(), "item 7");
}

#[test]
fn each_way_a_route_fails_is_the_uniform_500_with_one_record() {
    // (path, cause, what the log's message says)
    let table = [
        ("/items/seven", "worker_error", "bad item id"),
        ("/orders/42", "worker_error", "order store unavailable"),
        ("/panic", "worker_panic", "index out of bounds"),
        ("/no/such/route", "", ""),
    ];
    let mut bodies = Vec::new();
    for (path, cause, message) in table {
        let id = unique_id("app");
        let r = get(
            &app().url(path),
            &[("x-request-id", &id), ("accept", "application/json")],
        );
        if cause.is_empty() {
            // The Router's own 404 is an answer, not a failure.
            assert_eq!(r.status, 404, "{path}");
            continue;
        }
        assert_eq!(r.status, 500, "{path}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(r.header("x-request-id"), Some(id.as_str()));
        let v = r.json();
        assert_eq!(
            (v["title"].as_str(), v["request_id"].as_str()),
            (Some("App failure"), Some(id.as_str()))
        );
        assert!(
            !r.text().contains(message) && !r.text().contains("42"),
            "{path}: internals reached the client"
        );
        bodies.push(r.text().replace(&id, "ID"));
        let record = app().record_for(&id);
        assert_eq!(record["cause"], cause, "{record}");
        assert!(
            record["message"].as_str().unwrap().contains(message),
            "{record}"
        );
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "bodies differ across causes: {bodies:?}"
    );
}

#[test]
fn context_attached_by_the_app_reaches_the_record_only() {
    let id = unique_id("ctx");
    let r = get(&app().url("/orders/42"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 500);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; charset=utf-8"),
        "DEFAULT_FORMAT=text"
    );
    assert!(!r.text().contains("orders-eu"));
    let record = app().record_for(&id);
    assert_eq!(record["context"]["order_id"], "42");
    assert_eq!(record["context"]["store"], "orders-eu");
}

#[test]
fn the_app_keeps_serving_after_a_panic() {
    for _ in 0..3 {
        assert_eq!(get(&app().url("/panic"), &[]).status, 500);
        assert_eq!(get(&app().url("/hello"), &[]).status, 200);
    }
}

#[test]
fn a_failure_keeps_every_field_through_worker_error() {
    let id = unique_id("upstream");
    let r = get(&app().url("/upstream"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 500);
    assert!(!r.text().contains("maintenance") && !r.text().contains("inventory"));
    let record = app().record_for(&id);
    assert_eq!(record["cause"], "origin_error_status", "{record}");
    assert_eq!(record["message"], "inventory answered 503");
    assert_eq!(record["origin_status"], 503);
    assert_eq!(record["origin_body"], "maintenance");
    assert_eq!(record["attempts"], 2);
    assert_eq!(record["context"]["upstream"], "inventory");
}

#[test]
fn the_library_build_carries_none_of_the_proxy() {
    app(); // built by now
    ensure_built(Project::Proxy);
    let read = |p: &str| std::fs::read(root().join(p)).expect(p);
    let (proxy, library) = (
        read("build/index_bg.wasm"),
        read("examples/app/build/index_bg.wasm"),
    );
    let has = |bytes: &[u8], s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
    for marker in [
        "ORIGIN_RETRIES",
        "STALE_IF_ERROR_SECONDS",
        "x-error-shield-hop",
        "FAILURE_STATUSES",
    ] {
        // Positive control: the proxy's own build has it.
        assert!(has(&proxy, marker), "{marker} missing from the proxy build");
        assert!(!has(&library, marker), "the library build carries {marker}");
    }
}

#[test]
fn the_page_variables_shape_each_format_chosen_by_accept() {
    // (Accept, the format it must get; none: DEFAULT_FORMAT)
    let table = [
        (Some("application/json"), "json"),
        (Some("text/html"), "html"),
        (Some("text/plain"), "text"),
        (None, "text"),
    ];
    for (accept, format) in table {
        let id = unique_id("fmt");
        let mut headers = vec![("x-request-id", id.as_str())];
        headers.extend(accept.map(|a| ("accept", a)));
        // Raw: an HTTP client would add `Accept: */*` where there is none.
        let r = raw_send(&app().base, "GET", "/orders/42", &headers);
        assert_eq!(r.status, 500, "{accept:?}");
        let (content_type, csp) = match format {
            "json" => {
                let want = json!({"type": PROBLEM_TYPE, "title": "App failure", "status": 500,
                    "detail": MESSAGE, "request_id": id, "support_url": SUPPORT});
                assert_eq!(r.json(), want);
                ("application/problem+json", None)
            }
            "html" => {
                assert_eq!(r.text(), FILLED.replace("{id}", &id));
                ("text/html; charset=utf-8", Some(HTML_CSP))
            }
            _ => {
                let want =
                    format!("App failure\n\n{MESSAGE}\n\nRequest ID: {id}\nSupport: {SUPPORT}\n");
                assert_eq!(r.text(), want, "{accept:?}");
                ("text/plain; charset=utf-8", None)
            }
        };
        assert_eq!(r.header("content-type"), Some(content_type), "{accept:?}");
        assert_eq!(r.header("content-security-policy"), csp, "{accept:?}");
    }
}

#[test]
fn only_the_page_variables_are_read_in_library_mode() {
    let e = env();
    // The control: a bad page variable is a config_error for every route.
    let id = unique_id("badfmt");
    let r = get(
        &e.worker("bad_format").url("/hello"),
        &[("x-request-id", &id)],
    );
    assert_eq!(r.status, 500, "{}", r.text());
    let record = e.worker("bad_format").record_for(&id);
    assert_eq!(record["cause"], "config_error", "{record}");
    assert_eq!(record["context"]["variable"], "DEFAULT_FORMAT");
    assert_eq!(record["context"]["value"], "xml");
    // Bad proxy variables mean nothing to the guard.
    let r = get(&e.worker("proxy_vars").url("/hello"), &[]);
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "hello from a guarded app")
    );
    let id = unique_id("proxyvars");
    assert_eq!(
        get(
            &e.worker("proxy_vars").url("/orders/42"),
            &[("x-request-id", &id)]
        )
        .status,
        500
    );
    assert_eq!(
        e.worker("proxy_vars").record_for(&id)["cause"],
        "worker_error"
    );
}
