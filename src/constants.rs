//! Every name and limit the JS side uses, defined here once and handed to
//! it: to the entry at load (`constants`, with the last-resort answer), to
//! the executor once per isolate (`configure`, with the limits from the
//! settings).

use error_shield::incoming::header;
use error_shield::{record, Page, Renderer};
use wasm_bindgen::JsValue;

/// Carries the deployment's hop marker ([`crate::hop`]) to the origin, so
/// a request that comes back to the worker fails fast instead of looping.
pub const HOP: &str = "x-error-shield-hop";
/// The client-facing host, sent to the origin.
pub const FORWARDED_HOST: &str = "x-forwarded-host";
/// Marks a stored copy served instead of the error…
pub const SERVED_STALE: &str = "x-served-stale";
/// …with this value.
pub const SERVED_STALE_VALUE: &str = "1";
/// The Cache API cache that holds stale-if-error copies.
pub const CACHE_NAME: &str = "error-shield-stale";
/// Our headers on a stored copy: when it was stored, for how long it may
/// be served, and the origin's own `Cache-Control`.
pub const STORED_AT: &str = "x-error-shield-stored-at";
/// See [`STORED_AT`].
pub const WINDOW: &str = "x-error-shield-window";
/// See [`STORED_AT`].
pub const KEPT_CACHE_CONTROL: &str = "x-error-shield-cache-control";

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
        ("bypass", crate::maintenance::BYPASS_HEADER),
        ("hop", HOP),
        ("forwardedHost", FORWARDED_HOST),
        ("servedStale", SERVED_STALE),
        ("servedStaleValue", SERVED_STALE_VALUE),
        ("cacheName", CACHE_NAME),
        ("storedAt", STORED_AT),
        ("window", WINDOW),
        ("keptCacheControl", KEPT_CACHE_CONTROL),
        ("cacheControl", "cache-control"),
        ("contentLength", "content-length"),
        ("contentEncoding", "content-encoding"),
        ("age", "age"),
    ] {
        set(k, JsValue::from_str(v));
    }
    o
}

/// The answer when even the re-instantiated module cannot render one: the
/// default plain-text 500 (id `unavailable`) and the halves of its record.
fn last_resort() -> JsValue {
    let rendered = Renderer::new(&Page::default()).render(
        error_shield::negotiate::Format::Text,
        "unavailable",
        false,
    );
    let headers = js_sys::Array::new();
    for (k, v) in &rendered.headers {
        headers.push(&js_sys::Array::of2(
            &JsValue::from_str(k),
            &JsValue::from_str(v),
        ));
    }
    let (head, tail) = record::last_resort_halves();
    let o = js_sys::Object::new();
    for (k, v) in [
        ("status", JsValue::from(error_shield::STATUS)),
        ("headers", headers.into()),
        ("body", JsValue::from_str(&rendered.body)),
        ("recordHead", JsValue::from_str(&head)),
        ("recordTail", JsValue::from_str(&tail)),
    ] {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
    }
    o.into()
}
