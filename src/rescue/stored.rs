//! The stale-if-error copy's format: the headers it is stored with (when it
//! was stored, for how long it may be served, what the request it answered
//! had in the headers the response varies on, the origin's own
//! `Cache-Control` and `Vary`) and how the served copy is reshaped from it. Pure:
//! tested natively; the executor only applies these edits.

/// When the copy was stored (ms since the epoch).
pub const STORED_AT: &str = "x-error-shield-stored-at";
/// For how many seconds it may be served.
pub const WINDOW: &str = "x-error-shield-window";
/// The origin's own `Cache-Control`, restored on the served copy.
pub const KEPT_CACHE_CONTROL: &str = "x-error-shield-cache-control";
/// The origin's own `Vary`, restored on the served copy (kept under our
/// name so no cache in between varies on it: the match is ours).
pub const KEPT_VARY: &str = "x-error-shield-vary";
/// The origin's own `Content-Encoding`, restored on the served copy (kept
/// under our name so the cache stores and returns the bytes as they are,
/// never decoded).
pub const KEPT_CONTENT_ENCODING: &str = "x-error-shield-content-encoding";
/// The hash of the stored-from request's values of the `Vary` headers.
pub const VARIED: &str = "x-error-shield-varied";
/// Marks a stored copy served instead of the error…
pub const SERVED_STALE: &str = "x-served-stale";
/// …with this value.
pub const SERVED_STALE_VALUE: &str = "1";

const CACHE_CONTROL: &str = "cache-control";
const VARY: &str = "vary";
const CONTENT_ENCODING: &str = "content-encoding";
const CONTENT_LENGTH: &str = "content-length";
const TRANSFER_ENCODING: &str = "transfer-encoding";
/// Every header name a stored copy keeps for itself.
const OURS: [&str; 6] = [
    STORED_AT,
    WINDOW,
    VARIED,
    KEPT_CACHE_CONTROL,
    KEPT_VARY,
    KEPT_CONTENT_ENCODING,
];

/// Header edits: names to remove, then name/value pairs to set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Edits {
    /// Removed first.
    pub remove: Vec<&'static str>,
    /// Then set.
    pub set: Vec<(&'static str, String)>,
}

/// What a good response is stored with, besides its window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin<'a> {
    /// The origin's `Cache-Control`.
    pub cache_control: Option<&'a str>,
    /// The origin's `Vary`.
    pub vary: Option<&'a str>,
    /// The origin's `Content-Encoding`.
    pub content_encoding: Option<&'a str>,
    /// Whether its `Content-Length` is the one the runtime framed it by
    /// (else the header goes: the stored copy gets its true length).
    pub framed: bool,
    /// [`crate::rescue::stale_key::varied`] of the request it answered.
    pub varied: &'a str,
}

/// The edits that turn a good response into its stored copy at `now_ms`,
/// servable for `window` seconds. The cache keeps it for the window only
/// (`max-age`), whatever the origin said.
pub fn to_store(window: u32, now_ms: f64, origin: &Origin<'_>) -> Edits {
    let mut set = vec![
        // Whole milliseconds: integer formatting, no float machinery.
        (STORED_AT, (now_ms as u64).to_string()),
        (WINDOW, window.to_string()),
        (VARIED, origin.varied.to_owned()),
        (CACHE_CONTROL, format!("max-age={window}")),
    ];
    if let Some(cc) = origin.cache_control {
        set.push((KEPT_CACHE_CONTROL, cc.to_owned()));
    }
    if let Some(vary) = origin.vary {
        set.push((KEPT_VARY, vary.to_owned()));
    }
    if let Some(coding) = origin.content_encoding {
        set.push((KEPT_CONTENT_ENCODING, coding.to_owned()));
    }
    // An origin's own headers under our names never pose as ours, and
    // framing is the stored copy's own.
    let mut remove = vec![VARY, CONTENT_ENCODING, TRANSFER_ENCODING];
    remove.extend(OURS);
    if !origin.framed {
        remove.push(CONTENT_LENGTH);
    }
    Edits { remove, set }
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
    /// The origin's `Vary`.
    pub vary: Option<String>,
    /// The origin's `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// The hash of the stored-from request's varied values.
    pub varied: String,
}

impl Stored {
    /// Reads a stored copy's headers; `None` when they are not ours.
    pub fn read(header: impl Fn(&str) -> Option<String>) -> Option<Stored> {
        Some(Stored {
            stored_at: header(STORED_AT)?.trim().parse::<u64>().ok()? as f64,
            window: header(WINDOW)?.trim().parse().ok()?,
            cache_control: header(KEPT_CACHE_CONTROL),
            vary: header(KEPT_VARY),
            content_encoding: header(KEPT_CONTENT_ENCODING),
            varied: header(VARIED)?,
        })
    }

    /// The edits that make the copy the client gets: our headers gone, the
    /// origin's `Cache-Control`, `Vary` and `Content-Encoding` back, `Age` and `X-Served-Stale`
    /// added.
    pub fn to_serve(&self, age_sec: u64) -> Edits {
        let mut set = vec![
            ("age", age_sec.to_string()),
            (SERVED_STALE, SERVED_STALE_VALUE.to_owned()),
        ];
        if let Some(cc) = &self.cache_control {
            set.push((CACHE_CONTROL, cc.clone()));
        }
        if let Some(vary) = &self.vary {
            set.push((VARY, vary.clone()));
        }
        if let Some(coding) = &self.content_encoding {
            set.push((CONTENT_ENCODING, coding.clone()));
        }
        Edits {
            remove: [&OURS[..], &[CACHE_CONTROL]].concat(),
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
        let cases = [
            (Some("public, max-age=5"), Some("X-Tenant"), Some("gzip")),
            (None, None, None),
        ];
        for (cc, vary, coding) in cases {
            let mut origin = vec![("content-type", "application/json"), ("etag", "\"v1\"")];
            if let Some(cc) = cc {
                origin.push(("cache-control", cc));
            }
            if let Some(vary) = vary {
                origin.push(("vary", vary));
            }
            if let Some(coding) = coding {
                origin.push(("content-encoding", coding));
            }
            let kept = Origin {
                cache_control: cc,
                vary,
                content_encoding: coding,
                framed: true,
                varied: "abc",
            };
            let stored = apply(h(&origin), &to_store(60, 1_700_000_000_123.4, &kept));
            assert!(
                !stored.iter().any(|(k, _)| k == "vary"),
                "no cache varies on it"
            );
            let get = |n: &str| stored.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            assert_eq!(get("cache-control").as_deref(), Some("max-age=60"));
            let read = Stored::read(get).expect("ours");
            assert_eq!((read.stored_at, read.window), (1_700_000_000_123.0, 60));
            assert_eq!((read.vary.as_deref(), read.varied.as_str()), (vary, "abc"));
            let served = apply(stored.clone(), &read.to_serve(7));
            let mut want = origin.clone();
            want.extend([("age", "7"), ("x-served-stale", "1")]);
            assert_eq!(served, h(&want), "{cc:?}");
        }
    }

    #[test]
    fn an_origins_own_headers_under_our_names_and_a_stray_length_are_dropped() {
        let origin = h(&[
            ("x-error-shield-content-encoding", "gzip"),
            ("x-error-shield-vary", "x-evil"),
            ("transfer-encoding", "chunked"),
            ("content-length", "2"),
        ]);
        let kept = Origin {
            varied: "v",
            ..Origin::default()
        };
        let stored = apply(origin, &to_store(60, 1.0, &kept));
        let get = |n: &str| stored.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        for gone in [
            "x-error-shield-content-encoding",
            "x-error-shield-vary",
            "transfer-encoding",
            "content-length",
        ] {
            assert_eq!(get(gone), None, "{gone}");
        }
        let read = Stored::read(get).expect("ours");
        assert_eq!((read.content_encoding, read.vary), (None, None));
        // The control: a framed length stays.
        let framed = Origin {
            framed: true,
            ..kept
        };
        let stored = apply(h(&[("content-length", "2")]), &to_store(60, 1.0, &framed));
        assert!(stored.contains(&("content-length".into(), "2".into())));
    }

    #[test]
    fn a_response_without_our_headers_is_no_stored_copy() {
        assert_eq!(Stored::read(|_| None), None);
        let bad = |n: &str| (n == STORED_AT || n == WINDOW).then(|| "soon".to_owned());
        assert_eq!(Stored::read(bad), None);
        // A copy from before copies were keyed has no varied hash: never served.
        let old = |n: &str| (n == STORED_AT || n == WINDOW).then(|| "1".to_owned());
        assert_eq!(Stored::read(old), None);
    }
}
