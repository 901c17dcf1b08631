//! The proxy's per-isolate state: the guard, the settings (or why they are
//! invalid), built on the first request and handed to the executor once.

use std::cell::Cell;

use error_shield::{vars, Failure, Shield, Words};
use wasm_bindgen::JsValue;

use crate::settings::Settings;
use crate::{constants, runtime};

/// What every request of this isolate shares.
pub struct Isolate {
    /// The guard: renders the uniform error and writes the record.
    pub shield: Shield,
    /// The proxy's settings; `Err`: every request is this `config_error`.
    pub settings: Result<Settings, Failure>,
}

thread_local! {
    static ISOLATE: Cell<Option<&'static Isolate>> = const { Cell::new(None) };
}

impl Isolate {
    /// The isolate's state, built from `env` on first use.
    pub fn get(env: &JsValue) -> &'static Isolate {
        ISOLATE.with(|cell| {
            cell.get().unwrap_or_else(|| {
                let isolate: &'static Isolate = Box::leak(Box::new(Isolate::new(env)));
                cell.set(Some(isolate));
                isolate
            })
        })
    }

    fn new(env: &JsValue) -> Isolate {
        let lookup = |name: &str| vars::from_env(env, name);
        let mut shield = Shield::from_vars(&lookup);
        // A bad page variable is reported first: it is the guard's own.
        let settings = match shield.config_error() {
            Some(f) => Err(f.clone()),
            None => Settings::from_vars(&lookup),
        };
        if let Ok(s) = &settings {
            shield = prepare(shield, s);
        }
        let (bitmap, excerpt_max) = match &settings {
            Ok(s) => (s.failure_statuses.bitmap(), s.log_origin_body_bytes),
            Err(_) => (Vec::new(), 0),
        };
        runtime::configure(
            &constants::object(),
            js_sys::Uint8Array::from(&bitmap[..]),
            excerpt_max,
        );
        Isolate { shield, settings }
    }
}

/// The answers the settings may need besides the 500: 502 and 504 by
/// cause, the maintenance 503 with its own words and `Retry-After`.
fn prepare(mut shield: Shield, s: &Settings) -> Shield {
    let page = shield.page().clone();
    for status in [502, 504] {
        shield = shield.answering(page.words(status), Vec::new());
    }
    let m = &s.maintenance;
    let words = Words {
        status: 503,
        title: m.title.clone(),
        message: m.message.clone(),
    };
    let retry_after = (m.retry_after > 0)
        .then(|| ("retry-after", m.retry_after.to_string()))
        .into_iter()
        .collect();
    shield.answering(words, retry_after)
}
