//! Property tests of the roads by which a credential could reach a record
//! besides the configuration (that one is `boundaries.rs`): a runtime
//! message quoting the URL it failed on, a query item without `=`, and a
//! failing origin body that dumps the request's headers. Each runs next to
//! its positive control: what is no credential is still shown.
//!
//! Each property runs `PROPTEST_CASES` cases (default 20 000).

use error_shield::parts::{line, RequestInfo};
use error_shield::{Cause, Failure};
use error_shield_proxy::credentials::{Secrets, MIN_LEN};
use error_shield_proxy::excerpt::logged;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::RngAlgorithm;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(20_000);
    ProptestConfig {
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::with_cases(cases)
    }
}

fn over(
    alphabet: &'static [u8],
    len: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), len).prop_map(move |v| {
        v.into_iter()
            .map(|b| char::from(alphabet[usize::from(b) % alphabet.len()]))
            .collect()
    })
}

/// A credential: `ZQ` and lowercase letters, which nothing else generated
/// here contains (and `REDACTED` does not either).
fn credential() -> impl Strategy<Value = String> {
    over(b"abcdefghijklmnopqrstuvwxyz", 6..=12).prop_map(|s| format!("ZQ{s}"))
}

/// Text around a quoted URL: no credential, no `://`.
fn prose() -> impl Strategy<Value = String> {
    over(b"abcXYZ 019:;,.()[]{}'\"<>\n-", 0..=16)
}

/// A URL carrying `pw` as a runtime quotes one it was given (parsed: no
/// whitespace), in userinfo, a query value, a bare query item or all.
fn quoted_url(pw: &str, form: u8, scheme: &str) -> String {
    match form % 6 {
        0 => format!("{scheme}://svc:{pw}@10.0.0.256/x"),
        1 => format!("{scheme}://h:8/p?token={pw}&a=b"),
        2 => format!("{scheme}://h/p?{pw}&page=2"),
        3 => format!("{scheme}://{pw}@h/?{pw}#{pw}"),
        4 => format!("{scheme}://u:{pw}@h/a%20b?k={pw}"),
        _ => format!("{scheme}://u:p?{pw}@h/"),
    }
}

/// The record line of `failure` on a request to `url`.
fn record(failure: &Failure, url: &str) -> String {
    let info = RequestInfo {
        request_id: "r1",
        method: "GET",
        url,
        ..RequestInfo::default()
    };
    line(failure, Some(&info))
}

/// A debug page's dump of `headers`: as sent, or in a JSON or HTML page.
fn dump(headers: &[(&str, String)], style: u8) -> String {
    headers
        .iter()
        .map(|(k, v)| match style % 3 {
            0 => format!("{k}: {v}\n"),
            1 => format!("\"{k}\":\"{}\",", v.replace('/', "\\/")),
            _ => format!("<tr><td>{k}</td><td>{}</td></tr>", v.replace('&', "&amp;")),
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_url_quoted_in_a_runtime_message_shows_no_credential(
        pw in credential(),
        form in any::<u8>(),
        scheme in select(&["http", "https", "HTTP", "ws"][..]),
        (before, after) in (prose(), prose()),
        cause in select(&[Cause::OriginUnreachable, Cause::WorkerError, Cause::WorkerTrap][..]),
    ) {
        let url = quoted_url(&pw, form, scheme);
        let message = format!("{before}{url} {after}");
        let line = record(&Failure::new(cause, message), "https://w.dev/a");
        prop_assert!(!line.contains(&pw), "{} in {}", pw, line);
        // The control: the text around it is still there.
        let shown: serde_json::Value = serde_json::from_str(&line).unwrap();
        let shown = shown["message"].as_str().unwrap_or_default();
        prop_assert!(shown.starts_with(&before), "{:?} lost {:?}", shown, before);
        prop_assert!(shown.ends_with(&format!(" {after}")), "{:?} lost {:?}", shown, after);
    }

    #[test]
    fn a_bare_query_item_is_never_shown(
        pw in credential(),
        names in prop::collection::vec(over(b"abcxyz_", 1..=6), 0..=3),
        at in any::<u8>(),
    ) {
        let mut items: Vec<String> = names.iter().map(|n| format!("{n}=v")).collect();
        let at = usize::from(at) % (items.len() + 1);
        items.insert(at, pw.clone());
        let url = format!("https://w.dev/x?{}", items.join("&"));
        let line = record(&Failure::new(Cause::OriginErrorStatus, "m"), &url);
        prop_assert!(!line.contains(&pw), "{} in {}", pw, line);
        // The control: the names are shown.
        for n in &names {
            prop_assert!(line.contains(&format!("{n}=REDACTED")), "{} lost in {}", n, line);
        }
    }

    #[test]
    fn a_failing_body_that_dumps_the_request_headers_loses_the_clients_credentials(
        (bearer, basic, sid, theme, token) in (credential(), credential(), credential(), credential(), credential()),
        style in any::<u8>(),
        max in 1usize..=700,
        padding in over(b"abc ", 0..=40),
    ) {
        let headers = [
            ("x-plain", "plain-visible".to_owned()),
            ("authorization", format!("Bearer {bearer}")),
            ("proxy-authorization", format!("Basic {basic}")),
            ("cookie", format!("sid={sid}; theme={theme}")),
            ("x-echoed-token", token.clone()),
        ];
        let get = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        let secrets = Secrets::of(get, Some(&token));
        let body = format!("{padding}{}", dump(&headers, style));
        // What the executor reads: at most `max` bytes.
        let read = &body.as_bytes()[..body.len().min(max)];
        let out = logged(read, max, &secrets);
        prop_assert!(out.len() <= max, "{} bytes over {}", out.len(), max);
        for pw in [&bearer, &basic, &sid, &theme, &token] {
            // Neither whole nor its first bytes, even where the excerpt ends.
            prop_assert!(!out.contains(&pw[..MIN_LEN]), "{} in {:?}", pw, out);
        }
        // The control: a plain header is shown when the excerpt reaches it.
        let plain = body.find("plain-visible").unwrap_or(0) + "plain-visible".len();
        if max >= plain {
            prop_assert!(out.contains("plain-visible"), "{:?}", out);
        }
    }
}
