//! The proxy's per-isolate state: the guard, the settings (or why they are
//! invalid), built on the first request and handed to the executor once.

use std::cell::{Cell, OnceCell, RefCell};

use error_shield::parts::{per_isolate, request_id, vars, Renderer, Words};
use error_shield::{Failure, Shield};
use wasm_bindgen::JsValue;

use crate::answer::status_of::{status_of, Of};
use crate::config::hop::{self, Chain, Hop};
use crate::config::routes::{Routes, Rule};
use crate::config::settings::Settings;
use crate::corridor::constants;
use crate::corridor::executor;
use crate::rescue::breaker::Breakers;
use crate::rescue::stale::{Collecting, Ledger};

/// What every request of this isolate shares.
pub struct Isolate {
    /// The guard: renders the uniform error and writes the record.
    pub shield: Shield,
    /// The proxy's settings; `Err`: every request is this `config_error`.
    pub settings: Result<Settings, Failure>,
    /// The per-path rules (none when the settings are invalid).
    pub routes: Routes,
    /// This deployment's hop markers.
    pub hop: Hop,
    /// Where the nonces of this isolate's markers come from.
    nonces: Nonces,
    /// The maintenance 503, built on first use.
    maintenance: OnceCell<MaintenanceAnswer>,
    /// When a good response was last offered for storing, per key.
    pub ledger: RefCell<Ledger>,
    /// The bytes of copies being collected now.
    pub collecting: RefCell<Collecting>,
    /// The circuit of each origin.
    pub breakers: RefCell<Breakers>,
}

/// An answer that is no failure (the maintenance 503): its bodies and the
/// headers it adds.
pub struct MaintenanceAnswer {
    /// Its bodies.
    pub renderer: Renderer,
    /// Its headers besides the fixed set.
    pub headers: Vec<(&'static str, String)>,
    /// What it says.
    pub words: Words,
}

impl Isolate {
    /// The rule a request to `url` goes by.
    pub fn rule_for(&self, url: &str) -> Result<Rule<'_>, Failure> {
        let number = self.routes.select(url).map_or(0, |(i, _)| i as u32 + 1);
        self.rule(number)
    }

    /// The maintenance 503: its own words and `Retry-After`.
    pub fn maintenance_answer(&self) -> &MaintenanceAnswer {
        self.maintenance
            .get_or_init(|| maintenance_answer(&self.shield, self.settings.as_ref().ok()))
    }

    /// The rule numbered `number` (its journey carries it).
    pub fn rule(&self, number: u32) -> Result<Rule<'_>, Failure> {
        let top = self.settings.as_ref().map_err(Clone::clone)?;
        let route = number
            .checked_sub(1)
            .and_then(|i| self.routes.0.get(i as usize));
        Ok(Rule {
            settings: route.map_or(top, |r| &r.settings),
            route,
            number: if route.is_some() { number } else { 0 },
        })
    }
}

thread_local! {
    static ISOLATE: Cell<Option<&'static Isolate>> = const { Cell::new(None) };
}

impl Isolate {
    /// The isolate's state, built from `env` on first use.
    pub fn get(env: &JsValue) -> &'static Isolate {
        per_isolate::get_or_init(&ISOLATE, || Isolate::new(env))
    }

    fn new(env: &JsValue) -> Isolate {
        let lookup = |name: &str| vars::from_env(env, name);
        let shield = Shield::from_vars(&lookup);
        // A bad page variable is reported first: it is the guard's own.
        let parsed = match shield.config_error() {
            Some(f) => Err(f.clone()),
            None => Settings::from_vars(&lookup)
                .and_then(|s| Routes::from_vars(&lookup).map(|routes| (s, routes))),
        };
        let (settings, routes) = match parsed {
            Ok((s, routes)) => (Ok(s), routes),
            Err(f) => (Err(f), Routes::default()),
        };
        // One failing-status bitmap for the top level, then one per rule.
        let bitmaps = js_sys::Array::new();
        let (mut excerpt_max, mut watch_bodies) = (0, true);
        if let Ok(s) = &settings {
            excerpt_max = s.log_origin_body_bytes;
            watch_bodies = s.watch_bodies;
            for set in std::iter::once(s).chain(routes.0.iter().map(|r| &r.settings)) {
                bitmaps.push(&js_sys::Uint8Array::from(
                    &set.failure_statuses.bitmap()[..],
                ));
            }
        }
        let hop = Hop::of(&deployment(env));
        executor::configure(&constants::names(), &bitmaps, excerpt_max, watch_bodies);
        Isolate {
            shield,
            settings,
            routes,
            hop,
            nonces: Nonces::new(),
            maintenance: OnceCell::new(),
            ledger: RefCell::default(),
            collecting: RefCell::default(),
            breakers: RefCell::default(),
        }
    }
}

/// A nonce no client can predict for each request's marker: a count
/// hashed with a random key of this isolate's (one draw per isolate, not
/// one per request).
struct Nonces {
    key: u64,
    count: Cell<u64>,
}

impl Nonces {
    fn new() -> Nonces {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        Nonces {
            key: u64::from_le_bytes(b),
            count: Cell::new(0),
        }
    }
}

impl Isolate {
    /// The markers and nonces for a request arriving with `before`.
    pub fn onward(&self, before: &Chain) -> Chain {
        let n = self.nonces.count.get().wrapping_add(1);
        self.nonces.count.set(n);
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&(self.nonces.key, n), &mut h);
        self.hop.onward(before, std::hash::Hasher::finish(&h))
    }
}

/// The deployment's version id; without the binding (a bare workerd), a
/// random id of this isolate's own, so a loop is still caught within it.
fn deployment(env: &JsValue) -> String {
    let id = js_sys::Reflect::get(env, &JsValue::from_str(hop::VERSION_BINDING))
        .ok()
        .filter(|m| m.is_object())
        .and_then(|m| js_sys::Reflect::get(&m, &JsValue::from_str("id")).ok())
        .and_then(|id| id.as_string())
        .filter(|id| !id.is_empty());
    id.unwrap_or_else(|| {
        let mut b = [0u8; 16];
        let _ = getrandom::fill(&mut b);
        request_id::from_bytes(b)
    })
}

/// The maintenance 503, with its own words and `Retry-After`, shaped by
/// the page (formats, template, support link).
fn maintenance_answer(shield: &Shield, s: Option<&Settings>) -> MaintenanceAnswer {
    let m = s.map(|s| s.maintenance.clone()).unwrap_or_default();
    let words = Words {
        status: status_of(s.map(|s| s.response_status), Of::Maintenance),
        title: m.title,
        message: m.message,
    };
    let headers = (m.retry_after > 0)
        .then(|| ("retry-after", m.retry_after.to_string()))
        .into_iter()
        .collect();
    MaintenanceAnswer {
        renderer: Renderer::with_words(shield.page(), &words),
        headers,
        words,
    }
}
