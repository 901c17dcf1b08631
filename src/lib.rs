//! error-shield: one uniform, safe HTTP 500 and one structured log record for
//! every failure of a Cloudflare Worker or of the origin it fronts.
//!
//! Used as a worker (the default `proxy` feature), it is an origin proxy: see
//! the README. Used as a library (`default-features = false`), it guards any
//! workers-rs handler: an `Err` or a panic becomes the uniform 500 in the
//! format the client's `Accept` asks for (problem JSON, HTML or text, with a
//! request id), and one JSON log line records what happened.
//!
//! ```no_run
//! use error_shield::{Failure, Shield};
//! use worker::{event, Context, Env, Request, Response, Result};
//!
//! #[event(fetch)]
//! async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
//!     Shield::from_env(&env).run(req, env, ctx, handle).await
//! }
//!
//! async fn handle(req: Request, _env: Env, _ctx: Context) -> std::result::Result<Response, Failure> {
//!     let id = req.path().trim_start_matches('/').parse::<u32>()
//!         // Context goes to the log record only, never to the client.
//!         .map_err(|e| Failure::from(worker::Error::RustError(e.to_string())).with_context("path", req.path()))?;
//!     Ok(Response::ok(format!("item {id}"))?)
//! }
//! # fn main() {}
//! ```
//!
//! The pure parts work anywhere, which is how they are tested:
//!
//! ```
//! use error_shield::{config::Config, negotiate::{negotiate, Format}, render::Renderer};
//!
//! let config = Config::default();
//! let format = negotiate(Some("text/html;q=0.5, application/json"), config.default_format);
//! assert_eq!(format, Format::Json);
//! let page = Renderer::new(&config).render(format, "req-1", false);
//! assert!(page.body.contains(r#""request_id":"req-1""#));
//! ```
#![warn(missing_docs)]

pub mod config;
pub mod failure;
pub mod negotiate;
pub mod origin;
pub mod record;
pub mod render;
pub mod request_id;
pub mod stale;
pub mod status;

#[cfg(feature = "proxy")]
mod fault;
#[cfg(feature = "proxy")]
mod proxy;
mod shield;

pub use failure::{Cause, Failure};
pub use shield::Shield;

/// The worker's fetch handler, synchronous (the hot path): the uniform 500
/// for a failure found before the fetch, else the promise of the origin's
/// response or of a failure for [`failed`]; `undefined` when the
/// configuration (stale-if-error, retries) needs [`fetch_async`]. The JS
/// entry passes what Rust needs of the request, saving calls back into JS.
#[cfg(feature = "proxy")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn start(
    request: web_sys::Request,
    env: wasm_bindgen::JsValue,
    url: String,
    request_id: Option<String>,
    cf_ray: Option<String>,
    hop: bool,
) -> wasm_bindgen::JsValue {
    shield::start(request, &env, url, request_id, cf_ray, hop)
}

/// The uniform 500 and the log record for a failure of the hot path's fetch.
#[cfg(feature = "proxy")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn failed(
    request: web_sys::Request,
    env: wasm_bindgen::JsValue,
    origin: proxy::OriginFailure,
) -> web_sys::Response {
    shield::failed(request, &env, &origin)
}

/// The worker's fetch handler as one future: the origin proxy under the
/// guard, with stale-if-error and retries.
#[cfg(feature = "proxy")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = fetchAsync)]
pub async fn fetch_async(
    request: web_sys::Request,
    env: wasm_bindgen::JsValue,
    ctx: wasm_bindgen::JsValue,
) -> web_sys::Response {
    shield::run(request, &env, |shield, incoming| {
        proxy::handle(shield, incoming, ctx)
    })
    .await
}

/// Answers a request whose Wasm instance trapped: called by the JS entry on
/// the re-instantiated module, so the trap gets the uniform 500 and its log
/// record like every other failure.
#[cfg(feature = "proxy")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn trap(
    request: web_sys::Request,
    env: wasm_bindgen::JsValue,
    message: wasm_bindgen::JsValue,
) -> web_sys::Response {
    // `message` stays a JS value: a Rust string argument would be copied into
    // the dead instance's memory before the glue re-instantiates the module.
    let message = message.as_string().unwrap_or_else(|| "Wasm trap".into());
    shield::trap(request, &env, message)
}
