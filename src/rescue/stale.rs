//! Stale-if-error (RFC 5861): which responses may be kept, for how long, and
//! whether a kept copy may still be served, how often a key's copy is
//! refreshed and how much an isolate collects at once (whose copy it is:
//! [`crate::rescue::stale_key`]). Pure: tested natively; the Cache API calls live in
//! `js/runtime.js`.

use std::collections::HashMap;

/// What [`window`] reads of a good response.
#[derive(Debug, Clone, Copy, Default)]
pub struct Candidate<'a> {
    /// Its status.
    pub status: u16,
    /// Whether it sets a cookie.
    pub set_cookie: bool,
    /// `Cache-Control`.
    pub cache_control: Option<&'a str>,
    /// `Content-Type`.
    pub content_type: Option<&'a str>,
    /// `Content-Length`.
    pub content_length: Option<&'a str>,
}

/// Media types that are streams, never a document to replay later.
const STREAMS: [&str; 2] = ["text/event-stream", "multipart/x-mixed-replace"];

/// Whether a response to a body-less GET without credentials (the plan
/// checks the request) may be stored, and for how many seconds it may be
/// served when the origin fails. `None`: never store it.
///
/// Stored: 200s without `Set-Cookie`, `private` or `no-store`, that are no
/// event stream or `multipart/x-mixed-replace` (a replay would pose old
/// events as new) and whose length, when given, is at most `max_bytes` (one
/// without a length is cut off by the executor at `max_bytes`). A response
/// that must be revalidated (`no-cache`, `must-revalidate`,
/// `proxy-revalidate`, `s-maxage`: RFC 9111 §4.2.4) is never served stale
/// unless it carries its own `stale-if-error=N` (RFC 5861); the origin's N
/// then bounds the window, never extends the operator's.
pub fn window(r: &Candidate<'_>, configured: u32, max_bytes: u32) -> Option<u32> {
    if r.status != 200 || r.set_cookie {
        return None;
    }
    let essence = r.content_type.unwrap_or("").split(';').next().unwrap_or("");
    if STREAMS
        .iter()
        .any(|s| essence.trim().eq_ignore_ascii_case(s))
    {
        return None;
    }
    if let Some(length) = r.content_length {
        if length
            .trim()
            .parse::<u64>()
            .map_or(true, |n| n > u64::from(max_bytes))
        {
            return None;
        }
    }
    let (mut own, mut revalidate) = (None, false);
    for directive in r.cache_control.unwrap_or("").split(',') {
        let (name, value) = directive
            .split_once('=')
            .map_or((directive, None), |(n, v)| (n, Some(v)));
        match name.trim().to_ascii_lowercase().as_str() {
            "private" | "no-store" => return None,
            "no-cache" | "must-revalidate" | "proxy-revalidate" | "s-maxage" => revalidate = true,
            "stale-if-error" => {
                // An unreadable value is no permission.
                own = Some(
                    value
                        .and_then(|v| v.trim().trim_matches('"').parse().ok())
                        .unwrap_or(0),
                );
            }
            _ => {}
        }
    }
    let window = match own {
        Some(n) => configured.min(n),
        None if revalidate => 0,
        None => configured,
    };
    (window > 0).then_some(window)
}

/// The `Age` (seconds) to serve a copy stored at `stored_at_ms` with
/// `window` seconds, at `now_ms`; `None` once the window has passed.
pub fn age(stored_at_ms: f64, window: u32, now_ms: f64) -> Option<u64> {
    let age_ms = (now_ms - stored_at_ms).max(0.0);
    (age_ms <= f64::from(window) * 1000.0).then(|| (age_ms / 1000.0) as u64)
}

/// A key's copy is refreshed at most this often per isolate (or twice per
/// window, when that is shorter): a hot URL costs one body tee and one cache
/// write per interval and key, not one per request.
pub const REFRESH_MS: f64 = 5_000.0;

/// Most keys an isolate remembers; when full it starts afresh (the cost of
/// forgetting is one extra store per key).
const LEDGER_MAX: usize = 1024;

/// When this isolate last offered a good response for storing, per key.
#[derive(Debug, Default)]
pub struct Ledger(HashMap<String, f64>);

impl Ledger {
    /// Whether a good response under `key` should be offered for storing now.
    pub fn due(&self, key: &str, now_ms: f64, window: u32) -> bool {
        let every = REFRESH_MS.min(f64::from(window) * 500.0);
        self.0
            .get(key)
            .is_none_or(|last| now_ms - last >= every || now_ms < *last)
    }

    /// Notes that a response under `key` was offered at `now_ms`.
    pub fn mark(&mut self, key: &str, now_ms: f64) {
        if self.0.len() >= LEDGER_MAX && !self.0.contains_key(key) {
            self.0.clear();
        }
        self.0.insert(key.to_owned(), now_ms);
    }
}

pub use crate::config::settings::MAX_BYTES_LIMIT;

/// Most bytes an isolate holds of copies being collected at once; past it
/// a response is simply not stored.
pub const COLLECTING_MAX: u64 = 32 * 1024 * 1024;

/// How long a copy may take to collect: well inside the 30 s the runtime
/// gives a request's `waitUntil` after the answer, so every collecting ends
/// and gives back what it took of [`COLLECTING_MAX`].
pub const COLLECT_MS: u32 = 20_000;

/// The bytes of copies this isolate is collecting now, each counted at
/// the most it may grow to.
#[derive(Debug, Default)]
pub struct Collecting(u64);

impl Collecting {
    /// Takes `n` bytes for one copy; `false` (nothing taken) past the bound.
    pub fn reserve(&mut self, n: u64) -> bool {
        let total = self.0.saturating_add(n);
        (total <= COLLECTING_MAX).then(|| self.0 = total).is_some()
    }

    /// Gives back what [`Collecting::reserve`] took, once the copy is stored or dropped.
    pub fn release(&mut self, n: u64) {
        self.0 = self.0.saturating_sub(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// status, Set-Cookie, Cache-Control, configured → window
    type Case = (u16, bool, Option<&'static str>, u32, Option<u32>);

    fn candidate(status: u16, set_cookie: bool, cache_control: Option<&str>) -> Candidate<'_> {
        Candidate {
            status,
            set_cookie,
            cache_control,
            ..Candidate::default()
        }
    }

    #[test]
    fn only_shareable_200s_are_stored() {
        let table: [Case; 11] = [
            (200, false, None, 60, Some(60)),
            (200, false, Some("max-age=10"), 60, Some(60)),
            (200, false, Some("public, stale-if-error=300"), 60, Some(60)),
            (200, false, Some("public, stale-if-error=300"), 0, None),
            (200, false, Some("stale-if-error=\"30\""), 60, Some(30)),
            (200, false, Some("stale-if-error=0"), 60, None),
            (200, false, Some("max-age=0, PRIVATE"), 60, None),
            (200, false, Some("no-store"), 60, None),
            (200, true, None, 60, None),
            (206, false, None, 60, None),
            (304, false, None, 60, None),
        ];
        for (status, cookie, cc, configured, want) in table {
            assert_eq!(
                window(&candidate(status, cookie, cc), configured, 1024),
                want,
                "{status} {cookie} {cc:?} {configured}"
            );
        }
    }

    #[test]
    fn a_response_that_must_be_revalidated_is_served_stale_only_with_its_own_permission() {
        // Cache-Control, configured → window
        let table = [
            ("max-age=60", Some(60)),
            ("no-cache", None),
            ("no-cache=\"set-cookie\"", None),
            ("max-age=60, must-revalidate", None),
            ("Proxy-Revalidate", None),
            ("public, s-maxage=600", None),
            ("no-cache, stale-if-error=30", Some(30)),
            ("must-revalidate, stale-if-error=600", Some(60)),
            ("must-revalidate, stale-if-error=soon", None),
            ("stale-if-error=30", Some(30)),
            ("stale-if-error=600", Some(60)),
        ];
        for (cc, want) in table {
            assert_eq!(
                window(&candidate(200, false, Some(cc)), 60, 1024),
                want,
                "{cc}"
            );
        }
    }

    #[test]
    fn an_isolate_collects_at_most_its_bound_at_once() {
        let mut c = Collecting::default();
        assert!(c.reserve(u64::from(MAX_BYTES_LIMIT)));
        assert!(c.reserve(u64::from(MAX_BYTES_LIMIT)));
        assert!(!c.reserve(1), "past the bound");
        c.release(u64::from(MAX_BYTES_LIMIT));
        assert!(c.reserve(1), "room again once one is done");
        assert!(!c.reserve(u64::MAX));
        c.release(u64::MAX);
        assert!(c.reserve(COLLECTING_MAX));
    }

    #[test]
    fn streams_and_bodies_over_the_bound_are_never_stored() {
        // content type, content length → stored
        let table = [
            (Some("application/json"), Some("1024"), true),
            (Some("application/json"), None, true),
            (None, Some("0"), true),
            (Some("application/json"), Some("1025"), false),
            (Some("application/json"), Some("lots"), false),
            (Some("text/event-stream"), None, false),
            (Some("Text/Event-Stream; charset=utf-8"), Some("10"), false),
            (Some("multipart/x-mixed-replace; boundary=x"), None, false),
            (Some("text/event-streams"), None, true),
        ];
        for (content_type, content_length, stored) in table {
            let r = Candidate {
                content_type,
                content_length,
                ..candidate(200, false, None)
            };
            assert_eq!(
                window(&r, 60, 1024).is_some(),
                stored,
                "{content_type:?} {content_length:?}"
            );
        }
        for status in [101, 204, 206, 304] {
            assert_eq!(
                window(&candidate(status, false, None), 60, 1024),
                None,
                "{status}"
            );
        }
    }

    #[test]
    fn a_url_is_offered_for_storing_once_per_interval() {
        let mut l = Ledger::default();
        assert!(l.due("https://w/a", 1_000.0, 60));
        l.mark("https://w/a", 1_000.0);
        let table = [
            ("https://w/a", 1_000.0, 60, false),
            ("https://w/a", 5_999.0, 60, false),
            ("https://w/a", 6_000.0, 60, true),
            ("https://w/a", 500.0, 60, true), // the clock went back
            ("https://w/a", 1_999.0, 2, false),
            ("https://w/a", 2_000.0, 2, true), // twice per 2 s window
            ("https://w/b", 1_000.0, 60, true),
        ];
        for (url, now, window, want) in table {
            assert_eq!(l.due(url, now, window), want, "{url} {now} {window}");
        }
    }

    #[test]
    fn the_ledger_remembers_every_url_below_its_bound() {
        let mut l = Ledger::default();
        for url in ["https://w/a", "https://w/b", "https://w/c"] {
            l.mark(url, 1_000.0);
        }
        l.mark("https://w/a", 1_000.0);
        for url in ["https://w/a", "https://w/b", "https://w/c"] {
            assert!(!l.due(url, 1_500.0, 60), "{url} was forgotten");
        }
        assert_eq!(l.0.len(), 3);
    }

    #[test]
    fn the_ledger_stays_bounded() {
        let mut l = Ledger::default();
        for i in 0..LEDGER_MAX + 10 {
            l.mark(&format!("https://w/{i}"), 1.0);
        }
        assert!(l.0.len() <= LEDGER_MAX);
        l.mark("https://w/again", 2.0);
        assert!(!l.due("https://w/again", 3.0, 60));
    }

    #[test]
    fn copies_are_served_within_the_window_only() {
        assert_eq!(age(1_000.0, 60, 1_000.0), Some(0));
        assert_eq!(age(1_000.0, 60, 31_500.0), Some(30));
        assert_eq!(age(1_000.0, 60, 61_000.0), Some(60));
        assert_eq!(age(1_000.0, 60, 61_001.0), None);
        // A clock that went backwards never makes a negative age.
        assert_eq!(age(5_000.0, 60, 1_000.0), Some(0));
    }
}
