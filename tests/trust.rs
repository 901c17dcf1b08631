//! Trust boundaries end to end (README § Security): in a worker with
//! the defaults a client's `X-Fault-Inject` is an ordinary header and its
//! `X-Forwarded-Host` is replaced; and a body on GET or OPTIONS, chunked or
//! with a length, is never retried and reaches the origin byte for byte —
//! except a chunked GET body, which the runtime (workerd 2026-11) drops
//! before the worker sees it: asserted as such (see [`runtime_drops`]).
//! Every "never" runs next to its positive control in the same test.

use std::sync::OnceLock;

use serde_json::Value;

use error_shield_harness::origin::{fnv, pattern, FNV_START};
use error_shield_harness::{
    echo_header, get, header_lines, raw_exchange, unique_id, Env, Launch, Origin, RawReq, Resp,
    Worker,
};

/// In front of one origin: `defaults` (only `ORIGIN_URL` set), `faulty`
/// (`FAULT_INJECTION=on`: the control that the header can fail a worker)
/// and `retrying` (`ORIGIN_RETRIES=2`).
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let retrying =
            Launch::proxy().vars(&[("ORIGIN_RETRIES", "2"), ("ORIGIN_TIMEOUT_MS", "5000")]);
        Env::build()
            .origin(Origin::start())
            .fronting("faulty", Launch::proxy().var("FAULT_INJECTION", "on"))
            .fronting("retrying", retrying)
            .fronting("defaults", Launch::proxy())
            .start()
    })
}

#[test]
fn fault_injection_is_off_by_default_and_the_header_reaches_the_origin() {
    let e = env();
    let mut passed = Vec::new();
    for (kind, cause) in [
        ("abort", "worker_trap"),
        ("stack_overflow", "worker_trap"),
        ("panic", "worker_panic"),
        ("error", "worker_error"),
    ] {
        // The control: with FAULT_INJECTION=on the same header fails.
        let id = unique_id("fault-on");
        let headers = [("x-fault-inject", kind), ("x-request-id", id.as_str())];
        let r = get(&e.worker("faulty").url("/echo"), &headers);
        assert_eq!(r.status, 500, "{kind}: {}", r.text());
        assert_eq!(e.worker("faulty").record_for(&id)["cause"], cause, "{kind}");
        // The defaults: an ordinary header, passed to the origin.
        let id = unique_id("fault-off");
        let headers = [("x-fault-inject", kind), ("x-request-id", id.as_str())];
        let r = get(&e.worker("defaults").url("/echo"), &headers);
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        let echo = r.json();
        assert_eq!(echo_header(&echo, "x-fault-inject"), Some(kind), "{echo}");
        assert_eq!(echo_header(&echo, "x-request-id"), Some(id.as_str()));
        passed.push(id);
    }
    // None of these wrote a record, once a later failure's record showed.
    let passed: Vec<&str> = passed.iter().map(String::as_str).collect();
    e.worker("defaults").assert_no_records(&passed);
}

#[test]
fn a_clients_forwarded_host_is_replaced_by_the_workers_host() {
    let e = env();
    let lines = header_lines(&[
        ("X-Forwarded-Host", "evil.example"),
        ("x-forwarded-host", "evil2.example"),
        // The control: the same value under another name arrives.
        ("X-Forwarded-Hostname", "evil.example"),
    ]);
    let r = exchange(
        e.worker("defaults"),
        RawReq::new("GET", "/echo").lines(&lines),
    );
    assert_eq!(r.status, 200);
    let echo: Value = serde_json::from_slice(&r.body).expect("echo");
    let host = e.worker("defaults").base.trim_start_matches("http://");
    let forwarded: Vec<&Value> = echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0] == "x-forwarded-host")
        .map(|h| &h[1])
        .collect();
    assert_eq!(forwarded, [host], "{echo}");
    assert_eq!(
        echo_header(&echo, "x-forwarded-hostname"),
        Some("evil.example")
    );
}

/// How a request's body is framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    Chunked,
    Length,
    None,
}

/// Whether the runtime drops the body before the worker sees it. workerd
/// 2026-11-17 (wrangler 4.164) drops a *chunked* GET body in `new
/// Request(url, request)`, also for a minimal JS worker; under `wrangler dev`
/// its entry worker forwards that way, so the worker gets a GET with neither
/// body nor `Transfer-Encoding` (a GET body with `Content-Length`, and a
/// chunked OPTIONS body, pass). workerd 2026-04-26 delivered it. A limit of
/// the runtime (README, *What the client sees*), not worked around: should a
/// runtime deliver it again, these tests fail and say so.
fn runtime_drops(method: &str, framing: Framing) -> bool {
    method == "GET" && framing == Framing::Chunked
}

/// 30 000 bytes of the origin's pattern.
fn payload() -> Vec<u8> {
    (0..30_000).map(pattern).collect()
}

/// The header lines and the wire body for `body` framed `framing` (in
/// three chunks when chunked).
fn framed(body: &[u8], framing: Framing) -> (Vec<Vec<u8>>, Vec<u8>) {
    match framing {
        Framing::Chunked => {
            let mut wire = Vec::new();
            for chunk in body.chunks(body.len().div_ceil(3)) {
                wire.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"0\r\n\r\n");
            (header_lines(&[("Transfer-Encoding", "chunked")]), wire)
        }
        Framing::Length => (Vec::new(), body.to_vec()),
        Framing::None => (Vec::new(), Vec::new()),
    }
}

fn exchange(w: &Worker, req: RawReq) -> Resp {
    raw_exchange(&w.base, &[req]).remove(0)
}

/// `method` to `target` on `w` with `body` framed `framing`, and `id`.
fn send_framed(w: &Worker, method: &str, target: &str, framing: Framing, id: &str) -> Resp {
    let (mut lines, wire) = framed(&payload(), framing);
    lines.extend(header_lines(&[("x-request-id", id)]));
    let mut req = RawReq::new(method, target).lines(&lines);
    req.body = &wire;
    exchange(w, req)
}

#[test]
fn a_body_on_get_or_options_is_never_retried() {
    let e = env();
    for method in ["GET", "OPTIONS"] {
        for framing in [Framing::None, Framing::Chunked, Framing::Length] {
            let context = format!("{method} {framing:?}");
            let key = unique_id("body-retry");
            let id = unique_id("body-retry");
            let target = format!("/flaky?key={key}");
            let r = send_framed(e.worker("retrying"), method, &target, framing, &id);
            let hits = e.origin().hits_for("/flaky", &key);
            if framing == Framing::None || runtime_drops(method, framing) {
                // The control: without a body, the reset is retried. A
                // chunked GET reaches the worker body-less (the runtime
                // dropped the body and its framing), so it is retried too.
                assert_eq!(r.status, 200, "{context}: {r:?}");
                assert_eq!(r.body, b"ok after 2 connections", "{context}");
                assert_eq!(hits, 2, "{context}");
                e.worker("retrying").assert_no_records(&[&id]);
                continue;
            }
            assert_eq!(r.status, 500, "{context} was retried: {r:?}");
            assert_eq!(r.header("x-request-id"), Some(id.as_str()));
            let record = e.worker("retrying").record_for(&id);
            assert_eq!(
                (&record["cause"], &record["method"], &record["attempts"]),
                (&"origin_unreachable".into(), &method.into(), &1.into()),
                "{context}: {record}"
            );
            assert_eq!(hits, 1, "{context}");
        }
    }
}

#[test]
fn get_and_options_bodies_reach_the_origin_byte_for_byte() {
    let e = env();
    let body = payload();
    let sum = format!("{:016x}", fnv(FNV_START, &body));
    for w in [e.worker("defaults"), e.worker("retrying")] {
        for method in ["GET", "OPTIONS"] {
            for (framing, header) in [
                (Framing::Chunked, ("transfer-encoding", "chunked")),
                (Framing::Length, ("content-length", "30000")),
            ] {
                let context = format!("{} {method} {framing:?}", w.base);
                let target = format!("/echo?key={}", unique_id("body"));
                let r = send_framed(w, method, &target, framing, &unique_id("body"));
                assert_eq!(r.status, 200, "{context}: {r:?}");
                let echo: Value = serde_json::from_slice(&r.body).expect("echo");
                assert_eq!(echo["method"], method, "{context}");
                if runtime_drops(method, framing) {
                    // What the runtime does: the GET arrives without a body.
                    assert_eq!(echo_header(&echo, "transfer-encoding"), None, "{context}");
                    assert_eq!(echo_header(&echo, "content-length"), None, "{context}");
                    assert_eq!(echo["body_len"], 0, "{context}: {echo}");
                    continue;
                }
                assert_eq!(echo_header(&echo, header.0), Some(header.1), "{context}");
                assert_eq!(
                    (&echo["body_len"], echo["body_sum"].as_str()),
                    (&body.len().into(), Some(sum.as_str())),
                    "{context}: {echo}"
                );
            }
        }
    }
}
