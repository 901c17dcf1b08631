//! `ON_WORKER_FAILURE=fail-open`: when the worker's own code failed before
//! the request was sent, the request goes to the origin as it came (the id
//! and forwarded host added, nothing else decided), with the failure
//! carried for its one record (`failed_open`). Never for a `config_error`,
//! a loop, or during maintenance; never twice.

use error_shield::parts::{catch, Incoming};
use error_shield::{Cause, Failure};
use wasm_bindgen::JsValue;

use crate::context;
use crate::hop::Chain;
use crate::isolate::Selected;
use crate::plan::Plan;
use crate::runtime;
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
        let trace_id = incoming.trace_id.as_deref();
        let ctx = context::create(url, chosen.index, &incoming.id, trace_id, &plan, hop);
        context::carry_failure(&ctx, &failure.clone().with_field("failed_open", true));
        ctx.set_failed_open(true);
        ctx.set_keep(true);
        // The bypass token is a secret: it never reaches the origin.
        if s.maintenance.bypass_token.is_some() {
            ctx.set_strip(true);
        }
        Ok(runtime::execute(&incoming.request, &ctx).into())
    })
    .ok()
}
