//! An origin's odd answers end to end, each written malformed on the
//! socket by the fake origin's `/odd/` routes: a failing body that stalls,
//! a stray `Content-Length` beside chunked framing, a status outside
//! 100–599, a failing 3xx's `Retry-After`, a body of control bytes,
//! encoded excerpts and a refused WebSocket handshake. Every "never" runs next to its positive control.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use error_shield_harness::origin::ENCODED_TEXT;
use error_shield_harness::{get, read_until_closed, unique_id, Env, Launch, Origin, Worker};

/// The fake origin and a `backup` one, and the workers: `main` (a 10 s
/// timeout), `unwatched` (`WATCH_BODIES=off`), `rescued` (a retry, the
/// backup as fallback, the breaker) and `kept` (`RESPONSE_STATUS=origin`
/// with a failing 302, `LOG_ORIGIN_BODY_BYTES=65536`).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let backup = Origin::start();
        backup.set_flag("odd-status", "from the backup");
        let rescued = Launch::proxy().vars(&[
            ("ORIGIN_RETRIES", "1"),
            ("FALLBACK_ORIGIN_URL", &backup.url()),
            ("CIRCUIT_FAILURES", "50"),
        ]);
        let kept = Launch::proxy().vars(&[
            ("RESPONSE_STATUS", "origin"),
            ("FAILURE_STATUSES", "302,500-599"),
            ("LOG_ORIGIN_BODY_BYTES", "65536"),
        ]);
        Env::build()
            .origin(Origin::start())
            .other_origin("backup", backup)
            .fronting("main", Launch::proxy().var("ORIGIN_TIMEOUT_MS", "10000"))
            .fronting("unwatched", Launch::proxy().var("WATCH_BODIES", "off"))
            .fronting("rescued", rescued)
            .fronting("kept", kept)
            .start()
    })
}

fn get_id(w: &Worker, path: &str, tag: &str) -> (error_shield_harness::Resp, String) {
    let id = unique_id(tag);
    (get(&w.url(path), &[("x-request-id", &id)]), id)
}

#[test]
fn a_failing_body_that_stalls_is_answered_within_a_second_with_what_arrived() {
    let e = env();
    let main = e.worker("main");
    // (more bytes come after, what the excerpt holds)
    for (late_ms, want) in [(300, "stall+late"), (1800, "stall")] {
        let key = unique_id("stall");
        let path = format!("/odd/stall?key={key}&late_ms={late_ms}&ms=8000");
        let start = Instant::now();
        let (r, id) = get_id(main, &path, "stall");
        let took = start.elapsed();
        assert_eq!(r.status, 500, "{path}");
        assert!(
            took < Duration::from_millis(1800),
            "{path}: answered after {took:?}"
        );
        let record = main.record_for(&id);
        assert_eq!(record["cause"], "origin_error_status", "{record}");
        assert_eq!(record["origin_body"], want, "{path}: {record}");
        // The rest of the body is not waited for: the origin is let go.
        let held = e.origin().let_go_after(&key, Duration::from_secs(5));
        assert!(held < 1800, "{path}: held {held} ms");
    }
}

#[test]
fn a_stray_content_length_beside_chunked_framing_is_not_the_bodys_length() {
    let e = env();
    for name in ["main", "unwatched"] {
        for cl in [2, 100] {
            let id = unique_id("stray");
            let target = format!("/odd/stray-length?cl={cl}");
            let (head, body) = read_until_closed(&e.worker(name).base, &target, &id);
            assert!(head.starts_with("http/1.1 200"), "{name} {target}: {head}");
            assert!(!head.contains("content-length"), "{name} {target}: {head}");
            assert!(head.contains("transfer-encoding: chunked"), "{head}");
            // The whole body, framed as the runtime framed it, last chunk included.
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains("hel") && text.contains("lo"), "{text:?}");
            assert!(body.ends_with(b"0\r\n\r\n"), "{name} {target}: {text:?}");
            let unchunked: String = text.split("\r\n").skip(1).step_by(2).collect();
            assert_eq!(unchunked, "hello", "{name} {target}: {text:?}");
            e.worker(name).assert_no_records(&[&id]);
        }
    }
    // The control: a body that does end short of its length is recorded.
    let id = unique_id("short");
    let key = unique_id("short-key");
    let target = format!("/odd/stall?key={key}&status=200&cl=100&ms=300");
    let (head, body) = read_until_closed(&e.worker("main").base, &target, &id);
    assert!(head.contains("content-length: 100"), "{head}");
    assert_eq!(body, b"stall");
    let record = e.worker("main").record_for(&id);
    assert_eq!(record["cause"], "origin_unreachable", "{record}");
    assert_eq!(record["after_headers"], true, "{record}");
    let counted = [&record["bytes"], &record["expected_bytes"]];
    assert!(counted.iter().any(|v| **v == 5 || **v == 100), "{record}");
}

#[test]
fn a_status_outside_100_to_599_is_the_origins_failure_and_is_rescued() {
    let e = env();
    for code in [600, 999] {
        let path = format!("/odd/status?code={code}");
        for name in ["main", "unwatched"] {
            let (r, id) = get_id(e.worker(name), &path, "odd-status");
            assert_eq!(r.status, 500, "{name} {path}: {}", r.text());
            assert!(!r.text().contains("hello"), "{name} {path}");
            let record = e.worker(name).record_for(&id);
            assert_eq!(record["cause"], "origin_unreachable", "{path}: {record}");
            let message = record["message"].as_str().unwrap_or("");
            assert!(message.contains(&code.to_string()), "{record}");
        }
        // Retried, then the fallback's answer, and one record saying so.
        let (r, id) = get_id(e.worker("rescued"), &path, "odd-rescued");
        assert_eq!(
            (r.status, r.text().as_str()),
            (200, "from the backup"),
            "{path}"
        );
        let record = e.worker("rescued").record_for(&id);
        assert_eq!(record["cause"], "origin_unreachable", "{record}");
        assert_eq!(record["attempts"], 2, "{record}");
        assert_eq!(record["fallback"], "served", "{record}");
    }
    // The control: an odd status in range passes as it is.
    let (r, _) = get_id(e.worker("rescued"), "/odd/status?code=299", "odd-299");
    assert_eq!((r.status, r.text().as_str()), (299, "hello"));
}

#[test]
fn a_failing_status_that_is_not_kept_brings_no_retry_after() {
    let kept = env().worker("kept");
    let table = [
        ("/status/302?retry_after=86400", 502, None),
        ("/status/503?retry_after=120", 503, Some("120")),
    ];
    for (path, status, retry_after) in table {
        let (r, id) = get_id(kept, path, "kept");
        assert_eq!(r.status, status, "{path}");
        assert_eq!(r.header("retry-after"), retry_after, "{path}");
        let origin: u16 = path[8..11].parse().unwrap();
        assert_eq!(kept.record_for(&id)["origin_status"], origin, "{path}");
    }
}

/// The bytes `s` takes in a JSON string.
fn escaped_len(s: &str) -> usize {
    Value::from(s).to_string().len() - 2
}

#[test]
fn the_excerpt_is_bounded_as_written_in_the_record() {
    let e = env();
    // (worker, LOG_ORIGIN_BODY_BYTES)
    for (name, max) in [("main", 2048), ("kept", 65_536)] {
        let (r, id) = get_id(e.worker(name), "/odd/control?n=65536", "control");
        assert_eq!(r.status, 500);
        let record = e.worker(name).record_for(&id);
        let body = record["origin_body"].as_str().unwrap();
        assert!(escaped_len(body) <= max, "{name}: {}", escaped_len(body));
        assert!(escaped_len(body) > max - 6, "{name}: {}", escaped_len(body));
        assert!(body.chars().all(|c| c == '\u{1}'), "{name}");
        assert!(record.to_string().len() <= 128 * 1024, "{name}");
    }
    // With a long URL and ray id (a client's, under wrangler dev) the whole
    // line would pass 128 KiB: the body gives way.
    let long = format!("/odd/control/{}?n=65536", "u".repeat(60_000));
    let id = unique_id("long");
    let ray = "r".repeat(20_000);
    let r = get(
        &e.worker("kept").url(&long),
        &[("x-request-id", &id), ("cf-ray", &ray)],
    );
    assert_eq!(r.status, 500);
    let record = e.worker("kept").record_for(&id);
    assert!(
        record.to_string().len() <= 128 * 1024,
        "{}",
        record.to_string().len()
    );
    assert!(
        record.to_string().len() > 127 * 1024,
        "cut more than needed"
    );
    assert!(record["origin_body"].as_str().unwrap().ends_with("…[cut]"));
    assert!(
        record["url"].as_str().unwrap().ends_with("?n=REDACTED"),
        "the URL stays whole"
    );
    // The control: text takes its bytes, and under the bound it is whole.
    let (_, id) = get_id(e.worker("kept"), "/status/500", "text");
    let record = e.worker("kept").record_for(&id);
    assert!(record["origin_body"]
        .as_str()
        .unwrap()
        .starts_with("ORIGIN-SECRET-BODY"));
}

#[test]
fn encoded_excerpts_are_decoded_where_the_runtime_can() {
    let main = env().worker("main");
    let table = [
        ("coding=gzip", true),
        ("coding=GZIP", true),
        ("coding=gzip,%20gzip&layers=2", true),
        ("coding=deflate&raw=1", true),
        ("coding=Deflate&raw=z", true),
        // Labelled gzip but sent plain: what came, rather than nothing.
        ("coding=gzip&raw=plain", true),
        // br is not what was sent: logged as it came, never a crash.
        ("coding=br", false),
    ];
    for (query, decoded) in table {
        let path = format!("/odd/encoded?{query}");
        let (r, id) = get_id(main, &path, "encoded");
        assert_eq!(r.status, 500, "{path}");
        let record = main.record_for(&id);
        assert_eq!(record["cause"], "origin_error_status", "{path}");
        let body = record["origin_body"].as_str().unwrap_or("");
        assert_eq!(body == ENCODED_TEXT, decoded, "{path}: {body:?}");
    }
}

/// The head of `w`'s answer to a raw WebSocket upgrade of `path`.
fn upgrade_head(w: &Worker, path: &str, id: &str) -> String {
    use std::io::{Read, Write};
    let addr = w.base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         X-Request-Id: {id}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_refused_websocket_handshake_is_the_origins_failure_not_its_502() {
    let main = env().worker("main");
    let id = unique_id("ws-refused");
    let head = upgrade_head(main, "/odd/ws-accept", &id);
    assert!(head.starts_with("HTTP/1.1 500 "), "{head}");
    let record = main.record_for(&id);
    assert_eq!(record["cause"], "origin_unreachable", "{record}");
    let message = record["message"].as_str().unwrap_or("");
    assert!(message.contains("WebSocket handshake failed"), "{record}");
    assert!(record.get("origin_status").is_none(), "{record}");
    assert!(record.get("origin_body").is_none(), "{record}");
    // The control: the origin's proper 101 passes as it is.
    let head = upgrade_head(main, "/ws?key=ws-control", &unique_id("ws-ok"));
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
}
