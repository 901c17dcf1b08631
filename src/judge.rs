//! Judging what came back, one arm per kind of outcome, in the order of
//! rescue: retries, then the fallback origin, then a stale copy, then the
//! uniform error. The circuit breaker hears of the answers it asked for.

use error_shield::{Cause, Failure};
use wasm_bindgen::JsValue;
use web_sys::Response;

use crate::answer::{default_format, fail, record};
use crate::circuit;
use crate::context::{self, Carried, Context, Outcome};
use crate::credentials::Secrets;
use crate::isolate::{Isolate, Selected};
use crate::plan::{self, Rescue};
use crate::verdict::{self, Next};
use crate::{outcome, runtime};

/// What every step of one request works with.
pub struct Step<'a> {
    /// The isolate's state.
    pub isolate: &'static Isolate,
    /// The request's settings.
    pub chosen: &'a Selected<'a>,
    /// The request.
    pub incoming: &'a error_shield::parts::Incoming,
    /// Its context.
    pub ctx: &'a Context,
}

impl Step<'_> {
    /// The uniform error for `failure`, with its one record.
    fn fail(&self, failure: &Failure) -> JsValue {
        let selected = Ok(*self.chosen);
        fail(
            self.isolate,
            &selected,
            self.incoming,
            failure,
            Some(self.ctx),
        )
        .into()
    }
}

/// One arm per kind of outcome.
pub fn judge(s: &Step<'_>, exec: &JsValue, carried: &Carried, outcome: Outcome) -> JsValue {
    let settings = s.chosen.settings;
    match outcome {
        Outcome::Good(response) => good(s, exec, carried, response),
        Outcome::Looped => {
            // The inner hop of a loop answered and wrote the one record.
            let status = verdict::status_for(settings.response_status, &plan::loop_failure());
            let format = default_format(s.isolate, s.chosen);
            let response = s.isolate.shield.respond(s.incoming, status, format);
            crate::pages::mark(&response, &s.incoming.request, false);
            response.into()
        }
        Outcome::CacheHit(hit) => {
            let failure = context::carried_failure(s.ctx).unwrap_or_else(lost);
            match outcome::stale_copy(&hit, s.incoming) {
                Some(copy) => {
                    let failure = failure.with_field("served_stale", true);
                    record(Some(s.chosen), s.incoming, &failure, copy.status());
                    copy.into()
                }
                None => s.fail(&failure),
            }
        }
        Outcome::CacheMiss => s.fail(&context::carried_failure(s.ctx).unwrap_or_else(lost)),
        other => {
            let secrets = || {
                let token = settings.maintenance.bypass_token.as_deref();
                Secrets::of(|name| s.incoming.header(name), token)
            };
            let failure = outcome::failure_of(settings, other, carried.attempts, secrets);
            failed(s, carried, failure)
        }
    }
}

/// After a failed attempt: the one record's failure, the breaker told, and
/// the next step.
fn failed(s: &Step<'_>, carried: &Carried, failure: Failure) -> JsValue {
    if carried.failed_open {
        // The origin failed the request sent as it came: one record, the
        // worker's failure that started it.
        return s.fail(&context::carried_failure(s.ctx).unwrap_or(failure));
    }
    let mut failure = if carried.fallen {
        // The record names the primary's failure and the fallback's cause.
        let primary = context::carried_failure(s.ctx).unwrap_or_else(lost);
        primary.with_field("fallback_cause", failure.cause.as_str())
    } else {
        failure
    };
    let elapsed = js_sys::Date::now() - carried.started;
    let r = &carried.rescue;
    let next = verdict::next(
        r,
        &failure,
        carried.attempts,
        elapsed,
        jitter(),
        carried.fallen,
    );
    let last = !carried.fallen && !matches!(next, Next::Retry { .. });
    if last && failure.cause.is_origin() && circuit::report(s, carried, false) {
        failure.set_field("circuit", "open");
    }
    then(s, r, &failure, next)
}

/// Carries out the next step after `failure`.
pub fn then(s: &Step<'_>, rescue: &Rescue, failure: &Failure, next: Next) -> JsValue {
    let (request, ctx) = (&s.incoming.request, s.ctx);
    match (next, &rescue.fallback) {
        (
            Next::Retry {
                delay_ms,
                timeout_ms,
            },
            _,
        ) => runtime::retry(request, ctx, delay_ms, timeout_ms).into(),
        (Next::Fallback, Some(url)) => {
            context::carry_failure(ctx, failure);
            ctx.set_target(url);
            ctx.set_fallen(true);
            // Its good answer comes back to be recorded as served.
            ctx.set_keep(true);
            runtime::retry(request, ctx, 0, rescue.timeout_ms).into()
        }
        (Next::LookUp, _) => {
            context::carry_failure(ctx, failure);
            runtime::look_up(ctx).into()
        }
        (Next::Fail | Next::Fallback, _) => s.fail(failure),
    }
}

/// A good answer Rust asked to see: the fallback's or a fail-open's (the
/// one record, then the answer), the breaker's probe or count, or a
/// stale-if-error candidate due for storing.
fn good(s: &Step<'_>, exec: &JsValue, carried: &Carried, response: Response) -> JsValue {
    if carried.fallen || carried.failed_open {
        let failure = context::carried_failure(s.ctx).unwrap_or_else(lost);
        let failure = if carried.fallen {
            failure.with_field("fallback", "served")
        } else {
            failure
        };
        record(Some(s.chosen), s.incoming, &failure, response.status());
        return runtime::pass(&response, s.ctx);
    }
    if carried.report {
        circuit::report(s, carried, true);
    }
    if let Some(key) = carried.store.then(|| s.ctx.cache_key()).flatten() {
        s.isolate
            .ledger
            .borrow_mut()
            .mark(&key, js_sys::Date::now());
        return outcome::keep(s, response, exec);
    }
    runtime::pass(&response, s.ctx)
}

/// A failure judged before a step that did not survive it (it always
/// should): the worker's own.
fn lost() -> Failure {
    Failure::new(Cause::WorkerError, "the failure before this step was lost")
}

/// A random byte for the backoff's jitter.
fn jitter() -> u8 {
    let mut b = [0u8; 1];
    let _ = getrandom::fill(&mut b);
    b[0]
}
