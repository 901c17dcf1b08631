//! The corridor: the worker's side that meets JS. The entry's calls
//! (`pipeline`: decide, conclude, broken, trap), a request's first step
//! (`start`), the executor's bindings (`executor`) and what comes back
//! (`came`), the one module that carries rescue decisions out
//! (`carry_out`), the breakers and stored copies at work, the per-isolate
//! state (`isolate`), the pages folder, the trace's child spans.

pub mod breakers;
pub mod came;
pub mod carry_out;
pub mod constants;
pub mod copies;
pub mod executor;
pub mod isolate;
pub mod pages;
pub mod pipeline;
pub mod shim;
pub mod start;
pub mod trace;

use error_shield::parts::header::REQUEST_ID;
use wasm_bindgen::JsValue;
use web_sys::Request;

use crate::config::hop::{Chain, HOP, NONCE};
use crate::config::maintenance::BYPASS_HEADER;
use crate::config::origin::FORWARDED_HOST;
use crate::rescue::journey::Journey;
use crate::rescue::plan::Plan;

/// What the executor needs for the I/O of one request, set once.
pub struct Io {
    /// The URL to fetch.
    pub url: JsValue,
    /// Headers set on the origin's request: name, value, … (a null value
    /// removes the header).
    pub headers: js_sys::Array,
    /// Which failing-status bitmap applies.
    pub rule: u32,
    /// A fetch that lost its race is aborted, not only let go: a fallback
    /// attempt keeps the request's I/O alive while its body streams.
    pub abort: bool,
}

impl Io {
    /// The first attempt, at `url` (none: the planned one).
    pub fn start(
        &self,
        request: &Request,
        j: &Journey,
        url: Option<&str>,
        upload: f64,
    ) -> js_sys::Promise {
        let url = url.map_or_else(|| self.url.clone(), JsValue::from_str);
        let text = j.to_text();
        executor::execute(
            request,
            &url,
            &self.headers,
            self.rule,
            j.hands_back(),
            self.abort,
            &text,
            j.rescue.timeout_ms,
            upload,
        )
    }
}

/// The I/O of a request to go as `plan` says: `url` is the incoming URL
/// (sent as is when the plan names no other), `strip` removes the
/// maintenance bypass header (a secret, never the origin's).
pub fn io(plan: &Plan, url: &JsValue, id: &str, rule: u32, hop: &Chain, strip: bool) -> Io {
    let headers = js_sys::Array::new();
    let set = |name: &str, value: JsValue| {
        headers.push(&JsValue::from_str(name));
        headers.push(&value);
    };
    set(REQUEST_ID, JsValue::from_str(id));
    set(HOP, JsValue::from_str(&hop.markers));
    set(NONCE, JsValue::from_str(&hop.nonces));
    if let Some(host) = &plan.forwarded_host {
        set(FORWARDED_HOST, JsValue::from_str(host));
    }
    if strip {
        set(BYPASS_HEADER, JsValue::NULL);
    }
    Io {
        url: plan
            .url
            .as_deref()
            .map_or_else(|| url.clone(), JsValue::from_str),
        headers,
        rule,
        // A timed-out attempt is otherwise let go with the request's I/O
        // once the answer is done; a fallback attempt keeps that I/O alive
        // for as long as its body streams, so the late primary is aborted.
        // (A stale copy comes from the cache at once: not worth a signal
        // on every pass-through.)
        abort: plan.rescue.fallback.is_some(),
    }
}
