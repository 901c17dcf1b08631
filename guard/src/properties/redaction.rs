//! Redaction: no query value and no userinfo reaches a record, in the
//! URL helpers and in the record's `url`.

use error_shield_props::{input, over};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use super::log_line;
use crate::failure::{Cause, Failure};
use crate::record::RequestInfo;
use crate::redact::{credentials as redact_url, query as redact_query};

/// Query values in the redaction properties: `[a-z0-9]`.
const VALUE_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `scheme://host[:port][/path...]` without `?`, `#`, `=` or `@`.
fn url_base() -> impl Strategy<Value = String> {
    (
        select(&["https://", "http://", "HTTP://"][..]),
        over(b"abcxyz0123456789.-", 1..=12),
        prop::option::of(any::<u16>()),
        prop::collection::vec(over(b"abcXYZ0129._~-", 0..=8), 0..=3),
    )
        .prop_map(|(scheme, host, port, path)| {
            let mut s = format!("{scheme}{host}");
            if let Some(port) = port {
                s.push_str(&format!(":{port}"));
            }
            for segment in path {
                s.push('/');
                s.push_str(&segment);
            }
            s
        })
}

/// The `url` field of the log record of a request to `url`.
fn logged_url(url: &str) -> Option<String> {
    let failure = Failure::new(Cause::WorkerError, "boom");
    let info = RequestInfo {
        request_id: "rid",
        url,
        ..RequestInfo::default()
    };
    let v: Value = serde_json::from_str(&log_line(&failure, &info)).ok()?;
    v["url"].as_str().map(String::from)
}

proptest! {
    #![proptest_config(super::config())]

    #[test]
    fn redact_query_never_leaks_a_value(
        base in url_base(),
        pairs in prop::collection::vec(
            (
                over(b"abcXYZ019_.%+[]-", 0..=8),
                prop::option::of(over(VALUE_CHARS, 4..=12)),
                select(&["=", "=="][..]),
            ),
            0..8,
        ),
        fragment in prop::option::of((over(b"abcz", 0..=4), over(VALUE_CHARS, 4..=12))),
    ) {
        let mut url = base.clone();
        let mut expected = base.clone();
        if !pairs.is_empty() {
            url.push('?');
            expected.push('?');
        }
        let mut values = Vec::new();
        for (i, (name, value, eq)) in pairs.iter().enumerate() {
            if i > 0 {
                url.push('&');
                expected.push('&');
            }
            match value {
                Some(v) => {
                    url.push_str(&format!("{name}{eq}{v}"));
                    expected.push_str(&format!("{name}=REDACTED"));
                    values.push(v.clone());
                }
                // A bare item may be the token itself: hidden whole.
                None => {
                    url.push_str(name);
                    if !name.is_empty() {
                        expected.push_str("REDACTED");
                    }
                }
            }
        }
        if let Some((key, v)) = &fragment {
            url.push_str(&format!("#{key}={v}"));
            values.push(v.clone());
        }
        let logged = logged_url(&url).unwrap_or_default();
        for out in [redact_query(&url), redact_query(&redact_url(&url)), logged] {
            for v in &values {
                prop_assert!(
                    !out.contains(&format!("={v}")),
                    "redact_query({:?}) = {:?} leaks the value {:?}",
                    url,
                    out,
                    v
                );
            }
            prop_assert_eq!(&out, &expected, "redact_query({:?})", url);
        }
    }

    #[test]
    fn redact_query_is_total_and_redacts_every_value(url in input(80)) {
        let out = redact_query(&url);
        prop_assert!(!out.contains('#'), "fragment kept: {:?} -> {:?}", url, out);
        if let Some((_, query)) = out.split_once('?') {
            for pair in query.split('&') {
                match pair.split_once('=') {
                    Some((_, value)) => {
                        prop_assert_eq!(value, "REDACTED", "redact_query({:?}) = {:?}", url, out);
                    }
                    None => prop_assert!(
                        pair.is_empty() || pair == "REDACTED",
                        "redact_query({:?}) = {:?} shows the bare item {:?}", url, out, pair
                    ),
                }
            }
        }
        prop_assert_eq!(redact_query(&out), out.clone(), "redact_query is not idempotent on {:?}", url);
        let _ = redact_url(&url);
    }

    #[test]
    fn redact_url_hides_userinfo(
        scheme in select(&["https", "http", "HTTPS", "ftp"][..]),
        user in over(b"abcXYZ09._~!$&'()*+,;=%-", 0..=10),
        password in prop::option::of(over(b"abcXYZ09._~!$&'()*+,;=%@:-", 1..=12)),
        host in (over(b"abcxyz0123456789.-", 1..=12), prop::option::of(any::<u16>()))
            .prop_map(|(h, port)| port.map_or(h.clone(), |p| format!("{h}:{p}"))),
        rest in (
            prop::collection::vec(over(b"abc019", 0..=6), 0..=2),
            prop::option::of((over(b"abcz", 1..=4), over(b"abc09@:", 0..=6))),
            prop::option::of(over(b"abcz@", 0..=4)),
        )
            .prop_map(|(path, query, fragment)| {
                let mut s: String = path.iter().map(|seg| format!("/{seg}")).collect();
                if let Some((k, v)) = query {
                    s.push_str(&format!("?{k}={v}"));
                }
                if let Some(f) = fragment {
                    s.push_str(&format!("#{f}"));
                }
                s
            }),
    ) {
        let userinfo = match &password {
            Some(p) => format!("{user}:{p}"),
            None => user.clone(),
        };
        let url = format!("{scheme}://{userinfo}@{host}{rest}");
        let out = redact_url(&url);
        prop_assert_eq!(&out, &format!("{scheme}://REDACTED@{host}{rest}"), "redact_url({:?})", url);
        let plain = format!("{scheme}://{host}{rest}");
        prop_assert_eq!(redact_url(&plain), plain.clone(), "redact_url changed {:?}", plain);
        // The log record goes through both redactions.
        prop_assert_eq!(
            logged_url(&url),
            Some(redact_query(&format!("{scheme}://REDACTED@{host}{rest}"))),
            "logged URL for {:?}",
            url
        );
    }
}
