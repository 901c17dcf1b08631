//! What worker-build's JS shim expects of the module, which workers-rs
//! provides for an app and the proxy (built without workers-rs, so that
//! none of its exports reach the Wasm) provides here: the
//! `__worker_init_state` export the shim reads at load, and the start hook
//! that re-instantiates the module after a trap (so the JS entry can ask
//! the fresh instance's `trap` to answer). The same few lines as
//! workers-rs's `init.rs`, minus its panic hook (the guard installs its own).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = "
export const state = globalThis.__worker_init_state = { criticalError: false, instanceId: 0 };
")]
extern "C" {
    type InitState;

    #[wasm_bindgen(thread_local_v2, js_name = state)]
    static INIT_STATE: InitState;

    #[wasm_bindgen(method, getter, js_name = instanceId)]
    fn instance_id(this: &InitState) -> u32;

    #[wasm_bindgen(method, setter, js_name = instanceId)]
    fn set_instance_id(this: &InitState, val: u32);
}

// A trap poisons the instance: the next call makes a fresh one.
#[wasm_bindgen(start, private)]
fn start() {
    INIT_STATE.with(|s| s.set_instance_id(s.instance_id() + 1));
    wasm_bindgen::handler::set_on_abort(wasm_bindgen::handler::schedule_reinit);
}

/// The shim's view of the instance (which generation it is).
#[wasm_bindgen(js_name = "__worker_init_state")]
pub fn worker_init_state() -> JsValue {
    INIT_STATE.with(|s| s.into())
}
