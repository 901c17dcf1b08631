//! The first step of a request: the maintenance 503, the plan and the
//! journey, the breaker's admission, the executor's first attempt; and,
//! after the worker failed before sending it, the request sent on as it
//! came (fail-open).

use std::cell::Cell;

use error_shield::parts::{catch, respond, Incoming};
use error_shield::Failure;
use wasm_bindgen::JsValue;
use web_sys::{Request, Response};

use super::breakers;
use super::carry_out::{self, Corridor, Underway};
use super::copies;
use super::isolate::Isolate;
use crate::answer::mark::mark;
use crate::answer::uniform::default_format;
use crate::config::hop::Chain;
use crate::config::maintenance;
use crate::config::routes::Rule;
use crate::rescue::fail_open::fail_open as failed_open;
use crate::rescue::journey::{Journey, Stage};
use crate::rescue::plan::{self, Plan, Traits};

/// The plan, the journey and the first step: the executor's first attempt,
/// or the rescue's when the breaker holds the request off.
pub fn first(
    isolate: &'static Isolate,
    rule: &Rule<'_>,
    incoming: &Incoming,
    url: &JsValue,
    strip: bool,
    hop: &Chain,
) -> JsValue {
    let settings = rule.settings;
    let plan = Plan::new(settings, &incoming.url, || traits(&incoming.request));
    let io = super::io(&plan, url, &incoming.id, rule.number, hop, strip);
    // A stale-if-error candidate's copy is keyed by who asked; its good
    // response goes back to Rust for storing only when the key's copy is
    // due for a refresh.
    let copy = plan.rescue.stale.then(|| copies::key_of(incoming));
    let now = js_sys::Date::now();
    let window = settings.stale_if_error_seconds;
    let store = copy
        .as_ref()
        .is_some_and(|key| isolate.ledger.borrow().due(key, now, window));
    let mut journey = Journey {
        id: incoming.id.clone(),
        nonces: hop.nonces.clone(),
        rule: rule.number,
        trace_id: incoming.trace_id.clone(),
        started: now,
        attempts: 1,
        rescue: plan.rescue,
        copy,
        breaker: None,
        stage: Stage::Origin { store },
    };
    if let Some(origin) = plan.circuit {
        let admission = breakers::admit(isolate, settings, &origin);
        match breakers::admitted(origin, admission) {
            Ok(breaker) => journey.breaker = Some(breaker),
            Err(held) => {
                journey.attempts = 0;
                journey.stage = held;
                let u = Underway {
                    isolate,
                    rule,
                    incoming,
                    corridor: Corridor::Before(&io),
                };
                return carry_out::held(&u, journey);
            }
        }
    }
    let upload = upload(&incoming.request).unwrap_or(0.0);
    io.start(&incoming.request, &journey, None, upload).into()
}

/// With fail-open, the promise of the origin's answer to the request sent
/// on as it came after the worker's `failure`; `None`: the uniform error
/// stays.
pub fn fail_open(
    found: &Result<Rule<'_>, Failure>,
    incoming: &Incoming,
    url: &JsValue,
    failure: &Failure,
    hop: &Chain,
) -> Option<JsValue> {
    let rule = found.as_ref().ok()?;
    let s = rule.settings;
    let stage = failed_open(s, failure)?;
    // Planned afresh and minimally; should even that fail, the uniform error.
    catch(|| {
        let plan = Plan::as_it_came(s, &incoming.url);
        // The bypass token is a secret: it never reaches the origin.
        let strip = s.maintenance.bypass_token.is_some();
        let io = super::io(&plan, url, &incoming.id, rule.number, hop, strip);
        let journey = Journey {
            id: incoming.id.clone(),
            nonces: hop.nonces.clone(),
            rule: rule.number,
            trace_id: incoming.trace_id.clone(),
            started: incoming.started.unwrap_or_else(js_sys::Date::now),
            attempts: 1,
            rescue: plan.rescue,
            copy: None,
            breaker: None,
            stage,
        };
        Ok(io.start(&incoming.request, &journey, None, 0.0).into())
    })
    .ok()
}

thread_local! {
    static INFO_WRITTEN: Cell<bool> = const { Cell::new(false) };
}

/// The 503 while maintenance is on and the request is not bypassed; one
/// info line per isolate, never an error record.
pub fn maintenance(
    isolate: &Isolate,
    rule: &Rule<'_>,
    incoming: &Incoming,
    token: Option<&str>,
) -> Option<Response> {
    let top = isolate
        .settings
        .as_ref()
        .map_or(&rule.settings.maintenance, |s| &s.maintenance);
    let own = rule.route.map(|_| &rule.settings.maintenance);
    let m = maintenance::governing(top, own, &incoming.url);
    if !m.on {
        return None;
    }
    if maintenance::bypassed(m, &incoming.url, token) {
        return None;
    }
    if !INFO_WRITTEN.replace(true) {
        web_sys::console::info_1(&JsValue::from_str(&maintenance::info_line(m)));
    }
    let answer = isolate.maintenance_answer();
    let response = respond(
        &answer.renderer,
        &answer.headers,
        default_format(&isolate.shield, Some(rule)),
        incoming,
    );
    mark(&response, &incoming.request, true);
    Some(response)
}

/// The length of a body to send on watched (-1: chunked), when the
/// request's framing carries one ([`plan::upload`]); read only when the
/// runtime gave the request a body stream, so a GET pays nothing.
fn upload(request: &Request) -> Option<f64> {
    request.body()?;
    let headers = request.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let length = header("content-length");
    let framing = plan::Framing {
        method: &request.method(),
        content_length: length.as_deref(),
        chunked: header("transfer-encoding").is_some(),
    };
    plan::upload(&framing).map(|u| match u {
        plan::Upload::Length(n) => n as f64,
        plan::Upload::Chunked => -1.0,
    })
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
        personal: ["authorization", "proxy-authorization", "cookie"]
            .iter()
            .any(|h| headers.has(h).unwrap_or(true)),
    }
}
