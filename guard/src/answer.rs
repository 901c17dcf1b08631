//! The one place a failure becomes a response: [`respond`] sends the
//! uniform error (its record is written by `record::write`, the one other).

use web_sys::{Headers, Response, ResponseInit};

use crate::format::Format;
use crate::incoming::{header, Incoming};
use crate::negotiate::negotiate;
use crate::render::Renderer;

/// The uniform error of `renderer` (with `extra` headers) in the format
/// `incoming`'s `Accept` asks for; `HEAD` gets the headers only.
pub fn respond(
    renderer: &Renderer,
    extra: &[(&str, String)],
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
