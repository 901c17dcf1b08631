//! A failure judged before the next step (a look-up, the fallback, a
//! fail-open send), carried in the request's context until its one record.

use error_shield::{Cause, Failure};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

use crate::runtime::Context;

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
