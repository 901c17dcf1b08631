//! The timeout is the origin's: it runs once the request, its body
//! included, was handed over. A slow upload passes; an upload with no
//! progress for `ORIGIN_TIMEOUT_MS`, or one the client breaks, ends with the
//! uniform error and one `warn` line, never an `error` record blaming the
//! origin nor a count toward its breaker.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use error_shield_harness::{get, poll, unique_id, Env, Launch, Origin, Worker};
use serde_json::Value;

const TIMEOUT_MS: u64 = 1500;

/// Workers in front of the fake origin with a short timeout: `main`, and
/// `breaker` whose circuit opens at the first failure it counts.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let timeout = TIMEOUT_MS.to_string();
        let main = Launch::proxy().var("ORIGIN_TIMEOUT_MS", &timeout);
        let breaker = main.clone().var("CIRCUIT_FAILURES", "1");
        Env::build()
            .origin(Origin::start())
            .fronting("main", main)
            .fronting("breaker", breaker)
            .start()
    })
}

/// A POST of `length` declared bytes to `/upload?key=…` on a connection of
/// its own, its head sent.
fn upload(worker: &Worker, key: &str, id: &str, length: usize) -> TcpStream {
    let addr = worker.base.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let head = format!(
        "POST /upload?key={key} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         X-Request-Id: {id}\r\nContent-Length: {length}\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).expect("head");
    conn
}

/// Everything the worker answered on `conn`.
fn answer(mut conn: TcpStream) -> String {
    let mut all = Vec::new();
    let _ = conn.read_to_end(&mut all);
    String::from_utf8_lossy(&all).into_owned()
}

/// What `worker` printed for `id` at `level`.
fn lines(worker: &Worker, id: &str, level: &str) -> Vec<Value> {
    (worker.records().into_iter())
        .filter(|r| r["request_id"] == id && r["level"] == level)
        .collect()
}

#[test]
fn a_slow_upload_is_no_origin_timeout() {
    let e = env();
    let id = unique_id("trickle");
    let mut conn = upload(e.worker("main"), "trickle", &id, 6000);
    // 6 KB over 3 s, twice the timeout, never pausing as long as it.
    for _ in 0..6 {
        // A worker that answered already may have closed the connection:
        // the answer says what happened.
        if conn.write_all(&[b'u'; 1000]).is_err() {
            break;
        }
        thread::sleep(Duration::from_millis(500));
    }
    let text = answer(conn);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"body_len\":6000"), "{text}");
    // The origin got the body as the client framed it.
    assert!(text.contains(r#"["content-length","6000"]"#), "{text}");
    // No record: read after a control request's record (an origin that
    // answers after the timeout), printed after any record of the upload.
    let control = unique_id("slow-origin");
    let path = format!("/sleep?ms={}", TIMEOUT_MS + 1500);
    let r = get(&e.worker("main").url(&path), &[("x-request-id", &control)]);
    assert_eq!(r.status, 500);
    assert_eq!(
        e.worker("main").record_for(&control)["cause"],
        "origin_timeout"
    );
    let printed: Vec<Value> = (e.worker("main").records().into_iter())
        .filter(|r| r["request_id"] == id)
        .collect();
    assert!(printed.is_empty(), "{printed:?}");
}

#[test]
fn a_stalled_or_broken_upload_is_a_warning_not_the_origins_failure() {
    let e = env();
    let w = e.worker("breaker");
    // Stalled: 1000 of 6000 bytes, then nothing, the connection open.
    let id = unique_id("stalled");
    let mut conn = upload(w, "stalled", &id, 6000);
    conn.write_all(&[b's'; 1000]).expect("a part");
    let began = Instant::now();
    let text = answer(conn);
    assert!(text.starts_with("HTTP/1.1 500"), "{text}");
    assert!(text.contains("\"status\":500"), "{text}");
    let took = began.elapsed();
    assert!(took < Duration::from_millis(TIMEOUT_MS * 4), "{took:?}");
    let warned = poll("the upload_stalled line", Duration::from_secs(10), || {
        let l = lines(w, &id, "warn");
        (!l.is_empty()).then_some(l)
    });
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert_eq!(warned[0]["event"], "upload_stalled");
    assert_eq!(warned[0]["bytes"], 1000, "{}", warned[0]);
    // Broken: the client sends part of its body and ends it there, once
    // the origin has it (before that, `wrangler dev`'s own proxy may answer
    // the half-sent request itself and the worker never sees it).
    let broken = unique_id("broken");
    let mut conn = upload(w, "broken", &broken, 6000);
    conn.write_all(&[b'b'; 1000]).expect("a part");
    poll("the origin has the part", Duration::from_secs(10), || {
        (e.origin().progress("upload:broken") >= 1000).then_some(())
    });
    conn.shutdown(Shutdown::Write).expect("half-close");
    let text = answer(conn);
    assert!(text.starts_with("HTTP/1.1 500"), "{text}");
    let warned = poll("the upload_broken line", Duration::from_secs(10), || {
        let l = lines(w, &broken, "warn");
        (!l.is_empty()).then_some(l)
    });
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert_eq!(warned[0]["event"], "upload_broken");
    assert_eq!(warned[0]["bytes"], 1000, "{}", warned[0]);
    // Neither counted toward the breaker (one failure would open it) …
    let r = get(&w.url("/echo?after-upload=1"), &[]);
    assert_eq!(r.status, 200, "the breaker counted an upload: {}", r.text());
    // … nor wrote an error record: read after the control's own record,
    // an origin failure that the breaker does count.
    let control = unique_id("origin-fails");
    let r = get(&w.url("/status/502"), &[("x-request-id", &control)]);
    assert_eq!(r.status, 500);
    assert_eq!(w.record_for(&control)["cause"], "origin_error_status");
    for id in [&id, &broken] {
        assert!(lines(w, id, "error").is_empty(), "{id}");
    }
    let held = unique_id("held");
    let r = get(&w.url("/echo"), &[("x-request-id", &held)]);
    assert_eq!(r.status, 500, "the control opened the circuit");
    assert_eq!(w.record_for(&held)["circuit"], "open");
}
