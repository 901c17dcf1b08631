//! The circuit breakers at work: a request's admission (the breaker only
//! answers; the journey records what it said) and the answers it hears,
//! with one warn line per transition. The state machine is
//! `rescue::breaker`.

use error_shield::parts::redact;
use wasm_bindgen::JsValue;

use super::isolate::Isolate;
use crate::config::settings::Settings;
use crate::rescue::breaker::{Admission, Limits, Transition};
use crate::rescue::journey::{Breaker, Hears, Stage};

fn limits(s: &Settings) -> Limits {
    Limits {
        failures: s.circuit_failures,
        open_seconds: s.circuit_open_seconds,
        probe_ms: s.timeout_ms.saturating_add(1000),
    }
}

/// The breaker's admission for a request to `origin`.
pub fn admit(isolate: &Isolate, s: &Settings, origin: &str) -> Admission {
    let now = js_sys::Date::now();
    isolate
        .breakers
        .borrow_mut()
        .of(origin, now)
        .admit(&limits(s), now)
}

/// What an admission makes of the journey's breaker and stage: the
/// request goes (heard as the breaker asked) or is held off.
pub fn admitted(origin: String, admission: Admission) -> Result<Breaker, Stage> {
    let hears = match admission {
        Admission::Pass { report: false } => Hears::Failures,
        Admission::Pass { report: true } => Hears::Answers,
        Admission::Probe { token } => Hears::Probe(token),
        Admission::Reject { retry_after } => {
            return Err(Stage::Held {
                open_for: retry_after,
            })
        }
    };
    Ok(Breaker { origin, hears })
}

/// Tells the breaker of the request's origin how its answer went; one warn
/// line when that opens or closes the circuit. Whether it is open now.
pub fn tell(isolate: &Isolate, s: &Settings, b: &Breaker, good: bool) -> bool {
    let now = js_sys::Date::now();
    let probe = match b.hears {
        Hears::Probe(token) => Some(token),
        Hears::Failures | Hears::Answers => None,
    };
    let mut breakers = isolate.breakers.borrow_mut();
    let circuit = breakers.of(&b.origin, now);
    let t = circuit.report(&limits(s), good, now, probe);
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
    let origin = redact::configured(&b.origin);
    let line = Line {
        level: "warn",
        event,
        origin: &origin,
    };
    let text = serde_json::to_string(&line).unwrap_or_default();
    web_sys::console::warn_1(&JsValue::from_str(&text));
    open
}
