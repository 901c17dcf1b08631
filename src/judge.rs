//! Judging what came back, one arm per kind of outcome, in the order of
//! rescue: retries, then the fallback origin, then a stale copy, then the
//! uniform error. The circuit breaker hears of the answers it asked for.

use error_shield::{Cause, Failure};
use wasm_bindgen::JsValue;
use web_sys::Response;

use crate::answer::{self, fail, record};
use crate::circuit;
use crate::context::{self, Carried, Context, Outcome};
use crate::credentials::Secrets;
use crate::hop::Answered;
use crate::isolate::{Isolate, Selected};
use crate::plan::{self, Rescue};
use crate::verdict::{self, Next};
use crate::{outcome, runtime, trace, upload};

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
    pub fn fail(&self, failure: &Failure) -> JsValue {
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
        Outcome::Signalled { response, signal } => signalled(s, carried, &response, &signal),
        Outcome::UploadStalled { sent } => upload::ended(s, carried, upload::STALLED, sent),
        Outcome::UploadBroken { sent } => upload::ended(s, carried, upload::BROKEN, sent),
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

/// An answer carrying a loop signal: our own request came back (the
/// loop's one record is ours; through the fallback, the primary's failure
/// with `fallback_cause: "config_error"`), another deployment's loop
/// passing back through us (its signal passed on, nothing written), or no
/// loop at all (judged as any answer). A loop never counts toward the
/// breaker: it is no failure of the origin's.
fn signalled(s: &Step<'_>, carried: &Carried, response: &Response, signal: &str) -> JsValue {
    let answered = s
        .isolate
        .hop
        .answered(&s.ctx.nonce(), signal, response.status());
    if answered == Answered::Not {
        return runtime::heard(response, s.ctx);
    }
    runtime::let_go(response);
    if answered == Answered::Ours || carried.fallen || carried.failed_open {
        return failed(s, carried, plan::loop_failure());
    }
    answer::looped(s.isolate, Some(s.chosen), s.incoming, signal).into()
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
        primary
            .with_field("fallback_cause", failure.cause.as_str())
            .with_field("origin", primary_origin(s))
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
    let span = &s.incoming.span;
    let done = ctx.attempts();
    match (next, &rescue.fallback) {
        (
            Next::Retry {
                delay_ms,
                timeout_ms,
            },
            _,
        ) => {
            let step = runtime::retry(request, ctx, delay_ms, timeout_ms);
            trace::step(span, trace::Rescue::Retry, done + 1, step)
        }
        (Next::Fallback, Some(url)) => {
            context::carry_failure(ctx, failure);
            ctx.set_target(url);
            ctx.set_fallen(true);
            // Its good answer comes back to be recorded as served.
            ctx.set_keep(true);
            let step = runtime::retry(request, ctx, 0, rescue.timeout_ms);
            trace::step(span, trace::Rescue::Fallback, done + 1, step)
        }
        (Next::LookUp, _) => {
            context::carry_failure(ctx, failure);
            trace::step(span, trace::Rescue::Stale, done, runtime::look_up(ctx))
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
            failure
                .with_field("fallback", "served")
                .with_field("origin", primary_origin(s))
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

/// The primary origin, as a record names it when the fallback was tried
/// too (redacted): the configured one, or the incoming host on a zone route.
fn primary_origin(s: &Step<'_>) -> String {
    match &s.chosen.settings.origin {
        Some(base) => error_shield::parts::redact::configured(base),
        None => crate::origin::host(&s.incoming.url).to_owned(),
    }
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
