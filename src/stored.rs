//! The stale-if-error copy's format: the headers it is stored with (when it
//! was stored, for how long it may be served, the origin's own
//! `Cache-Control`) and how the served copy is reshaped from it. Pure:
//! tested natively; the executor only applies these edits.

/// When the copy was stored (ms since the epoch).
pub const STORED_AT: &str = "x-error-shield-stored-at";
/// For how many seconds it may be served.
pub const WINDOW: &str = "x-error-shield-window";
/// The origin's own `Cache-Control`, restored on the served copy.
pub const KEPT_CACHE_CONTROL: &str = "x-error-shield-cache-control";
/// Marks a stored copy served instead of the error…
pub const SERVED_STALE: &str = "x-served-stale";
/// …with this value.
pub const SERVED_STALE_VALUE: &str = "1";

const CACHE_CONTROL: &str = "cache-control";

/// Header edits: names to remove, then name/value pairs to set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Edits {
    /// Removed first.
    pub remove: Vec<&'static str>,
    /// Then set.
    pub set: Vec<(&'static str, String)>,
}

/// The edits that turn a good response (with `cache_control`) into its
/// stored copy at `now_ms`, servable for `window` seconds. The cache keeps
/// it for the window only (`max-age`), whatever the origin said.
pub fn to_store(window: u32, now_ms: f64, cache_control: Option<&str>) -> Edits {
    let mut set = vec![
        (STORED_AT, format!("{now_ms:.0}")),
        (WINDOW, window.to_string()),
        (CACHE_CONTROL, format!("max-age={window}")),
    ];
    if let Some(cc) = cache_control {
        set.push((KEPT_CACHE_CONTROL, cc.to_owned()));
    }
    Edits {
        remove: Vec::new(),
        set,
    }
}

/// What a stored copy says of itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// When it was stored (ms).
    pub stored_at: f64,
    /// For how long it may be served (s).
    pub window: u32,
    /// The origin's `Cache-Control`.
    pub cache_control: Option<String>,
}

impl Stored {
    /// Reads a stored copy's headers; `None` when they are not ours.
    pub fn read(header: impl Fn(&str) -> Option<String>) -> Option<Stored> {
        Some(Stored {
            stored_at: header(STORED_AT)?.trim().parse().ok()?,
            window: header(WINDOW)?.trim().parse().ok()?,
            cache_control: header(KEPT_CACHE_CONTROL),
        })
    }

    /// The edits that make the copy the client gets: our headers gone, the
    /// origin's `Cache-Control` back, `Age` and `X-Served-Stale` added.
    pub fn to_serve(&self, age_sec: u64) -> Edits {
        let mut set = vec![
            ("age", age_sec.to_string()),
            (SERVED_STALE, SERVED_STALE_VALUE.to_owned()),
        ];
        if let Some(cc) = &self.cache_control {
            set.push((CACHE_CONTROL, cc.clone()));
        }
        Edits {
            remove: vec![STORED_AT, WINDOW, KEPT_CACHE_CONTROL, CACHE_CONTROL],
            set,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies `e` to a header list, as the executor does to `Headers`.
    fn apply(mut headers: Vec<(String, String)>, e: &Edits) -> Vec<(String, String)> {
        headers.retain(|(k, _)| !e.remove.contains(&k.as_str()));
        for (k, v) in &e.set {
            headers.retain(|(n, _)| n != k);
            headers.push(((*k).to_owned(), v.clone()));
        }
        headers.sort();
        headers
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<_> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_copy_goes_back_to_the_client_with_the_origins_headers_and_its_age() {
        for cc in [Some("public, max-age=5"), None] {
            let mut origin = vec![("content-type", "application/json"), ("etag", "\"v1\"")];
            if let Some(cc) = cc {
                origin.push(("cache-control", cc));
            }
            let stored = apply(h(&origin), &to_store(60, 1_700_000_000_123.0, cc));
            let get = |n: &str| stored.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            assert_eq!(get("cache-control").as_deref(), Some("max-age=60"));
            let read = Stored::read(get).expect("ours");
            assert_eq!((read.stored_at, read.window), (1_700_000_000_123.0, 60));
            let served = apply(stored.clone(), &read.to_serve(7));
            let mut want = origin.clone();
            want.extend([("age", "7"), ("x-served-stale", "1")]);
            assert_eq!(served, h(&want), "{cc:?}");
        }
    }

    #[test]
    fn a_response_without_our_headers_is_no_stored_copy() {
        assert_eq!(Stored::read(|_| None), None);
        let bad = |n: &str| (n == STORED_AT || n == WINDOW).then(|| "soon".to_owned());
        assert_eq!(Stored::read(bad), None);
    }
}
