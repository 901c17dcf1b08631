//! The two places a failure leaves the worker: [`respond`] turns it into
//! the uniform response, [`write_record`] into the one log line. Nothing
//! else builds either.

use wasm_bindgen::JsValue;
use web_sys::{Headers, Response, ResponseInit};

use crate::failure::Failure;
use crate::incoming::{header, Incoming};
use crate::negotiate::{negotiate, Format};
use crate::record::{line, RequestInfo};
use crate::render::Renderer;

/// The uniform error of `renderer` (with `extra` headers) in the format
/// `incoming`'s `Accept` asks for; `HEAD` gets the headers only.
pub fn respond(
    renderer: &Renderer,
    extra: &[(&'static str, String)],
    default: Format,
    incoming: &Incoming,
) -> Response {
    let format = negotiate(incoming.header(header::ACCEPT).as_deref(), default);
    let head = incoming.request.method() == "HEAD";
    let rendered = renderer.render(format, &incoming.id, head);
    let init = ResponseInit::new();
    init.set_status(renderer.status());
    if let Ok(headers) = Headers::new() {
        for (name, value) in rendered.headers.iter().chain(extra) {
            let _ = headers.set(name, value);
        }
        init.set_headers(&headers);
    }
    let body = (!head).then_some(rendered.body.as_str());
    Response::new_with_opt_str_and_init(body, &init).unwrap_or_else(|_| Response::error())
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

/// The record of `failure` on `incoming`, whose client got `status`.
pub fn record(incoming: &Incoming, failure: &Failure, status: u16, served_stale: bool) {
    let method = incoming.request.method();
    let cf_ray = incoming.header(header::CF_RAY);
    let info = RequestInfo {
        request_id: &incoming.id,
        trace_id: incoming.trace_id.as_deref(),
        route: incoming.route,
        cf_ray: cf_ray.as_deref(),
        method: &method,
        url: &incoming.url,
        duration_ms: incoming.elapsed_ms(),
        served_stale,
        status,
    };
    write_record(failure, Some(&info));
}
