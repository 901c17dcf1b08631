//! error-shield: one uniform, safe HTTP error and one structured log record
//! for every failure of a Cloudflare Worker written with workers-rs.
//!
//! Run your handler under [`Shield::run`]: an `Err` (a
//! [`worker::Error`](https://docs.rs/worker/0.8/worker/enum.Error.html), a
//! [`Failure`] with context, or anything that converts into one), a panic or
//! a Wasm trap becomes the uniform 500 in the format the client's `Accept` asks for
//! (RFC 9457 problem JSON, an HTML page or plain text, each with a request
//! id), and one JSON line on `console.error` records what happened — the
//! details the client must never see.
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
//! The variables `ERROR_TITLE`, `ERROR_MESSAGE`, `SUPPORT_URL`,
//! `PROBLEM_TYPE`, `ERROR_PAGE_HTML` and `DEFAULT_FORMAT` shape the answer
//! ([`Page`]); an invalid one makes every request a `config_error`. An
//! app that binds a folder of pages as `ERROR_PAGES` (Workers static
//! assets) gets a page per status and language from it (`503.html`,
//! `5xx.de.html`, `messages.de.json`, …; see the README). Build
//! with `worker-build --release --panic-unwind` (a nightly toolchain with
//! `rust-src`): a wasm32 build without unwinding does not compile. The
//! guard's panic hook replaces the one it finds, so a panic's record is its
//! only line; a panic outside [`Shield::run`] (a `ctx.wait_until` future, a
//! `Drop`) still gets a `worker_panic` record, and one in
//! [`Shield::wait_until`] gets nothing else. A trap is answered from the
//! fresh instance, for the request that trapped and every other request
//! the dead instance was serving under [`Shield::run`] (see the README).
//! Each failure also goes on the request's root span (Workers tracing:
//! `error.type`, `error_shield.request_id`, …, an exception for an `Err`, a
//! panic or a trap), taken as the request entered; its record's `trace_id`
//! names that trace.
//!
//! The pure parts work anywhere, which is how they are tested:
//!
//! ```
//! use error_shield::parts::Renderer;
//! use error_shield::{Format, Page};
//!
//! let page = Page::default();
//! let rendered = Renderer::new(&page).render(Format::Json, "req-1", false);
//! assert!(rendered.body.contains(r#""request_id":"req-1""#));
//! ```
//!
//! A worker that drives the guard by hand, without [`Shield::run`] (as
//! error-shield's own origin proxy does), finds the pieces in [`parts`].
#![warn(missing_docs)]

// Without unwinding a panic aborts the instance: no answer, no record. Loud
// at build time, since cargo hides a dependency's warnings.
#[cfg(all(target_arch = "wasm32", not(panic = "unwind")))]
compile_error!(
    "error-shield needs panics to unwind: build with `worker-build --release --panic-unwind` \
     (a nightly toolchain with the rust-src component)"
);

mod answer;
mod body;
mod failure;
mod fit;
mod format;
mod html;
mod incoming;
mod negotiate;
mod page;
mod pages;
mod panic;
pub mod parts;
mod per_isolate;
mod record;
mod redact;
mod render;
mod request_id;
#[cfg(feature = "workers-rs")]
mod served;
mod shield;
mod status;
mod template;
mod trace;
#[cfg(feature = "workers-rs")]
mod trap;
mod url;
mod vars;

pub use failure::{Cause, Failure};
pub use format::Format;
pub use page::Page;
pub use shield::Shield;

#[cfg(test)]
mod properties;
