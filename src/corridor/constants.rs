//! Every name and limit the JS side uses, defined here once and handed to
//! it: to the entry at load (`constants`, with the last-resort answer), to
//! the executor once per isolate (`configure`, with the limits from the
//! settings).

use error_shield::parts::{header, last_resort_halves, status, Renderer};
use error_shield::{Format, Page};
use wasm_bindgen::JsValue;

use crate::answer::coding;
use crate::config::failure_statuses as statuses;
use crate::corridor::came::Kind;

pub use crate::config::hop::{HOP, NONCE};
pub use crate::config::origin::FORWARDED_HOST;

/// The Cache API cache that holds stale-if-error copies.
pub const CACHE_NAME: &str = "error-shield-stale";
/// How long a failing body's excerpt is read, from its headers' arrival:
/// the uniform error then goes out with what arrived, so an origin that
/// sends a 500's headers and stalls cannot hold the answer.
pub const EXCERPT_WAIT_MS: u32 = 1000;
/// The close code of a WebSocket nobody will get (an answer that came
/// after its attempt timed out): "going away" (RFC 6455 §7.4.1).
pub const GOING_AWAY: u16 = 1001;

/// The names the executor reads (handed over once per isolate).
pub fn names() -> JsValue {
    names_object().into()
}

/// The names plus the last-resort answer: what the entry reads at load.
pub fn for_entry() -> JsValue {
    let o = names_object();
    let _ = js_sys::Reflect::set(&o, &JsValue::from_str("lastResort"), &last_resort());
    o.into()
}

fn names_object() -> js_sys::Object {
    let o = js_sys::Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
    };
    for (k, v) in [
        ("requestId", header::REQUEST_ID),
        ("cfRay", header::CF_RAY),
        ("traceparent", header::TRACEPARENT),
        ("bypass", crate::config::maintenance::BYPASS_HEADER),
        ("hop", HOP),
        ("nonce", NONCE),
        ("forwardedHost", FORWARDED_HOST),
        ("cacheName", CACHE_NAME),
        ("contentLength", "content-length"),
        ("contentEncoding", "content-encoding"),
        ("transferEncoding", "transfer-encoding"),
        ("retryAfter", "retry-after"),
    ] {
        set(k, JsValue::from_str(v));
    }
    set("excerptWaitMs", JsValue::from(EXCERPT_WAIT_MS));
    set("goingAway", JsValue::from(GOING_AWAY));
    set(
        "lowestStatus",
        JsValue::from(*statuses::ORIGIN_RANGE.start()),
    );
    set(
        "highestStatus",
        JsValue::from(*statuses::ORIGIN_RANGE.end()),
    );
    let decoding = js_sys::Object::new();
    for (value, decoders) in coding::table() {
        let list: js_sys::Array = decoders.iter().map(|d| JsValue::from_str(d)).collect();
        let _ = js_sys::Reflect::set(&decoding, &JsValue::from_str(&value), &list);
    }
    set("decoding", decoding.into());
    let kinds = js_sys::Object::new();
    for (kind, name) in Kind::ALL {
        let _ = js_sys::Reflect::set(&kinds, &JsValue::from_str(name), &JsValue::from(kind as u8));
    }
    set("kind", kinds.into());
    o
}

/// The answer when even the re-instantiated module cannot render one: the
/// default plain-text 500 (id `unavailable`) and the halves of its record.
fn last_resort() -> JsValue {
    let rendered = Renderer::new(&Page::default()).render(Format::Text, "unavailable", false);
    let headers = js_sys::Array::new();
    for (k, v) in &rendered.headers {
        headers.push(&js_sys::Array::of2(
            &JsValue::from_str(k),
            &JsValue::from_str(v),
        ));
    }
    let (head, tail) = last_resort_halves();
    let o = js_sys::Object::new();
    for (k, v) in [
        ("status", JsValue::from(status::INTERNAL_SERVER_ERROR)),
        ("headers", headers.into()),
        ("body", JsValue::from_str(&rendered.body)),
        ("recordHead", JsValue::from_str(&head)),
        ("recordTail", JsValue::from_str(&tail)),
    ] {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
    }
    o.into()
}
