//! The one request pipeline, for every configuration: [`decide`] plans the
//! request and starts the executor; [`conclude`] judges what came back and
//! either answers or starts the next step. Both are synchronous and run
//! under the guard's `catch`: a panic is a `worker_panic` like any failure.

use std::cell::{Cell, RefCell};

use error_shield::format::Format;
use error_shield::incoming::{header, Ids, Incoming};
use error_shield::{answer, panic, request_id, Cause, Failure};
use wasm_bindgen::JsValue;
use web_sys::{Request, Response};

use crate::isolate::{Isolate, Selected};
use crate::maintenance::{self, BYPASS_HEADER};
use crate::outcome;
use crate::plan::{self, Plan, Traits};
use crate::runtime::{self, Outcome};
use crate::stale::Ledger;
use crate::verdict::{self, Next};
use crate::{constants, fault};

/// The request as the entry read it.
pub struct Arrival {
    /// The incoming request.
    pub request: Request,
    /// Its URL.
    pub url: String,
    /// The client's `X-Request-Id`.
    pub client_id: Option<String>,
    /// `traceparent`.
    pub traceparent: Option<String>,
    /// `cf-ray`.
    pub cf_ray: Option<String>,
    /// The hop marker it carries: ours when it came back to the worker.
    pub hop: Option<String>,
}

/// The first step: an answer found before the fetch, or the promise of the
/// executor's first attempt.
pub fn decide(env: &JsValue, a: Arrival) -> JsValue {
    let isolate = Isolate::get(env);
    let ids = Ids::choose(a.client_id, a.traceparent, a.cf_ray);
    let mut incoming = Incoming::known(a.request, a.url, ids, None);
    let selected = routed(isolate, &mut incoming);
    // Anyone else's marker (a client's, another deployment's) is ignored.
    let looped = a.hop.is_some_and(|h| isolate.hop.is_ours(&h));
    let started = panic::catch(|| {
        let chosen = selected.as_ref().map_err(Clone::clone)?;
        let settings = chosen.settings;
        if looped {
            return Err(plan::loop_failure());
        }
        // The bypass token, read only when one is configured.
        let bypass = settings
            .maintenance
            .bypass_token
            .as_ref()
            .and_then(|_| incoming.header(BYPASS_HEADER));
        if let Some(answer) = maintenance_answer(isolate, chosen, &incoming, bypass.as_deref()) {
            return Ok(answer.into());
        }
        if settings.fault_injection {
            fault::inject(incoming.header("x-fault-inject").as_deref())?;
        }
        let plan = Plan::new(settings, &incoming.url, || traits(&incoming.request));
        // A stale-if-error candidate's good response goes back to Rust for
        // storing only when its URL's copy is due for a refresh.
        let keep = plan.stale
            && LEDGER.with_borrow(|l| {
                l.due(
                    &incoming.url,
                    js_sys::Date::now(),
                    settings.stale_if_error_seconds,
                )
            });
        Ok(runtime::execute(
            &incoming.request,
            plan.url,
            &incoming.id,
            plan.forwarded_host,
            plan.timeout_ms,
            keep,
            bypass.is_some(),
            chosen.index,
        )
        .into())
    });
    started.unwrap_or_else(|failure| {
        let response = fail(isolate, &selected, &incoming, &failure);
        if looped {
            // Tells the outer hop that this 500 is ours and recorded.
            let _ = response.headers().set(constants::HOP, &isolate.hop.looped);
        }
        response.into()
    })
}

/// The next step after the executor handed back an [`Outcome`]: a stored
/// good response, the uniform error, a stale copy, or the promise of a
/// retry or a cache look-up.
pub fn conclude(env: &JsValue, request: Request, ctx: &JsValue, out: &Outcome) -> JsValue {
    let isolate = Isolate::get(env);
    let mut incoming = resume(request, out);
    let selected = routed(isolate, &mut incoming);
    let step = panic::catch(|| {
        let chosen = selected.as_ref().map_err(Clone::clone)?;
        let settings = chosen.settings;
        if let Some(response) = out.response() {
            LEDGER.with_borrow_mut(|l| l.mark(&incoming.url, js_sys::Date::now()));
            return Ok(outcome::keep(settings, &incoming, response, ctx, out));
        }
        if out.looped() {
            // The inner hop of a loop answered and wrote the one record.
            let status = verdict::status_for(settings.response_status, Cause::ConfigError);
            return Ok(respond(isolate, chosen, &incoming, status).into());
        }
        let failure = outcome::failure_of(settings, out);
        if out.looked() {
            if let Some(copy) = outcome::stale_copy(&incoming, out, &failure) {
                return Ok(copy.into());
            }
            return Ok(fail(isolate, &selected, &incoming, &failure).into());
        }
        let plan = Plan::new(settings, &incoming.url, || traits(&incoming.request));
        let elapsed = js_sys::Date::now() - out.started();
        Ok(
            match verdict::next(&plan, &failure, out.attempts(), elapsed, jitter()) {
                Next::Retry {
                    delay_ms,
                    timeout_ms,
                } => runtime::retry(&incoming.request, out, delay_ms, timeout_ms).into(),
                Next::LookUp => runtime::look_up(&incoming.request, out).into(),
                Next::Fail => fail(isolate, &selected, &incoming, &failure).into(),
            },
        )
    });
    step.unwrap_or_else(|failure| fail(isolate, &selected, &incoming, &failure).into())
}

/// The one record of a body that broke after its headers went to the
/// client: no answer, the client already has the origin's status.
pub fn broken(env: &JsValue, request: Request, out: &Outcome) {
    let isolate = Isolate::get(env);
    let mut incoming = resume(request, out);
    let selected = routed(isolate, &mut incoming);
    let recorded = panic::catch(|| {
        let chosen = selected.as_ref().map_err(Clone::clone)?;
        let failure = outcome::failure_of(chosen.settings, out);
        answer::record(&incoming, &failure, out.passed_status(), false);
        Ok(())
    });
    if let Err(failure) = recorded {
        answer::record(&incoming, &failure, out.passed_status(), false);
    }
}

/// The uniform 500 for a request whose instance trapped (or whose promise
/// was rejected), under the id it already had when there was one.
pub fn trap(
    env: &JsValue,
    request: Request,
    message: &str,
    id: Option<String>,
    trapped: bool,
) -> Response {
    let isolate = Isolate::get(env);
    let mut incoming = Incoming::new(request);
    if let Some(id) = id {
        incoming.id = id;
    }
    let selected = routed(isolate, &mut incoming);
    let cause = if trapped {
        Cause::WorkerTrap
    } else {
        Cause::WorkerError
    };
    let failure = Failure::new(cause, first_frames(message));
    fail(isolate, &selected, &incoming, &failure)
}

/// The settings for `incoming` (its rule's, or the top level's); a rule's
/// prefix goes into the request's record.
fn routed(
    isolate: &'static Isolate,
    incoming: &mut Incoming,
) -> Result<Selected<'static>, Failure> {
    let selected = isolate.select(&incoming.url);
    if let Ok(Selected { route: Some(r), .. }) = &selected {
        incoming.route = Some(r.prefix.as_str());
    }
    selected
}

/// The request of an outcome: the id it was sent with, its arrival time.
fn resume(request: Request, out: &Outcome) -> Incoming {
    let url = request.url();
    let traceparent = request.headers().get(header::TRACEPARENT).ok().flatten();
    let ids = Ids {
        id: out.id(),
        trace_id: traceparent
            .as_deref()
            .and_then(request_id::trace_id)
            .map(str::to_owned),
    };
    Incoming::known(request, url, ids, Some(out.started()))
}

/// Records `failure` and answers with the status its cause gets, in the
/// default format of the request's rule.
fn fail(
    isolate: &Isolate,
    selected: &Result<Selected<'_>, Failure>,
    incoming: &Incoming,
    failure: &Failure,
) -> Response {
    let shield = &isolate.shield;
    match selected {
        Ok(chosen) => {
            let status = verdict::status_for(chosen.settings.response_status, failure.cause);
            shield.fail_with(incoming, failure, status, default_format(isolate, chosen))
        }
        Err(_) => shield.fail(incoming, failure),
    }
}

/// The uniform error with `status`, without a record.
fn respond(isolate: &Isolate, chosen: &Selected<'_>, incoming: &Incoming, status: u16) -> Response {
    isolate
        .shield
        .respond(incoming, status, default_format(isolate, chosen))
}

fn default_format(isolate: &Isolate, chosen: &Selected<'_>) -> Format {
    chosen
        .route
        .and_then(|r| r.default_format)
        .unwrap_or_else(|| isolate.shield.default_format())
}

thread_local! {
    static NOTICED: Cell<bool> = const { Cell::new(false) };
    static LEDGER: RefCell<Ledger> = RefCell::new(Ledger::default());
}

/// The 503 while maintenance is on and the request is not bypassed; one
/// info line per isolate, never an error record.
fn maintenance_answer(
    isolate: &Isolate,
    chosen: &Selected<'_>,
    incoming: &Incoming,
    token: Option<&str>,
) -> Option<Response> {
    let m = &chosen.settings.maintenance;
    if !m.on {
        return None;
    }
    if maintenance::bypassed(m, &incoming.url, token) {
        return None;
    }
    if !NOTICED.replace(true) {
        web_sys::console::info_1(&JsValue::from_str(&maintenance::notice(m)));
    }
    Some(respond(isolate, chosen, incoming, 503))
}

/// The error and its first frames: enough to find the trap, short enough
/// to read.
fn first_frames(message: &str) -> String {
    let head: Vec<&str> = message.lines().take(6).collect();
    head.join("\n").chars().take(1000).collect()
}

/// Method, body and credentials: read only when a feature needs them. A
/// body is what the request's framing says (workerd gives every method but
/// GET and HEAD a body stream, empty or not).
fn traits(request: &Request) -> Traits {
    let headers = request.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    Traits {
        method: request.method(),
        has_body: header("transfer-encoding").is_some()
            || header("content-length").is_some_and(|n| n.trim() != "0"),
        personal: ["authorization", "cookie"]
            .iter()
            .any(|h| headers.has(h).unwrap_or(true)),
    }
}

/// A random byte for the backoff's jitter.
fn jitter() -> u8 {
    let mut b = [0u8; 1];
    let _ = getrandom::fill(&mut b);
    b[0]
}
