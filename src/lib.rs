//! error-shield's origin proxy: the worker this repository deploys. It
//! passes every request through to the origin untouched and streamed; when
//! the origin or the worker fails, the guard (the `error-shield` crate)
//! answers with the uniform error and writes the one record.
//!
//! Rust decides, JS carries out. The JS entry (`js/entry.js`) calls
//! [`decide`] once per request; Rust plans it and starts the executor
//! (`js/runtime.js`) with the request's journey ([`rescue::journey`]),
//! whose promise resolves to the origin's response (sent as is) or to the
//! context with what came back, which the entry hands to [`conclude`]: the
//! rescue decides the next step ([`rescue::next`]) and the corridor
//! carries it out (a retry, the fallback, a cache look-up, an answer). A trap is
//! answered by [`trap`] on the re-instantiated module.
#![warn(missing_docs)]

// The rooms, imports running one way: `corridor` (the executor, the
// pipeline, carrying decisions out) uses `rescue` (the plan, the journey,
// the next step), which uses `answer` (status, uniform error, record),
// which uses `config` (what the operator set).
pub mod answer;
pub mod config;
mod corridor;
// Where `X-Fault-Inject` panics: a panic's record names this file.
mod fault;
pub mod rescue;

use corridor::{constants, pages, pipeline};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

/// The names and the last-resort answer the JS entry needs, once at load.
#[wasm_bindgen]
pub fn constants() -> JsValue {
    constants::for_entry()
}

/// The first step of a request: the answer found before the fetch, or the
/// promise of the origin's response or of an outcome for [`conclude`].
// One argument per value read by the entry: cheaper across the boundary
// than an object whose properties Rust would read back one by one.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn decide(
    request: web_sys::Request,
    env: JsValue,
    url: JsValue,
    client_id: Option<String>,
    traceparent: Option<String>,
    cf_ray: Option<String>,
    hop: Option<String>,
    span: JsValue,
) -> JsValue {
    let arrival = pipeline::Arrival {
        request,
        url,
        client_id,
        traceparent,
        cf_ray,
        hop,
        span,
    };
    let out = pipeline::decide(&env, arrival);
    pages::dress(&env, out)
}

/// The next step after the executor handed back the request's context:
/// an answer, or the promise of the next step.
#[wasm_bindgen]
pub fn conclude(
    request: web_sys::Request,
    env: JsValue,
    exec: JsValue,
    ctx: corridor::executor::Context,
    span: JsValue,
) -> JsValue {
    let out = pipeline::conclude(&env, request, &exec, &ctx, span);
    pages::dress(&env, out)
}

/// The record of a body that broke after its headers reached the client
/// (the executor's watch saw the origin's stream fail).
#[wasm_bindgen]
pub fn broken(
    request: web_sys::Request,
    env: JsValue,
    ctx: corridor::executor::Context,
    span: JsValue,
) {
    pipeline::broken(&env, request, &ctx, span)
}

/// The uniform 500 and the record for a request whose instance trapped
/// (called on the re-instantiated module), or whose promise the entry saw
/// rejected (`trapped` false: a `worker_error`); with fail-open, when the
/// request was not `sent` yet, the promise of the origin's answer (never a
/// second send). `journey` is the one the executor carried, when the entry
/// has one (it names the request's id).
/// `span` is the request's root span as the entry took it (every export
/// gets it: `undefined` when the runtime has no tracing).
/// `message` and `journey` stay JS values: Rust strings would be copied into the
/// dead instance's memory before the glue re-instantiates the module.
#[wasm_bindgen]
pub fn trap(
    request: web_sys::Request,
    env: JsValue,
    message: JsValue,
    journey: JsValue,
    sent: bool,
    trapped: bool,
    span: JsValue,
) -> JsValue {
    let message = message.as_string().unwrap_or_else(|| "Wasm trap".into());
    let at = pipeline::At {
        id: journey
            .as_string()
            .and_then(|text| rescue::journey::Journey::from_text(&text))
            .map(|j| j.id),
        trapped,
        sent,
        span,
    };
    let out = pipeline::trap(&env, request, &message, at);
    pages::dress(&env, out)
}

/// An answer whose pages came back from the pages folder (the carrier the
/// promise of [`decide`], [`conclude`] or [`trap`] resolved to): the
/// answer dressed in them.
#[wasm_bindgen]
pub fn dressed(env: JsValue, carrier: JsValue) -> JsValue {
    pages::dressed(&env, &carrier)
}
