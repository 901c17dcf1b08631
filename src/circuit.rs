//! The circuit breaker at work: before the fetch, whether the request may
//! go (else the rescue starts at once, without the origin); after, the
//! answers it asked for, and one warn line per transition. The state
//! machine itself is `breaker.rs`.

use error_shield::parts::redact;
use error_shield::{Cause, Failure};
use wasm_bindgen::JsValue;

use crate::breaker::{Admission, Limits, Transition};
use crate::context::Carried;
use crate::judge::{then, Step};
use crate::plan::Plan;
use crate::settings::Settings;
use crate::verdict::Next;

fn limits(s: &Settings) -> Limits {
    Limits {
        failures: s.circuit_failures,
        open_seconds: s.circuit_open_seconds,
        probe_ms: s.timeout_ms.saturating_add(1000),
    }
}

/// Before the fetch: `Some` when the circuit holds the request off, and
/// this is its step instead (the fallback, a stale copy, or the uniform
/// error at once with `Retry-After`).
pub fn admit(s: &Step<'_>, plan: &Plan) -> Option<JsValue> {
    let key = plan.circuit.as_deref()?;
    let ctx = s.ctx;
    ctx.set_circuit(key);
    let now = js_sys::Date::now();
    let mut breakers = s.isolate.breakers.borrow_mut();
    let admission = breakers.of(key, now).admit(&limits(s.chosen.settings), now);
    drop(breakers);
    let retry_after = match admission {
        Admission::Pass { report: false } => return None,
        Admission::Pass { report: true } => {
            // The answer comes back to Rust to be counted.
            ctx.set_report(true);
            ctx.set_keep(true);
            return None;
        }
        Admission::Probe { token } => {
            ctx.set_report(true);
            ctx.set_probe(token);
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
    Some(then(s, &plan.rescue, &failure, next))
}

/// Tells the breaker of the request's origin how its answer went; one warn
/// line when that opens or closes the circuit. Whether it is open now.
pub fn report(s: &Step<'_>, carried: &Carried, good: bool) -> bool {
    let Some(key) = &carried.circuit else {
        return false;
    };
    let now = js_sys::Date::now();
    let mut breakers = s.isolate.breakers.borrow_mut();
    let circuit = breakers.of(key, now);
    let t = circuit.report(&limits(s.chosen.settings), good, now, carried.probe);
    let open = circuit.is_open();
    drop(breakers);
    let event = match t {
        Transition::Opened => "circuit_open",
        Transition::Closed => "circuit_closed",
        Transition::None => return open,
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
    open
}
