//! The executor (`js/runtime.js`) as Rust calls it: twelve bindings. Each
//! call resolves to the origin's response (sent as is), a watched one, or
//! the request's [`Context`] with what came back ([`super::came`]); none
//! rejects. The context holds what the executor needs for the I/O, set
//! once, and the journey ([`crate::rescue::journey`]), which it carries
//! unread.

use wasm_bindgen::prelude::*;
use web_sys::{Headers, Request, Response};

#[wasm_bindgen(module = "/src/js/runtime.js")]
extern "C" {
    /// Hands the names, limits and the failing-status bitmaps (the top
    /// level's, then one per rule) to JS, once per isolate.
    pub fn configure(
        constants: &JsValue,
        failing: &js_sys::Array,
        excerpt_max: u32,
        watch_bodies: bool,
    );

    /// Creates the request's context and makes the first attempt: `url`,
    /// with `headers` (name, value, …; a null value removes the header),
    /// the failing statuses of `rule`, a good answer handed back to Rust
    /// when `hand_back`, a lost race's fetch aborted when `abort`, `journey` carried;
    /// `upload`: the body's length to watch (-1 chunked, 0 none).
    #[allow(clippy::too_many_arguments)]
    pub fn execute(
        request: &Request,
        url: &JsValue,
        headers: &js_sys::Array,
        rule: u32,
        hand_back: bool,
        abort: bool,
        journey: &str,
        timeout_ms: u32,
        upload: f64,
    ) -> js_sys::Promise;

    /// Another attempt after `delay_ms` with `timeout_ms` left, carrying
    /// `journey`; to `url` when given (the fallback).
    pub fn retry(
        request: &Request,
        ctx: &Context,
        journey: &str,
        hand_back: bool,
        delay_ms: u32,
        timeout_ms: u32,
        url: Option<&str>,
    ) -> js_sys::Promise;

    /// Looks up the copy stored under `key`: `CacheHit` or `CacheMiss` (a
    /// request held off before its first attempt has no context yet).
    #[wasm_bindgen(js_name = lookUp)]
    pub fn look_up(ctx: Option<&Context>, journey: &str, key: &str) -> js_sys::Promise;

    /// The response for the client, its body watched, and a tee of it
    /// stored under `key` with `stored` headers unless it grows past
    /// `max_bytes` or is still coming after `within_ms`; `release` is
    /// called once the copy is stored or dropped.
    #[allow(clippy::too_many_arguments)]
    pub fn store(
        response: &Response,
        ctx: &Context,
        exec: &JsValue,
        key: &str,
        stored: &Headers,
        max_bytes: u32,
        within_ms: u32,
        release: &JsValue,
    ) -> JsValue;

    /// The response for the client, its body watched.
    pub fn pass(response: &Response, ctx: &Context) -> JsValue;

    /// The stored copy with the headers the client gets, framed by its
    /// `length` when it has one.
    #[wasm_bindgen(js_name = asStale)]
    pub fn as_stale(hit: &Response, headers: &Headers, length: Option<f64>) -> Response;

    /// An answer with a loop signal that is none, judged as any answer.
    pub fn heard(response: &Response, ctx: &Context) -> JsValue;

    /// Lets a response go unread (its body cancelled).
    #[wasm_bindgen(js_name = letGo)]
    pub fn let_go(response: &Response);

    /// One request's context, carried by the executor between the calls.
    pub type Context;
    /// The journey, as Rust last handed it.
    #[wasm_bindgen(method, getter)]
    pub fn journey(this: &Context) -> Option<String>;
    /// What came back: `{ kind, …its data }` ([`super::came`]).
    #[wasm_bindgen(method, getter)]
    pub fn came(this: &Context) -> JsValue;
}
