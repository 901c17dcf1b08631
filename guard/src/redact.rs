//! What is hidden before anything is logged: credentials in URLs and the
//! values of query parameters. Pure: tested natively.

/// Hides credentials in a URL (`user:pass@` → `REDACTED@`).
pub fn credentials(v: &str) -> String {
    match crate::url::split(v) {
        Some(u) if u.authority.contains('@') => {
            format!("{}://REDACTED@{}{}", u.scheme, u.host(), u.rest)
        }
        _ => v.to_owned(),
    }
}

/// A configured value as a record may show it: everything up to the last
/// `@` hidden, after the scheme if there is one (`svc:pw@host` and
/// `https://u:pa/ss?#@host` alike), then the whole query. Over-hiding a
/// path that holds `@` is the price of never showing a password.
pub fn configured(v: &str) -> String {
    let hidden = match (v.find("://"), v.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://REDACTED@{}", &v[..s], &v[at + 1..]),
        (_, Some(at)) => format!("REDACTED@{}", &v[at + 1..]),
        _ => v.to_owned(),
    };
    // No fragment, and the query shown as `?REDACTED` whole: an item's
    // name (`?sk_live_…`) may be the token itself.
    let hidden = hidden.split('#').next().unwrap_or("");
    match hidden.split_once('?') {
        Some((base, q)) if !q.is_empty() => format!("{base}?REDACTED"),
        _ => hidden.to_owned(),
    }
}

/// Replaces every query value with `REDACTED`, keeping the names (they help
/// debugging; values may carry tokens). The fragment is dropped.
pub fn query(url: &str) -> String {
    let url = url.split('#').next().unwrap_or(url);
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(base);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) => {
                out.push_str(name);
                out.push_str("=REDACTED");
            }
            None => out.push_str(pair),
        }
    }
    out
}

/// A URL as the log shows it: no credentials, no query values, no fragment.
pub fn url(v: &str) -> String {
    query(&credentials(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        let table = [
            ("https://h/p", "https://h/p"),
            ("https://h/p?", "https://h/p?"),
            ("https://h/p?a=1", "https://h/p?a=REDACTED"),
            (
                "https://h/p?a=1&a=2#frag",
                "https://h/p?a=REDACTED&a=REDACTED",
            ),
            ("https://u:pw@h/p?x==y", "https://REDACTED@h/p?x=REDACTED"),
            (
                "https://h/p?next=https://u:pw@x",
                "https://h/p?next=REDACTED",
            ),
            ("no scheme?a=1", "no scheme?a=REDACTED"),
        ];
        for (input, want) in table {
            assert_eq!(url(input), want, "{input}");
        }
    }

    #[test]
    fn configured_values_hide_userinfo_with_or_without_a_scheme_and_query_values() {
        let table = [
            ("https://user:hunter2@host/a b", "https://REDACTED@host/a b"),
            ("https://u:pa/ss?#@host/ x", "https://REDACTED@host/ x"),
            ("https://host/a@b", "https://REDACTED@b"),
            ("svc:hunter2@api.example.com", "REDACTED@api.example.com"),
            ("svc:pw@host/p?token=t", "REDACTED@host/p?REDACTED"),
            ("mailto@x", "REDACTED@x"),
            ("@x://y", "REDACTED@x://y"),
            ("https://h/?key=hunter2&a", "https://h/?REDACTED"),
            ("https://h/?", "https://h/?"),
            (
                "https://api.example.com/?sk_live_abc",
                "https://api.example.com/?REDACTED",
            ),
            ("5xx", "5xx"),
            ("/healthz", "/healthz"),
        ];
        for (input, want) in table {
            assert_eq!(configured(input), want, "{input}");
        }
    }
}
