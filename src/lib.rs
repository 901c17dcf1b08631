//! error-shield: one uniform, safe HTTP 500 and one structured log record for
//! every failure of a Cloudflare Worker or of the origin it fronts.

pub mod config;
pub mod failure;
pub mod negotiate;
pub mod origin;
pub mod record;
pub mod render;
pub mod request_id;

#[cfg(target_arch = "wasm32")]
mod fault;
#[cfg(target_arch = "wasm32")]
mod proxy;
#[cfg(target_arch = "wasm32")]
pub mod shield;

// The generated JS entry finds workers-rs's init exports through this crate.
#[cfg(target_arch = "wasm32")]
extern crate worker;

/// The worker's fetch handler: the origin proxy under the guard.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn fetch(
    request: web_sys::Request,
    env: wasm_bindgen::JsValue,
    _ctx: wasm_bindgen::JsValue,
) -> web_sys::Response {
    shield::run(request, &env, proxy::handle).await
}

/// Answers a request whose Wasm instance trapped: called by the JS entry on
/// the re-instantiated module, so the trap gets the uniform 500 and its log
/// record like every other failure.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn trap(
    request: web_sys::Request,
    env: wasm_bindgen::JsValue,
    message: wasm_bindgen::JsValue,
) -> web_sys::Response {
    // `message` stays a JS value: a Rust string argument would be copied into
    // the dead instance's memory before the glue re-instantiates the module.
    let message = message.as_string().unwrap_or_else(|| "Wasm trap".into());
    let shield = shield::Shield::get(&env);
    let incoming = shield::Incoming::new(request);
    shield.fail(
        &incoming,
        &failure::Failure::new(failure::Cause::WorkerTrap, message),
    )
}
