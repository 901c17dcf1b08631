//! The corridor between Rust and the executor: one [`Context`] per request,
//! created by `decide` as plain data (the rule, the plan, the id, when it
//! started), carried by the executor, and continued by `conclude` with
//! nothing recomputed. What the executor hands back is one [`Outcome`]: a
//! kind with its data, never a set of flags. A new step is one more kind.

use error_shield::{Cause, Failure};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Response;

use crate::plan::{Plan, Rescue};
pub use crate::runtime::Context;

/// What came back from the executor. The kinds are numbered here and
/// handed to JS by name ([`Kind::ALL`]), so both sides agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A good response Rust asked to see (stale-if-error may store it).
    Good = 1,
    /// The origin answered a status in `FAILURE_STATUSES`.
    FailingStatus,
    /// This deployment's own answer to a request that came back (a loop).
    Looped,
    /// The fetch failed: DNS, connect, reset, TLS, not HTTP.
    FetchError,
    /// No response headers within the timeout.
    TimedOut,
    /// The executor could not build the request: the worker's failure.
    BrokenRequest,
    /// The stored copy was found…
    CacheHit,
    /// …or not.
    CacheMiss,
    /// The body broke after its headers reached the client.
    BodyBroken,
}

impl Kind {
    /// Every kind, with the name JS knows it by.
    pub const ALL: [(Kind, &'static str); 9] = [
        (Kind::Good, "good"),
        (Kind::FailingStatus, "failingStatus"),
        (Kind::Looped, "looped"),
        (Kind::FetchError, "fetchError"),
        (Kind::TimedOut, "timedOut"),
        (Kind::BrokenRequest, "brokenRequest"),
        (Kind::CacheHit, "cacheHit"),
        (Kind::CacheMiss, "cacheMiss"),
        (Kind::BodyBroken, "bodyBroken"),
    ];

    /// The kind numbered `n`.
    pub fn of(n: u8) -> Option<Kind> {
        Kind::ALL.iter().map(|(k, _)| *k).find(|k| *k as u8 == n)
    }
}

/// One kind with its data.
pub enum Outcome {
    /// See [`Kind::Good`].
    Good(Response),
    /// See [`Kind::FailingStatus`].
    FailingStatus {
        /// The status.
        status: u16,
        /// The first bytes of its body.
        excerpt: Vec<u8>,
    },
    /// See [`Kind::Looped`].
    Looped,
    /// See [`Kind::FetchError`].
    FetchError(String),
    /// See [`Kind::TimedOut`].
    TimedOut,
    /// See [`Kind::BrokenRequest`].
    BrokenRequest(String),
    /// See [`Kind::CacheHit`].
    CacheHit(Response),
    /// See [`Kind::CacheMiss`].
    CacheMiss,
    /// See [`Kind::BodyBroken`].
    BodyBroken {
        /// The status the client got.
        status: u16,
        /// Body bytes that reached it.
        sent: u64,
        /// The stream's error.
        message: String,
    },
}

/// What `decide` knew, read back by `conclude`.
#[derive(Debug, Clone, PartialEq)]
pub struct Carried {
    /// Which settings apply: 0 the top level's, `i + 1` those of `ROUTES[i]`.
    pub rule: u32,
    /// The request id.
    pub id: String,
    /// The trace-id of a valid `traceparent`.
    pub trace_id: Option<String>,
    /// The incoming URL.
    pub url: String,
    /// `Date.now()` at arrival.
    pub started: f64,
    /// Attempts at the origin so far.
    pub attempts: u32,
    /// What may be done when an attempt fails.
    pub rescue: Rescue,
    /// The attempt went to the fallback origin.
    pub fallen: bool,
    /// The origin whose circuit hears of the answer.
    pub circuit: Option<String>,
    /// The breaker asked to hear of a good answer too.
    pub report: bool,
    /// The request is its origin's probe: the breaker's token for it.
    pub probe: Option<f64>,
    /// Its good response is due for storing (stale-if-error).
    pub store: bool,
    /// The request was sent as it came after the worker failed.
    pub failed_open: bool,
    /// The circuit is open: seconds until its probe (0: it is not).
    pub open_for: u32,
}

/// Starts a request's context: what `decide` decided (one call for what
/// every request has, a setter each for what only some have).
pub fn create(
    incoming: &JsValue,
    rule: u32,
    id: &str,
    trace_id: Option<&str>,
    plan: &Plan,
) -> Context {
    let r = &plan.rescue;
    let ctx = Context::new(
        incoming,
        rule,
        id,
        plan.url.as_deref(),
        plan.forwarded_host.as_deref(),
        r.timeout_ms,
    );
    if let Some(t) = trace_id {
        ctx.set_trace_id(t);
    }
    if r.retries > 0 {
        ctx.set_retries(r.retries);
    }
    if r.stale {
        ctx.set_stale(true);
    }
    if let Some(url) = &r.fallback {
        ctx.set_fallback(url);
    }
    // A timed-out attempt is otherwise let go with the request's I/O once
    // the answer is done; a fallback attempt keeps that I/O alive for as
    // long as its body streams, so the late primary is aborted. (A stale
    // copy comes from the cache at once: not worth a signal on every
    // pass-through.)
    if r.fallback.is_some() {
        ctx.set_abort(true);
    }
    ctx
}

impl Carried {
    /// What `decide` put in `ctx`, and the attempts since.
    pub fn read(ctx: &Context) -> Carried {
        Carried {
            rule: ctx.rule(),
            id: ctx.id(),
            trace_id: ctx.trace_id(),
            url: ctx.incoming(),
            started: ctx.started(),
            attempts: ctx.attempts(),
            rescue: Rescue {
                timeout_ms: ctx.timeout_ms(),
                retries: ctx.retries(),
                stale: ctx.stale(),
                fallback: ctx.fallback(),
            },
            fallen: ctx.fallen(),
            circuit: ctx.circuit(),
            report: ctx.report(),
            probe: ctx.probe(),
            store: ctx.store(),
            failed_open: ctx.failed_open(),
            open_for: ctx.open_for(),
        }
    }
}

impl Outcome {
    /// What came back in `ctx`; a kind this build does not know (the
    /// executor and Rust out of step) is the worker's own failure.
    pub fn read(ctx: &Context) -> Result<Outcome, Failure> {
        Outcome::known(ctx).ok_or_else(|| {
            Failure::new(
                Cause::WorkerError,
                "the executor handed back an unknown outcome",
            )
        })
    }

    fn known(ctx: &Context) -> Option<Outcome> {
        Some(match Kind::of(ctx.kind())? {
            Kind::Good => crate::outcome::answerable(ctx.response()?),
            Kind::FailingStatus => Outcome::FailingStatus {
                status: ctx.status(),
                excerpt: ctx.excerpt().map(|b| b.to_vec()).unwrap_or_default(),
            },
            Kind::Looped => Outcome::Looped,
            Kind::FetchError => Outcome::FetchError(message(&ctx.error())),
            Kind::TimedOut => Outcome::TimedOut,
            Kind::BrokenRequest => Outcome::BrokenRequest(message(&ctx.error())),
            Kind::CacheHit => Outcome::CacheHit(ctx.response()?),
            Kind::CacheMiss => Outcome::CacheMiss,
            Kind::BodyBroken => Outcome::BodyBroken {
                status: ctx.status(),
                sent: ctx.sent() as u64,
                message: message(&ctx.error()),
            },
        })
    }
}

/// The message of a JS error (or of whatever was thrown).
fn message(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "fetch failed".into())
}

/// The failure judged before a look-up (or a fallback), carried through it
/// as plain JS values (cause, message, origin status and body, location,
/// then each field's key and value): no parser needed to read it back.
pub fn carry_failure(ctx: &Context, f: &Failure) {
    // The answer to it keeps its origin's Retry-After (none: ""), never a
    // later try's: only the first carry sets it.
    if ctx.kept_retry_after().is_none() {
        ctx.set_kept_retry_after(&ctx.retry_after().unwrap_or_default());
    }
    let a = js_sys::Array::new();
    let cause = Cause::ALL.iter().position(|c| *c == f.cause).unwrap_or(0);
    a.push(&JsValue::from(cause as u32));
    a.push(&JsValue::from_str(&f.message));
    a.push(&f.origin_status.map_or(JsValue::UNDEFINED, JsValue::from));
    a.push(
        &f.origin_body
            .as_deref()
            .map_or(JsValue::UNDEFINED, JsValue::from_str),
    );
    a.push(
        &f.location
            .as_deref()
            .map_or(JsValue::UNDEFINED, JsValue::from_str),
    );
    for (key, value) in &f.fields {
        a.push(&JsValue::from_str(key));
        a.push(&match value {
            Value::Bool(b) => JsValue::from_bool(*b),
            Value::Number(n) => n.as_f64().map_or(JsValue::UNDEFINED, JsValue::from_f64),
            Value::String(s) => JsValue::from_str(s),
            _ => JsValue::UNDEFINED,
        });
    }
    ctx.set_failure(&a);
}

/// The failure [`carry_failure`] put in `ctx`.
pub fn carried_failure(ctx: &Context) -> Option<Failure> {
    let a: js_sys::Array = ctx.failure()?.dyn_into().ok()?;
    let cause = *Cause::ALL.get(a.get(0).as_f64()? as usize)?;
    let mut f = Failure::new(cause, a.get(1).as_string()?);
    if let Some(status) = a.get(2).as_f64() {
        f = f.with_origin_status(status as u16);
    }
    if let Some(body) = a.get(3).as_string() {
        f = f.with_origin_body(body);
    }
    if let Some(location) = a.get(4).as_string() {
        f = f.with_location(location);
    }
    for i in (5..a.length()).step_by(2) {
        let (key, v) = (a.get(i).as_string()?, a.get(i + 1));
        let value = match (v.as_bool(), v.as_f64(), v.as_string()) {
            (Some(b), _, _) => Value::from(b),
            // Counts stay integers in the record (`"attempts":2`).
            (_, Some(n), _) if n >= 0.0 && n.fract() == 0.0 => Value::from(n as u64),
            (_, Some(n), _) => Value::from(n),
            (_, _, Some(s)) => Value::from(s),
            _ => continue,
        };
        f.set_field(&key, value);
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_number_and_one_name() {
        for (i, (kind, name)) in Kind::ALL.iter().enumerate() {
            assert_eq!(Kind::of(*kind as u8), Some(*kind), "{name}");
            assert!(
                Kind::ALL[i + 1..].iter().all(|(_, n)| n != name),
                "{name} twice"
            );
        }
        assert_eq!((Kind::of(0), Kind::of(200)), (None, None));
    }
}
