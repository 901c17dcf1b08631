//! Reading what the executor brought back: the failure of an attempt, a good
//! response to store for stale-if-error, a stored copy to serve.

use error_shield::incoming::Incoming;
use error_shield::{answer, Cause, Failure};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Response;

use crate::runtime::{self, Outcome};
use crate::settings::Settings;
use crate::stale;
use crate::verdict::{self, Attempt};

/// The failure of the attempt, as the executor saw it.
pub fn failure_of(settings: &Settings, out: &Outcome) -> Failure {
    let attempts = out.attempts();
    if let Some(sent) = out.sent() {
        let message = error_message(&out.error());
        let attempt = Attempt::BrokenBody {
            message,
            sent: sent as u64,
        };
        return verdict::classify(settings, attempt, attempts);
    }
    if let Some(status) = out.status() {
        let bytes = out.excerpt().map(|b| b.to_vec()).unwrap_or_default();
        let attempt = Attempt::Status {
            status,
            excerpt: &bytes,
        };
        return verdict::classify(settings, attempt, attempts);
    }
    if out.timed_out() {
        return verdict::classify(settings, Attempt::TimedOut, attempts);
    }
    let message = error_message(&out.error());
    if out.broken() {
        // Our executor failed to build the request: not the origin's fault.
        return Failure::new(
            Cause::WorkerError,
            format!("building the origin request: {message}"),
        );
    }
    verdict::classify(settings, Attempt::Unreachable(message), attempts)
}

/// The message of a JS error (or of whatever was thrown).
fn error_message(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "fetch failed".into())
}

/// A good response to a stale-if-error candidate: stored when it may be.
pub fn keep(
    settings: &Settings,
    incoming: &Incoming,
    response: Response,
    ctx: &JsValue,
    out: &Outcome,
) -> JsValue {
    let headers = response.headers();
    let get = |name: &str| headers.get(name).ok().flatten();
    let (cache_control, content_type, content_length) = (
        get("cache-control"),
        get("content-type"),
        get("content-length"),
    );
    let candidate = stale::Candidate {
        status: response.status(),
        set_cookie: headers.has("set-cookie").unwrap_or(true),
        cache_control: cache_control.as_deref(),
        content_type: content_type.as_deref(),
        content_length: content_length.as_deref(),
    };
    let max = settings.stale_max_bytes;
    match stale::window(&candidate, settings.stale_if_error_seconds, max) {
        Some(w) => runtime::stash(&incoming.request, &response, ctx, w, max, out),
        None => runtime::pass(&response, out),
    }
}

/// After the look-up: the stored copy within its window, with the failure
/// still recorded (`served_stale`); `None` when there is none.
pub fn stale_copy(incoming: &Incoming, out: &Outcome, failure: &Failure) -> Option<Response> {
    let hit = out.hit()?;
    let stored_at = hit.get(1).as_f64()?;
    let window = hit.get(2).as_f64()? as u32;
    let age = stale::age(stored_at, window, js_sys::Date::now())?;
    let response = runtime::as_stale(&hit.get(0), age as f64);
    answer::record(incoming, failure, response.status(), true);
    Some(response)
}
