//! The origin proxy: the handler that runs under the guard. Sends the
//! request on (one call into `js/origin.js`), checks the status, and on a
//! failing status reads a capped excerpt of the body for the log. With
//! stale-if-error on, keeps good GETs and serves them when the origin fails.
//!
//! Two paths share this: the synchronous hot path ([`start`], then
//! [`failed`] only when the origin fails), where JS checks the status, and
//! the async [`handle`] for stale-if-error and retries.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use crate::config::Config;
use crate::failure::{Cause, Failure};
use crate::origin::{self, HOP_HEADER};
use crate::record::excerpt;
use crate::shield::{self, Incoming, Shield};
use crate::stale;

#[wasm_bindgen(module = "/src/js/origin.js")]
extern "C" {
    fn configure(failing: js_sys::Uint8Array, max_body_bytes: u32);

    fn proxied(
        request: &web_sys::Request,
        url: Option<String>,
        ms: u32,
        id: &str,
        forwarded_host: Option<&str>,
    ) -> js_sys::Promise;

    /// `proxied`'s outcome when the origin failed.
    pub type OriginFailure;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn id(this: &OriginFailure) -> String;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn started(this: &OriginFailure) -> f64;
    #[wasm_bindgen(method, getter)]
    fn status(this: &OriginFailure) -> Option<u16>;
    #[wasm_bindgen(method, getter)]
    fn body(this: &OriginFailure) -> js_sys::Uint8Array;
    #[wasm_bindgen(method, getter)]
    fn error(this: &OriginFailure) -> JsValue;

    #[wasm_bindgen(js_name = originFetch)]
    fn origin_fetch(
        request: &web_sys::Request,
        url: Option<String>,
        ms: u32,
        id: &str,
        forwarded_host: Option<&str>,
    ) -> js_sys::Promise;

    #[wasm_bindgen(js_name = bodyExcerpt)]
    fn body_excerpt(response: &Response, max: u32) -> js_sys::Promise;

    fn stash(
        request: &web_sys::Request,
        response: &Response,
        ctx: &JsValue,
        window_sec: u32,
    ) -> Response;

    #[wasm_bindgen(js_name = staleCopy)]
    fn stale_copy(request: &web_sys::Request) -> js_sys::Promise;

    #[wasm_bindgen(js_name = asStale)]
    fn as_stale(hit: &JsValue, age_sec: f64) -> Response;

    fn sleep(ms: u32) -> js_sys::Promise;
}

/// Hands the status check of the hot path to JS, once per isolate.
pub(crate) fn install(config: &Config) {
    let failing: Vec<u8> = (0..600)
        .map(|s| u8::from(config.failure_statuses.contains(s)))
        .collect();
    configure(
        js_sys::Uint8Array::from(&failing[..]),
        config.log_origin_body_bytes as u32,
    );
}

/// Whether the configuration needs the async [`handle`] (stale-if-error or
/// retries) rather than the hot path.
pub(crate) fn needs_async(config: &Config) -> bool {
    config.stale_if_error_seconds > 0 || config.retries > 0
}

/// The hot path: sends `incoming` on and returns the promise of the origin's
/// response, or of an [`OriginFailure`] for [`failed`].
pub(crate) fn start(
    config: &Config,
    incoming: &Incoming,
    hop: bool,
) -> Result<js_sys::Promise, Failure> {
    let (url, forwarded_host) = prepare(config, incoming, hop)?;
    Ok(proxied(
        &incoming.request,
        url,
        config.timeout_ms,
        &incoming.id,
        forwarded_host,
    ))
}

/// The failure behind the hot path's [`OriginFailure`].
pub(crate) fn failure_of(config: &Config, origin: &OriginFailure) -> Failure {
    match origin.status() {
        Some(status) => status_failure(config, status, &origin.body().to_vec()),
        None => fetch_failure(&origin.error(), config.timeout_ms),
    }
}

/// Proxies `incoming` to the origin; `Err` for every failure cause.
pub async fn handle(
    shield: &'static Shield,
    incoming: Rc<Incoming>,
    ctx: JsValue,
) -> Result<Response, Failure> {
    let config = shield.config.as_ref().map_err(Clone::clone)?;
    match forward(config, &incoming, &ctx).await {
        Err(failure) if config.stale_if_error_seconds > 0 && is_origin_failure(&failure) => {
            serve_stale(&incoming, failure).await
        }
        outcome => outcome,
    }
}

/// The checks before the fetch, and the outbound URL and forwarded host.
fn prepare<'a>(
    config: &Config,
    incoming: &'a Incoming,
    hop: bool,
) -> Result<(Option<String>, Option<&'a str>), Failure> {
    if hop {
        return Err(Failure::new(
            Cause::ConfigError,
            "request came back to the worker (ORIGIN_URL unset without a zone origin, or pointing at this worker)",
        )
        .with_context("variable", "ORIGIN_URL"));
    }
    if config.fault_injection {
        crate::fault::inject(incoming.header("x-fault-inject").as_deref())?;
    }
    Ok(match &config.origin {
        Some(base) => (
            Some(origin::outbound_url(base, &incoming.url)),
            Some(origin::host(&incoming.url)),
        ),
        None => (None, None),
    })
}

async fn forward(config: &Config, incoming: &Incoming, ctx: &JsValue) -> Result<Response, Failure> {
    let hop = incoming.header(HOP_HEADER).is_some();
    let (url, forwarded_host) = prepare(config, incoming, hop)?;
    let response = send(config, incoming, url, forwarded_host).await?;
    let status = response.status();
    if !config.failure_statuses.contains(status) {
        if config.stale_if_error_seconds > 0 {
            return Ok(keep_if_cacheable(config, incoming, response, status, ctx));
        }
        return Ok(response);
    }
    let max = config.log_origin_body_bytes;
    // Always read (or cancel) the body: the connection is released at once.
    let bytes = JsFuture::from(body_excerpt(&response, max as u32)).await;
    let bytes = bytes
        .map(|b| js_sys::Uint8Array::new(&b).to_vec())
        .unwrap_or_default();
    Err(status_failure(config, status, &bytes))
}

/// The failure of an origin response with a failing `status`, with the
/// excerpt of its body.
fn status_failure(config: &Config, status: u16, body: &[u8]) -> Failure {
    let mut failure = Failure::new(
        Cause::OriginErrorStatus,
        format!("origin answered {status}"),
    );
    failure.origin_status = Some(status);
    let max = config.log_origin_body_bytes;
    if max > 0 {
        failure.origin_body = Some(excerpt(body, max));
    }
    failure
}

/// One fetch, plus retries of `origin_unreachable` (idempotent, body-less
/// requests only) with a short jittered backoff, all within the timeout.
async fn send(
    config: &Config,
    incoming: &Incoming,
    url: Option<String>,
    forwarded_host: Option<&str>,
) -> Result<Response, Failure> {
    let req = &incoming.request;
    let retries = if config.retries > 0 && origin::retryable(&req.method(), req.body().is_some()) {
        config.retries
    } else {
        0
    };
    let deadline = js_sys::Date::now() + f64::from(config.timeout_ms);
    let mut attempt = 1;
    loop {
        let left = (deadline - js_sys::Date::now()).max(1.0) as u32;
        let sent = JsFuture::from(origin_fetch(
            req,
            url.clone(),
            left,
            &incoming.id,
            forwarded_host,
        ))
        .await;
        let mut failure = match sent {
            Ok(response) => return Ok(response.unchecked_into()),
            Err(e) => fetch_failure(&e, config.timeout_ms),
        };
        // With retries configured, every record says how many tries it took.
        if config.retries > 0 {
            failure.attempts = Some(attempt);
        }
        if failure.cause != Cause::OriginUnreachable || attempt > retries {
            return Err(failure);
        }
        let backoff = backoff_ms(attempt);
        if js_sys::Date::now() + f64::from(backoff) >= deadline {
            return Err(failure);
        }
        let _ = JsFuture::from(sleep(backoff)).await;
        attempt += 1;
    }
}

/// 25 ms, 50 ms, 100 ms, … plus up to 25 ms of jitter.
fn backoff_ms(attempt: u32) -> u32 {
    let mut jitter = [0u8; 1];
    let _ = getrandom::fill(&mut jitter);
    25 * (1 << attempt.saturating_sub(1).min(6)) + u32::from(jitter[0]) % 26
}

/// Classifies a rejected fetch.
fn fetch_failure(err: &JsValue, timeout_ms: u32) -> Failure {
    let error = err.dyn_ref::<js_sys::Error>();
    let name = error.map(|e| String::from(e.name())).unwrap_or_default();
    let message = error
        .map(|e| String::from(e.message()))
        .or_else(|| err.as_string())
        .unwrap_or_else(|| "fetch failed".into());
    if name == "TimeoutError" {
        Failure::new(
            Cause::OriginTimeout,
            format!("no response headers within {timeout_ms} ms"),
        )
    } else {
        Failure::new(Cause::OriginUnreachable, message)
    }
}

fn is_origin_failure(f: &Failure) -> bool {
    matches!(
        f.cause,
        Cause::OriginUnreachable | Cause::OriginTimeout | Cause::OriginErrorStatus
    )
}

fn is_personal(incoming: &Incoming) -> bool {
    let headers = incoming.request.headers();
    ["authorization", "cookie"]
        .iter()
        .any(|h| headers.has(h).unwrap_or(true))
}

/// Stores a tee of a cacheable response for stale-if-error, off the hot path.
fn keep_if_cacheable(
    config: &Config,
    incoming: &Incoming,
    response: Response,
    status: u16,
    ctx: &JsValue,
) -> Response {
    let headers = response.headers();
    let window = stale::window(
        &incoming.request.method(),
        is_personal(incoming),
        status,
        headers.has("set-cookie").unwrap_or(true),
        headers.get("cache-control").ok().flatten().as_deref(),
        config.stale_if_error_seconds,
    );
    match window {
        Some(w) => stash(&incoming.request, &response, ctx, w),
        None => response,
    }
}

/// The stored copy instead of the 500, when there is one within its window;
/// the failure is logged either way (here with `served_stale`).
async fn serve_stale(incoming: &Incoming, failure: Failure) -> Result<Response, Failure> {
    if incoming.request.method() != "GET" || is_personal(incoming) {
        return Err(failure);
    }
    let Ok(found) = JsFuture::from(stale_copy(&incoming.request)).await else {
        return Err(failure);
    };
    if found.is_null() {
        return Err(failure);
    }
    let found: js_sys::Array = found.unchecked_into();
    let (stored_at, window) = (
        found.get(1).as_f64().unwrap_or(0.0),
        found.get(2).as_f64().unwrap_or(0.0) as u32,
    );
    match stale::age(stored_at, window, js_sys::Date::now()) {
        Some(age) => {
            shield::log(incoming, &failure, true);
            Ok(as_stale(&found.get(0), age as f64))
        }
        None => Err(failure),
    }
}
