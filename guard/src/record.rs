//! The one log record per failure: a single line of JSON for
//! `console.error`, which Workers Logs and `wrangler tail` index by field.
//! [`line`] is pure and tested natively; [`write`] is the only place a
//! record leaves the worker.

use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;

use crate::failure::Failure;
use crate::fit;
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
    url: &'a str,
    status: u16,
    duration_ms: u64,
}

/// The longest record line: Workers Logs keeps at most 256 KB per
/// invocation, and a record that is cut there loses its end.
pub const MAX_LINE: usize = 128 * 1024;

/// The JSON line for `failure` on `request` (`None`: a panic outside any
/// request the guard knows of). The only place a failure becomes log text.
/// Never over `MAX_LINE` (128 KiB): past it, `origin_body`, then `message`,
/// then `url` are shortened and marked as cut (`…[cut]`).
pub fn line(failure: &Failure, request: Option<&RequestInfo<'_>>) -> String {
    // Messages and context may quote a URL (a runtime's fetch error quotes
    // its whole target): redacted like the request's own, before anything
    // is cut (a cut URL could hide its userinfo from the redaction).
    let mut failure = failure.clone();
    failure.message = crate::redact::text(&failure.message);
    for (_, v) in failure.context.iter_mut() {
        *v = crate::redact::text(v);
    }
    let url = request.map(|r| crate::redact::url(r.url));
    let whole = render(&failure, request, url.as_deref());
    if whole.len() <= MAX_LINE {
        return whole;
    }
    fitted(failure, request, url, whole)
}

/// A line over [`MAX_LINE`], its longest texts shortened in turn.
fn fitted(
    mut f: Failure,
    request: Option<&RequestInfo<'_>>,
    mut url: Option<String>,
    mut text: String,
) -> String {
    let cut = |s: &mut String, over: usize| {
        *s = fit::shortened(s, over).unwrap_or_else(|| fit::CUT_MARK.to_owned());
    };
    for step in 0..3 {
        let over = text.len().saturating_sub(MAX_LINE);
        if over == 0 {
            return text;
        }
        match step {
            0 => f.origin_body.iter_mut().for_each(|b| cut(b, over)),
            1 => cut(&mut f.message, over),
            _ => url.iter_mut().for_each(|u| cut(u, over)),
        }
        text = render(&f, request, url.as_deref());
    }
    if text.len() <= MAX_LINE {
        return text;
    }
    // Fields or context alone are over the bound: the cause and the ids.
    let mut bare = Failure::new(f.cause, fit::CUT_MARK);
    bare.origin_status = f.origin_status;
    render(&bare, request, Some(fit::CUT_MARK))
}

fn render(failure: &Failure, request: Option<&RequestInfo<'_>>, url: Option<&str>) -> String {
    let context = failure
        .context
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    let record = Record {
        level: "error",
        cause: failure.cause.as_str(),
        request: request.map(|r| Fields {
            request_id: r.request_id,
            trace_id: r.trace_id,
            cf_ray: r.cf_ray,
            method: r.method,
            url: url.unwrap_or_default(),
            status: r.status,
            duration_ms: r.duration_ms,
        }),
        origin_status: failure.origin_status,
        origin_body: failure.origin_body.as_deref(),
        message: &failure.message,
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
#[path = "record_tests.rs"]
mod tests;
