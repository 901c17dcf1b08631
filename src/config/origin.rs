//! Where the origin request goes: the outbound URL spliced from the incoming
//! one as a string (byte-exact, nothing re-encoded), the client-facing host,
//! and which requests may be retried. Pure: tested natively.

use error_shield::parts::url;

/// The part of an absolute URL after the authority: path, query, fragment
/// (a request's URL always has a path, at least `/`).
fn path_and_query(v: &str) -> &str {
    match url::split(v) {
        Some(u) if u.rest.starts_with('/') => u.rest,
        Some(_) => "/",
        None => v,
    }
}

/// The client-facing host, sent to the origin.
pub const FORWARDED_HOST: &str = "x-forwarded-host";

/// The path of an absolute URL, without query or fragment.
pub fn path(url: &str) -> &str {
    let tail = path_and_query(url);
    &tail[..tail.find(['?', '#']).unwrap_or(tail.len())]
}

/// The authority (`host[:port]`) of an absolute URL, without credentials.
pub fn host(v: &str) -> &str {
    url::split(v).map_or(v, |u| u.host())
}

/// The URL to fetch: `origin` (no trailing slash, may carry a path prefix)
/// followed by the incoming path and query exactly as received.
pub fn outbound_url(origin: &str, incoming: &str) -> String {
    let tail = path_and_query(incoming);
    let mut url = String::with_capacity(origin.len() + tail.len());
    url.push_str(origin);
    url.push_str(tail);
    url
}

/// Whether a failed connection may be retried: only idempotent methods
/// that carry no body (the body stream cannot be replayed).
pub fn retryable(method: &str, has_body: bool) -> bool {
    !has_body && matches!(method, "GET" | "HEAD" | "OPTIONS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_urls_keep_path_and_query_byte_exact() {
        let table = [
            (
                "http://127.0.0.1:9000",
                "https://shield.example/a/b?x=1&y=%2F",
                "http://127.0.0.1:9000/a/b?x=1&y=%2F",
            ),
            (
                "https://api.example.com/v1",
                "https://w.dev/users?q=a+b%20c",
                "https://api.example.com/v1/users?q=a+b%20c",
            ),
            (
                "https://api.example.com",
                "https://w.dev/",
                "https://api.example.com/",
            ),
            (
                "https://api.example.com",
                "https://w.dev",
                "https://api.example.com/",
            ),
            (
                "https://o",
                "https://w.dev/%E2%9C%93/..%2f?&&=;#",
                "https://o/%E2%9C%93/..%2f?&&=;#",
            ),
            ("https://o", "https://u:p@w.dev:8443/p?a", "https://o/p?a"),
        ];
        for (origin, incoming, want) in table {
            assert_eq!(outbound_url(origin, incoming), want, "{incoming}");
        }
    }

    #[test]
    fn paths_are_extracted_without_query_or_fragment() {
        let table = [
            ("https://w.dev/a/b?c=/d", "/a/b"),
            ("https://w.dev/a#f", "/a"),
            ("https://w.dev?q", "/"),
            ("https://w.dev", "/"),
            ("https://u:p@w.dev:8443/%2F/x", "/%2F/x"),
        ];
        for (url, want) in table {
            assert_eq!(path(url), want, "{url}");
        }
    }

    #[test]
    fn hosts_are_extracted_without_credentials() {
        let table = [
            ("https://w.dev/p", "w.dev"),
            ("http://127.0.0.1:8787/x?y", "127.0.0.1:8787"),
            ("https://u:p@w.dev?q", "w.dev"),
            ("https://[::1]:1/", "[::1]:1"),
        ];
        for (url, want) in table {
            assert_eq!(host(url), want, "{url}");
        }
    }

    #[test]
    fn only_idempotent_bodyless_requests_are_retried() {
        let table = [
            ("GET", false, true),
            ("HEAD", false, true),
            ("OPTIONS", false, true),
            ("GET", true, false),
            ("POST", false, false),
            ("PUT", false, false),
            ("DELETE", false, false),
        ];
        for (method, body, want) in table {
            assert_eq!(retryable(method, body), want, "{method} {body}");
        }
    }
}
