//! Carrying decisions out: what came back is read into what the decision
//! needs ([`Came`]), [`next`] decides, and this module does what it
//! says — another attempt, the fallback, a look-up, an answer — through
//! the executor. It decides nothing itself.

use error_shield::parts::{redact, Incoming};
use error_shield::{Cause, Failure};
use wasm_bindgen::JsValue;
use web_sys::{Request, Response};

use super::breakers;
use super::came::{self, Outcome};
use super::executor::{self, Context};
use super::Io;
use crate::answer::credentials::Secrets;
use crate::answer::uniform::{self as answer, record};
use crate::answer::upload;
use crate::config::hop::Answered;
use crate::config::routes::Rule;
use crate::corridor::copies;
use crate::corridor::isolate::Isolate;
use crate::corridor::trace;
use crate::rescue::journey::{Failed, Journey, RetryAfter, Stage};
use crate::rescue::next::{next, Came, Decision, Facts};

/// One request under way: the isolate, the request's settings, the
/// request, and where its executor stands.
pub struct Underway<'a> {
    /// The isolate's state.
    pub isolate: &'static Isolate,
    /// The rule it goes by.
    pub rule: &'a Rule<'a>,
    /// The request.
    pub incoming: &'a Incoming,
    /// The executor's side of it.
    pub corridor: Corridor<'a>,
}

/// The executor's side of a request.
#[derive(Clone, Copy)]
pub enum Corridor<'a> {
    /// Not started yet (the breaker held the request off): what the first
    /// step needs.
    Before(&'a Io),
    /// Under way: its context.
    Started(&'a Context),
}

impl Underway<'_> {
    fn request(&self) -> &Request {
        &self.incoming.request
    }

    fn ctx(&self) -> Option<&Context> {
        match self.corridor {
            Corridor::Started(ctx) => Some(ctx),
            Corridor::Before(_) => None,
        }
    }
}

/// What came back with the data it brought, once the decision is made.
#[derive(Default)]
struct Brought {
    /// The good answer, or the stored copy as the client gets it.
    response: Option<Response>,
    /// Another deployment's loop signal.
    signal: Option<String>,
}

/// What comes after `outcome` on `journey`.
pub fn conclude(u: &Underway<'_>, exec: &JsValue, j: Journey, outcome: Outcome) -> JsValue {
    let mut brought = Brought::default();
    let came = match outcome {
        Outcome::Good(response) => {
            brought.response = Some(response);
            Came::Good
        }
        Outcome::Signalled { response, signal } => {
            let answered = u
                .isolate
                .hop
                .answered(&j.nonces, &signal, response.status());
            match (answered, u.ctx()) {
                (Answered::Not, Some(ctx)) => return executor::heard(&response, ctx),
                _ => executor::let_go(&response),
            }
            brought.signal = Some(signal);
            Came::Looped {
                ours: answered == Answered::Ours,
            }
        }
        Outcome::UploadStalled { sent } => {
            upload::warn(
                u.incoming,
                route(u),
                upload::STALLED,
                sent,
                j.rescue.timeout_ms,
            );
            Came::UploadEnded
        }
        Outcome::UploadBroken { sent } => {
            upload::warn(
                u.incoming,
                route(u),
                upload::BROKEN,
                sent,
                j.rescue.timeout_ms,
            );
            Came::UploadEnded
        }
        Outcome::CacheHit(hit) => {
            brought.response = copies::stale_copy(&hit, u.incoming);
            Came::CacheHit {
                servable: brought.response.is_some(),
            }
        }
        Outcome::CacheMiss => Came::CacheMiss,
        failed => Came::Failed(judged(u, &j, failed)),
    };
    decide(u, exec, j, came, brought)
}

/// The first step of a request the breaker holds off.
pub fn held(u: &Underway<'_>, j: Journey) -> JsValue {
    decide(u, &JsValue::UNDEFINED, j, Came::Nothing, Brought::default())
}

fn decide(u: &Underway<'_>, exec: &JsValue, j: Journey, came: Came, brought: Brought) -> JsValue {
    let origin = primary_origin(u);
    let facts = Facts {
        elapsed_ms: js_sys::Date::now() - j.started,
        jitter: jitter(),
        primary_origin: &origin,
    };
    let breaker = j.breaker.clone();
    let decision = next(&j, came, &facts, |good| {
        breaker
            .as_ref()
            .is_some_and(|b| breakers::tell(u.isolate, u.rule.settings, b, good))
    });
    carry_out(u, exec, j, decision, brought)
}

/// The failure of an attempt, as the record shows it, with the origin's
/// `Retry-After` on it.
fn judged(u: &Underway<'_>, j: &Journey, outcome: Outcome) -> Failed {
    let settings = u.rule.settings;
    let retry_after = match &outcome {
        Outcome::FailingStatus { retry_after, .. } => retry_after.clone(),
        _ => None,
    };
    let secrets = || {
        let token = settings.maintenance.bypass_token.as_deref();
        Secrets::of(|name| u.incoming.header(name), token)
    };
    Failed {
        failure: came::failure_of(settings, outcome, j.attempts, secrets),
        retry_after: retry_after.map(RetryAfter::Origin),
    }
}

fn carry_out(
    u: &Underway<'_>,
    exec: &JsValue,
    mut j: Journey,
    d: Decision,
    brought: Brought,
) -> JsValue {
    match d {
        Decision::Retry {
            delay_ms,
            timeout_ms,
        } => again(u, j, delay_ms, timeout_ms, None),
        Decision::Fallback { primary } => {
            let Some(url) = j.rescue.fallback.clone() else {
                return answer(u, &primary);
            };
            let timeout_ms = j.rescue.timeout_ms;
            j.stage = Stage::Fallback { primary };
            again(u, j, 0, timeout_ms, Some(&url))
        }
        Decision::LookUp { failure } => {
            let Some(key) = j.copy.clone() else {
                return answer(u, &failure);
            };
            j.stage = Stage::LookingUp { failure };
            let step = executor::look_up(u.ctx(), &j.to_text(), &key);
            trace::step(&u.incoming.span, trace::Rescue::Stale, j.attempts, step)
        }
        Decision::Fail(failed) => answer(u, &failed),
        Decision::Pass { record: failure } => {
            let (Some(response), Some(ctx)) = (brought.response, u.ctx()) else {
                return lost(u);
            };
            if let Some(f) = failure {
                record(Some(u.rule), u.incoming, &f, response.status());
            }
            executor::pass(&response, ctx)
        }
        Decision::Store => store(u, exec, &j, brought),
        Decision::Stale(failure) => {
            let Some(copy) = brought.response else {
                return lost(u);
            };
            record(Some(u.rule), u.incoming, &failure, copy.status());
            copy.into()
        }
        Decision::PassBack => {
            let signal = brought.signal.unwrap_or_default();
            answer::looped(&u.isolate.shield, Some(u.rule), u.incoming, &signal).into()
        }
        Decision::Quiet => answer::quiet(&u.isolate.shield, u.rule, u.incoming).into(),
    }
}

/// Another attempt after `delay_ms`, with `timeout_ms` left: at the origin,
/// or at the fallback's `url`.
fn again(
    u: &Underway<'_>,
    mut j: Journey,
    delay_ms: u32,
    timeout_ms: u32,
    url: Option<&str>,
) -> JsValue {
    j.attempts += 1;
    let step = match u.corridor {
        Corridor::Started(ctx) => {
            let text = j.to_text();
            let back = j.hands_back();
            executor::retry(u.request(), ctx, &text, back, delay_ms, timeout_ms, url)
        }
        // Held before its first attempt: only the fallback goes, and a
        // request with a fallback carries no body.
        Corridor::Before(io) if url.is_some() => io.start(u.request(), &j, url, 0.0),
        Corridor::Before(_) => return lost(u),
    };
    let rescue = match url {
        Some(_) => trace::Rescue::Fallback,
        None => trace::Rescue::Retry,
    };
    trace::step(&u.incoming.span, rescue, j.attempts, step)
}

/// A good answer due for storing: the ledger marked, the answer passed on
/// with a copy stored when it may be.
fn store(u: &Underway<'_>, exec: &JsValue, j: &Journey, brought: Brought) -> JsValue {
    let (Some(response), Some(ctx), Some(key)) = (brought.response, u.ctx(), j.copy.as_deref())
    else {
        return lost(u);
    };
    u.isolate.ledger.borrow_mut().mark(key, js_sys::Date::now());
    let (isolate, settings) = (u.isolate, u.rule.settings);
    copies::store(isolate, settings, u.incoming, ctx, exec, response, key)
}

/// The uniform error for `failed`, with its one record.
pub fn answer(u: &Underway<'_>, failed: &Failed) -> JsValue {
    let retry_after = failed.retry_after.as_ref();
    answer::fail(
        &u.isolate.shield,
        &Ok(*u.rule),
        u.incoming,
        &failed.failure,
        retry_after,
    )
    .into()
}

/// A step that found nothing to carry out (the executor and Rust out of
/// step): the worker's own failure.
fn lost(u: &Underway<'_>) -> JsValue {
    let f = Failure::new(Cause::WorkerError, "a step found nothing to carry out");
    answer(u, &Failed::bare(f))
}

/// The prefix of the rule the request matched.
fn route<'a>(u: &'a Underway<'_>) -> Option<&'a str> {
    u.rule.route.map(|r| r.prefix.as_str())
}

/// The primary origin, as a record names it when the fallback was tried
/// too (redacted): the configured one, or the incoming host on a zone route.
fn primary_origin(u: &Underway<'_>) -> String {
    match &u.rule.settings.origin {
        Some(base) => redact::configured(base),
        None => crate::config::origin::host(&u.incoming.url).to_owned(),
    }
}

/// A random byte for the backoff's jitter.
fn jitter() -> u8 {
    let mut b = [0u8; 1];
    let _ = getrandom::fill(&mut b);
    b[0]
}
