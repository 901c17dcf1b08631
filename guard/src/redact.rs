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
/// debugging; values may carry tokens). An item without `=` may be the token
/// itself (`?sk_live_…`): it is hidden whole. The fragment is dropped.
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
            None if pair.is_empty() => {}
            None => out.push_str("REDACTED"),
        }
    }
    out
}

/// A URL as the log shows it: no credentials, no query values, no fragment.
pub fn url(v: &str) -> String {
    query(&credentials(v))
}

/// Free text as the log shows it: every `scheme://…` in it (up to
/// whitespace, a quote or `<>`) shown without userinfo, query values or
/// fragment. A runtime's error may quote the whole URL it failed on, and
/// what it quotes need not parse: everything up to the URL's last `@` is
/// hidden, and a URL whose `@` comes after its `?` or `#` (no telling the
/// password from the query) is hidden whole after the scheme.
pub fn text(v: &str) -> String {
    if !v.contains("://") {
        return v.to_owned();
    }
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(at) = rest.find("://") {
        let after = &rest[at + 3..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .unwrap_or(after.len());
        out.push_str(&rest[..at + 3]);
        out.push_str(&hidden(&after[..end]));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// What [`text`] shows of a URL after its `://`.
fn hidden(tail: &str) -> String {
    let query = tail.find(['?', '#']).unwrap_or(tail.len());
    match tail.rfind('@') {
        Some(at) if at > query => "REDACTED".to_owned(),
        Some(at) => format!("REDACTED@{}", self::query(&tail[at + 1..])),
        None => self::query(tail),
    }
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
            (
                "https://h/x?sk_live_abc&page=2",
                "https://h/x?REDACTED&page=REDACTED",
            ),
            ("https://h/x?a=1&&b", "https://h/x?a=REDACTED&&REDACTED"),
            ("https://h/x?=v", "https://h/x?=REDACTED"),
        ];
        for (input, want) in table {
            assert_eq!(url(input), want, "{input}");
        }
    }

    #[test]
    fn urls_inside_free_text_are_redacted() {
        let table = [
            (
                "Invalid URL: http://svc:hunter2@10.0.0.256/x?token=t1&sk_1",
                "Invalid URL: http://REDACTED@10.0.0.256/x?token=REDACTED&REDACTED",
            ),
            (
                "fetch \"https://u:p@h/a\" failed; then https://h2/?k=v x",
                "fetch \"https://REDACTED@h/a\" failed; then https://h2/?k=REDACTED x",
            ),
            ("a://u:p?q@h/", "a://REDACTED"),
            ("https://h/p?e=a@b&x=1", "https://REDACTED"),
            ("https://u:pa/ss@h/p#frag", "https://REDACTED@h/p"),
            ("://?a=b", "://?a=REDACTED"),
            (
                "no url: a=b?c=d user:pw@host",
                "no url: a=b?c=d user:pw@host",
            ),
            (
                "https://h/plain and https://h/other",
                "https://h/plain and https://h/other",
            ),
            ("", ""),
        ];
        for (input, want) in table {
            assert_eq!(text(input), want, "{input}");
            assert_eq!(text(want), want, "idempotent on {want}");
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
