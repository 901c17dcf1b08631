//! `ROUTES`: each key, longest-prefix selection, each kind of bad rule.

use super::*;
use crate::config::settings::{OnWorkerFailure, StatusPolicy};
use error_shield::parts::vars::pairs;
use error_shield::Cause;

fn parse(routes: &str, top: &[(&'static str, &'static str)]) -> Result<Routes, Failure> {
    let mut all: Vec<(&str, &str)> = top.to_vec();
    all.push(("ROUTES", routes));
    let lookup = pairs(&all);
    Routes::from_vars(&lookup)
}

#[test]
fn each_key_overrides_the_top_level_for_its_prefix_only() {
    let r = parse(
        r#"[{"prefix": "/api/", "origin_url": "https://api.example.com/v2", "timeout_ms": 5000,
             "failure_statuses": "502-504", "default_format": "json", "retries": "2",
             "stale_if_error_seconds": 60, "response_status": "by-cause", "maintenance": true,
             "fallback_origin_url": "https://dr.example.com", "on_worker_failure": "fail-open"}]"#,
        &[
            ("ORIGIN_URL", "https://www.example.com"),
            ("ORIGIN_TIMEOUT_MS", "30000"),
            ("MAINTENANCE_RETRY_AFTER", "7"),
        ],
    )
    .unwrap();
    let api = &r.0[0];
    assert_eq!(api.prefix, "/api/");
    let s = &api.settings;
    assert_eq!(s.origin.as_deref(), Some("https://api.example.com/v2"));
    assert_eq!(
        (s.timeout_ms, s.retries, s.stale_if_error_seconds),
        (5000, 2, 60)
    );
    assert!(s.failure_statuses.contains(503) && !s.failure_statuses.contains(500));
    assert_eq!(s.response_status, StatusPolicy::ByCause);
    assert!(s.maintenance.on);
    assert_eq!(
        s.maintenance.retry_after, 7,
        "keys not in the rule come from the top level"
    );
    assert_eq!(api.default_format, Some(Format::Json));
    assert_eq!(s.fallback.as_deref(), Some("https://dr.example.com"));
    assert_eq!(s.on_worker_failure, OnWorkerFailure::FailOpen);
    let plain = parse(r#"[{"prefix": "/"}]"#, &[("ORIGIN_TIMEOUT_MS", "1234")]).unwrap();
    assert_eq!(plain.0[0].settings.timeout_ms, 1234);
    assert_eq!(plain.0[0].default_format, None, "no key, no override");
}

#[test]
fn a_rule_without_default_format_leaves_the_format_to_the_top_level() {
    let r = parse(
        r#"[{"prefix": "/a/", "timeout_ms": 5}, {"prefix": "/b/", "default_format": "text"}]"#,
        &[("DEFAULT_FORMAT", "html")],
    )
    .unwrap();
    assert_eq!(r.0[0].default_format, None);
    assert_eq!(r.0[1].default_format, Some(Format::Text));
}

#[test]
fn the_longest_prefix_wins_whatever_the_order() {
    let r = parse(
        r#"[{"prefix": "/"}, {"prefix": "/api/v2/"}, {"prefix": "/api/"}, {"prefix": "/apix"}]"#,
        &[],
    )
    .unwrap();
    let table = [
        ("https://w.dev/api/v2/users?x=/", Some("/api/v2/")),
        ("https://w.dev/api/v1", Some("/api/")),
        ("https://w.dev/api", Some("/")),
        ("https://w.dev/apix/1", Some("/apix")),
        ("https://w.dev/", Some("/")),
    ];
    for (url, want) in table {
        assert_eq!(
            r.select(url).map(|(_, route)| route.prefix.as_str()),
            want,
            "{url}"
        );
    }
    let none = parse(r#"[{"prefix": "/api/"}]"#, &[]).unwrap();
    assert!(none.select("https://w.dev/web").is_none());
    assert!(Routes::default().select("https://w.dev/").is_none());
}

#[test]
fn unset_or_empty_routes_are_no_rules() {
    assert_eq!(Routes::from_vars(&pairs(&[])).unwrap(), Routes::default());
    assert_eq!(parse("[]", &[]).unwrap(), Routes::default());
    assert_eq!(parse("  ", &[]).unwrap(), Routes::default());
}

#[test]
fn each_kind_of_bad_rule_names_its_index_and_key() {
    let many = format!(
        "[{}]",
        (0..65)
            .map(|i| format!(r#"{{"prefix":"/{i}"}}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let table: Vec<(String, &str, &str)> = vec![
        ("{}".into(), "ROUTES", "(an object)"),
        (
            "not json".into(),
            "ROUTES",
            "expected ident at line 1 column 2",
        ),
        (many, "ROUTES", "65"),
        (r#"["/api"]"#.into(), "ROUTES[0]", "(a string)"),
        (r#"[{"timeout_ms": 5}]"#.into(), "ROUTES[0].prefix", ""),
        (r#"[{"prefix": "api"}]"#.into(), "ROUTES[0].prefix", "api"),
        (
            r#"[{"prefix": 7}]"#.into(),
            "ROUTES[0].prefix",
            "(a number)",
        ),
        (
            r#"[{"prefix": "/a"}, {"prefix": "/a"}]"#.into(),
            "ROUTES[1].prefix",
            "/a",
        ),
        (
            r#"[{"prefix": "/a", "colour": "red"}]"#.into(),
            "ROUTES[0].colour",
            "(a string)",
        ),
        (
            r#"[{"prefix": "/a"}, {"prefix": "/b", "timeout_ms": "soon"}]"#.into(),
            "ROUTES[1].timeout_ms",
            "soon",
        ),
        (
            r#"[{"prefix": "/a", "timeout_ms": 0}]"#.into(),
            "ROUTES[0].timeout_ms",
            "0",
        ),
        (
            r#"[{"prefix": "/a", "retries": [1]}]"#.into(),
            "ROUTES[0].retries",
            "(an array)",
        ),
        (
            r#"[{"prefix": "/a", "failure_statuses": "5xx"}]"#.into(),
            "ROUTES[0].failure_statuses",
            "5xx",
        ),
        (
            r#"[{"prefix": "/a", "default_format": "xml"}]"#.into(),
            "ROUTES[0].default_format",
            "xml",
        ),
        (
            r#"[{"prefix": "/a", "response_status": "503"}]"#.into(),
            "ROUTES[0].response_status",
            "503",
        ),
        (
            r#"[{"prefix": "/a", "fallback_origin_url": "https://u:pw@dr/?k=1"}]"#.into(),
            "ROUTES[0].fallback_origin_url",
            "https://REDACTED@dr/?REDACTED",
        ),
        (
            r#"[{"prefix": "/a", "on_worker_failure": "open"}]"#.into(),
            "ROUTES[0].on_worker_failure",
            "open",
        ),
        (
            r#"[{"prefix": "/a", "maintenance": "later"}]"#.into(),
            "ROUTES[0].maintenance",
            "later",
        ),
        (
            r#"[{"prefix": "/a", "stale_if_error_seconds": -1}]"#.into(),
            "ROUTES[0].stale_if_error_seconds",
            "-1",
        ),
        (
            r#"[{"prefix": "/a", "origin_url": "https://u:pw@h/?q"}]"#.into(),
            "ROUTES[0].origin_url",
            "https://REDACTED@h/?REDACTED",
        ),
        (
            r#"[{"prefix":"/a/","origin_url":"https://svc:hunter2@api.example.com"}"#.into(),
            "ROUTES",
            "EOF while parsing a list at line 1 column 68",
        ),
        (
            r#"[{"prefix": "/a", "fallback_origin_url": "http://u:pw@10.0.0.256/"}]"#.into(),
            "ROUTES[0].fallback_origin_url",
            "http://REDACTED@10.0.0.256/",
        ),
        (
            r#"[{"prefix": "/a", "origin_url": "svc:pw@h"}]"#.into(),
            "ROUTES[0].origin_url",
            "REDACTED@h",
        ),
        (
            r#"[{"prefix": "/a?b=1"}]"#.into(),
            "ROUTES[0].prefix",
            "/a?REDACTED",
        ),
        (
            r#"[{"prefix": "/a\\b/"}]"#.into(),
            "ROUTES[0].prefix",
            "/a\\b/",
        ),
        (
            r#"[{"prefix": "/a//", "timeout_ms": 5}, {"prefix": "/%61/"}]"#.into(),
            "ROUTES[1].prefix",
            "/a/",
        ),
    ];
    for (routes, variable, value) in table {
        let err = parse(&routes, &[]).unwrap_err();
        assert_eq!(err.cause, Cause::ConfigError, "{routes}");
        assert_eq!(
            err.context[0],
            ("variable".into(), variable.into()),
            "{routes}"
        );
        assert_eq!(err.context[1], ("value".into(), value.into()), "{routes}");
        assert!(err.message.contains(variable), "{routes}: {}", err.message);
    }
}

#[test]
fn sixty_four_rules_are_allowed() {
    let routes = format!(
        "[{}]",
        (0..64)
            .map(|i| format!(r#"{{"prefix":"/{i}/"}}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let r = parse(&routes, &[]).unwrap();
    assert_eq!(r.0.len(), 64);
    assert_eq!(r.select("https://w.dev/63/x").map(|(i, _)| i), Some(63));
}

#[test]
fn a_secret_in_a_bad_routes_is_never_shown() {
    let secret = "hunter2";
    let url = "https://svc:hunter2@api.example.com";
    let table = [
        format!(r#"[{{"prefix": "/a", "origin_url": "{url}""#),
        format!(r#"[{{"prefix": "/a", "origin_url": "{url}"}}"#),
        format!(r#"{{"prefix": "/a", "origin_url": "{url}"}}"#),
        format!(r#"["{url}"]"#),
        format!(r#"[{{"prefix": "{url}"}}]"#),
        format!(r#"[{{"prefix": {{"u": "{url}"}}}}]"#),
        format!(r#"[{{"prefix": "/a", "origin": "{url}"}}]"#),
        format!(r#"[{{"prefix": "/a", "origin_url": {{"u": "{url}"}}}}]"#),
        r#"[{"prefix": "/a", "origin_url": "svc:hunter2@api.example.com"}]"#.to_string(),
        format!(r#"[{{"prefix": "/a", "timeout_ms": "{url}"}}]"#),
        r#"[{"prefix": "/a", "origin_url": "https://h/?key=hunter2"}]"#.to_string(),
    ];
    for routes in &table {
        let err = parse(routes, &[]).unwrap_err();
        assert!(!format!("{err:?}").contains(secret), "{routes}: {err:?}");
    }
    // The control: the same text does reach the value when it is no secret.
    let err = parse(r#"[{"prefix": "/a", "timeout_ms": "hunter3"}]"#, &[]).unwrap_err();
    assert_eq!(err.context[1].1, "hunter3");
}

#[test]
fn variants_of_a_path_select_the_rule_of_its_normal_form() {
    let r = parse(
        r#"[{"prefix": "/"}, {"prefix": "/api/admin/"}, {"prefix": "/api/"}]"#,
        &[],
    )
    .unwrap();
    let table = [
        ("https://w.dev/api/admin/x", "/api/admin/"),
        ("https://w.dev//api/admin/x", "/api/admin/"),
        ("https://w.dev/api//admin/x", "/api/admin/"),
        ("https://w.dev/api/%61dmin/x", "/api/admin/"),
        ("https://w.dev/api/%61%64%6D%69%6E/x?y", "/api/admin/"),
        ("https://w.dev/api/x/../admin/x", "/api/admin/"),
        ("https://w.dev/api%2Fadmin/x", "/"),
        ("https://w.dev/api/admin%2Fx", "/api/"),
        ("https://w.dev/api/adminx", "/api/"),
    ];
    for (url, want) in table {
        let got = r.select(url).map(|(_, route)| route.prefix.as_str());
        assert_eq!(got, Some(want), "{url}");
    }
}

#[test]
fn a_prefix_is_read_as_the_runtime_spells_paths() {
    let r = parse(
        r#"[{"prefix": "/ü/", "timeout_ms": 5}, {"prefix": "/a b/", "timeout_ms": 6}]"#,
        &[],
    )
    .unwrap();
    assert_eq!(r.0[0].prefix, "/%C3%BC/");
    assert_eq!(r.0[1].prefix, "/a%20b/");
    let table = [
        ("https://w.dev/%C3%BC/x", Some("/%C3%BC/")),
        ("https://w.dev/%c3%bc/x", Some("/%C3%BC/")),
        ("https://w.dev/a%20b/", Some("/a%20b/")),
        ("https://w.dev/u/x", None),
    ];
    for (url, want) in table {
        let got = r.select(url).map(|(_, route)| route.prefix.as_str());
        assert_eq!(got, want, "{url}");
    }
    // The same prefix written both ways is one prefix.
    let err = parse(r#"[{"prefix": "/ü/"}, {"prefix": "/%C3%BC/"}]"#, &[]).unwrap_err();
    assert_eq!(err.context[0].1, "ROUTES[1].prefix");
}
