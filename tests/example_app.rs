//! Library mode end to end: `examples/app`, a workers-rs `Router` app whose
//! handler runs under `Shield::run`, served by `wrangler dev`.

mod common;

use std::sync::OnceLock;

use common::{get, unique_id, Project, Worker};

fn app() -> &'static Worker {
    static APP: OnceLock<Worker> = OnceLock::new();
    APP.get_or_init(|| {
        Worker::start_project(
            Project::App,
            &[("ERROR_TITLE", "App failure"), ("DEFAULT_FORMAT", "text")],
        )
    })
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
