//! The executor's functions (`js/runtime.js`), as Rust calls them. Each
//! returns the origin's response or the request's [`Outcome`]; none rejects.

use wasm_bindgen::prelude::*;
use web_sys::{Request, Response};

#[wasm_bindgen(module = "/src/js/runtime.js")]
extern "C" {
    /// Hands the names, limits, the failing-status bitmaps (the top
    /// level's, then one per rule) and the hop markers to JS, once per
    /// isolate.
    pub fn configure(
        constants: &JsValue,
        failing: &js_sys::Array,
        excerpt_max: u32,
        watch_bodies: bool,
        hop: &str,
        looped: &str,
    );

    /// The first attempt: a promise of the origin's response or an
    /// [`Outcome`].
    pub fn execute(
        request: &Request,
        url: Option<String>,
        id: &str,
        forwarded_host: Option<String>,
        timeout_ms: u32,
        keep: bool,
        strip_bypass: bool,
        failing: u32,
    ) -> js_sys::Promise;

    /// Another attempt after `delay_ms`.
    pub fn retry(
        request: &Request,
        outcome: &Outcome,
        delay_ms: u32,
        timeout_ms: u32,
    ) -> js_sys::Promise;

    /// Looks up the stored copy into [`Outcome::hit`].
    #[wasm_bindgen(js_name = lookUp)]
    pub fn look_up(request: &Request, outcome: &Outcome) -> js_sys::Promise;

    /// The response for the client, its body watched, and a tee of it
    /// stored for `window_sec` unless it grows past `max_bytes`.
    pub fn stash(
        request: &Request,
        response: &Response,
        ctx: &JsValue,
        window_sec: u32,
        max_bytes: u32,
        outcome: &Outcome,
    ) -> JsValue;

    /// The response for the client, its body watched.
    pub fn pass(response: &Response, outcome: &Outcome) -> JsValue;

    /// The stored copy as the client gets it, with `Age`.
    #[wasm_bindgen(js_name = asStale)]
    pub fn as_stale(hit: &JsValue, age_sec: f64) -> Response;

    /// What became of a request at the origin.
    pub type Outcome;
    #[wasm_bindgen(method, getter)]
    pub fn id(this: &Outcome) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn started(this: &Outcome) -> f64;
    #[wasm_bindgen(method, getter)]
    pub fn attempts(this: &Outcome) -> u32;
    #[wasm_bindgen(method, getter)]
    pub fn status(this: &Outcome) -> Option<u16>;
    #[wasm_bindgen(method, getter)]
    pub fn excerpt(this: &Outcome) -> Option<js_sys::Uint8Array>;
    #[wasm_bindgen(method, getter)]
    pub fn error(this: &Outcome) -> JsValue;
    #[wasm_bindgen(method, getter)]
    pub fn looped(this: &Outcome) -> bool;
    #[wasm_bindgen(method, getter)]
    pub fn broken(this: &Outcome) -> bool;
    #[wasm_bindgen(method, getter, js_name = timedOut)]
    pub fn timed_out(this: &Outcome) -> bool;
    #[wasm_bindgen(method, getter)]
    pub fn response(this: &Outcome) -> Option<Response>;
    #[wasm_bindgen(method, getter)]
    pub fn looked(this: &Outcome) -> bool;
    /// Body bytes the client had when the body broke after the headers.
    #[wasm_bindgen(method, getter)]
    pub fn sent(this: &Outcome) -> Option<f64>;
    /// The status the client got with a body that broke.
    #[wasm_bindgen(method, getter, js_name = passedStatus)]
    pub fn passed_status(this: &Outcome) -> u16;
    #[wasm_bindgen(method, getter)]
    pub fn hit(this: &Outcome) -> Option<js_sys::Array>;
}
