//! The corridor between Rust and the executor: the bindings
//! ([`executor`]), what comes back ([`came`]), and the one module that
//! carries rescue decisions out ([`carry_out`]).

pub mod came;
pub mod carry_out;
pub mod executor;

use error_shield::parts::header::REQUEST_ID;
use wasm_bindgen::JsValue;

use crate::constants::{FORWARDED_HOST, HOP, NONCE};
use crate::hop::Chain;
use crate::maintenance::BYPASS_HEADER;
use crate::plan::Plan;
use carry_out::Io;

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
