//! Per-route rules (`ROUTES`) end to end: each key, longest-prefix
//! selection, a route whose own origin is down, both ways of writing the
//! rules, and each kind of invalid rule.

use std::sync::OnceLock;

use error_shield_harness::{
    get, raw_send, unique_id, DeadPort, Env, Launch, Options, Origin, Resp, Worker,
};

/// The rules of the string form; the fake origin serves `/r/<rule>/<route>`
/// as `/<route>` (see [`MOUNTS`]).
fn rules(dead: &str) -> String {
    format!(
        r#"[
  {{"prefix": "/r/api/", "default_format": "json", "timeout_ms": 800, "response_status": "by-cause", "failure_statuses": "502-504"}},
  {{"prefix": "/r/api/v2/", "default_format": "text"}},
  {{"prefix": "/r/pages/", "default_format": "html", "retries": 2}},
  {{"prefix": "/r/down/", "origin_url": "{dead}"}},
  {{"prefix": "/r/maint/", "maintenance": true}},
  {{"prefix": "/r/cache/", "stale_if_error_seconds": "60"}}
]"#
    )
}

/// Where the fake origin serves its routes under the rules' prefixes.
const MOUNTS: &[&str] = &["/r/"];

/// In front of one origin: `string` (ROUTES given as a JSON string,
/// `--var`) and `tables` (ROUTES given as `[[vars.ROUTES]]` tables in
/// wrangler.toml); and the origin of `/r/down/`, which refuses
/// connections, held for the run.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let mounted = Options {
            mounts: MOUNTS,
            ..Options::default()
        };
        let dead = DeadPort::bind();
        let string = Launch::proxy().var("ROUTES", &rules(&dead.url()));
        let tables = Launch::proxy().toml(
            "[[vars.ROUTES]]\nprefix = \"/r/api/\"\ndefault_format = \"text\"\ntimeout_ms = 700\n\n[[vars.ROUTES]]\nprefix = \"/r/pages/\"\ndefault_format = \"html\"\n",
        );
        Env::build()
            .origin(Origin::start_with(0, mounted))
            .hold(dead)
            .fronting("tables", tables)
            .fronting("string", string)
            .start()
    })
}

fn fetch(w: &Worker, path: &str, headers: &[(&str, &str)]) -> (Resp, String) {
    let id = unique_id("route");
    let mut all = vec![("x-request-id", id.as_str())];
    all.extend_from_slice(headers);
    (get(&w.url(path), &all), id)
}

#[test]
fn each_prefix_gets_its_own_format_status_and_record_route() {
    let e = env();
    // path, status, content type (no Accept), the record's route
    let table = [
        (
            "/r/api/status/502",
            502,
            "application/problem+json",
            Some("/r/api/"),
        ),
        (
            "/r/api/v2/status/502",
            500,
            "text/plain; charset=utf-8",
            Some("/r/api/v2/"),
        ),
        (
            "/r/pages/status/502",
            500,
            "text/html; charset=utf-8",
            Some("/r/pages/"),
        ),
        ("/status/502", 500, "application/problem+json", None),
    ];
    for (path, status, content_type, route) in table {
        let (r, id) = fetch(e.worker("string"), path, &[]);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert_eq!(r.header("content-type"), Some(content_type), "{path}");
        let record = e.worker("string").record_for(&id);
        assert_eq!(record["route"].as_str(), route, "{path}: {record}");
        assert_eq!(record["status"].as_u64(), Some(u64::from(status)), "{path}");
    }
}

#[test]
fn failure_statuses_and_timeout_follow_the_route() {
    let e = env();
    // 500 is not a failure under /r/api/ (502-504 only), but is at the top level.
    let (r, _) = fetch(e.worker("string"), "/r/api/status/500", &[]);
    assert_eq!(r.status, 500);
    assert!(
        r.text().contains("ORIGIN-SECRET"),
        "passed through as the origin's own 500"
    );
    let (r, _) = fetch(e.worker("string"), "/status/500", &[]);
    assert!(
        !r.text().contains("ORIGIN-SECRET"),
        "the top level's uniform 500"
    );
    // 800 ms under /r/api/, 30 s elsewhere: a 1.5 s origin times out only there.
    let (r, id) = fetch(e.worker("string"), "/r/api/sleep?ms=1500", &[]);
    assert_eq!(r.status, 504);
    assert_eq!(
        e.worker("string").record_for(&id)["cause"],
        "origin_timeout"
    );
    let (r, _) = fetch(e.worker("string"), "/sleep?ms=1500", &[]);
    assert_eq!((r.status, r.text().as_str()), (200, "slept"));
}

#[test]
fn retries_apply_under_their_route_only() {
    let e = env();
    let (r, id) = fetch(e.worker("string"), "/r/pages/reset", &[]);
    assert_eq!(r.status, 500);
    assert_eq!(e.worker("string").record_for(&id)["attempts"], 3);
    let (_, id) = fetch(e.worker("string"), "/reset", &[]);
    assert!(e.worker("string").record_for(&id).get("attempts").is_none());
}

#[test]
fn a_route_whose_origin_is_down_fails_while_the_default_origin_serves() {
    let e = env();
    let (r, id) = fetch(
        e.worker("string"),
        "/r/down/echo",
        &[("accept", "application/json")],
    );
    assert_eq!(r.status, 500);
    let record = e.worker("string").record_for(&id);
    assert_eq!(
        (record["cause"].as_str(), record["route"].as_str()),
        (Some("origin_unreachable"), Some("/r/down/"))
    );
    let (r, _) = fetch(e.worker("string"), "/echo", &[]);
    assert_eq!(r.status, 200, "the default origin is up");
}

#[test]
fn maintenance_of_one_route_leaves_the_others_alone() {
    let e = env();
    let before = e.origin().hits("/r/maint/echo");
    let (r, id) = fetch(e.worker("string"), "/r/maint/echo", &[]);
    assert_eq!((r.status, r.header("retry-after")), (503, Some("300")));
    e.worker("string").assert_no_records(&[&id]);
    assert_eq!(e.origin().hits("/r/maint/echo"), before);
    assert_eq!(fetch(e.worker("string"), "/echo", &[]).0.status, 200);
}

#[test]
fn stale_if_error_applies_under_its_route() {
    let e = env();
    let key = unique_id("rk");
    let path = format!("/r/cache/cacheable?key={key}&cc=max-age%3D0");
    assert_eq!(fetch(e.worker("string"), &path, &[]).0.status, 200);
    e.origin().set_flag(&format!("fail:{key}"), "1");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (r, id) = fetch(e.worker("string"), &path, &[]);
        if r.header("x-served-stale") == Some("1") {
            let record = e.worker("string").record_for(&id);
            assert_eq!(
                (record["served_stale"].as_bool(), record["route"].as_str()),
                (Some(true), Some("/r/cache/"))
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no stale copy under /r/cache/: {}",
            r.text()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn rules_written_as_wrangler_toml_tables_work_like_the_string() {
    let e = env();
    let (r, id) = fetch(e.worker("tables"), "/r/api/status/502", &[]);
    assert_eq!(
        (r.status, r.header("content-type")),
        (500, Some("text/plain; charset=utf-8"))
    );
    assert_eq!(e.worker("tables").record_for(&id)["route"], "/r/api/");
    let (r, _) = fetch(e.worker("tables"), "/r/api/sleep?ms=1200", &[]);
    assert_eq!(r.status, 500, "timeout_ms = 700 as a TOML number");
    let (r, _) = fetch(e.worker("tables"), "/r/pages/status/502", &[]);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
}

#[test]
fn each_kind_of_invalid_rule_is_a_config_error_naming_its_key() {
    let origin = Origin::start();
    let url = origin.url();
    let many = format!(
        "[{}]",
        (0..65)
            .map(|i| format!(r#"{{"prefix":"/{i}"}}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let table: Vec<(String, &str, &str)> = vec![
        // What does not parse, or is not an array, is described, not shown.
        (r#"{"prefix": "/a"}"#.into(), "ROUTES", "(an object)"),
        (
            r#"[{"prefix":"/a/","origin_url":"https://u:hunter2@x/"}"#.into(),
            "ROUTES",
            "EOF while parsing a list at line 1 column 53",
        ),
        (
            r#"[{"prefix": "/a", "colour": "https://u:hunter2@x/"}]"#.into(),
            "ROUTES[0].colour",
            "(a string)",
        ),
        (
            r#"[{"prefix": "/a"}, {"timeout_ms": 5}]"#.into(),
            "ROUTES[1].prefix",
            "",
        ),
        (
            r#"[{"prefix": "/a"}, {"prefix": "/a"}]"#.into(),
            "ROUTES[1].prefix",
            "/a",
        ),
        (
            r#"[{"prefix": "/a", "timeout_ms": "soon"}]"#.into(),
            "ROUTES[0].timeout_ms",
            "soon",
        ),
        (
            r#"[{"prefix": "/a", "origin_url": "https://u:hunter2@x/?q"}]"#.into(),
            "ROUTES[0].origin_url",
            "https://REDACTED@x/?REDACTED",
        ),
        (many, "ROUTES", "65"),
    ];
    let workers: Vec<_> = table
        .iter()
        .map(|(routes, _, _)| {
            let vars = [("ORIGIN_URL", url.as_str()), ("ROUTES", routes.as_str())];
            Launch::proxy().vars(&vars).spawn()
        })
        .collect();
    for ((routes, variable, value), w) in table.iter().zip(workers) {
        let w = w.join().expect("worker");
        let (r, id) = fetch(&w, "/echo", &[]);
        assert_eq!(r.status, 500, "{routes}");
        let record = w.record_for(&id);
        assert_eq!(record["cause"], "config_error", "{routes}");
        assert_eq!(record["context"]["variable"], *variable, "{routes}");
        assert_eq!(record["context"]["value"], *value, "{routes}");
        assert!(!w.output().contains("hunter2"), "a credential was logged");
    }
}

#[test]
fn every_spelling_of_a_ruled_path_gets_its_rule_and_the_origin_the_raw_path() {
    let e = env();
    // Each carries this query, which would show at the origin if it got there.
    let mark = "?spelled=maint";
    for target in [
        "/r/maint/echo",
        "//r/maint/echo",
        "/r//maint/echo",
        "/r/%6Daint/echo",
        "/r/%6d%61int/echo",
        "/r/x/../maint/echo",
        "/r/./maint/echo",
    ] {
        let r = raw_send(
            &e.worker("string").base,
            "GET",
            &format!("{target}{mark}"),
            &[],
        );
        assert_eq!(r.status, 503, "{target} dodged the maintenance rule");
    }
    assert!(e.origin().seen(mark).is_empty(), "the origin was contacted");
    // The control: a path merely like the rule's is no variant of it.
    // The origin's own answer: its echo, or its 404 where no route of its
    // serves the path.
    for (target, want) in [
        ("/r/maintx/echo", 200),
        ("/r/maint%2Fecho", 404),
        ("/r/%2Fmaint/echo", 200),
    ] {
        let r = raw_send(&e.worker("string").base, "GET", target, &[]);
        assert_eq!(r.status, want, "{target}");
    }
    // A rule that shapes the answer: by-cause and the route in the record,
    // while the origin gets the path exactly as the client sent it.
    for target in ["//r/api/status/502", "/r/%61pi/status/502"] {
        let id = unique_id("spelled");
        let r = raw_send(
            &e.worker("string").base,
            "GET",
            target,
            &[("x-request-id", &id)],
        );
        assert_eq!(r.status, 502, "{target}");
        assert_eq!(
            e.worker("string").record_for(&id)["route"],
            "/r/api/",
            "{target}"
        );
        let seen = e.origin().seen(target);
        assert!(seen.iter().any(|(_, t)| t == target), "{target}: {seen:?}");
    }
}
