//! The one request pipeline, for every configuration: [`decide`] plans the
//! request, creates its context and starts the executor; [`conclude`]
//! continues from the context with what came back and either answers or
//! starts the next step. Both are synchronous and run under the guard's
//! `catch`: a panic is a `worker_panic` like any failure.

use error_shield::parts::redact;
use error_shield::parts::trace::Span;
use error_shield::parts::{catch, Ids, Incoming};
use error_shield::{Cause, Failure};
use wasm_bindgen::JsValue;
use web_sys::Request;

use super::came::{self, Outcome};
use super::carry_out::{self, Corridor, Underway};
use super::executor::Context;
use super::isolate::Isolate;
use super::{constants, start};
use crate::answer::uniform::{fail, looped, record};
use crate::config::hop::{loop_failure, Arrival as Marked};
use crate::config::maintenance::BYPASS_HEADER;
use crate::fault;
use crate::rescue::journey::{Journey, Stage};

/// The request as the entry read it.
pub struct Arrival {
    /// The incoming request.
    pub request: Request,
    /// Its URL, as the entry holds it (carried in the context uncopied).
    pub url: JsValue,
    /// The client's `X-Request-Id`.
    pub client_id: Option<String>,
    /// `traceparent`.
    pub traceparent: Option<String>,
    /// `cf-ray`.
    pub cf_ray: Option<String>,
    /// The hop markers it carries: ours when it came back to the worker.
    pub hop: Option<String>,
    /// Its root span, taken when it entered.
    pub span: JsValue,
}

/// Where a trap or a rejected promise caught the request.
pub struct At {
    /// The id it already had (none: not sent yet).
    pub id: Option<String>,
    /// A trap, not a rejected promise.
    pub trapped: bool,
    /// The request is on its way.
    pub sent: bool,
    /// Its root span, taken when it entered.
    pub span: JsValue,
}

/// The first step: an answer found before the fetch, or the promise of the
/// executor's first attempt.
pub fn decide(env: &JsValue, a: Arrival) -> JsValue {
    let isolate = Isolate::get(env);
    let ids = Ids::choose(a.client_id, a.traceparent, a.cf_ray);
    let url = a.url.as_string().unwrap_or_default();
    let mut incoming = Incoming::known(a.request, url, ids, None);
    incoming.span = Span::new(a.span);
    let found = isolate.rule_for(&incoming.url);
    // Anyone else's marker (a client's, another deployment's) is passed on.
    // Their nonces are read only beside markers: most requests have none.
    let nonce = a
        .hop
        .as_ref()
        .and_then(|_| incoming.header(constants::NONCE));
    let arrival = isolate.hop.arrival(a.hop.as_deref(), nonce.as_deref());
    let started = catch(|| {
        let rule = found.as_ref().map_err(Clone::clone)?;
        let settings = rule.settings;
        let Marked::Ordinary(before) = &arrival else {
            return Err(loop_failure());
        };
        // The bypass token, read only when one is configured.
        let bypass = settings
            .maintenance
            .bypass_token
            .as_ref()
            .and_then(|_| incoming.header(BYPASS_HEADER));
        if let Some(answer) = start::maintenance(isolate, rule, &incoming, bypass.as_deref()) {
            return Ok(answer.into());
        }
        if settings.fault_injection {
            fault::inject(incoming.header("x-fault-inject").as_deref())?;
        }
        let hop = isolate.onward(before);
        Ok(start::first(
            isolate,
            rule,
            &incoming,
            &a.url,
            bypass.is_some(),
            &hop,
        ))
    });
    started.unwrap_or_else(|failure| match &arrival {
        // Our marker came back: maybe a loop, maybe a client replaying
        // it. Nothing is written here; the signal tells the hop that sent
        // it, the only one that knows.
        Marked::Back(signal) => {
            looped(&isolate.shield, found.as_ref().ok(), &incoming, signal).into()
        }
        Marked::Ordinary(before) => {
            let hop = isolate.onward(before);
            if let Some(step) = start::fail_open(&found, &incoming, &a.url, &failure, &hop) {
                return step;
            }
            fail(&isolate.shield, &found, &incoming, &failure, None).into()
        }
    })
}

/// The next step after the executor handed back the request's context
/// with what came back: a stored good response, the uniform error, a stale
/// copy, or the promise of a retry or a cache look-up.
pub fn conclude(
    env: &JsValue,
    request: Request,
    exec: &JsValue,
    ctx: &Context,
    span: JsValue,
) -> JsValue {
    let isolate = Isolate::get(env);
    let journey = read(ctx);
    let mut incoming = resume(request, journey.as_ref().ok());
    incoming.span = Span::new(span);
    let found = journey
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|j| isolate.rule(j.rule));
    let step = catch(|| {
        let rule = found.as_ref().map_err(Clone::clone)?;
        let journey = journey.clone()?;
        let outcome = Outcome::read(&ctx.came())?;
        let u = Underway {
            isolate,
            rule,
            incoming: &incoming,
            corridor: Corridor::Started(ctx),
        };
        Ok(carry_out::conclude(&u, exec, journey, outcome))
    });
    step.unwrap_or_else(|failure| fail(&isolate.shield, &found, &incoming, &failure, None).into())
}

/// The one record of a body that broke after its headers went to the
/// client: no answer, the client already has the origin's status.
pub fn broken(env: &JsValue, request: Request, ctx: &Context, span: JsValue) {
    let isolate = Isolate::get(env);
    let journey = read(ctx);
    let mut incoming = resume(request, journey.as_ref().ok());
    // Under way, the body keeps the root span open: the failure goes on it.
    // Should the span have ended, the runtime ignores what is set on it:
    // the record alone tells (and still names the trace).
    incoming.span = Span::new(span);
    let found = journey
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|j| isolate.rule(j.rule));
    let came = ctx.came();
    let recorded = catch(|| {
        let rule = found.as_ref().map_err(Clone::clone)?;
        let journey = journey.clone()?;
        let outcome = Outcome::read(&came)?;
        let status = match outcome {
            // The client's leaving broke the pipe: no failure, no record.
            Outcome::BodyBroken { left: true, .. } => return Ok(()),
            Outcome::BodyBroken { status, .. } => status,
            _ => 0,
        };
        // A broken body has no excerpt: no credentials to read.
        let failure = came::failure_of(rule.settings, outcome, journey.attempts, Default::default);
        // The fallback's body: a second failure, naming the origin that failed.
        let at_fallback = matches!(journey.stage, Stage::Fallback { .. });
        let failure = match (at_fallback, &rule.settings.fallback) {
            (true, Some(url)) => failure.with_field("origin", redact::configured(url)),
            _ => failure,
        };
        record(Some(rule), &incoming, &failure, status);
        Ok(())
    });
    if let Err(failure) = recorded {
        let status = js_sys::Reflect::get(&came, &JsValue::from_str("status"))
            .ok()
            .and_then(|s| s.as_f64())
            .unwrap_or(0.0);
        record(None, &incoming, &failure, status as u16);
    }
}

/// The uniform 500 for a request whose instance trapped (or whose promise
/// was rejected), under the id it already had when there was one; without
/// one the request was not sent yet, and fail-open may still send it.
pub fn trap(env: &JsValue, request: Request, message: &str, at: At) -> JsValue {
    let At {
        id,
        trapped,
        sent,
        span,
    } = at;
    let isolate = Isolate::get(env);
    let mut incoming = Incoming::new(request);
    incoming.span = Span::new(span);
    if let Some(id) = id {
        incoming.id = id;
    }
    let found = isolate.rule_for(&incoming.url);
    let cause = if trapped {
        Cause::WorkerTrap
    } else {
        Cause::WorkerError
    };
    let failure = Failure::new(cause, first_frames(message));
    // A request that came back to the worker never fails open: that would
    // loop for as long as each hop traps.
    let arrival = isolate.hop.arrival(
        incoming.header(constants::HOP).as_deref(),
        incoming.header(constants::NONCE).as_deref(),
    );
    if let (false, Marked::Ordinary(before)) = (sent, &arrival) {
        let url = JsValue::from_str(&incoming.url);
        let hop = isolate.onward(before);
        if let Some(step) = start::fail_open(&found, &incoming, &url, &failure, &hop) {
            return step;
        }
    }
    fail(&isolate.shield, &found, &incoming, &failure, None).into()
}

/// The journey the executor carried back; one it cannot have carried (the
/// executor and Rust out of step) is the worker's own failure.
fn read(ctx: &Context) -> Result<Journey, Failure> {
    ctx.journey()
        .as_deref()
        .and_then(Journey::from_text)
        .ok_or_else(|| Failure::new(Cause::WorkerError, "the executor carried back no journey"))
}

/// The request of a journey: the ids `decide` gave it, its arrival.
fn resume(request: Request, j: Option<&Journey>) -> Incoming {
    let url = request.url();
    match j {
        Some(j) => {
            let ids = Ids {
                id: j.id.clone(),
                trace_id: j.trace_id.clone(),
            };
            Incoming::known(request, url, ids, Some(j.started))
        }
        None => Incoming::new(request),
    }
}

/// The error and its first frames: enough to find the trap, short enough
/// to read.
fn first_frames(message: &str) -> String {
    let head: Vec<&str> = message.lines().take(6).collect();
    head.join("\n").chars().take(1000).collect()
}
