//! Judging what came back, one arm per kind of outcome, in the order of
//! rescue: retries, then the fallback origin, then a stale copy, then the
//! uniform error. The circuit breaker hears of every answer it asked for;
//! an open circuit and a fail-open start here too, as one more step of the
//! same context.

use error_shield::parts::{catch, redact, Incoming};
use error_shield::{Cause, Failure};
use wasm_bindgen::JsValue;
use web_sys::Response;

use crate::breaker::{Admission, Limits, Transition};
use crate::context::{self, Carried, Context, Outcome};
use crate::isolate::{Isolate, Selected};
use crate::pipeline::{default_format, fail, jitter, record};
use crate::plan::{self, Plan, Rescue};
use crate::settings::{OnWorkerFailure, Settings};
use crate::verdict::{self, Next};
use crate::{origin, outcome, runtime};

/// One arm per kind of outcome.
pub fn judge(
    isolate: &Isolate,
    chosen: &Selected<'_>,
    incoming: &Incoming,
    exec: &JsValue,
    ctx: &Context,
    carried: &Carried,
    outcome: Outcome,
) -> JsValue {
    let settings = chosen.settings;
    let failure = match outcome {
        Outcome::Good(response) => {
            return good(isolate, chosen, incoming, exec, ctx, carried, response)
        }
        Outcome::Looped => {
            // The inner hop of a loop answered and wrote the one record.
            let status = verdict::status_for(settings.response_status, &plan::loop_failure());
            let format = default_format(isolate, chosen);
            return isolate.shield.respond(incoming, status, format).into();
        }
        Outcome::CacheHit(hit) => {
            let failure = context::carried_failure(ctx).unwrap_or_else(lost);
            if let Some(copy) = outcome::stale_copy(&hit) {
                let failure = failure.with_field("served_stale", true);
                record(chosen, incoming, &failure, copy.status());
                return copy.into();
            }
            return fail(isolate, &Ok(*chosen), incoming, &failure, Some(ctx)).into();
        }
        Outcome::CacheMiss => {
            let failure = context::carried_failure(ctx).unwrap_or_else(lost);
            return fail(isolate, &Ok(*chosen), incoming, &failure, Some(ctx)).into();
        }
        other => outcome::failure_of(settings, other, carried.attempts),
    };
    if carried.failed_open {
        // The origin failed the request we sent as it came: one record, the
        // worker's failure that started it.
        let failure = context::carried_failure(ctx).unwrap_or(failure);
        return fail(isolate, &Ok(*chosen), incoming, &failure, Some(ctx)).into();
    }
    let failure = if carried.fallen {
        // The record names the primary's failure and the fallback's cause.
        let primary = context::carried_failure(ctx).unwrap_or_else(lost);
        primary.with_field("fallback_cause", failure.cause.as_str())
    } else {
        failure
    };
    let elapsed = js_sys::Date::now() - carried.started;
    let next = verdict::next(
        &carried.rescue,
        &failure,
        carried.attempts,
        elapsed,
        jitter(),
        carried.fallen,
    );
    if !carried.fallen && failure.cause.is_origin() && !matches!(next, Next::Retry { .. }) {
        report(isolate, settings, carried, false);
    }
    then(
        isolate,
        chosen,
        incoming,
        ctx,
        &carried.rescue,
        &failure,
        next,
    )
}

/// Carries out the next step after `failure`.
fn then(
    isolate: &Isolate,
    chosen: &Selected<'_>,
    incoming: &Incoming,
    ctx: &Context,
    rescue: &Rescue,
    failure: &Failure,
    next: Next,
) -> JsValue {
    match (next, &rescue.fallback) {
        (
            Next::Retry {
                delay_ms,
                timeout_ms,
            },
            _,
        ) => runtime::retry(&incoming.request, ctx, delay_ms, timeout_ms).into(),
        (Next::Fallback, Some(url)) => {
            context::carry_failure(ctx, failure);
            ctx.set_target(url);
            ctx.set_fallen(true);
            // Its good answer comes back to be recorded as served.
            ctx.set_keep(true);
            runtime::retry(&incoming.request, ctx, 0, rescue.timeout_ms).into()
        }
        (Next::LookUp, _) => {
            context::carry_failure(ctx, failure);
            runtime::look_up(&incoming.request, ctx).into()
        }
        (Next::Fail | Next::Fallback, _) => {
            fail(isolate, &Ok(*chosen), incoming, failure, Some(ctx)).into()
        }
    }
}

/// A good answer Rust asked to see: the fallback's or a fail-open's (the
/// one record, then the answer), the breaker's probe or count, or a
/// stale-if-error candidate.
fn good(
    isolate: &Isolate,
    chosen: &Selected<'_>,
    incoming: &Incoming,
    exec: &JsValue,
    ctx: &Context,
    carried: &Carried,
    response: Response,
) -> JsValue {
    if carried.fallen || carried.failed_open {
        let failure = context::carried_failure(ctx).unwrap_or_else(lost);
        let failure = if carried.fallen {
            failure.with_field("fallback", "served")
        } else {
            failure
        };
        record(chosen, incoming, &failure, response.status());
        return runtime::pass(&response, ctx);
    }
    if carried.report {
        report(isolate, chosen.settings, carried, true);
    }
    if carried.rescue.stale {
        isolate
            .ledger
            .borrow_mut()
            .mark(&incoming.url, js_sys::Date::now());
        return outcome::keep(chosen.settings, incoming, response, exec, ctx);
    }
    runtime::pass(&response, ctx)
}

/// A failure judged before a step that did not survive it (it always
/// should): the worker's own.
fn lost() -> Failure {
    Failure::new(Cause::WorkerError, "the failure before this step was lost")
}

fn limits(s: &Settings) -> Limits {
    Limits {
        failures: s.circuit_failures,
        open_seconds: s.circuit_open_seconds,
        probe_ms: s.timeout_ms.saturating_add(1000),
    }
}

/// Tells the breaker of the request's origin how its answer went; one warn
/// line when that opens or closes the circuit.
fn report(isolate: &Isolate, s: &Settings, carried: &Carried, good: bool) {
    let Some(key) = &carried.circuit else { return };
    let now = js_sys::Date::now();
    let t = isolate
        .breakers
        .borrow_mut()
        .of(key)
        .report(&limits(s), good, now);
    let event = match t {
        Transition::Opened => "circuit_open",
        Transition::Closed => "circuit_closed",
        Transition::None => return,
    };
    // A struct, not a map: serde writes its fields in this order.
    #[derive(serde::Serialize)]
    struct Line<'a> {
        level: &'static str,
        event: &'static str,
        origin: &'a str,
    }
    let origin = redact::configured(key);
    let line = Line {
        level: "warn",
        event,
        origin: &origin,
    };
    let text = serde_json::to_string(&line).unwrap_or_default();
    web_sys::console::warn_1(&JsValue::from_str(&text));
}

/// Before the fetch: whether the breaker lets the request go. `Some`: it
/// does not, and this is the step instead (the fallback, a stale copy, or
/// the uniform error at once with `Retry-After`).
pub fn admit(
    isolate: &Isolate,
    chosen: &Selected<'_>,
    incoming: &Incoming,
    ctx: &Context,
    plan: &Plan,
) -> Option<JsValue> {
    let key = plan.circuit.as_deref()?;
    ctx.set_circuit(key);
    let now = js_sys::Date::now();
    let admission = isolate
        .breakers
        .borrow_mut()
        .of(key)
        .admit(&limits(chosen.settings), now);
    let retry_after = match admission {
        Admission::Pass { report: false } => return None,
        Admission::Pass { report: true } | Admission::Probe => {
            // The answer comes back to Rust to be counted.
            ctx.set_report(true);
            ctx.set_keep(true);
            return None;
        }
        Admission::Reject { retry_after } => retry_after,
    };
    let failure = Failure::new(
        Cause::OriginUnreachable,
        format!("circuit open: the origin is not contacted for {retry_after} s"),
    )
    .with_field("circuit", "open");
    ctx.set_open_for(retry_after);
    let next = match (&plan.rescue.fallback, plan.rescue.stale) {
        (Some(_), _) => Next::Fallback,
        (None, true) => Next::LookUp,
        (None, false) => Next::Fail,
    };
    Some(then(
        isolate,
        chosen,
        incoming,
        ctx,
        &plan.rescue,
        &failure,
        next,
    ))
}

/// With `ON_WORKER_FAILURE=fail-open`, the worker's own failure before the
/// fetch: the request goes to the origin as it came (the id and forwarded
/// host added, nothing else decided), with the failure carried for its one
/// record (`failed_open`). `None`: the uniform error stays.
pub fn fail_open(
    selected: &Result<Selected<'_>, Failure>,
    incoming: &Incoming,
    url: &JsValue,
    failure: &Failure,
) -> Option<JsValue> {
    let chosen = selected.as_ref().ok()?;
    let s = chosen.settings;
    let worker = matches!(
        failure.cause,
        Cause::WorkerError | Cause::WorkerPanic | Cause::WorkerTrap
    );
    if !worker || s.on_worker_failure != OnWorkerFailure::FailOpen {
        return None;
    }
    // Planned afresh and minimally; should even that fail, the uniform error.
    catch(|| {
        let plan = Plan {
            url: s
                .origin
                .as_ref()
                .map(|b| origin::outbound_url(b, &incoming.url)),
            forwarded_host: s
                .origin
                .as_ref()
                .map(|_| origin::host(&incoming.url).to_owned()),
            rescue: Rescue {
                timeout_ms: s.timeout_ms,
                retries: 0,
                stale: false,
                fallback: None,
            },
            circuit: None,
        };
        let ctx = context::create(
            url,
            chosen.index,
            &incoming.id,
            incoming.trace_id.as_deref(),
            &plan,
        );
        context::carry_failure(&ctx, &failure.clone().with_field("failed_open", true));
        ctx.set_failed_open(true);
        ctx.set_keep(true);
        Ok(runtime::execute(&incoming.request, &ctx).into())
    })
    .ok()
}
