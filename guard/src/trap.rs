//! Wasm traps under `Shield::run` (workers-rs apps): the Rust half of
//! `js/trap.js`. A trap (abort, unreachable, stack overflow, out of memory)
//! kills the instance, so nothing here runs after one but the abort hook,
//! which only tells the JS half; the request is then handed once more to
//! the app's fetch on the fresh instance, and `Shield::run` answers it from
//! what [`pending`] says instead of running the handler again. The JS half
//! also takes each request's root span as it enters ([`span`]).

use std::cell::Cell;
use std::sync::Once;

use wasm_bindgen::prelude::*;

use crate::failure::{Cause, Failure};

#[wasm_bindgen(module = "/js/trap.js")]
extern "C" {
    fn arm(status: u16, body: &str, content_type: &str, record_head: &str, record_tail: &str);
    fn guarded(request: &web_sys::Request) -> JsValue;
    #[wasm_bindgen(js_name = span)]
    fn span_js(request: &web_sys::Request) -> JsValue;
    fn aborted();
}

thread_local! {
    /// The abort hook found (workers-rs's, which schedules the fresh instance).
    static PREVIOUS: Cell<Option<fn()>> = const { Cell::new(None) };
}

/// Chains the guard's abort hook after the one installed (once per
/// instance) and leaves the last resort, `text` with `status`, with the JS
/// half.
pub fn install(status: u16, text: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let (head, tail) = crate::record::last_resort_halves();
        arm(
            status,
            text,
            crate::format::Format::Text.content_type(),
            &head,
            &tail,
        );
        PREVIOUS.set(wasm_bindgen::handler::set_on_abort(on_abort));
    });
}

/// Runs in the dead instance: as little as possible, then JS. wasm-bindgen
/// traps after any import call while the instance is marked terminated, so
/// the mark is lifted for the two calls (the hook found, which schedules the
/// fresh instance, and the JS half) and set again after them.
fn on_abort() {
    // SAFETY: one thread; wasm-bindgen reads the mark only around calls.
    unsafe {
        let mark = wasm_bindgen::__rt::__instance_terminated;
        wasm_bindgen::__rt::__instance_terminated = 0;
        if let Some(previous) = PREVIOUS.get() {
            previous();
        }
        aborted();
        wasm_bindgen::__rt::__instance_terminated = mark;
    }
}

/// Marks `request` as under the guard; the failure to answer it with when
/// it comes back after its instance trapped (or its promise was rejected).
pub fn pending(request: &web_sys::Request) -> Option<Failure> {
    let trap = guarded(request);
    if trap.is_undefined() {
        return None;
    }
    let field = |name: &str| js_sys::Reflect::get(&trap, &JsValue::from_str(name)).ok();
    let message = field("message").and_then(|m| m.as_string());
    let trapped = field("trapped").and_then(|t| t.as_bool()).unwrap_or(true);
    let cause = if trapped {
        Cause::WorkerTrap
    } else {
        Cause::WorkerError
    };
    // A JS stack: its first frames say where; the rest is the runtime's.
    let message = message.unwrap_or_else(|| "Wasm trap".into());
    let message: Vec<&str> = message.lines().take(4).collect();
    Some(Failure::new(cause, message.join("\n")))
}

/// The root span `request` had as it entered the app's `fetch` (none when
/// the runtime traces nothing, or the entry was not wrapped).
pub fn span(request: &web_sys::Request) -> crate::trace::Span {
    crate::trace::Span::new(span_js(request))
}
