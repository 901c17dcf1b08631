//! The one request pipeline, for every configuration: [`decide`] plans the
//! request and starts the executor; [`conclude`] judges what came back and
//! either answers or starts the next step. Both are synchronous and run
//! under the guard's `catch`: a panic is a `worker_panic` like any failure.

use error_shield::incoming::Incoming;
use error_shield::{answer, panic, request_id, Failure};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Request, Response};

use crate::isolate::Isolate;
use crate::plan::{self, Plan, Traits};
use crate::runtime::{self, Outcome};
use crate::settings::Settings;
use crate::verdict::{self, Attempt, Next};
use crate::{constants, fault, stale};

/// The request as the entry read it.
pub struct Arrival {
    /// The incoming request.
    pub request: Request,
    /// Its URL.
    pub url: String,
    /// The client's `X-Request-Id`.
    pub client_id: Option<String>,
    /// `cf-ray`.
    pub cf_ray: Option<String>,
    /// Whether it carries our hop marker (it came back to the worker).
    pub hop: bool,
}

/// The first step: an answer found before the fetch, or the promise of the
/// executor's first attempt.
pub fn decide(env: &JsValue, a: Arrival) -> JsValue {
    let isolate = Isolate::get(env);
    let id = request_id::choose(
        a.client_id.as_deref(),
        a.cf_ray.as_deref(),
        request_id::mint,
    );
    let incoming = Incoming::known(a.request, a.url, id, None);
    let started = panic::catch(|| {
        let settings = isolate.settings.as_ref().map_err(Clone::clone)?;
        if a.hop {
            return Err(plan::loop_failure());
        }
        if settings.fault_injection {
            fault::inject(incoming.header("x-fault-inject").as_deref())?;
        }
        let plan = Plan::new(settings, &incoming.url, || traits(&incoming.request));
        Ok(runtime::execute(
            &incoming.request,
            plan.url,
            &incoming.id,
            plan.forwarded_host,
            plan.timeout_ms,
            plan.stale,
        ))
    });
    match started {
        Ok(promise) => promise.into(),
        Err(failure) => {
            let response = isolate.shield.fail(&incoming, &failure);
            if a.hop {
                // Tells the outer hop that this 500 is ours and recorded.
                let _ = response.headers().set(constants::HOP, constants::LOOPED);
            }
            response.into()
        }
    }
}

/// The next step after the executor handed back an [`Outcome`]: a stored
/// good response, the uniform error, a stale copy, or the promise of a
/// retry or a cache look-up.
pub fn conclude(env: &JsValue, request: Request, ctx: &JsValue, outcome: &Outcome) -> JsValue {
    let isolate = Isolate::get(env);
    let url = request.url();
    let incoming = Incoming::known(request, url, outcome.id(), Some(outcome.started()));
    let step = panic::catch(|| {
        let settings = isolate.settings.as_ref().map_err(Clone::clone)?;
        if let Some(response) = outcome.response() {
            return Ok(keep(settings, &incoming, response, ctx).into());
        }
        let plan = Plan::new(settings, &incoming.url, || traits(&incoming.request));
        if outcome.looped() {
            // The inner hop of a loop answered and wrote the one record.
            return Ok(isolate
                .shield
                .respond(&incoming, error_shield::STATUS)
                .into());
        }
        let failure = failure_of(settings, outcome);
        if outcome.looked() {
            return Ok(serve_stale(isolate, &incoming, outcome, &failure).into());
        }
        let elapsed = js_sys::Date::now() - outcome.started();
        Ok(
            match verdict::next(&plan, &failure, outcome.attempts(), elapsed, jitter()) {
                Next::Retry {
                    delay_ms,
                    timeout_ms,
                } => runtime::retry(&incoming.request, outcome, delay_ms, timeout_ms).into(),
                Next::LookUp => runtime::look_up(&incoming.request, outcome).into(),
                Next::Fail => isolate.shield.fail(&incoming, &failure).into(),
            },
        )
    });
    step.unwrap_or_else(|failure| isolate.shield.fail(&incoming, &failure).into())
}

/// The uniform 500 for a request whose instance trapped, under the id it
/// already had (sent to the origin) when there was one.
pub fn trap(env: &JsValue, request: Request, message: &str, id: Option<String>) -> Response {
    let isolate = Isolate::get(env);
    let mut incoming = Incoming::new(request);
    if let Some(id) = id {
        incoming.id = id;
    }
    let failure = Failure::new(error_shield::Cause::WorkerTrap, first_frames(message));
    isolate.shield.fail(&incoming, &failure)
}

/// The error and its first frames: enough to find the trap, short enough
/// to read.
fn first_frames(message: &str) -> String {
    let head: Vec<&str> = message.lines().take(6).collect();
    head.join("\n").chars().take(1000).collect()
}

/// Method, body and credentials: read only when a feature needs them.
fn traits(request: &Request) -> Traits {
    let headers = request.headers();
    Traits {
        method: request.method(),
        has_body: request.body().is_some(),
        personal: ["authorization", "cookie"]
            .iter()
            .any(|h| headers.has(h).unwrap_or(true)),
    }
}

/// The failure of the attempt, as the executor saw it.
fn failure_of(settings: &Settings, outcome: &Outcome) -> Failure {
    let attempts = outcome.attempts();
    if let Some(status) = outcome.status() {
        let bytes = outcome.excerpt().map(|b| b.to_vec()).unwrap_or_default();
        let attempt = Attempt::Status {
            status,
            excerpt: &bytes,
        };
        return verdict::classify(settings, attempt, attempts);
    }
    if outcome.timed_out() {
        return verdict::classify(settings, Attempt::TimedOut, attempts);
    }
    let error = outcome.error();
    let message = error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "fetch failed".into());
    verdict::classify(settings, Attempt::Unreachable(message), attempts)
}

/// A good response: stored for stale-if-error when it may be.
fn keep(settings: &Settings, incoming: &Incoming, response: Response, ctx: &JsValue) -> Response {
    let headers = response.headers();
    let window = stale::window(
        response.status(),
        headers.has("set-cookie").unwrap_or(true),
        headers.get("cache-control").ok().flatten().as_deref(),
        settings.stale_if_error_seconds,
    );
    match window {
        Some(w) => runtime::stash(&incoming.request, &response, ctx, w),
        None => response,
    }
}

/// After the look-up: the stored copy within its window (the failure still
/// recorded, with `served_stale`), else the uniform error.
fn serve_stale(
    isolate: &Isolate,
    incoming: &Incoming,
    outcome: &Outcome,
    failure: &Failure,
) -> Response {
    let found = outcome.hit().and_then(|hit| {
        let stored_at = hit.get(1).as_f64()?;
        let window = hit.get(2).as_f64()? as u32;
        let age = stale::age(stored_at, window, js_sys::Date::now())?;
        Some((hit.get(0), age))
    });
    match found {
        Some((copy, age)) => {
            let response = runtime::as_stale(&copy, age as f64);
            answer::record(incoming, failure, response.status(), true);
            response
        }
        None => isolate.shield.fail(incoming, failure),
    }
}

/// A random byte for the backoff's jitter.
fn jitter() -> u8 {
    let mut b = [0u8; 1];
    let _ = getrandom::fill(&mut b);
    b[0]
}
