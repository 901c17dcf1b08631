//! A failure on the request's trace (Workers tracing): the record's facts
//! as attributes of the request's root span, a worker's own error as an
//! exception on it, and the platform's trace id in the record. What goes on
//! the span is decided here, from the same [`Failure`] the record is built
//! from ([`attributes`], [`ON_SPAN`]), so the two cannot drift; the span is
//! only called into. A span the runtime did not give (no `tracing`, an
//! older runtime) is `undefined`: then nothing is called.

use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

use crate::failure::{Cause, Failure};

/// The record's fields that also go on the span, as `error_shield.<name>`,
/// where they apply. Never `origin_body`, `url`, `message` or `context`:
/// a span shows nothing the record would have to redact or bound.
pub const ON_SPAN: [&str; 7] = [
    "route",
    "attempts",
    "served_stale",
    "fallback",
    "circuit",
    "failed_open",
    "after_headers",
];

/// OpenTelemetry's name for the failure's cause.
pub const ERROR_TYPE: &str = "error.type";
/// OpenTelemetry's name for the request's URL: the platform sets it as the
/// client sent it; a failure sets it as the record shows it (redacted).
pub const URL_FULL: &str = "url.full";
/// The prefix of every other attribute.
pub const PREFIX: &str = "error_shield.";
/// The longest exception message put on a span (the runtime keeps a
/// bounded amount per span and drops the rest silently).
pub const EXCEPTION_MAX_CHARS: usize = 1024;

/// The attributes a failure sets on its request's root span: the cause as
/// `error.type`, the URL as the record shows it, the request id, the status
/// the client got, the origin's status, then the [`ON_SPAN`] fields the
/// failure has (scalars only).
pub fn attributes(
    failure: &Failure,
    request_id: &str,
    url: &str,
    status: u16,
) -> Vec<(String, Value)> {
    let mut out = vec![
        (ERROR_TYPE.to_owned(), Value::from(failure.cause.as_str())),
        (URL_FULL.to_owned(), Value::from(crate::redact::url(url))),
        (format!("{PREFIX}request_id"), Value::from(request_id)),
        (format!("{PREFIX}status"), Value::from(status)),
    ];
    if let Some(s) = failure.origin_status {
        out.push((format!("{PREFIX}origin_status"), Value::from(s)));
    }
    for (k, v) in &failure.fields {
        let scalar = v.is_string() || v.is_number() || v.is_boolean();
        if scalar && ON_SPAN.contains(&k.as_str()) {
            out.push((format!("{PREFIX}{k}"), v.clone()));
        }
    }
    out
}

/// The exception a worker error, panic or trap records on the span: its
/// message redacted as in the record, bounded; `None` for the origin's
/// failures and a configuration error.
pub fn exception(failure: &Failure) -> Option<String> {
    match failure.cause {
        Cause::WorkerError | Cause::WorkerPanic | Cause::WorkerTrap => {
            let text = crate::redact::text(&failure.message);
            Some(text.chars().take(EXCEPTION_MAX_CHARS).collect())
        }
        _ => None,
    }
}

/// The record's trace ids: the client's trace id when it sent a valid
/// `traceparent`, else the platform's; the platform's apart
/// (`platform_trace_id`) only when the client's was not taken.
pub fn record_ids<'a>(
    client: Option<&'a str>,
    platform: Option<&'a str>,
) -> (Option<&'a str>, Option<&'a str>) {
    match client {
        None => (platform, None),
        Some(c) => (Some(c), platform.filter(|p| !p.eq_ignore_ascii_case(c))),
    }
}

/// The request's root span, taken when the request entered (later work
/// may run where the active span is another request's). A span that has
/// ended ignores what is set on it: a body that breaks after that gets its
/// record only.
#[derive(Debug, Clone)]
pub struct Span {
    handle: JsValue,
}

impl Default for Span {
    fn default() -> Span {
        Span::new(JsValue::UNDEFINED)
    }
}

impl Span {
    /// The span the entry took (`undefined`: none).
    pub fn new(handle: JsValue) -> Span {
        Span { handle }
    }

    /// The span to start child spans under: none when the runtime gave
    /// none.
    pub fn handle(&self) -> Option<&JsValue> {
        self.handle.is_object().then_some(&self.handle)
    }

    /// The runtime records this span (`isTraced`): a given span that is
    /// not traced ignores whatever is set on it.
    fn traced(&self) -> bool {
        self.handle.is_object() && get(&self.handle, "isTraced").is_truthy()
    }

    /// The platform's trace id, when the request is traced.
    pub fn trace_id(&self) -> Option<String> {
        if !self.traced() {
            return None;
        }
        let context = call(&self.handle, "spanContext", &[])?;
        let id = get(&context, "traceId").as_string()?;
        let valid = id.len() == 32 && id.bytes().any(|b| b != b'0');
        valid.then_some(id)
    }

    /// Sets `failure`'s attributes and, for the worker's own failures, its
    /// exception. Nothing on a span that was never given.
    pub fn annotate(&self, failure: &Failure, request_id: &str, url: &str, status: u16) {
        // A span that records nothing (the request not sampled, tracing
        // off) drops every attribute: building them would cost the failure
        // path for nothing.
        if !self.traced() {
            return;
        }
        let attrs = js_sys::Object::new();
        for (k, v) in attributes(failure, request_id, url, status) {
            let v = match v {
                Value::String(s) => JsValue::from_str(&s),
                Value::Bool(b) => JsValue::from_bool(b),
                Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or(0.0)),
                _ => continue,
            };
            let _ = js_sys::Reflect::set(&attrs, &JsValue::from_str(&k), &v);
        }
        call(&self.handle, "setAttributes", &[attrs.into()]);
        if let Some(message) = exception(failure) {
            let e = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&e, &"name".into(), &failure.cause.as_str().into());
            let _ = js_sys::Reflect::set(&e, &"message".into(), &message.into());
            call(&self.handle, "recordException", &[e.into()]);
        }
    }
}

fn get(target: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Calls `target[name](...args)` if it is a function; a throw is ignored
/// (the trace is a help, never a reason for another failure).
fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Option<JsValue> {
    let f = get(target, name).dyn_into::<js_sys::Function>().ok()?;
    let args: js_sys::Array = args.iter().collect();
    f.apply(target, &args).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{line, RequestInfo};

    const URL: &str = "https://u:pw@h/p?token=s3cret";

    fn every_field() -> Failure {
        Failure::new(
            Cause::OriginErrorStatus,
            "origin answered 502 ?token=s3cret",
        )
        .with_origin_status(502)
        .with_origin_body("the origin's secret body")
        .with_context("tenant", "t1")
        .with_field("route", "/api/")
        .with_field("attempts", 3)
        .with_field("served_stale", true)
        .with_field("fallback", "served")
        .with_field("fallback_cause", "origin_timeout")
        .with_field("circuit", "open")
        .with_field("failed_open", true)
        .with_field("after_headers", true)
        .with_field("bytes", 10)
    }

    #[test]
    fn the_span_has_the_cause_id_status_and_the_listed_fields() {
        let a = attributes(&every_field(), "rid-1", URL, 502);
        let names: Vec<&str> = a.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "error.type",
                "url.full",
                "error_shield.request_id",
                "error_shield.status",
                "error_shield.origin_status",
                "error_shield.route",
                "error_shield.attempts",
                "error_shield.served_stale",
                "error_shield.fallback",
                "error_shield.circuit",
                "error_shield.failed_open",
                "error_shield.after_headers",
            ]
        );
        assert_eq!(a[0].1, "origin_error_status");
        assert_eq!(a[1].1, "https://REDACTED@h/p?token=REDACTED");
        // The control: a bare failure has only what every failure has.
        let bare = attributes(&Failure::new(Cause::OriginTimeout, "slow"), "r", URL, 504);
        assert_eq!(bare.len(), 4);
    }

    #[test]
    fn every_attribute_is_the_records_own_value() {
        let f = every_field();
        let info = RequestInfo {
            request_id: "rid-1",
            method: "GET",
            url: URL,
            status: 502,
            ..RequestInfo::default()
        };
        let record: Value = serde_json::from_str(&line(&f, Some(&info))).unwrap();
        for (k, v) in attributes(&f, "rid-1", URL, 502) {
            let field = if k == ERROR_TYPE {
                "cause"
            } else if k == URL_FULL {
                "url"
            } else {
                k.strip_prefix(PREFIX).unwrap()
            };
            assert_eq!(record[field], v, "{k}");
        }
    }

    #[test]
    fn nothing_the_record_redacts_or_bounds_reaches_the_span() {
        let a = attributes(&every_field(), "rid-1", URL, 502);
        let text = serde_json::to_string(&a).unwrap();
        for never in ["secret body", "s3cret", "tenant", "origin answered"] {
            assert!(!text.contains(never), "{never} in {text}");
        }
        // A field that is no scalar does not go either.
        let f = Failure::new(Cause::WorkerError, "x").with_field("route", vec![1, 2]);
        assert_eq!(attributes(&f, "r", URL, 500).len(), 4);
    }

    #[test]
    fn only_the_workers_own_failures_are_exceptions_redacted_and_bounded() {
        for cause in Cause::ALL {
            let f = Failure::new(cause, "bad http://u:pw@h/?k=v");
            let e = exception(&f);
            let own = matches!(
                cause,
                Cause::WorkerError | Cause::WorkerPanic | Cause::WorkerTrap
            );
            assert_eq!(e.is_some(), own, "{cause}");
            if let Some(e) = e {
                assert_eq!(e, "bad http://REDACTED@h/?k=REDACTED");
            }
        }
        let long = Failure::new(Cause::WorkerTrap, "x".repeat(5000));
        assert_eq!(
            exception(&long).unwrap().chars().count(),
            EXCEPTION_MAX_CHARS
        );
    }

    #[test]
    fn the_record_leads_to_the_platforms_trace() {
        let (c, p) = (
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "0af7651916cd43dd8448eb211c80319c",
        );
        assert_eq!(record_ids(None, Some(p)), (Some(p), None));
        assert_eq!(record_ids(Some(c), Some(p)), (Some(c), Some(p)));
        assert_eq!(record_ids(Some(c), Some(c)), (Some(c), None));
        assert_eq!(record_ids(Some(c), None), (Some(c), None));
        assert_eq!(record_ids(None, None), (None, None));
    }
}
