//! The rescue steps on the request's trace: a retry, the fallback attempt
//! and the stale look-up each run in a child span of the request's root
//! span (`error-shield.retry`, `error-shield.fallback`,
//! `error-shield.stale`), with the attempt it is and what came back. The
//! names and attributes are decided here; `js/trace.js` sets them.

use std::cell::OnceCell;

use error_shield::parts::trace::{Span, PREFIX};
use wasm_bindgen::prelude::*;

use crate::corridor::came::Kind;

#[wasm_bindgen(module = "/src/js/trace.js")]
extern "C" {
    #[wasm_bindgen(js_name = step)]
    fn step_js(
        root: &JsValue,
        name: &str,
        promise: &js_sys::Promise,
        start: &JsValue,
        table: &JsValue,
    ) -> js_sys::Promise;
}

/// A rescue step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rescue {
    /// Another attempt at the origin.
    Retry,
    /// The attempt at the fallback origin.
    Fallback,
    /// The look-up of the stored copy.
    Stale,
}

impl Rescue {
    /// The child span's name.
    pub fn span_name(self) -> &'static str {
        match self {
            Rescue::Retry => "error-shield.retry",
            Rescue::Fallback => "error-shield.fallback",
            Rescue::Stale => "error-shield.stale",
        }
    }
}

/// The attribute naming what came back.
pub const OUTCOME: &str = "error_shield.outcome";

/// What each kind that comes back is called on a child span.
pub fn outcome_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Good => "good",
        Kind::FailingStatus => "failing_status",
        Kind::Signalled => "signalled",
        Kind::FetchError => "fetch_error",
        Kind::TimedOut => "timed_out",
        Kind::BrokenRequest => "broken_request",
        Kind::CacheHit => "cache_hit",
        Kind::CacheMiss => "cache_miss",
        Kind::BodyBroken => "body_broken",
        Kind::UploadStalled => "upload_stalled",
        Kind::UploadBroken => "upload_broken",
    }
}

/// The attributes a step starts with: which attempt it is (a look-up:
/// after how many).
pub fn start_attributes(attempt: u32) -> [(String, u32); 1] {
    [(format!("{PREFIX}attempt"), attempt)]
}

thread_local! {
    static TABLE: OnceCell<JsValue> = const { OnceCell::new() };
}

/// The names JS needs to describe what came back, built once.
fn table() -> JsValue {
    TABLE.with(|t| {
        t.get_or_init(|| {
            let o = js_sys::Object::new();
            let set = |o: &js_sys::Object, k: &str, v: JsValue| {
                let _ = js_sys::Reflect::set(o, &JsValue::from_str(k), &v);
            };
            set(&o, "outcome", OUTCOME.into());
            set(&o, "originStatus", format!("{PREFIX}origin_status").into());
            set(&o, "answered", "answered".into());
            set(&o, "rejected", "rejected".into());
            let kinds = js_sys::Object::new();
            for (kind, _) in Kind::ALL {
                set(&kinds, &(kind as u8).to_string(), outcome_name(kind).into());
            }
            set(&o, "kinds", kinds.into());
            o.into()
        })
        .clone()
    })
}

/// `promise` (the step) run in its child span of `root`; the promise as it
/// is when the request has no span.
pub fn step(root: &Span, rescue: Rescue, attempt: u32, promise: js_sys::Promise) -> JsValue {
    let Some(handle) = root.handle() else {
        return promise.into();
    };
    let start = js_sys::Object::new();
    for (k, v) in start_attributes(attempt) {
        let _ = js_sys::Reflect::set(&start, &JsValue::from_str(&k), &JsValue::from(v));
    }
    step_js(
        handle,
        rescue.span_name(),
        &promise,
        &start.into(),
        &table(),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_and_outcome_has_its_own_name() {
        let names: Vec<_> = [Rescue::Retry, Rescue::Fallback, Rescue::Stale]
            .map(Rescue::span_name)
            .to_vec();
        assert_eq!(
            names,
            [
                "error-shield.retry",
                "error-shield.fallback",
                "error-shield.stale"
            ]
        );
        let mut outcomes: Vec<_> = Kind::ALL.iter().map(|(k, _)| outcome_name(*k)).collect();
        outcomes.sort_unstable();
        outcomes.dedup();
        assert_eq!(outcomes.len(), Kind::ALL.len());
        assert_eq!(
            start_attributes(2)[0],
            ("error_shield.attempt".to_owned(), 2)
        );
    }
}
