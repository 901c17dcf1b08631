//! The one log record per failure: a single line of JSON for
//! `console.error`, which Workers Logs and `wrangler tail` index by field.
//! [`line`] is pure and tested natively; [`write`] is the only place a
//! record leaves the worker.

use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;

use crate::failure::Failure;
use crate::incoming::{header, Incoming};

/// What the log needs to know about the request that failed.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo<'a> {
    /// The request id.
    pub request_id: &'a str,
    /// Cloudflare's ray id, when the request has one.
    pub cf_ray: Option<&'a str>,
    /// The trace-id of a valid `traceparent`.
    pub trace_id: Option<&'a str>,
    /// The HTTP method.
    pub method: &'a str,
    /// The full incoming URL; query values are redacted when logged.
    pub url: &'a str,
    /// Milliseconds from the request's arrival to the failure.
    pub duration_ms: u64,
    /// The status the client got.
    pub status: u16,
}

#[derive(Serialize)]
struct Record<'a> {
    level: &'static str,
    cause: &'static str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    request: Option<Fields<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin_body: Option<&'a str>,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(flatten)]
    fields: Map<String, Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    context: Map<String, Value>,
}

#[derive(Serialize)]
struct Fields<'a> {
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cf_ray: Option<&'a str>,
    method: &'a str,
    url: String,
    status: u16,
    duration_ms: u64,
}

/// The JSON line for `failure` on `request` (`None`: a panic outside any
/// request the guard knows of). The only place a failure becomes log text.
pub fn line(failure: &Failure, request: Option<&RequestInfo<'_>>) -> String {
    // Messages and context may quote a URL (a runtime's fetch error quotes
    // its whole target): shown redacted like the request's own.
    let context = failure
        .context
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(crate::redact::text(v))))
        .collect();
    let message = crate::redact::text(&failure.message);
    let record = Record {
        level: "error",
        cause: failure.cause.as_str(),
        request: request.map(|r| Fields {
            request_id: r.request_id,
            trace_id: r.trace_id,
            cf_ray: r.cf_ray,
            method: r.method,
            url: crate::redact::url(r.url),
            status: r.status,
            duration_ms: r.duration_ms,
        }),
        origin_status: failure.origin_status,
        origin_body: failure.origin_body.as_deref(),
        message: &message,
        location: failure.location.as_deref(),
        fields: failure.fields.iter().cloned().collect(),
        context,
    };
    serde_json::to_string(&record).unwrap_or_else(|e| {
        format!(r#"{{"level":"error","cause":"worker_error","message":"log record: {e}"}}"#)
    })
}

/// Writes the one record of `failure` (`None`: a panic outside any request)
/// as a `console.error` line of JSON.
pub fn write_record(failure: &Failure, request: Option<&RequestInfo<'_>>) {
    let text = line(failure, request);
    if cfg!(target_arch = "wasm32") {
        web_sys::console::error_1(&JsValue::from_str(&text));
    } else {
        eprintln!("{text}");
    }
}

/// Writes the record of `failure` on `incoming`, whose client got `status`.
pub fn write(incoming: &Incoming, failure: &Failure, status: u16) {
    let method = incoming.request.method();
    let cf_ray = incoming.header(header::CF_RAY);
    let platform = incoming.span.trace_id();
    let (trace_id, platform_trace_id) =
        crate::trace::record_ids(incoming.trace_id.as_deref(), platform.as_deref());
    let info = RequestInfo {
        request_id: &incoming.id,
        trace_id,
        cf_ray: cf_ray.as_deref(),
        method: &method,
        url: &incoming.url,
        duration_ms: incoming.elapsed_ms(),
        status,
    };
    match platform_trace_id {
        Some(p) => write_record(
            &failure.clone().with_field("platform_trace_id", p),
            Some(&info),
        ),
        None => write_record(failure, Some(&info)),
    }
    incoming
        .span
        .annotate(failure, &incoming.id, &incoming.url, status);
}

/// The record of a trap that even the re-instantiated module could not
/// answer, as the two halves around its JSON-quoted message: the JS entry's
/// last resort joins them, so the record's shape is still defined here.
pub fn last_resort_halves() -> (String, String) {
    const MARK: &str = "\u{1}";
    let whole = line(&Failure::new(crate::failure::Cause::WorkerTrap, MARK), None);
    let quoted = serde_json::Value::from(MARK).to_string();
    match whole.split_once(&quoted) {
        Some((head, tail)) => (head.to_owned(), tail.to_owned()),
        None => (whole, String::new()),
    }
}

#[cfg(test)]
mod tests {
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
    fn the_last_resort_halves_make_a_trap_record_around_any_message() {
        let (head, tail) = last_resort_halves();
        let message = "RuntimeError: \"x\"\n  at y";
        let joined = format!("{head}{}{tail}", Value::from(message));
        let v: Value = serde_json::from_str(&joined).unwrap();
        assert_eq!(v["cause"], "worker_trap");
        assert_eq!(v["message"], message);
        assert_eq!(v["level"], "error");
    }
}
