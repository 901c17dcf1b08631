//! Whose stored copy a request may get (RFC 9111 §4.1, and what shared
//! caches get wrong for APIs that authenticate by a custom header): a copy
//! is keyed by the URL and by every request header that may carry a user's
//! identity, and served only to a request that also matches it in every
//! header the response named in `Vary` and accepts its `Content-Encoding`.
//! Pure: tested natively; the executor only uses the key it is given.

use std::hash::{Hash, Hasher};

/// Request headers known not to carry a user's identity, left out of the
/// key (every other header is in it, so a custom key header needs no
/// listing): content negotiation, caching and conditionals, tracing,
/// the forwarding headers the platform or the worker set themselves, the
/// client's address, fetch metadata, connection handling. A name ending in
/// `*` is a prefix. Forwarding headers an origin may build links from
/// (`X-Forwarded-Prefix`, `-Port`, `Forwarded`, `Via`) stay in the key, so
/// no client can plant a poisoned copy for everyone else.
pub const NOT_IDENTIFYING: [&str; 33] = [
    // Content negotiation (`Accept`, `Accept-Encoding`, `Accept-Language`…).
    "accept",
    "accept-*",
    "user-agent",
    "referer",
    // Caching and conditionals.
    "cache-control",
    "pragma",
    "if-*",
    // Tracing and request ids (`baggage` may carry a user: in the key).
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-*",
    "x-request-id",
    "x-correlation-id",
    "x-amzn-trace-id",
    "x-cloud-trace-context",
    "sentry-trace",
    // The client's address and the forwarding the platform or this worker
    // sets (`X-Forwarded-Host` is replaced before the origin sees it).
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-real-ip",
    "true-client-ip",
    "cdn-loop",
    // An error-shield deployment's own in front of this one: its hop
    // markers, and their nonces, fresh for every request.
    "x-error-shield-*",
    // Fetch metadata and client hints.
    "sec-*",
    "dnt",
    "upgrade-insecure-requests",
    "priority",
    // Cloudflare's own (`cf-ray`, `cf-connecting-ip`, `cf-ipcountry`…),
    // but for [`IDENTIFYING_CF`].
    "cf-*",
    // Connection handling and framing (the URL holds the host).
    "host",
    "connection",
    "keep-alive",
    "te",
    "content-length",
];

/// Cloudflare headers that do name a client: Access's service tokens and
/// identity, and mutual TLS's client certificate. In the key.
pub const IDENTIFYING_CF: [&str; 4] = [
    "cf-access-",
    "cf-authorization",
    "cf-cert-",
    "cf-client-cert-",
];

/// Whether the request header `name` (lowercase) is part of the key.
pub fn identifying(name: &str) -> bool {
    IDENTIFYING_CF.iter().any(|p| name.starts_with(p))
        || !NOT_IDENTIFYING.iter().any(|n| match n.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == *n,
        })
}

/// The Cache API key of the copy for a request to `url` with `headers`
/// (lowercase names, as the runtime gives them): on the URL's own host, a
/// path of 128 bits of hash over the URL and every identifying header's
/// name and value. Whoever differs in one of them has another key.
pub fn key<'a>(url: &str, headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut named: Vec<(&str, &str)> = headers
        .into_iter()
        .filter(|(n, _)| identifying(n))
        .collect();
    named.sort_unstable();
    let base = origin_of(url);
    format!("{base}/.error-shield/stale/{}", digest(&(url, named)))
}

/// `scheme://host` of `url` (the whole of it when it has no path).
fn origin_of(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after + i);
    &url[..end]
}

/// What a copy remembers of the request it was stored from: a hash over
/// the value of each header the response names in `Vary` (absent and
/// empty told apart). `None`: `Vary: *`, never stored.
pub fn varied(vary: Option<&str>, header: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut names: Vec<String> = vary
        .unwrap_or("")
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    if names.iter().any(|n| n == "*") {
        return None;
    }
    names.sort_unstable();
    names.dedup();
    let values: Vec<(&String, Option<String>)> = names.iter().map(|n| (n, header(n))).collect();
    Some(digest(&values))
}

/// 128 bits of SipHash, in hex: the same in every isolate and build of one
/// toolchain (a changed hash only costs the copies stored before it).
fn digest(value: &impl Hash) -> String {
    let mut out = String::with_capacity(32);
    for half in 0u8..2 {
        let mut h = std::hash::DefaultHasher::new();
        (half, value).hash(&mut h);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// Whether a copy stored from a request whose varied values hashed to
/// `stored` and encoded with `coding` may go to a request whose values
/// hash to `now` (`None`: the copy's `Vary` is unreadable) and that sends
/// `accept_encoding`.
pub fn servable(
    stored: &str,
    now: Option<&str>,
    accept_encoding: Option<&str>,
    coding: Option<&str>,
) -> bool {
    now == Some(stored) && accepts(accept_encoding, coding)
}

/// Whether a request with `accept_encoding` may get a body encoded with
/// `content_encoding` (RFC 9110 §12.5.3). An unencoded body always; an
/// encoded one only when the request names its coding (or `*`) with q > 0
/// and not itself with q = 0. No `Accept-Encoding`: unencoded only, as
/// shared caches do (many clients that send none cannot decode).
pub fn accepts(accept_encoding: Option<&str>, content_encoding: Option<&str>) -> bool {
    let coding = content_encoding.unwrap_or("").trim().to_ascii_lowercase();
    if coding.is_empty() || coding == "identity" {
        return true;
    }
    let Some(accept) = accept_encoding else {
        return false;
    };
    let (mut named, mut star) = (None, None);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let token = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let positive = parts
            .find_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .is_none_or(|v| q_positive(v.trim()));
        if token == coding {
            named = Some(positive);
        } else if token == "*" {
            star = Some(positive);
        }
    }
    named.or(star).unwrap_or(false)
}

/// Whether a qvalue (RFC 9110 §12.4.2: `0`–`1`, three decimals at most)
/// is above zero; a malformed one is not (as content negotiation reads it).
/// Read by hand: float parsing would cost the module more than this.
fn q_positive(v: &str) -> bool {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = frac.len() <= 3 && frac.bytes().all(|b| b.is_ascii_digit());
    match int {
        "1" => digits && frac.bytes().all(|b| b == b'0'),
        "0" => digits && frac.bytes().any(|b| b != b'0'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://w.dev/account?x=1";

    #[test]
    fn a_custom_key_header_is_in_the_key_without_anyone_listing_it() {
        let anonymous = key(URL, []);
        let alice = key(URL, [("x-api-key", "alice")]);
        let bob = key(URL, [("x-api-key", "bob")]);
        assert_ne!(anonymous, alice);
        assert_ne!(alice, bob);
        assert_eq!(alice, key(URL, [("x-api-key", "alice")]), "the control");
        assert_ne!(key(URL, [("x-tenant", "a")]), key(URL, [("x-tenant", "b")]));
    }

    #[test]
    fn headers_that_identify_nobody_leave_the_key_alone() {
        let plain = key(URL, []);
        for (name, value) in [
            ("accept", "application/json"),
            ("accept-encoding", "gzip"),
            ("accept-language", "de"),
            ("user-agent", "curl/8"),
            ("referer", "https://x/"),
            ("cache-control", "no-cache"),
            ("if-none-match", "\"v1\""),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
            ("x-request-id", "abc"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
            ("x-real-ip", "1.2.3.4"),
            ("true-client-ip", "1.2.3.4"),
            ("sec-fetch-mode", "cors"),
            ("cf-ray", "8abc"),
            ("cf-connecting-ip", "1.2.3.4"),
            ("host", "w.dev"),
            ("x-error-shield-hop", "0123456789abcdef0123456789abcdef"),
            ("x-error-shield-nonce", "0123456789abcdef"),
        ] {
            assert_eq!(key(URL, [(name, value)]), plain, "{name}");
        }
    }

    #[test]
    fn headers_an_origin_may_build_links_from_or_that_name_a_client_are_in_the_key() {
        let plain = key(URL, []);
        for (name, value) in [
            ("x-forwarded-prefix", "//evil.example"),
            ("x-forwarded-port", "8443"),
            ("forwarded", "host=evil.example"),
            ("via", "1.1 evil"),
            ("baggage", "userId=alice"),
            ("cf-access-client-id", "svc.access"),
            ("cf-access-jwt-assertion", "eyJ"),
            ("cf-access-authenticated-user-email", "a@example.com"),
            ("cf-authorization", "eyJ"),
            ("cf-cert-verified", "SUCCESS"),
            ("cf-client-cert-sha256", "ab"),
        ] {
            assert_ne!(key(URL, [(name, value)]), plain, "{name}");
        }
    }

    #[test]
    fn the_key_is_on_the_urls_host_and_depends_on_the_whole_url() {
        let k = key(URL, []);
        assert!(k.starts_with("https://w.dev/.error-shield/stale/"), "{k}");
        assert_eq!(k.len(), "https://w.dev/.error-shield/stale/".len() + 32);
        assert_ne!(k, key("https://w.dev/account?x=2", []));
        assert_ne!(k, key("https://w.dev/account", []));
        assert_eq!(origin_of("https://h"), "https://h");
        assert_eq!(origin_of("http://h:8787?q"), "http://h:8787");
    }

    #[test]
    fn header_order_does_not_matter_but_names_and_values_stay_apart() {
        let a = key(URL, [("x-a", "1"), ("x-b", "2")]);
        assert_eq!(a, key(URL, [("x-b", "2"), ("x-a", "1")]));
        // No splicing of one header's name into another's value.
        assert_ne!(
            key(URL, [("x-a", "1x-b2")]),
            key(URL, [("x-a", "1"), ("x-b", "2")])
        );
    }

    #[test]
    fn vary_names_each_header_that_must_match() {
        let with = |tenant: Option<&'static str>| {
            move |n: &str| {
                (n == "x-tenant")
                    .then_some(tenant)
                    .flatten()
                    .map(String::from)
            }
        };
        let a = varied(Some("X-Tenant"), with(Some("a")));
        assert!(a.is_some());
        assert_eq!(
            a,
            varied(Some("x-tenant, x-tenant"), with(Some("a"))),
            "control"
        );
        assert_ne!(a, varied(Some("X-Tenant"), with(Some("b"))));
        assert_ne!(a, varied(Some("X-Tenant"), with(None)));
        assert_ne!(
            varied(Some("X-Tenant"), with(Some(""))),
            varied(Some("X-Tenant"), with(None)),
            "empty is not absent"
        );
        assert_eq!(varied(None, with(Some("a"))), varied(Some(""), with(None)));
        assert_eq!(varied(Some("accept, *"), with(None)), None);
        assert_eq!(varied(Some("*"), with(None)), None);
    }

    #[test]
    fn a_copy_is_servable_only_with_the_same_varied_values_and_an_accepted_coding() {
        let gzip = Some("gzip");
        assert!(
            servable("h1", Some("h1"), Some("gzip"), gzip),
            "the control"
        );
        assert!(servable("h1", Some("h1"), None, None));
        assert!(!servable("h1", Some("h2"), Some("gzip"), gzip));
        assert!(!servable("h1", None, Some("gzip"), gzip));
        assert!(!servable("h1", Some("h1"), Some("br"), gzip));
        assert!(!servable("h1", Some("h1"), None, gzip));
    }

    #[test]
    fn an_encoded_copy_goes_only_to_a_request_that_accepts_its_coding() {
        // Accept-Encoding, Content-Encoding → served
        let table = [
            (None, None, true),
            (None, Some("identity"), true),
            (None, Some("gzip"), false),
            (Some("gzip, deflate, br"), Some("gzip"), true),
            (Some("gzip, deflate, br"), Some("br"), true),
            (Some("GZIP"), Some("gzip"), true),
            (Some("br"), Some("gzip"), false),
            (Some("gzip;q=0, *"), Some("gzip"), false),
            (Some("*"), Some("br"), true),
            (Some("*;q=0"), Some("br"), false),
            (Some("gzip;q=0.5"), Some("gzip"), true),
            (Some("identity"), Some("gzip"), false),
            (Some(""), Some("gzip"), false),
            (Some("identity;q=0"), None, true),
            (Some("gzip;q=0.000"), Some("gzip"), false),
            (Some("gzip;q=0.001"), Some("gzip"), true),
            (Some("gzip;q=1.000"), Some("gzip"), true),
            (Some("gzip;q=1.5"), Some("gzip"), false),
            (Some("gzip;q=soon"), Some("gzip"), false),
            (Some("gzip;q=0.0001"), Some("gzip"), false),
        ];
        for (accept, coding, want) in table {
            assert_eq!(accepts(accept, coding), want, "{accept:?} {coding:?}");
        }
    }
}
