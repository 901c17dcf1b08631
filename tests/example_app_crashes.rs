//! Library mode when the app fails hard, end to end on `examples/app`: a
//! panic is one line (its record), in a handler or after the response; a
//! Wasm trap is the uniform 500 and one `worker_trap` record, for the
//! request that trapped and for the others in flight, and the next request
//! is served.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use error_shield_harness::{get, poll, unique_id, Env, Launch, Resp, Worker};

/// The example app twice: `app` for panics, `trap` for traps (a trap ends
/// every request in flight, so traps have an app of their own).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let app = || Launch::app().var("ERROR_TITLE", "App failure");
        Env::build()
            .worker("app", app())
            .worker("trap", app())
            .start()
    })
}

fn app() -> &'static Worker {
    env().worker("app")
}

/// Asks for a panic after the response (`/later/{tag}`) and returns its
/// message and its `worker_panic` records (waiting up to 5 s for one).
fn panic_later(tag: &str, id: &str) -> (String, Vec<serde_json::Value>) {
    let r = get(
        &app().url(&format!("/later/{tag}")),
        &[("x-request-id", id)],
    );
    assert_eq!((r.status, r.text().as_str()), (200, "accepted"));
    let message = format!("later panic {tag}");
    let ours = || {
        (app().records().into_iter())
            .filter(|r| r["cause"] == "worker_panic" && r["message"] == message.as_str())
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while ours().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // The harness's grace for a duplicate.
    std::thread::sleep(Duration::from_millis(200));
    let records = ours();
    (message, records)
}

#[test]
fn a_panic_in_a_plain_wait_until_gets_one_worker_panic_record() {
    let (_, records) = panic_later(&unique_id("plain"), &unique_id("id"));
    assert_eq!(records.len(), 1, "{}", app().output());
    let record = &records[0];
    assert_eq!(record["level"], "error");
    assert!(
        record["location"]
            .as_str()
            .unwrap()
            .starts_with("src/lib.rs:"),
        "{record}"
    );
    assert!(
        record.get("request_id").is_none(),
        "no request is known: {record}"
    );
}

#[test]
fn a_panic_in_shield_wait_until_is_one_line_its_record_under_the_request() {
    let (tag, id) = (unique_id("guarded"), unique_id("id"));
    let (message, records) = panic_later(&tag, &id);
    assert_eq!(records.len(), 1, "{}", app().output());
    let record = &records[0];
    assert_eq!(record["request_id"], id.as_str(), "{record}");
    assert_eq!(record["status"], 200, "the client got the 200: {record}");
    assert!(
        record["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/later/{tag}")),
        "{record}"
    );
    assert_eq!(lines_naming(app(), &message), 1, "{}", app().output());
}

#[test]
fn a_panic_in_wait_until_work_before_the_answer_is_recorded_with_the_status_sent() {
    let (id, tag) = (unique_id("early"), unique_id("tag"));
    let r = get(
        &app().url(&format!("/early/{tag}")),
        &[("x-request-id", &id)],
    );
    assert_eq!((r.status, r.text().as_str()), (200, "answered after"));
    let record = app().record_for(&id);
    assert_eq!(record["message"], format!("early panic {tag}"), "{record}");
    assert_eq!(record["status"], 200, "the client got the 200: {record}");
}

#[test]
fn a_panic_is_one_line_its_record() {
    let (id, tag) = (unique_id("oneline"), unique_id("tag"));
    let r = get(
        &app().url(&format!("/panic/{tag}")),
        &[("x-request-id", &id)],
    );
    assert_eq!(r.status, 500);
    let message = format!("tagged panic {tag}");
    // Positive control: the record names the panic.
    assert_eq!(app().record_for(&id)["message"], message.as_str());
    // workers-rs's own hook would have printed its line before the record.
    assert_eq!(lines_naming(app(), &message), 1, "{}", app().output());
}

/// How many lines of the worker's output name `text`, after a moment for
/// a late one (the harness's own grace for duplicates).
fn lines_naming(w: &Worker, text: &str) -> usize {
    std::thread::sleep(Duration::from_millis(200));
    w.output().lines().filter(|l| l.contains(text)).count()
}

/// Trap tests take turns: a trap ends every request in flight.
fn trap_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The uniform problem JSON for `id`, and its one `worker_trap` record.
fn assert_trap_answered(w: &Worker, r: &Resp, id: &str) {
    assert_eq!(r.status, 500, "{}\n{}", r.text(), w.output());
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.header("x-request-id"), Some(id));
    let v = r.json();
    assert_eq!(
        (v["title"].as_str(), v["request_id"].as_str()),
        (Some("App failure"), Some(id))
    );
    let record = w.record_for(id);
    assert_eq!(record["cause"], "worker_trap", "{record}");
    assert!(
        record["message"].as_str().unwrap().contains("aborted"),
        "{record}"
    );
}

#[test]
fn a_trap_is_the_uniform_500_with_one_record_and_the_next_request_is_served() {
    let _turn = trap_turn();
    let w = env().worker("trap");
    // Each kind, twice: a fresh instance answers its own trap as well.
    for path in ["/abort", "/overflow", "/abort", "/overflow"] {
        let id = unique_id("trap");
        let json = [
            ("x-request-id", id.as_str()),
            ("accept", "application/json"),
        ];
        let r = get(&w.url(path), &json);
        assert_trap_answered(w, &r, &id);
        let r = get(&w.url("/hello"), &[]);
        assert_eq!(
            (r.status, r.text().as_str()),
            (200, "hello from a guarded app")
        );
    }
}

#[test]
fn a_request_in_flight_when_the_instance_traps_is_answered_too() {
    let _turn = trap_turn();
    let w = env().worker("trap");
    let (held, tag) = (unique_id("held"), unique_id("tag"));
    let url = w.url(&format!("/hold/{tag}"));
    let headers = [
        ("x-request-id", held.clone()),
        ("accept", "application/json".into()),
    ];
    let started = Instant::now();
    let holding = std::thread::spawn(move || {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        get(&url, &headers)
    });
    let line = format!("holding {tag}");
    poll(&line, Duration::from_secs(10), || {
        w.output().contains(&line).then_some(())
    });
    let id = unique_id("trap");
    let json = [
        ("x-request-id", id.as_str()),
        ("accept", "application/json"),
    ];
    assert_trap_answered(w, &get(&w.url("/abort"), &json), &id);
    let r = holding.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered by its own end, not the trap"
    );
    assert_trap_answered(w, &r, &held);
}
