//! The pass-through end to end: everything reaches the origin and comes back
//! unchanged, streamed, with the request id added.

mod common;

use std::io::Read;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::origin::{fnv, pattern, FNV_START};
use common::{get, send, Stack, Worker};

fn env() -> &'static Stack {
    static ENV: OnceLock<Stack> = OnceLock::new();
    ENV.get_or_init(|| Stack::start(&[]))
}

fn echo_header<'a>(echo: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    echo["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0] == name)
        .and_then(|h| h[1].as_str())
}

#[test]
fn every_method_with_a_body_reaches_the_origin_unchanged() {
    let e = env();
    for method in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let body = format!("payload for {method} \u{2713}").into_bytes();
        let r = send(
            method,
            &e.worker.url("/echo?m=1"),
            &[("content-type", "text/x-test"), ("x-custom", "kept")],
            Some(&body),
        );
        assert_eq!(r.status, 200, "{method}: {}", r.text());
        let echo = r.json();
        assert_eq!(echo["method"], method);
        assert_eq!(echo["target"], "/echo?m=1");
        assert_eq!(echo["body_len"], body.len());
        assert_eq!(echo["body_sum"], format!("{:016x}", fnv(FNV_START, &body)));
        assert_eq!(echo_header(&echo, "content-type"), Some("text/x-test"));
        assert_eq!(echo_header(&echo, "x-custom"), Some("kept"));
    }
}

#[test]
fn odd_query_strings_and_paths_are_byte_exact() {
    let e = env();
    let targets = [
        "/echo?a=1&a=2&b",
        "/echo?q=%20%2F%3F%26+plus&empty=&=v",
        "/echo?utf=%E2%9C%93&raw=caf%C3%A9",
        "/echo?;semi;colon&x=a%2Bb",
        "/echo/%2e%2e/deep/%41path?",
        "/echo?a=b?c=d",
    ];
    for target in targets {
        let r = get(&e.worker.url(target), &[]);
        // Routes below /echo/ are 404 at the origin: the status passes through too.
        if r.status == 404 {
            assert_eq!(r.text(), "no such route", "{target}");
            continue;
        }
        assert_eq!(r.json()["target"], target, "{target}");
    }
}

#[test]
fn request_id_is_forwarded_and_forwarded_host_set() {
    let e = env();
    let r = get(&e.worker.url("/echo"), &[("x-request-id", "client-id-123")]);
    let echo = r.json();
    assert_eq!(echo_header(&echo, "x-request-id"), Some("client-id-123"));
    assert_eq!(
        echo_header(&echo, "x-forwarded-host"),
        Some(e.worker.base.trim_start_matches("http://"))
    );
    // Without a client id, a fresh one is minted and sent.
    let minted = get(&e.worker.url("/echo"), &[]).json();
    let id = echo_header(&minted, "x-request-id").expect("minted id");
    assert_eq!(id.len(), 32, "{id}");
    // A malformed client id is replaced, never forwarded.
    let bad = get(&e.worker.url("/echo"), &[("x-request-id", "<bad id>")]).json();
    assert_ne!(echo_header(&bad, "x-request-id"), Some("<bad id>"));
}

#[test]
fn multiple_set_cookie_headers_pass_intact() {
    let e = env();
    let r = get(&e.worker.url("/cookies?n=5"), &[]);
    assert_eq!(r.status, 200);
    let cookies = r.all("set-cookie");
    assert_eq!(cookies.len(), 5, "{cookies:?}");
    for (i, c) in cookies.iter().enumerate() {
        assert_eq!(*c, format!("c{i}=v{i}; Path=/; HttpOnly"));
    }
}

#[test]
fn client_and_non_failure_statuses_pass_through_untouched() {
    let e = env();
    for code in [404u16, 418, 400, 401, 409, 429] {
        let r = get(&e.worker.url(&format!("/status/{code}")), &[]);
        assert_eq!(r.status, code);
        // Not a failure: the origin's own body and headers pass through.
        assert_eq!(r.text(), common::origin::SECRET_BODY);
        assert_eq!(r.header("server"), Some("SecretOrigin/1.0"));
    }
}

#[test]
fn redirects_are_not_followed() {
    let e = env();
    let r = get(&e.worker.url("/redirect"), &[]);
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/echo?from=redirect"));
    assert_eq!(r.header("set-cookie"), Some("r=1"));
    let looped = get(&e.worker.url("/loop"), &[]);
    assert_eq!(
        (looped.status, looped.header("location")),
        (302, Some("/loop"))
    );
}

#[test]
fn head_passes_through_without_body() {
    let e = env();
    let r = send("HEAD", &e.worker.url("/bytes?n=1000"), &[], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("1000"));
    assert!(r.body.is_empty());
}

#[test]
fn a_slow_response_streams_its_first_bytes_early() {
    let e = env();
    let start = Instant::now();
    let resp = ureq::AgentBuilder::new()
        .build()
        .get(&e.worker.url("/stream?ms=2000"))
        .call()
        .expect("stream");
    assert_eq!(resp.status(), 200);
    let mut reader = resp.into_reader();
    let mut first = [0u8; 12];
    reader.read_exact(&mut first).expect("first chunk");
    let first_at = start.elapsed();
    let mut rest = String::new();
    reader.read_to_string(&mut rest).expect("rest");
    let done_at = start.elapsed();
    assert_eq!(&first, b"first-chunk\n");
    assert_eq!(rest, "last-chunk\n");
    assert!(
        first_at < Duration::from_millis(1500),
        "first bytes after {first_at:?}: buffered?"
    );
    assert!(
        done_at >= Duration::from_millis(2000),
        "finished after {done_at:?}"
    );
}

const BIG: usize = 48 * 1024 * 1024;

#[test]
fn a_48_mib_download_streams_through() {
    let e = env();
    let resp = ureq::AgentBuilder::new()
        .build()
        .get(&e.worker.url(&format!("/bytes?n={BIG}")))
        .call()
        .expect("download");
    let mut reader = resp.into_reader();
    let mut buf = vec![0u8; 1 << 20];
    let (mut len, mut ok) = (0usize, true);
    loop {
        let n = reader.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        ok &= buf[..n]
            .iter()
            .enumerate()
            .all(|(j, b)| *b == pattern(len + j));
        len += n;
    }
    assert_eq!(len, BIG);
    assert!(ok, "body bytes differ from what the origin sent");
}

#[test]
fn a_48_mib_upload_streams_through() {
    let e = env();
    let body: Vec<u8> = (0..BIG).map(pattern).collect();
    let r = send(
        "POST",
        &e.worker.url("/echo"),
        &[("content-type", "application/octet-stream")],
        Some(&body),
    );
    let echo = r.json();
    assert_eq!(echo["body_len"], BIG);
    assert_eq!(echo["body_sum"], format!("{:016x}", fnv(FNV_START, &body)));
}

#[test]
fn a_path_prefix_on_origin_url_is_kept() {
    let origin = &env().origin;
    let worker = Worker::start(&[("ORIGIN_URL", &format!("{}/echo", origin.url()))]);
    // /echo + /?x=1 → the origin's /echo/?x=1 route is 404; /echo + "" → /echo.
    let r = get(&worker.url("/?x=1"), &[]);
    assert_eq!(r.status, 404);
    assert!(origin.hits("/echo/") >= 1);
}
