//! `ON_WORKER_FAILURE=fail-open`: when the worker's own code failed before
//! the request was sent, the request goes to the origin as it came (the id
//! and forwarded host added, nothing else decided), with the failure
//! carried for its one record (`failed_open`). Never for a `config_error`,
//! a loop, or during maintenance; never twice.

use error_shield::parts::{catch, Incoming};
use error_shield::{Cause, Failure};
use wasm_bindgen::JsValue;

use crate::corridor;
use crate::hop::Chain;
use crate::isolate::Selected;
use crate::plan::Plan;
use crate::rescue::journey::{Journey, Stage};
use crate::settings::OnWorkerFailure;

/// The promise of the origin's answer, or `None`: the uniform error stays.
pub fn start(
    selected: &Result<Selected<'_>, Failure>,
    incoming: &Incoming,
    url: &JsValue,
    failure: &Failure,
    hop: &Chain,
) -> Option<JsValue> {
    let chosen = selected.as_ref().ok()?;
    let s = chosen.settings;
    let worker = matches!(
        failure.cause,
        Cause::WorkerError | Cause::WorkerPanic | Cause::WorkerTrap
    );
    if !worker || s.on_worker_failure != OnWorkerFailure::FailOpen || s.maintenance.on {
        return None;
    }
    // Planned afresh and minimally; should even that fail, the uniform error.
    catch(|| {
        let plan = Plan::as_it_came(s, &incoming.url);
        // The bypass token is a secret: it never reaches the origin.
        let strip = s.maintenance.bypass_token.is_some();
        let io = corridor::io(&plan, url, &incoming.id, chosen.index, hop, strip);
        let journey = Journey {
            id: incoming.id.clone(),
            nonces: hop.nonces.clone(),
            rule: chosen.index,
            trace_id: incoming.trace_id.clone(),
            started: incoming.started.unwrap_or_else(js_sys::Date::now),
            attempts: 1,
            rescue: plan.rescue,
            copy: None,
            breaker: None,
            stage: Stage::FailedOpen {
                failure: failure.clone().with_field("failed_open", true),
            },
        };
        Ok(io.start(&incoming.request, &journey, None, 0.0).into())
    })
    .ok()
}
