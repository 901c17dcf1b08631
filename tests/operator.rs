//! What operators switch on: status by cause, maintenance mode and W3C
//! trace context, end to end.

use std::sync::OnceLock;

use error_shield_harness::{
    get, header_lines, raw_exchange, raw_send, unique_id, Env, Launch, Origin, RawReq, Resp, Worker,
};

const TOKEN: &str = "tok-3f9a7c";
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The workers, all in front of one origin: `by_cause`, `by_cause_titled`,
/// `maintenance`, and `secret_maintenance`: maintenance switched on by a
/// secret, with the operator's own page.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let by_cause = Launch::proxy().vars(&[
            ("RESPONSE_STATUS", "by-cause"),
            ("ORIGIN_TIMEOUT_MS", "1500"),
            ("FAULT_INJECTION", "on"),
        ]);
        let titled = Launch::proxy().vars(&[
            ("RESPONSE_STATUS", "by-cause"),
            ("ORIGIN_TIMEOUT_MS", "1500"),
            ("ERROR_TITLE", "Oops"),
        ]);
        let maintenance = Launch::proxy()
            .vars(&[
                ("MAINTENANCE", "on"),
                ("MAINTENANCE_RETRY_AFTER", "120"),
                ("MAINTENANCE_BYPASS_PATHS", "/status/,/any/health"),
                ("MAINTENANCE_TITLE", "Back <soon>"),
                ("MAINTENANCE_MESSAGE", "Upgrading & tuning"),
            ])
            .secrets(&[("MAINTENANCE_BYPASS_TOKEN", TOKEN)]);
        let secret = Launch::proxy()
            .vars(&[
                (
                    "ERROR_PAGE_HTML",
                    "<main><h1>{{title}}</h1><p>{{message}}</p><code>{{request_id}}</code></main>",
                ),
                ("MAINTENANCE_RETRY_AFTER", "0"),
            ])
            .secrets(&[("MAINTENANCE", "on")]);
        Env::build()
            .origin(Origin::start())
            .fronting("by_cause", by_cause)
            .fronting("by_cause_titled", titled)
            .fronting("maintenance", maintenance)
            .fronting("secret_maintenance", secret)
            .start()
    })
}

fn json_get(w: &Worker, path: &str, headers: &[(&str, &str)]) -> (Resp, String) {
    let id = unique_id("op");
    let mut all = vec![
        ("x-request-id", id.as_str()),
        ("accept", "application/json"),
    ];
    all.extend_from_slice(headers);
    (get(&w.url(path), &all), id)
}

#[test]
fn by_cause_gives_502_504_and_500_with_titles_that_follow_the_status() {
    let e = env();
    // path, extra header, status, title, cause
    let table = [
        (
            "/status/502",
            None,
            502,
            "Bad Gateway",
            "origin_error_status",
        ),
        (
            "/status/500",
            None,
            502,
            "Bad Gateway",
            "origin_error_status",
        ),
        ("/reset", None, 502, "Bad Gateway", "origin_unreachable"),
        (
            "/sleep?ms=4000",
            None,
            504,
            "Gateway Timeout",
            "origin_timeout",
        ),
        (
            "/echo",
            Some(("x-fault-inject", "error")),
            500,
            "Internal Server Error",
            "worker_error",
        ),
        (
            "/echo",
            Some(("x-fault-inject", "panic")),
            500,
            "Internal Server Error",
            "worker_panic",
        ),
    ];
    for (path, header, status, title, cause) in table {
        let (r, id) = json_get(
            e.worker("by_cause"),
            path,
            &header.into_iter().collect::<Vec<_>>(),
        );
        assert_eq!(r.status, status, "{path}: {}", r.text());
        let v = r.json();
        assert_eq!(
            (v["status"].as_u64(), v["title"].as_str()),
            (Some(u64::from(status)), Some(title)),
            "{path}"
        );
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert!(r.header("retry-after").is_none(), "{path}");
        let record = e.worker("by_cause").record_for(&id);
        assert_eq!(
            (record["cause"].as_str(), record["status"].as_u64()),
            (Some(cause), Some(u64::from(status)))
        );
    }
}

#[test]
fn two_different_502_causes_give_byte_identical_bodies_but_for_the_id() {
    let e = env();
    for accept in ["application/json", "text/html", "text/plain"] {
        let bodies: Vec<String> = ["/status/503", "/garbage"]
            .iter()
            .map(|path| {
                let id = unique_id("same");
                let r = get(
                    &e.worker("by_cause").url(path),
                    &[("x-request-id", &id), ("accept", accept)],
                );
                assert_eq!(r.status, 502, "{path} {accept}");
                r.text().replace(&id, "{id}")
            })
            .collect();
        assert_eq!(bodies[0], bodies[1], "{accept}");
        if accept == "text/html" {
            assert!(
                bodies[0].contains("<p class=\"code\">502</p><h1>Bad Gateway</h1>"),
                "{}",
                bodies[0]
            );
        }
    }
}

#[test]
fn error_title_wins_over_the_status_title() {
    let (r, _) = json_get(env().worker("by_cause_titled"), "/sleep?ms=4000", &[]);
    assert_eq!(r.status, 504);
    assert_eq!(
        (r.json()["title"].as_str(), r.json()["status"].as_u64()),
        (Some("Oops"), Some(504))
    );
}

#[test]
fn maintenance_answers_503_in_every_format_without_contacting_the_origin() {
    let e = env();
    // A counter of its own: other tests reach `/echo` on this origin.
    let key = unique_id("mnt");
    let path = format!("/echo?key={key}");
    for (accept, content_type) in [
        ("application/json", "application/problem+json"),
        ("text/html", "text/html; charset=utf-8"),
        ("text/plain", "text/plain; charset=utf-8"),
    ] {
        let id = unique_id("mnt");
        let r = get(
            &e.worker("maintenance").url(&path),
            &[("x-request-id", &id), ("accept", accept)],
        );
        assert_eq!(r.status, 503, "{accept}");
        assert_eq!(r.header("content-type"), Some(content_type));
        assert_eq!(r.header("retry-after"), Some("120"));
        assert_eq!(r.header("x-request-id"), Some(id.as_str()));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("vary"), Some("Accept"));
        assert_eq!(
            r.header("content-security-policy").is_some(),
            accept == "text/html"
        );
        match accept {
            "application/json" => {
                let v = r.json();
                assert_eq!(
                    (v["status"].as_u64(), v["title"].as_str()),
                    (Some(503), Some("Back <soon>"))
                );
                assert_eq!(v["detail"], "Upgrading & tuning");
            }
            "text/html" => assert!(
                r.text()
                    .contains("<h1>Back &lt;soon&gt;</h1><p>Upgrading &amp; tuning</p>"),
                "{}",
                r.text()
            ),
            _ => assert!(
                r.text().starts_with("Back <soon>\n\nUpgrading & tuning"),
                "{}",
                r.text()
            ),
        }
    }
    // On one connection: the HEAD, then the GET (the control: it has the
    // page). The GET's answer must start right where the HEAD's head ends,
    // so a body byte after that head fails the read.
    let lines = header_lines(&[("accept", "text/html")]);
    let answers = raw_exchange(
        &e.worker("maintenance").base,
        &[
            RawReq::new("HEAD", &path).lines(&lines),
            RawReq::new("GET", &path).lines(&lines),
        ],
    );
    let (head, page) = (&answers[0], &answers[1]);
    assert_eq!(
        (head.status, head.header("retry-after")),
        (503, Some("120"))
    );
    assert_eq!(page.status, 503);
    assert!(page.body.starts_with(b"<!doctype html>"), "{page:?}");
    assert_eq!(head.fixed_headers(), page.fixed_headers());
    assert!(
        matches!(head.header("content-length"), None | Some("0"))
            && head.header("transfer-encoding").is_none(),
        "{head:?}"
    );
    assert_eq!(
        e.origin().hits_for("/echo", &key),
        0,
        "the origin was contacted during maintenance"
    );
    // The control: this counter counts a request that does reach the origin.
    let r = get(
        &e.worker("maintenance").url(&path),
        &[("x-maintenance-bypass", TOKEN)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(e.origin().hits_for("/echo", &key), 1);
}

#[test]
fn maintenance_writes_no_error_record_and_one_notice_per_isolate() {
    let e = env();
    let ids: Vec<String> = (0..5)
        .map(|_| json_get(e.worker("maintenance"), "/echo", &[]).1)
        .collect();
    // Positive control: a bypassed request that fails is still recorded.
    let (failed, failed_id) = json_get(e.worker("maintenance"), "/status/502", &[]);
    assert_eq!(failed.status, 500);
    assert_eq!(
        e.worker("maintenance").record_for(&failed_id)["cause"],
        "origin_error_status"
    );
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    e.worker("maintenance")
        .assert_no_records_after(&ids, || failed_id.clone());
    let notices = e
        .worker("maintenance")
        .output()
        .lines()
        .filter(|l| l.contains(r#""event":"maintenance""#))
        .count();
    assert_eq!(notices, 1, "{}", e.worker("maintenance").output());
}

#[test]
fn bypass_paths_and_the_token_pass_and_the_token_never_reaches_the_origin() {
    let e = env();
    let (r, _) = json_get(e.worker("maintenance"), "/status/204", &[]);
    assert_eq!(r.status, 204, "a bypassed path reaches the origin");
    let (r, _) = json_get(
        e.worker("maintenance"),
        "/echo",
        &[("x-maintenance-bypass", TOKEN), ("x-other", "kept")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let echo = r.json();
    let names: Vec<&str> = echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h[0].as_str())
        .collect();
    assert!(
        names.contains(&"x-other"),
        "positive control: other headers arrive: {names:?}"
    );
    assert!(
        !names.contains(&"x-maintenance-bypass"),
        "the token reached the origin: {names:?}"
    );
    assert!(!r.text().contains(TOKEN));
    for wrong in [&TOKEN[..TOKEN.len() - 1], "tok-3f9a7d", ""] {
        let (r, _) = json_get(
            e.worker("maintenance"),
            "/echo",
            &[("x-maintenance-bypass", wrong)],
        );
        assert_eq!(r.status, 503, "{wrong:?}");
    }
}

#[test]
fn bypass_paths_match_whole_segments_of_the_normalised_path() {
    let e = env();
    // target, bypassed (reaches the origin, which gets it byte for byte)
    let table = [
        ("/any/health", true),
        ("/any/health/deep?x=1", true),
        ("//any/health", true),
        ("/any//health/", true),
        ("/any/%68ealth", true),
        ("/any/%68%65alth/x", true),
        ("/any/healthX", false),
        ("/any/health.json", false),
        ("/any/x/health", false),
        ("/any%2Fhealth", false),
    ];
    for (target, bypassed) in table {
        let before = e.origin().seen(target).len();
        let r = raw_send(&e.worker("maintenance").base, "GET", target, &[]);
        let reached: Vec<_> = e.origin().seen(target).into_iter().skip(before).collect();
        if bypassed {
            // The origin's own answer: its echo, or its 404 for `//any/…`.
            let want = if target.starts_with("//") { 404 } else { 200 };
            assert_eq!(r.status, want, "{target}");
            let exact = reached.iter().filter(|(_, t)| t == target).count();
            assert_eq!(
                exact, 1,
                "{target}: the origin gets the raw target: {reached:?}"
            );
        } else {
            assert_eq!(r.status, 503, "{target}");
            assert!(reached.is_empty(), "{target} reached the origin");
        }
    }
}

#[test]
fn a_secret_switches_maintenance_on_and_the_operators_page_is_used() {
    let e = env();
    let id = unique_id("secret");
    let r = get(
        &e.worker("secret_maintenance").url("/echo"),
        &[("x-request-id", &id), ("accept", "text/html")],
    );
    assert_eq!(r.status, 503);
    assert_eq!(
        r.text(),
        format!("<main><h1>Service Unavailable</h1><p>We are doing some maintenance. Please try again shortly.</p><code>{id}</code></main>")
    );
    assert!(
        r.header("retry-after").is_none(),
        "MAINTENANCE_RETRY_AFTER=0 sends none"
    );
    assert!(r.header("content-security-policy").is_some());
}

#[test]
fn a_valid_traceparent_gives_the_id_and_reaches_the_origin_unchanged() {
    let e = env();
    let headers = [("traceparent", TRACEPARENT), ("tracestate", "vendor=a,b=c")];
    let r = get(&e.worker("by_cause").url("/echo"), &headers);
    assert_eq!(r.status, 200);
    let echo = r.json();
    let sent = |name: &str| {
        echo["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == name)
            .and_then(|h| h[1].as_str())
            .map(str::to_owned)
    };
    assert_eq!(sent("traceparent").as_deref(), Some(TRACEPARENT));
    assert_eq!(sent("tracestate").as_deref(), Some("vendor=a,b=c"));
    assert_eq!(sent("x-request-id").as_deref(), Some(TRACE));
    // On failure: the id on the page and in the record is the trace-id.
    let r = get(&e.worker("by_cause").url("/status/502"), &headers);
    assert_eq!(r.request_id(), TRACE);
    let record = e.worker("by_cause").record_for(TRACE);
    assert_eq!(record["trace_id"], TRACE);
}

#[test]
fn a_client_id_wins_but_the_record_still_carries_the_trace_id() {
    let e = env();
    let other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let (r, id) = json_get(
        e.worker("by_cause"),
        "/status/502",
        &[("traceparent", other)],
    );
    assert_eq!(r.request_id(), id);
    assert_eq!(
        e.worker("by_cause").record_for(&id)["trace_id"],
        "0af7651916cd43dd8448eb211c80319c"
    );
}

#[test]
fn an_invalid_traceparent_is_never_the_id() {
    let e = env();
    let invalid = [
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    ];
    for t in invalid {
        let r = get(
            &e.worker("by_cause").url("/status/502"),
            &[("traceparent", t), ("accept", "application/json")],
        );
        let id = r.request_id();
        assert!(
            !t.to_ascii_lowercase().contains(&id.to_ascii_lowercase()),
            "{t} gave the id {id}"
        );
        assert_eq!(id.len(), 32, "a minted id: {id}");
        // Ignored, as if absent: the record's trace is the platform's
        // (which traces every request here), never one read from `t`.
        let record = e.worker("by_cause").record_for(&id);
        let trace = record["trace_id"].as_str().unwrap_or_default().to_owned();
        assert_eq!(trace.len(), 32, "{t}: {record}");
        assert!(!t.to_ascii_lowercase().contains(&trace), "{t}: {record}");
        assert!(record.get("platform_trace_id").is_none(), "{t}: {record}");
    }
}

#[test]
fn each_new_variables_bad_value_is_a_config_error_naming_it() {
    let origin = Origin::start();
    let url = origin.url();
    let table: [(&str, &str, &str); 5] = [
        ("RESPONSE_STATUS", "sometimes", "sometimes"),
        ("MAINTENANCE", "maybe", "maybe"),
        ("MAINTENANCE_RETRY_AFTER", "soon", "soon"),
        ("MAINTENANCE_BYPASS_PATHS", "healthz", "healthz"),
        (
            "MAINTENANCE_BYPASS_TOKEN",
            "has space",
            "(secret, not shown)",
        ),
    ];
    let workers: Vec<_> = table
        .iter()
        .map(|&(var, value, _)| {
            Launch::proxy()
                .vars(&[("ORIGIN_URL", &url), (var, value)])
                .spawn()
        })
        .collect();
    for ((var, value, shown), w) in table.iter().zip(workers) {
        let w = w.join().expect("worker");
        let (r, id) = json_get(&w, "/echo", &[]);
        assert_eq!(r.status, 500, "{var}");
        assert!(
            !r.text().contains(value),
            "{var}: the value reached the client"
        );
        let record = w.record_for(&id);
        assert_eq!(record["cause"], "config_error", "{var}");
        assert_eq!(record["context"]["variable"], *var);
        assert_eq!(record["context"]["value"], *shown);
        if *var == "MAINTENANCE_BYPASS_TOKEN" {
            assert!(!w.output().contains(value), "the secret was logged");
        }
    }
}
