//! Paths as origins and the runtime read them, end to end: a bypass path
//! never lets through a path some origin reads as another (`;`, `%2F`,
//! `%5C`, `%00`, `%3B`), and a rule's prefix is read as the runtime spells paths
//! (`/ü/` is `/%C3%BC/`) or refused. Every "never" runs next to its
//! positive control.

use std::sync::OnceLock;

use error_shield_harness::{raw_send, unique_id, Env, Launch, Origin};

/// In front of one origin: `maintained` (`MAINTENANCE=on`, the echo's
/// `/any/healthz` bypassed, a rule turning maintenance off under
/// `/any/live/`), `routed` (a rule for `/ü/` that fails the
/// origin's 404) and `refused` (a rule whose prefix holds a `?`).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let maintained = Launch::proxy().vars(&[
            ("MAINTENANCE", "on"),
            ("MAINTENANCE_BYPASS_PATHS", "/any/healthz"),
            (
                "ROUTES",
                r#"[{"prefix": "/any/live/", "maintenance": "off"}]"#,
            ),
        ]);
        let routed = Launch::proxy().var(
            "ROUTES",
            r#"[{"prefix": "/ü/", "failure_statuses": "404"}]"#,
        );
        let refused = Launch::proxy().var("ROUTES", r#"[{"prefix": "/a?b"}]"#);
        Env::build()
            .origin(Origin::start())
            .fronting("maintained", maintained)
            .fronting("routed", routed)
            .fronting("refused", refused)
            .start()
    })
}

#[test]
fn a_bypass_path_never_lets_through_a_path_origins_read_otherwise() {
    let e = env();
    let w = e.worker("maintained");
    // (the path before the query, whether it reaches the origin)
    let table = [
        ("/any/healthz/deep", true),
        ("/any/healthz", true),
        ("/any/healthz/..;/admin", false),
        ("/any/healthz;jsessionid=1", false),
        ("/any/healthz/..%2Fadmin", false),
        ("/any/healthz/..%2fadmin", false),
        ("/any/healthz/..%5Cadmin", false),
        ("/any/healthz/%00", false),
        ("/any/healthz/..%3B/admin", false),
        ("/any/admin", false),
        // A rule that turns maintenance off is no way around it either.
        ("/any/live/x", true),
        ("/any/live/..;/admin", false),
        ("/any/live/..%2Fadmin", false),
    ];
    for (path, passes) in table {
        let key = unique_id("bypass");
        let target = format!("{path}?key={key}");
        let r = raw_send(&w.base, "GET", &target, &[]);
        let reached = e.origin().seen(&key);
        if passes {
            assert_eq!(r.status, 200, "{target}: {}", r.text());
            assert_eq!(reached.len(), 1, "{target}");
            // The origin gets the client's path byte for byte.
            assert_eq!(reached[0].1, target);
        } else {
            assert_eq!(r.status, 503, "{target}: {}", r.text());
            assert!(reached.is_empty(), "{target} reached the origin");
            assert!(r.header("retry-after").is_some(), "{target}");
        }
    }
}

#[test]
fn a_rule_prefix_is_read_as_the_runtime_spells_paths() {
    let e = env();
    let w = e.worker("routed");
    // Raw UTF-8 on the wire and its escapes in either case: one path.
    for path in ["/%C3%BC/x", "/%c3%bc/x", "/ü/x"] {
        let id = unique_id("umlaut");
        let r = raw_send(&w.base, "GET", path, &[("x-request-id", &id)]);
        assert_eq!(r.status, 500, "{path}: the rule's failing 404");
        let record = w.record_for(&id);
        assert_eq!(record["route"], "/%C3%BC/", "{path}: {record}");
        assert_eq!(record["origin_status"], 404, "{record}");
    }
    // The control: outside the rule, the origin's 404 passes.
    let id = unique_id("plain");
    let r = raw_send(&w.base, "GET", "/u/x", &[("x-request-id", &id)]);
    assert_eq!(r.status, 404);
    // A prefix that no request path can hold is refused, named.
    let id = unique_id("refused");
    let r = raw_send(
        &e.worker("refused").base,
        "GET",
        "/a",
        &[("x-request-id", &id)],
    );
    assert_eq!(r.status, 500);
    let record = e.worker("refused").record_for(&id);
    assert_eq!(record["cause"], "config_error", "{record}");
    assert_eq!(
        record["context"]["variable"], "ROUTES[0].prefix",
        "{record}"
    );
}
