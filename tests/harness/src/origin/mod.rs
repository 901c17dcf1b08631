//! A fake origin on loopback: plain HTTP/1.1 on std, one thread per
//! connection, `Connection: close` unless started with keep-alive, with a
//! route for every behaviour the end-to-end tests need (echo, statuses,
//! streams, resets, garbage, sleeps, caching, WebSocket, Server-Sent
//! Events, compression, ranges and ETags): the table in `routes.rs`.
//! It also reports what it saw: hits per path and per `key=`, every request
//! line, accepted connections and which served a key, and how far a keyed
//! stream got (bytes written or read, and how the connection ended), so
//! tests can check what reached it and when.
//! `make dev` serves the same routes as its demo origin.

mod bodies;
mod conn;
pub mod content;
mod http;
mod odd;
mod protocols;
mod routes;

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use odd::ENCODED_TEXT;

/// What every failing route puts in its body: must never reach a client.
pub const SECRET_BODY: &str =
    "ORIGIN-SECRET-BODY Traceback (most recent call last): db password=hunter2";
/// Headers of failing responses that must never reach a client.
pub const SECRET_HEADERS: [(&str, &str); 3] = [
    ("set-cookie", "origin_session=leaked"),
    ("server", "SecretOrigin/1.0"),
    ("x-powered-by", "SecretFramework 9"),
];

/// A running fake origin.
pub struct Origin {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

/// How a fake origin treats its connections and paths.
#[derive(Clone, Copy, Default)]
pub struct Options {
    /// HTTP/1.1 persistent connections: after an answer that `respond`
    /// framed, wait for the next request on the same connection, unless the
    /// request said `Connection: close` or has `close=1` in its query; with
    /// `idle_ms=N` in its query the connection is closed (FIN) when no next
    /// request came within N ms (default 30 s). Off: every answer says
    /// `Connection: close` and the connection ends.
    pub keep_alive: bool,
    /// Path prefixes (each ending in `/`) under which every route is
    /// served too, whatever segments come between: with `/r/`,
    /// `/r/api/v2/status/502` (and `//r/api/…`) is served as
    /// `/status/502`; with `/`, under any prefix. For a worker whose rules
    /// (`ROUTES`) have prefixes the routes do not. Hits are counted under
    /// the path as requested.
    pub mounts: &'static [&'static str],
}

/// What the origin saw and what tests told it.
#[derive(Default)]
pub(crate) struct State {
    /// Requests per path (without query), and per `path?key=K`.
    hits: HashMap<String, u32>,
    /// Switches routes read (e.g. make a cacheable route fail).
    flags: HashMap<String, String>,
    /// Every request line, in arrival order: (method, target).
    seen: Vec<(String, String)>,
    /// Bytes a keyed stream has written (`/bytes`) or read (`/upload`) so far.
    progress: HashMap<String, u64>,
    /// How a keyed stream ended: `complete`, or the I/O error that cut it.
    ended: HashMap<String, String>,
    /// TCP connections accepted so far.
    connections: u64,
    /// Which connections (numbered from 1 as accepted) served a `key=`.
    connections_by_key: HashMap<String, HashSet<u64>>,
    /// The connections closed after idling `idle_ms` without a request.
    idle_closed: HashSet<u64>,
    /// Keyed events of the protocol routes: WebSocket messages the origin
    /// received, `/drop-reused` drops.
    log: HashMap<String, Vec<String>>,
    /// When each event of a keyed `/sse` stream was written and flushed.
    sent_at: HashMap<String, Vec<Instant>>,
}

impl Origin {
    /// On a free loopback port.
    pub fn start() -> Origin {
        Origin::start_with(0, Options::default())
    }

    /// On `port` (0: any free one), treating connections as `options` say.
    pub fn start_with(port: u16, options: Options) -> Origin {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind origin");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                let conn = {
                    let mut s = state.lock().unwrap();
                    s.connections += 1;
                    s.connections
                };
                thread::spawn(move || {
                    // A connection that fails (the peer reset it) is over.
                    let _ = conn::serve(stream, &state, conn, options);
                });
            }
        });
        Origin { port, state }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many requests reached `path` (without query).
    pub fn hits(&self, path: &str) -> u32 {
        let state = self.state.lock().unwrap();
        state.hits.get(path).copied().unwrap_or(0)
    }

    /// How many requests reached `path` with `key=key` in the query: a
    /// counter no other test shares.
    pub fn hits_for(&self, path: &str, key: &str) -> u32 {
        self.hits(&format!("{path}?key={key}"))
    }

    /// Sets a flag routes read (e.g. make a cacheable route fail).
    pub fn set_flag(&self, key: &str, value: &str) {
        let mut state = self.state.lock().unwrap();
        state.flags.insert(key.into(), value.into());
    }

    /// Every (method, target) that reached the origin whose target
    /// contains `marker`, in arrival order.
    pub fn seen(&self, marker: &str) -> Vec<(String, String)> {
        let state = self.state.lock().unwrap();
        (state.seen.iter())
            .filter(|(_, t)| t.contains(marker))
            .cloned()
            .collect()
    }

    /// Bytes the keyed stream `key` (`/bytes?key=`, `/upload?key=`) has
    /// written or read so far.
    pub fn progress(&self, key: &str) -> u64 {
        let state = self.state.lock().unwrap();
        state.progress.get(key).copied().unwrap_or(0)
    }

    /// How the keyed stream `key` ended (`complete` or the I/O error), or
    /// `None` while it runs.
    pub fn ended(&self, key: &str) -> Option<String> {
        self.state.lock().unwrap().ended.get(key).cloned()
    }

    /// How long the origin held `/hold?key=key` before the worker let the
    /// request go: waits up to `limit` for the hold to end, and fails the
    /// test if it was answered instead (it outlasted the worker).
    pub fn let_go_after(&self, key: &str, limit: Duration) -> u64 {
        let what = format!("the worker to let the held request {key} go");
        let how = crate::poll(&what, limit, || self.ended(key));
        (how.strip_prefix("error: closed after "))
            .and_then(|t| t.strip_suffix(" ms"))
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("the hold {key} ended {how:?}, not let go"))
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.lock().unwrap().connections
    }

    /// How many different connections carried requests with `key=key`.
    pub fn connections_for(&self, key: &str) -> usize {
        self.connections_of(key).len()
    }

    /// The connections (numbered from 1 as accepted) that carried requests
    /// with `key=key`, in ascending order.
    pub fn connections_of(&self, key: &str) -> Vec<u64> {
        let state = self.state.lock().unwrap();
        let mut ids: Vec<u64> = (state.connections_by_key.get(key))
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    /// Whether the origin closed connection `id` because no request came
    /// within the `idle_ms` its last request asked for.
    pub fn closed_idle(&self, id: u64) -> bool {
        self.state.lock().unwrap().idle_closed.contains(&id)
    }

    /// The keyed events of the protocol routes for `key`, in order: each
    /// WebSocket message the origin received (`text:…`, `binary:<len>:<fnv>`,
    /// `close:<code>:<reason>`), each `/drop-reused` drop (`dropped`).
    pub fn log(&self, key: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state.log.get(key).cloned().unwrap_or_default()
    }

    /// When each event of the `/sse?key=key` stream was flushed, in order.
    pub fn sent_at(&self, key: &str) -> Vec<Instant> {
        let state = self.state.lock().unwrap();
        state.sent_at.get(key).cloned().unwrap_or_default()
    }
}

/// A header the fake origin's echo saw, from its JSON answer.
pub fn echo_header<'a>(echo: &'a Value, name: &str) -> Option<&'a str> {
    echo["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0] == name)
        .and_then(|h| h[1].as_str())
}

/// FNV-1a 64: a cheap checksum to compare bodies without storing them.
pub fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

/// Where [`fnv`] starts.
pub const FNV_START: u64 = 0xcbf29ce484222325;

/// The deterministic byte at offset `i` of generated bodies.
pub fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(31) % 251) as u8
}
