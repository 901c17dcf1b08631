//! Whose stored copy a request may get (RFC 9111 §4.1, and what shared
//! caches get wrong for APIs that authenticate by a custom header): a copy
//! is keyed by the URL and by every request header that may carry a user's
//! identity, and served only to a request that also matches it in every
//! header the response named in `Vary` and accepts its `Content-Encoding`.
//! Pure: tested natively; the executor only uses the key it is given.

use std::hash::{Hash, Hasher};

use error_shield::parts::parse_q;

/// Request headers known not to carry a user's identity, left out of the
/// key (every other header is in it, so a custom key header needs no
/// listing): content negotiation, caching and conditionals, tracing,
/// the forwarding headers the platform or the worker set themselves, the
/// client's address, fetch metadata, connection handling. A name ending in
/// `*` is a prefix. Forwarding headers an origin may build links from
/// (`X-Forwarded-Prefix`, `-Port`, `Forwarded`, `Via`) stay in the key, so
/// no client can plant a poisoned copy for everyone else.
pub const NOT_IDENTIFYING: [&str; 39] = [
    // Content negotiation (`Accept`, `Accept-Encoding`, `Accept-Language`…).
    "accept",
    "accept-*",
    "user-agent",
    "referer",
    // Caching and conditionals.
    "cache-control",
    "pragma",
    "if-*",
    // Tracing and request ids (`baggage`, `uberctx-*` and `x-datadog-tags`
    // may carry a user: in the key).
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-*",
    "x-request-id",
    "x-correlation-id",
    "x-amzn-trace-id",
    "x-cloud-trace-context",
    "sentry-trace",
    "uber-trace-id",
    "x-datadog-trace-id",
    "x-datadog-parent-id",
    "x-datadog-sampling-priority",
    "x-datadog-origin",
    "grpc-trace-bin",
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
            .is_none_or(|v| parse_q(v.trim()).is_some_and(|q| q > 0));
        if token == coding {
            named = Some(positive);
        } else if token == "*" {
            star = Some(positive);
        }
    }
    named.or(star).unwrap_or(false)
}

#[cfg(test)]
#[path = "stale_key_tests.rs"]
mod tests;
