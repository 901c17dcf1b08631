//! Stored copies (stale-if-error) as the runtime holds them: a good
//! response stored, a stored copy served, the key they go under. What may
//! be stored and served is `rescue::stale`'s, `rescue::stale_key`'s and
//! `rescue::stored`'s.

use std::panic::AssertUnwindSafe;

use error_shield::parts::Incoming;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, Response};

use crate::config::settings::Settings;
use crate::corridor::executor::{self as runtime, Context};
use crate::corridor::isolate::Isolate;
use crate::rescue::stored::{self, Edits, Stored};
use crate::rescue::{stale, stale_key};

/// A good response to a stale-if-error candidate: stored under `key` when
/// it may be, and when the isolate has room to collect it.
pub fn store(
    isolate: &'static Isolate,
    settings: &Settings,
    incoming: &Incoming,
    ctx: &Context,
    exec: &JsValue,
    response: Response,
    key: &str,
) -> JsValue {
    let headers = response.headers();
    let get = |name: &str| headers.get(name).ok().flatten();
    let (cache_control, content_type, vary, coding) = (
        get("cache-control"),
        get("content-type"),
        get("vary"),
        get("content-encoding"),
    );
    // Only a length the runtime framed the body by (none beside a
    // Transfer-Encoding): a stray one sizes nothing.
    let content_length =
        get("content-length").filter(|_| !headers.has("transfer-encoding").unwrap_or(true));
    let candidate = stale::Candidate {
        status: response.status(),
        set_cookie: headers.has("set-cookie").unwrap_or(true),
        cache_control: cache_control.as_deref(),
        content_type: content_type.as_deref(),
        content_length: content_length.as_deref(),
    };
    let max = settings.stale_max_bytes;
    let window = stale::window(&candidate, settings.stale_if_error_seconds, max);
    // `Vary: *` is never stored.
    let varied = stale_key::varied(vary.as_deref(), |n| incoming.header(n));
    let (Some(window), Some(varied)) = (window, varied) else {
        return runtime::pass(&response, ctx);
    };
    // The window check refused a length that is no number.
    let length = content_length.and_then(|n| n.trim().parse::<u64>().ok());
    let origin = stored::Origin {
        cache_control: cache_control.as_deref(),
        vary: vary.as_deref(),
        content_encoding: coding.as_deref(),
        framed: length.is_some(),
        varied: &varied,
    };
    let edits = stored::to_store(window, js_sys::Date::now(), &origin);
    // At most what it may grow to: its length, else the bound.
    let size = length.unwrap_or(u64::from(max));
    let stored = edited(&headers, &edits);
    match stored.filter(|_| isolate.collecting.borrow_mut().reserve(size)) {
        Some(stored) => {
            // A panic cannot leave the count half-changed: one subtraction.
            let isolate = AssertUnwindSafe(isolate);
            let release = Closure::once_into_js(move || release(isolate, size));
            let within = stale::COLLECT_MS;
            runtime::store(&response, ctx, exec, key, &stored, max, within, &release)
        }
        None => runtime::pass(&response, ctx),
    }
}

/// Gives back what a copy being collected took of the isolate's bound.
fn release(isolate: AssertUnwindSafe<&Isolate>, size: u64) {
    isolate.collecting.borrow_mut().release(size);
}

/// The stored copy as the client gets it, while its window lasts, when the
/// request matches it in every header its response varies on and accepts
/// its coding; `None` otherwise (or when it is not ours).
pub fn stale_copy(hit: &Response, incoming: &Incoming) -> Option<Response> {
    let headers = hit.headers();
    let copy = Stored::read(|name| headers.get(name).ok().flatten())?;
    let now = stale_key::varied(copy.vary.as_deref(), |n| incoming.header(n));
    let accept = incoming.header("accept-encoding");
    let coding = copy.content_encoding.as_deref();
    if !stale_key::servable(&copy.varied, now.as_deref(), accept.as_deref(), coding) {
        return None;
    }
    let age = stale::age(copy.stored_at, copy.window, js_sys::Date::now())?;
    let served = edited(&headers, &copy.to_serve(age))?;
    // The length it was stored with, so its Content-Length stays true.
    let length = headers
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|n| n.trim().parse::<u64>().ok());
    Some(runtime::as_stale(hit, &served, length.map(|n| n as f64)))
}

/// The key of the copy a request may store and get: its URL and every
/// header that may identify its client.
pub fn key_of(incoming: &Incoming) -> String {
    let headers = incoming.request.headers();
    let pairs: Vec<(String, String)> = js_sys::try_iter(&headers)
        .ok()
        .flatten()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let pair: js_sys::Array = entry.ok()?.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect();
    stale_key::key(
        &incoming.url,
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    )
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
