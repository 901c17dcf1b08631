//! No credential reaches a record by any road, end to end (README §
//! Security): a URL setting the runtime cannot fetch is a `config_error`
//! that never shows its password, a bare query item is redacted like a
//! value, and an origin whose 500 dumps the request's headers loses the
//! client's credentials from the excerpt. Every "never" runs next to its
//! positive control in the same test. (Zone mode's `X-Forwarded-Host` is in
//! `config.rs`, which runs the zone-route worker.)

use std::sync::OnceLock;

use error_shield_harness::{get, unique_id, Env, Launch, Origin, Worker};

/// Passes the hand rules of old (a host and a valid port) but not the
/// runtime's URL parser: no IPv4 octet is 256.
const UNFETCHABLE: &str = "http://svc:ZQhunter@10.0.0.256";

/// Passes every hand rule (an IPv6 address of hex digits and colons) but
/// not the runtime's URL parser (two `::`): only the worker's check with
/// the runtime's own `URL` refuses it.
const ONLY_THE_RUNTIME_REFUSES: &str = "http://u:ZQroute@[1::2::3]";

/// The bypass token of `dumping`.
const TOKEN: &str = "ZQbypass-token";

/// In front of one origin: `dumping` (a bypass token configured, room for
/// a whole dump of headers in the excerpt), `unfetchable` /
/// `unfetchable_fallback` (`UNFETCHABLE` as `ORIGIN_URL` /
/// `FALLBACK_ORIGIN_URL`) and `unfetchable_rule` (`ONLY_THE_RUNTIME_REFUSES`
/// as a rule's `origin_url`).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let rule = format!(r#"[{{"prefix":"/","origin_url":"{ONLY_THE_RUNTIME_REFUSES}"}}]"#);
        let dumping = Launch::proxy().vars(&[
            ("MAINTENANCE_BYPASS_TOKEN", TOKEN),
            ("LOG_ORIGIN_BODY_BYTES", "8192"),
        ]);
        Env::build()
            .origin(Origin::start())
            .fronting("dumping", dumping)
            .worker(
                "unfetchable",
                Launch::proxy().var("ORIGIN_URL", UNFETCHABLE),
            )
            .fronting(
                "unfetchable_fallback",
                Launch::proxy().var("FALLBACK_ORIGIN_URL", UNFETCHABLE),
            )
            .fronting("unfetchable_rule", Launch::proxy().var("ROUTES", &rule))
            .start()
    })
}

/// Fails naming the first of `secrets` any record `worker` wrote shows
/// (every record line of the run, not only the test's own).
fn assert_never_printed(worker: &Worker, secrets: &[&str]) {
    let records = worker.records();
    assert!(!records.is_empty(), "no record at all");
    for record in records {
        let line = record.to_string();
        for secret in secrets {
            assert!(!line.contains(secret), "a record shows {secret}: {line}");
        }
    }
}

#[test]
fn a_url_setting_the_runtime_cannot_fetch_is_a_config_error_that_never_shows_its_password() {
    let e = env();
    for (name, variable, shown) in [
        ("unfetchable", "ORIGIN_URL", "http://REDACTED@10.0.0.256"),
        (
            "unfetchable_fallback",
            "FALLBACK_ORIGIN_URL",
            "http://REDACTED@10.0.0.256",
        ),
        (
            "unfetchable_rule",
            "ROUTES[0].origin_url",
            "http://REDACTED@[1::2::3]",
        ),
    ] {
        let worker = e.worker(name);
        let id = unique_id("unfetchable");
        // A failing path: the fallback is tried only after the origin failed.
        let url = worker.url("/status/503?sk_live_ZQitem&token=ZQvalue");
        let r = get(&url, &[("x-request-id", &id)]);
        assert_eq!(r.status, 500, "{name}: {}", r.text());
        let record = worker.record_for(&id);
        assert_eq!(record["cause"], "config_error", "{name}: {record}");
        // The control: the value is shown, only redacted.
        assert_eq!(record["context"]["variable"], variable, "{record}");
        assert_eq!(record["context"]["value"], shown, "{record}");
        assert_never_printed(worker, &["ZQhunter", "ZQroute", "ZQitem", "ZQvalue"]);
    }
}

#[test]
fn a_query_item_without_a_value_is_redacted_like_a_value() {
    let e = env();
    let worker = e.worker("dumping");
    let id = unique_id("bare");
    let r = get(
        &worker.url("/status/503?sk_live_ZQbare&page=2&&x=ZQvalue"),
        &[("x-request-id", &id)],
    );
    assert_eq!(r.status, 500);
    let record = worker.record_for(&id);
    // The control: the record is the request's, path and names shown.
    assert_eq!(
        record["url"],
        worker.url("/status/503?REDACTED&page=REDACTED&&x=REDACTED"),
        "{record}"
    );
    assert_never_printed(worker, &["ZQbare", "ZQvalue"]);
}

#[test]
fn an_origin_that_dumps_the_request_headers_loses_the_clients_credentials_from_the_excerpt() {
    let e = env();
    let worker = e.worker("dumping");
    let id = unique_id("dump");
    let headers = [
        ("x-request-id", id.as_str()),
        ("authorization", "Bearer ZQbearer-token"),
        ("proxy-authorization", "Basic ZQproxy-credential"),
        ("cookie", "sid=ZQcookie-one; theme=ZQcookie-two"),
        // The control: a plain header does reach the excerpt.
        ("x-plain", "ZQplain-visible"),
    ];
    // The bypass token as a query item the origin shows (the header itself
    // is removed before forwarding).
    let r = get(&worker.url(&format!("/dump?{TOKEN}")), &headers);
    assert_eq!(r.status, 500);
    // The control: on pass-through the origin does get the credentials.
    let echo = get(&worker.url("/echo"), &headers).text();
    assert!(echo.contains("ZQbearer-token") && echo.contains("ZQcookie-two"));

    let record = worker.record_for(&id);
    assert_eq!(record["cause"], "origin_error_status", "{record}");
    let body = record["origin_body"].as_str().unwrap_or_default();
    assert!(body.contains("x-plain: ZQplain-visible"), "{record}");
    assert!(body.contains("authorization: REDACTED"), "{record}");
    assert!(body.contains("cookie: REDACTED"), "{record}");
    assert!(body.starts_with("GET /dump?REDACTED"), "{record}");
    assert_never_printed(
        worker,
        &[
            "ZQbearer",
            "ZQproxy",
            "ZQcookie-one",
            "ZQcookie-two",
            "ZQbypass",
        ],
    );
}
