//! The record's shape, its fields and its bounds.

use super::*;
use crate::failure::Cause;

fn request<'a>() -> RequestInfo<'a> {
    RequestInfo {
        request_id: "rid-1",
        cf_ray: None,
        trace_id: None,
        method: "GET",
        url: "https://host/path?token=s3cret&flag&b=2",
        duration_ms: 41,
        status: 500,
    }
}

#[test]
fn origin_error_record_has_the_contract_fields() {
    let f = Failure::new(Cause::OriginErrorStatus, "origin answered 502")
        .with_origin_status(502)
        .with_origin_body("stack trace");
    let v: Value = serde_json::from_str(&line(&f, Some(&request()))).unwrap();
    assert_eq!(v["level"], "error");
    assert_eq!(v["cause"], "origin_error_status");
    assert_eq!(v["request_id"], "rid-1");
    assert_eq!(v["method"], "GET");
    assert_eq!(
        v["url"],
        "https://host/path?token=REDACTED&REDACTED&b=REDACTED"
    );
    assert_eq!(v["origin_status"], 502);
    assert_eq!(v["origin_body"], "stack trace");
    assert_eq!(v["message"], "origin answered 502");
    assert_eq!(v["duration_ms"], 41);
    assert_eq!(v["status"], 500);
    for absent in [
        "location",
        "cf_ray",
        "trace_id",
        "attempts",
        "served_stale",
        "after_headers",
        "bytes",
        "context",
    ] {
        assert!(v.get(absent).is_none(), "{absent} should be omitted");
    }
}

#[test]
fn optional_fields_appear_when_set() {
    let f = Failure::new(Cause::WorkerPanic, "boom")
        .with_context("tenant", "t1")
        .with_location("src/lib.rs:1:2")
        .with_field("attempts", 3)
        .with_field("route", "/api/")
        .with_field("served_stale", true)
        .with_field("after_headers", true)
        .with_field("bytes", 5000);
    let req = RequestInfo {
        cf_ray: Some("ray-9"),
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736"),
        ..request()
    };
    let line = line(&f, Some(&req));
    assert!(!line.contains('\n'));
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["location"], "src/lib.rs:1:2");
    assert_eq!(v["cf_ray"], "ray-9");
    assert_eq!(v["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(v["route"], "/api/");
    assert_eq!(v["attempts"], 3);
    assert_eq!(v["served_stale"], true);
    assert_eq!(
        (&v["after_headers"], &v["bytes"]),
        (&Value::from(true), &Value::from(5000))
    );
    assert_eq!(v["context"]["tenant"], "t1");
}

#[test]
fn a_url_quoted_in_a_message_or_context_is_redacted() {
    let f = Failure::new(
        Cause::OriginUnreachable,
        "Invalid URL: http://svc:hunter2@10.0.0.256/x?sk_live_1&t=abc",
    )
    .with_context("target", "https://u:pw@h/?k=secret");
    let v: Value = serde_json::from_str(&line(&f, Some(&request()))).unwrap();
    assert_eq!(
        v["message"],
        "Invalid URL: http://REDACTED@10.0.0.256/x?REDACTED&t=REDACTED"
    );
    assert_eq!(v["context"]["target"], "https://REDACTED@h/?k=REDACTED");
    // The control: text without a URL is shown as it is.
    let f = Failure::new(Cause::OriginUnreachable, "Network connection lost.");
    let v: Value = serde_json::from_str(&line(&f, None)).unwrap();
    assert_eq!(v["message"], "Network connection lost.");
}

#[test]
fn a_panic_outside_any_request_has_no_request_fields() {
    let f = Failure::new(Cause::WorkerPanic, "boom").with_location("src/x.rs:3:4");
    let v: Value = serde_json::from_str(&line(&f, None)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"level":"error","cause":"worker_panic","message":"boom","location":"src/x.rs:3:4"})
    );
}

#[test]
fn a_line_never_exceeds_its_bound_and_the_body_is_cut_first() {
    let ctl = "\u{1}".repeat(65_536);
    let f = Failure::new(Cause::OriginErrorStatus, "m".repeat(70_000)).with_origin_body(&*ctl);
    let cut = |f: &Failure, url: &str| {
        let text = line(f, Some(&RequestInfo { url, ..request() }));
        assert!(text.len() <= MAX_LINE, "{}", text.len());
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let v = cut(&f, "https://host/");
    let (body, message) = (
        v["origin_body"].as_str().unwrap(),
        v["message"].as_str().unwrap(),
    );
    assert!(
        body.ends_with(fit::CUT_MARK) && body.starts_with('\u{1}'),
        "{body:?}"
    );
    assert_eq!(
        message, f.message,
        "the message stays while the body can give"
    );
    // The body alone cannot give enough: the message is cut next, then the URL.
    let f = Failure::new(Cause::OriginErrorStatus, "m".repeat(140_000)).with_origin_body("b");
    assert!(cut(&f, "https://host/")["message"]
        .as_str()
        .unwrap()
        .ends_with(fit::CUT_MARK));
    let long = format!("https://host/{}", "u".repeat(200_000));
    let v = cut(&Failure::new(Cause::WorkerError, "m"), &long);
    assert!(v["url"].as_str().unwrap().ends_with(fit::CUT_MARK));
    // Fields alone over the bound: the cause and the ids remain.
    let wide = Failure::new(Cause::WorkerPanic, "m").with_context("k", "c".repeat(140_000));
    let v = cut(&wide, "https://host/");
    assert_eq!(
        (&v["cause"], &v["message"]),
        (&Value::from("worker_panic"), &Value::from(fit::CUT_MARK))
    );
    assert_eq!(v["request_id"], "rid-1");
    let small = Failure::new(Cause::WorkerError, "m").with_origin_body(&ctl[..20_000]);
    let v: Value = serde_json::from_str(&line(&small, None)).unwrap();
    assert_eq!(v["origin_body"], &ctl[..20_000], "under the bound: whole");
}

#[test]
fn the_last_resort_halves_make_a_trap_record_around_any_message() {
    let (head, tail) = last_resort_halves();
    let message = "RuntimeError: \"x\"\n  at y";
    let joined = format!("{head}{}{tail}", Value::from(message));
    let v: Value = serde_json::from_str(&joined).unwrap();
    assert_eq!(v["cause"], "worker_trap");
    assert_eq!(v["message"], message);
    assert_eq!(v["level"], "error");
}
