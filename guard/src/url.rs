//! An absolute URL split at its authority, as a string: nothing decoded or
//! re-encoded, so what is forwarded or shown is byte for byte what came.
//! Pure: tested natively.

/// `scheme://authority rest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split<'a> {
    /// Before `://`.
    pub scheme: &'a str,
    /// `[userinfo@]host[:port]`.
    pub authority: &'a str,
    /// Path, query and fragment (may be empty).
    pub rest: &'a str,
}

/// Splits `v` at `://` and the end of its authority; `None` without `://`.
pub fn split(v: &str) -> Option<Split<'_>> {
    let s = v.find("://")?;
    let after = &v[s + 3..];
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    Some(Split {
        scheme: &v[..s],
        authority: &after[..end],
        rest: &after[end..],
    })
}

impl<'a> Split<'a> {
    /// The authority without its userinfo: `host[:port]`.
    pub fn host(&self) -> &'a str {
        self.authority.rsplit('@').next().unwrap_or(self.authority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_at_their_authority() {
        let table = [
            (
                "https://u:p@h:8/a?b#c",
                Some(("https", "u:p@h:8", "/a?b#c", "h:8")),
            ),
            ("http://h", Some(("http", "h", "", "h"))),
            ("http://h?q=1", Some(("http", "h", "?q=1", "h"))),
            (
                "http://[::1]:8/x",
                Some(("http", "[::1]:8", "/x", "[::1]:8")),
            ),
            ("http://a@b@c/x", Some(("http", "a@b@c", "/x", "c"))),
            ("svc:pw@host", None),
        ];
        for (url, want) in table {
            let got = split(url).map(|s| (s.scheme, s.authority, s.rest, s.host()));
            assert_eq!(got, want, "{url}");
        }
    }
}
