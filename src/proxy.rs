//! The origin proxy: the handler that runs under the guard. Sends the
//! request on (one call into `js/origin.js`), checks the status, and on a
//! failing status reads a capped excerpt of the body for the log.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use crate::config::Config;
use crate::failure::{Cause, Failure};
use crate::origin::{self, HOP_HEADER};
use crate::record::excerpt;
use crate::shield::{Incoming, Shield};

#[wasm_bindgen(module = "/src/js/origin.js")]
extern "C" {
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
}

/// Proxies `incoming` to the origin; `Err` for every failure cause.
pub async fn handle(shield: &'static Shield, incoming: Rc<Incoming>) -> Result<Response, Failure> {
    let config = shield.config.as_ref().map_err(Clone::clone)?;
    if incoming.header(HOP_HEADER).is_some() {
        return Err(Failure::new(
            Cause::ConfigError,
            "request came back to the worker (ORIGIN_URL unset without a zone origin, or pointing at this worker)",
        )
        .with_context("variable", "ORIGIN_URL"));
    }
    if config.fault_injection {
        crate::fault::inject(incoming.header("x-fault-inject").as_deref()).await?;
    }
    let (url, forwarded_host) = match &config.origin {
        Some(base) => (
            Some(origin::outbound_url(base, &incoming.url)),
            Some(origin::host(&incoming.url)),
        ),
        None => (None, None),
    };
    let response = send(config, &incoming, url, forwarded_host).await?;
    let status = response.status();
    if !config.failure_statuses.contains(status) {
        return Ok(response);
    }
    let mut failure = Failure::new(
        Cause::OriginErrorStatus,
        format!("origin answered {status}"),
    );
    failure.origin_status = Some(status);
    if config.log_origin_body_bytes > 0 {
        let bytes = JsFuture::from(body_excerpt(&response, config.log_origin_body_bytes as u32))
            .await
            .map(|b| js_sys::Uint8Array::new(&b).to_vec())
            .unwrap_or_default();
        failure.origin_body = Some(excerpt(&bytes, config.log_origin_body_bytes));
    } else {
        let _ = JsFuture::from(body_excerpt(&response, 0)).await;
    }
    Err(failure)
}

/// One fetch, plus retries of `origin_unreachable` when configured.
async fn send(
    config: &Config,
    incoming: &Incoming,
    url: Option<String>,
    forwarded_host: Option<&str>,
) -> Result<Response, Failure> {
    let retry = config.retries > 0 && {
        let req = &incoming.request;
        origin::retryable(&req.method(), req.body().is_some())
    };
    let attempts_allowed = if retry { config.retries + 1 } else { 1 };
    let mut attempt = 1;
    loop {
        let result = JsFuture::from(origin_fetch(
            &incoming.request,
            url.clone(),
            config.timeout_ms,
            &incoming.id,
            forwarded_host,
        ))
        .await;
        match result {
            Ok(response) => return Ok(response.unchecked_into()),
            Err(err) => {
                let mut failure = fetch_failure(&err, config.timeout_ms);
                if retry {
                    failure.attempts = Some(attempt);
                }
                if failure.cause != Cause::OriginUnreachable || attempt >= attempts_allowed {
                    return Err(failure);
                }
                attempt += 1;
            }
        }
    }
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
