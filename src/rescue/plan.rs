//! Before the fetch: where the request goes, with what, for how long, and
//! what may happen after (retries, stale copies). Pure: tested natively.

use crate::config::origin;
use crate::config::settings::Settings;

/// What the plan needs to know of the request beyond its URL, read only
/// when a feature that needs it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traits {
    /// The HTTP method.
    pub method: String,
    /// Whether it carries a body.
    pub has_body: bool,
    /// Whether it carries credentials (`Authorization`,
    /// `Proxy-Authorization`, `Cookie`).
    pub personal: bool,
}

/// The plan for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The URL to fetch; `None`: the incoming URL (zone-route mode).
    pub url: Option<String>,
    /// The client-facing host, sent as `X-Forwarded-Host` in place of the
    /// client's, with an origin or without (zone mode).
    pub forwarded_host: Option<String>,
    /// What may be done when an attempt fails.
    pub rescue: Rescue,
    /// The origin whose circuit the request goes through, when the breaker
    /// is on: the origin's base URL, or the incoming host on a zone route.
    pub circuit: Option<String>,
}

/// What may be done for a request whose attempt failed: carried in its
/// journey from `decide` to every `conclude`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rescue {
    /// Time allowed until the response headers arrive, retries included.
    pub timeout_ms: u32,
    /// How many times `origin_unreachable` may be retried.
    pub retries: u32,
    /// Whether a good response may be stored and a stored copy served:
    /// stale-if-error is on and the request is a GET without credentials
    /// and without a body (whose answer may depend on the body).
    pub stale: bool,
    /// The fallback origin's URL for this request, when it may go there.
    pub fallback: Option<String>,
}

/// What the request's framing says of its body.
#[derive(Debug, Clone, Copy)]
pub struct Framing<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// `Content-Length`.
    pub content_length: Option<&'a str>,
    /// Whether it has a `Transfer-Encoding`.
    pub chunked: bool,
}

/// A body sent on through a pipe the executor watches, so the origin's
/// timeout starts once it was handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// Of this many bytes: the origin gets the same `Content-Length`.
    Length(u64),
    /// Of a length not known before its end.
    Chunked,
}

/// The upload to watch, if any: a body the framing announces (the
/// transfer coding wins over a length, RFC 9112 §6.3), except a GET's or
/// HEAD's, which the runtime passes on only as part of the request itself.
pub fn upload(f: &Framing<'_>) -> Option<Upload> {
    if f.method == "GET" || f.method == "HEAD" {
        return None;
    }
    if f.chunked {
        return Some(Upload::Chunked);
    }
    match f.content_length?.trim().parse::<u64>() {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(Upload::Length(n)),
    }
}

impl Plan {
    /// The plan for a request to `url`; `traits` is read only when
    /// retries or stale-if-error need it.
    pub fn new(s: &Settings, url: &str, traits: impl FnOnce() -> Traits) -> Plan {
        let (target, forwarded_host) = target(s, url);
        let (mut retries, mut stale, mut fallback) = (0, false, None);
        if s.retries > 0 || s.stale_if_error_seconds > 0 || s.fallback.is_some() {
            let t = traits();
            if origin::retryable(&t.method, t.has_body) {
                retries = s.retries;
                fallback = s.fallback.as_ref().map(|b| origin::outbound_url(b, url));
            }
            stale = s.stale_if_error_seconds > 0 && t.method == "GET" && !t.personal && !t.has_body;
        }
        let circuit = (s.circuit_failures > 0).then(|| match &s.origin {
            Some(base) => base.clone(),
            None => origin::host(url).to_owned(),
        });
        Plan {
            url: target,
            forwarded_host,
            rescue: Rescue {
                timeout_ms: s.timeout_ms,
                retries,
                stale,
                fallback,
            },
            circuit,
        }
    }

    /// The plan for a request sent as it came after the worker failed on
    /// it (fail-open): where it goes, the forwarded host, and no rescue.
    pub fn as_it_came(s: &Settings, url: &str) -> Plan {
        let (url, forwarded_host) = target(s, url);
        Plan {
            url,
            forwarded_host,
            rescue: Rescue {
                timeout_ms: s.timeout_ms,
                retries: 0,
                stale: false,
                fallback: None,
            },
            circuit: None,
        }
    }
}

/// The URL to fetch (`None`: the incoming one) and the host sent as
/// `X-Forwarded-Host`, in zone mode too: a client's own value never
/// reaches the origin (nor, through one that reflects it, a stored copy).
fn target(s: &Settings, url: &str) -> (Option<String>, Option<String>) {
    let target = s.origin.as_ref().map(|b| origin::outbound_url(b, url));
    (target, Some(origin::host(url).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traits(method: &str, has_body: bool, personal: bool) -> Traits {
        Traits {
            method: method.into(),
            has_body,
            personal,
        }
    }

    #[test]
    fn the_origin_gets_the_incoming_path_and_the_client_facing_host() {
        let s = Settings {
            origin: Some("http://127.0.0.1:9000/v1".into()),
            ..Settings::default()
        };
        let p = Plan::new(&s, "https://w.dev/a?b=1", || {
            unreachable!("no feature needs it")
        });
        assert_eq!(p.url.as_deref(), Some("http://127.0.0.1:9000/v1/a?b=1"));
        assert_eq!(p.forwarded_host.as_deref(), Some("w.dev"));
        assert_eq!(
            p.rescue,
            Rescue {
                timeout_ms: 30_000,
                retries: 0,
                stale: false,
                fallback: None,
            }
        );
    }

    #[test]
    fn a_request_sent_as_it_came_gets_the_forwarded_host_in_both_modes() {
        let zone = Plan::as_it_came(&Settings::default(), "https://w.dev/a");
        assert_eq!(
            (zone.url.as_deref(), zone.forwarded_host.as_deref()),
            (None, Some("w.dev"))
        );
        let s = Settings {
            origin: Some("http://o:1".into()),
            retries: 3,
            ..Settings::default()
        };
        let p = Plan::as_it_came(&s, "https://w.dev/a?b");
        assert_eq!(
            (p.url.as_deref(), p.forwarded_host.as_deref()),
            (Some("http://o:1/a?b"), Some("w.dev"))
        );
        assert_eq!((p.rescue.retries, p.circuit), (0, None));
    }

    #[test]
    fn without_an_origin_the_incoming_url_is_fetched_with_the_incoming_host_forwarded() {
        let p = Plan::new(
            &Settings::default(),
            "https://w.dev:8443/a?b",
            || unreachable!(),
        );
        assert_eq!(p.url, None);
        assert_eq!(p.forwarded_host.as_deref(), Some("w.dev:8443"));
    }

    #[test]
    fn retries_and_stale_copies_follow_the_request() {
        let s = Settings {
            retries: 2,
            stale_if_error_seconds: 60,
            ..Settings::default()
        };
        // method, body, credentials → retries, stale
        let table = [
            (traits("GET", false, false), 2, true),
            (traits("HEAD", false, false), 2, false),
            (traits("OPTIONS", false, false), 2, false),
            (traits("GET", false, true), 2, false),
            (traits("GET", true, false), 0, false),
            (traits("POST", false, false), 0, false),
            (traits("PUT", true, false), 0, false),
        ];
        for (t, retries, stale) in table {
            let p = Plan::new(&s, "https://w.dev/", || t.clone());
            assert_eq!(
                (p.rescue.retries, p.rescue.stale),
                (retries, stale),
                "{t:?}"
            );
        }
        let only_retries = Settings {
            stale_if_error_seconds: 0,
            ..s.clone()
        };
        let p = Plan::new(&only_retries, "https://w.dev/", || {
            traits("GET", false, false)
        });
        assert_eq!((p.rescue.retries, p.rescue.stale), (2, false));
    }

    #[test]
    fn an_upload_is_watched_as_its_framing_says() {
        let f = |method, content_length, chunked| Framing {
            method,
            content_length,
            chunked,
        };
        let table = [
            (f("POST", Some("6000"), false), Some(Upload::Length(6000))),
            (f("PUT", Some(" 12 "), false), Some(Upload::Length(12))),
            (f("POST", None, true), Some(Upload::Chunked)),
            (f("POST", Some("5"), true), Some(Upload::Chunked)),
            (f("POST", Some("0"), false), None),
            (f("POST", None, false), None),
            (f("POST", Some("x"), false), None),
            (f("DELETE", Some("-1"), false), None),
            (f("GET", Some("5"), false), None),
            (f("HEAD", None, true), None),
        ];
        for (framing, want) in table {
            assert_eq!(upload(&framing), want, "{framing:?}");
        }
    }
}
