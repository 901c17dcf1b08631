//! The corridor between Rust and the executor: one [`Context`] per request,
//! created by `decide` as plain data (the rule, the plan, the id, when it
//! started), carried by the executor, and continued by `conclude` with
//! nothing recomputed. What the executor hands back is one [`Outcome`]: a
//! kind with its data, never a set of flags. A new step is one more kind.

use error_shield::{Cause, Failure};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Response;

pub use crate::carry::{carried_failure, carry_failure};
use crate::hop::Chain;
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
    /// An answer carrying a loop signal: whose, Rust judges (`hop`).
    Signalled,
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
    /// The request's body made no progress for the timeout: the client
    /// stopped sending or the origin stopped reading, no telling which.
    UploadStalled,
    /// The client's body broke while it was being sent on.
    UploadBroken,
}

impl Kind {
    /// Every kind, with the name JS knows it by.
    pub const ALL: [(Kind, &'static str); 11] = [
        (Kind::Good, "good"),
        (Kind::FailingStatus, "failingStatus"),
        (Kind::Signalled, "signalled"),
        (Kind::FetchError, "fetchError"),
        (Kind::TimedOut, "timedOut"),
        (Kind::BrokenRequest, "brokenRequest"),
        (Kind::CacheHit, "cacheHit"),
        (Kind::CacheMiss, "cacheMiss"),
        (Kind::BodyBroken, "bodyBroken"),
        (Kind::UploadStalled, "uploadStalled"),
        (Kind::UploadBroken, "uploadBroken"),
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
    /// See [`Kind::Signalled`].
    Signalled {
        /// The answer, unread.
        response: Response,
        /// Its signal.
        signal: String,
    },
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
    /// See [`Kind::UploadStalled`].
    UploadStalled {
        /// Body bytes passed on by then.
        sent: u64,
    },
    /// See [`Kind::UploadBroken`] (its error, the client's, is not kept).
    UploadBroken {
        /// Body bytes passed on by then.
        sent: u64,
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
    hop: &Chain,
) -> Context {
    let r = &plan.rescue;
    let ctx = Context::new(
        incoming,
        rule,
        id,
        plan.url.as_deref(),
        plan.forwarded_host.as_deref(),
        r.timeout_ms,
        // Ours alone (no comma) is the isolate's marker, which JS has.
        Some(hop.markers.as_str()).filter(|m| m.contains(',')),
        &hop.nonces,
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
            Kind::Signalled => Outcome::Signalled {
                response: ctx.response()?,
                signal: ctx.signal(),
            },
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
            Kind::UploadStalled => Outcome::UploadStalled {
                sent: ctx.sent() as u64,
            },
            Kind::UploadBroken => Outcome::UploadBroken {
                sent: ctx.sent() as u64,
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
