//! The client's side: one response type, [`Resp`], for what a client got,
//! whether an ordinary HTTP client ([`send`], [`get`]) or a hand-written
//! exchange on the wire (`crate::wire`) asked.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::worker::wrangler_tail;

/// A response as the client saw it.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    /// From [`send`]: by name, sorted. From the wire: in the order sent,
    /// names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked off the wire); empty for a HEAD, of which
    /// nothing is read.
    pub body: Vec<u8>,
}

impl Resp {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (any case), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics showing it when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The `X-Request-Id` the worker answered with.
    pub fn request_id(&self) -> String {
        self.header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id on {self:?}"))
            .to_string()
    }

    /// The headers, sorted, without framing, `Connection` and the request
    /// id: what two answers of the same kind must share.
    pub fn fixed_headers(&self) -> Vec<(String, String)> {
        // Framing and connection management are the runtime's, not the
        // worker's: workerd 2026-11 answers `Connection: close` to a request
        // that asked to close (the last one of `raw_exchange`), 2026-04 did not.
        let skip = [
            "transfer-encoding",
            "content-length",
            "connection",
            "x-request-id",
        ];
        let mut h: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .cloned()
            .collect();
        h.sort();
        h
    }
}

/// A request id unique within this test run, tagged to find its log record.
pub fn unique_id(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{tag}-{}-{n}", std::process::id())
}

/// Sends a request and returns whatever came back (any status), on a
/// fresh connection, no redirect followed; panics (with the worker's last
/// output) when nothing came back.
pub fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
    match error_shield_rig::fetch(method, url, headers, body, Duration::from_secs(60)) {
        Ok(a) => Resp {
            status: a.status,
            headers: a.headers,
            body: a.body,
        },
        Err(e) => panic!("{method} {url}: {e}{}", wrangler_tail(url)),
    }
}

/// A GET with `headers` and no body; see [`send`].
pub fn get(url: &str, headers: &[(&str, &str)]) -> Resp {
    send("GET", url, headers, None)
}
