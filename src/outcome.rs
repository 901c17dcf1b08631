//! Reading what the executor brought back: the failure of an attempt, a good
//! response to store for stale-if-error, a stored copy to serve.

use error_shield::parts::Incoming;
use error_shield::{Cause, Failure};
use wasm_bindgen::JsValue;
use web_sys::{Headers, Response};

use crate::context::{Context, Outcome};
use crate::runtime;
use crate::settings::Settings;
use crate::stale;
use crate::stored::{self, Edits, Stored};
use crate::verdict::{self, Attempt};

/// The failure of the `attempts`-th attempt, as the executor saw it.
pub fn failure_of(settings: &Settings, outcome: Outcome, attempts: u32) -> Failure {
    let attempt = match outcome {
        Outcome::FailingStatus { status, excerpt } => {
            return verdict::classify(
                settings,
                Attempt::Status {
                    status,
                    excerpt: &excerpt,
                },
                attempts,
            );
        }
        Outcome::TimedOut => Attempt::TimedOut,
        Outcome::FetchError(message) => Attempt::Unreachable(message),
        Outcome::BodyBroken { sent, message, .. } => Attempt::BrokenBody { message, sent },
        // Our executor failed to build the request: not the origin's fault.
        Outcome::BrokenRequest(message) => {
            return Failure::new(
                Cause::WorkerError,
                format!("building the origin request: {message}"),
            );
        }
        Outcome::Good(_) | Outcome::Looped | Outcome::CacheHit(_) | Outcome::CacheMiss => {
            return Failure::new(
                Cause::WorkerError,
                "an outcome that is no failure was judged as one",
            );
        }
    };
    verdict::classify(settings, attempt, attempts)
}

/// A good response, unless its status is one no response can carry (the
/// runtime's fetch takes a 600): that is the origin's failure, judged
/// before anything builds a response from it.
pub fn answerable(response: Response) -> Outcome {
    let status = js_sys::Reflect::get(&response, &JsValue::from_str("status"))
        .ok()
        .and_then(|s| s.as_f64())
        .unwrap_or(f64::NAN);
    match crate::status::unanswerable(status) {
        None => Outcome::Good(response),
        Some(message) => {
            if let Some(body) = response.body() {
                let _ = body.cancel();
            }
            Outcome::FetchError(message)
        }
    }
}

/// A good response to a stale-if-error candidate: stored when it may be.
pub fn keep(
    settings: &Settings,
    incoming: &Incoming,
    response: Response,
    exec: &JsValue,
    ctx: &Context,
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
    let Some(window) = stale::window(&candidate, settings.stale_if_error_seconds, max) else {
        return runtime::pass(&response, ctx);
    };
    let edits = stored::to_store(window, js_sys::Date::now(), cache_control.as_deref());
    match edited(&headers, &edits) {
        Some(stored) => runtime::stash(&incoming.request, &response, exec, &stored, max, ctx),
        None => runtime::pass(&response, ctx),
    }
}

/// The stored copy as the client gets it, while its window lasts; `None`
/// when it is past it (or not ours).
pub fn stale_copy(hit: &Response) -> Option<Response> {
    let headers = hit.headers();
    let copy = Stored::read(|name| headers.get(name).ok().flatten())?;
    let age = stale::age(copy.stored_at, copy.window, js_sys::Date::now())?;
    let served = edited(&headers, &copy.to_serve(age))?;
    Some(runtime::as_stale(hit, &served))
}

/// A copy of `headers` with `edits` applied.
fn edited(headers: &Headers, edits: &Edits) -> Option<Headers> {
    let copy = Headers::new_with_headers(headers).ok()?;
    for name in &edits.remove {
        copy.delete(name).ok()?;
    }
    for (name, value) in &edits.set {
        copy.set(name, value).ok()?;
    }
    Some(copy)
}
