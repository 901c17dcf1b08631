//! The executor's functions (`js/runtime.js`) and the request's
//! [`Context`] as Rust reaches them. Each function returns the origin's
//! response, a watched one, or the context with what came back; none
//! rejects. What the fields mean is Rust's: [`crate::context`].

use wasm_bindgen::prelude::*;
use web_sys::{Headers, Request, Response};

#[wasm_bindgen(module = "/src/js/runtime.js")]
extern "C" {
    /// Hands the names, limits, the failing-status bitmaps (the top
    /// level's, then one per rule) and the deployment's hop marker to JS,
    /// once per isolate.
    pub fn configure(
        constants: &JsValue,
        failing: &js_sys::Array,
        excerpt_max: u32,
        watch_bodies: bool,
        marker: &str,
    );

    /// The first attempt: a promise of the origin's response or of `ctx`
    /// with what came back.
    pub fn execute(request: &Request, ctx: &Context) -> js_sys::Promise;

    /// Another attempt after `delay_ms`, with `timeout_ms` left.
    pub fn retry(
        request: &Request,
        ctx: &Context,
        delay_ms: u32,
        timeout_ms: u32,
    ) -> js_sys::Promise;

    /// Looks up the copy stored under the context's key: `CacheHit` or
    /// `CacheMiss`.
    #[wasm_bindgen(js_name = lookUp)]
    pub fn look_up(ctx: &Context) -> js_sys::Promise;

    /// The response for the client, its body watched, and a tee of it
    /// stored under the context's key with `stored` headers unless it grows
    /// past `max_bytes` or is still coming after `within_ms`; `release` is
    /// called once the copy is stored or dropped.
    pub fn stash(
        response: &Response,
        exec: &JsValue,
        stored: &Headers,
        max_bytes: u32,
        within_ms: u32,
        release: &JsValue,
        ctx: &Context,
    ) -> JsValue;

    /// The response for the client, its body watched.
    pub fn pass(response: &Response, ctx: &Context) -> JsValue;

    /// The stored copy with the headers the client gets, framed by its
    /// `length` when it has one.
    #[wasm_bindgen(js_name = asStale)]
    pub fn as_stale(hit: &Response, headers: &Headers, length: Option<f64>) -> Response;

    /// One request's context, carried by the executor from `decide` to
    /// `conclude` (plain data; see [`crate::context`]).
    pub type Context;
    #[wasm_bindgen(constructor)]
    pub fn new(
        incoming: &JsValue,
        rule: u32,
        id: &str,
        target: Option<&str>,
        forwarded_host: Option<&str>,
        timeout_ms: u32,
        hop: Option<&str>,
        nonce: &str,
    ) -> Context;

    #[wasm_bindgen(method, getter)]
    pub fn incoming(this: &Context) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn rule(this: &Context) -> u32;
    #[wasm_bindgen(method, getter)]
    pub fn id(this: &Context) -> String;
    #[wasm_bindgen(method, getter, js_name = traceId)]
    pub fn trace_id(this: &Context) -> Option<String>;
    #[wasm_bindgen(method, setter, js_name = traceId)]
    pub fn set_trace_id(this: &Context, v: &str);
    #[wasm_bindgen(method, setter)]
    pub fn set_target(this: &Context, v: &str);
    #[wasm_bindgen(method, getter, js_name = timeoutMs)]
    pub fn timeout_ms(this: &Context) -> u32;
    #[wasm_bindgen(method, getter)]
    pub fn retries(this: &Context) -> u32;
    #[wasm_bindgen(method, setter)]
    pub fn set_retries(this: &Context, v: u32);
    #[wasm_bindgen(method, getter)]
    pub fn stale(this: &Context) -> bool;
    #[wasm_bindgen(method, setter)]
    pub fn set_stale(this: &Context, v: bool);
    #[wasm_bindgen(method, setter)]
    pub fn set_keep(this: &Context, v: bool);
    #[wasm_bindgen(method, getter, js_name = cacheKey)]
    pub fn cache_key(this: &Context) -> Option<String>;
    #[wasm_bindgen(method, setter, js_name = cacheKey)]
    pub fn set_cache_key(this: &Context, v: &str);
    #[wasm_bindgen(method, getter)]
    pub fn store(this: &Context) -> bool;
    #[wasm_bindgen(method, setter)]
    pub fn set_store(this: &Context, v: bool);
    #[wasm_bindgen(method, getter)]
    pub fn probe(this: &Context) -> Option<f64>;
    #[wasm_bindgen(method, setter)]
    pub fn set_probe(this: &Context, v: f64);
    #[wasm_bindgen(method, getter, js_name = keptRetryAfter)]
    pub fn kept_retry_after(this: &Context) -> Option<String>;
    #[wasm_bindgen(method, setter, js_name = keptRetryAfter)]
    pub fn set_kept_retry_after(this: &Context, v: &str);
    #[wasm_bindgen(method, setter)]
    pub fn set_strip(this: &Context, v: bool);
    #[wasm_bindgen(method, setter)]
    pub fn set_abort(this: &Context, v: bool);
    #[wasm_bindgen(method, getter)]
    pub fn started(this: &Context) -> f64;
    #[wasm_bindgen(method, getter)]
    pub fn attempts(this: &Context) -> u32;

    #[wasm_bindgen(method, getter)]
    pub fn nonce(this: &Context) -> String;
    #[wasm_bindgen(method, setter)]
    pub fn set_upload(this: &Context, v: f64);
    #[wasm_bindgen(method, getter)]
    pub fn signal(this: &Context) -> String;

    /// What came back, judged as if it carried no loop signal.
    pub fn heard(response: &Response, ctx: &Context) -> JsValue;
    /// Lets a response go unread (its body cancelled).
    #[wasm_bindgen(js_name = letGo)]
    pub fn let_go(response: &Response);

    #[wasm_bindgen(method, getter)]
    pub fn kind(this: &Context) -> u8;
    #[wasm_bindgen(method, getter)]
    pub fn status(this: &Context) -> u16;
    #[wasm_bindgen(method, getter)]
    pub fn excerpt(this: &Context) -> Option<js_sys::Uint8Array>;
    #[wasm_bindgen(method, getter)]
    pub fn error(this: &Context) -> JsValue;
    #[wasm_bindgen(method, getter)]
    pub fn response(this: &Context) -> Option<Response>;
    #[wasm_bindgen(method, getter)]
    pub fn sent(this: &Context) -> f64;
    #[wasm_bindgen(method, getter)]
    pub fn fallback(this: &Context) -> Option<String>;
    #[wasm_bindgen(method, setter)]
    pub fn set_fallback(this: &Context, v: &str);
    #[wasm_bindgen(method, getter)]
    pub fn fallen(this: &Context) -> bool;
    #[wasm_bindgen(method, setter)]
    pub fn set_fallen(this: &Context, v: bool);
    #[wasm_bindgen(method, getter)]
    pub fn circuit(this: &Context) -> Option<String>;
    #[wasm_bindgen(method, setter)]
    pub fn set_circuit(this: &Context, v: &str);
    #[wasm_bindgen(method, getter)]
    pub fn report(this: &Context) -> bool;
    #[wasm_bindgen(method, setter)]
    pub fn set_report(this: &Context, v: bool);
    #[wasm_bindgen(method, getter, js_name = openFor)]
    pub fn open_for(this: &Context) -> u32;
    #[wasm_bindgen(method, setter, js_name = openFor)]
    pub fn set_open_for(this: &Context, v: u32);
    #[wasm_bindgen(method, getter, js_name = failedOpen)]
    pub fn failed_open(this: &Context) -> bool;
    #[wasm_bindgen(method, setter, js_name = failedOpen)]
    pub fn set_failed_open(this: &Context, v: bool);
    #[wasm_bindgen(method, getter, js_name = retryAfter)]
    pub fn retry_after(this: &Context) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    pub fn failure(this: &Context) -> Option<JsValue>;
    #[wasm_bindgen(method, setter)]
    pub fn set_failure(this: &Context, v: &JsValue);
}
