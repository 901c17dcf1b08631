//! Property tests of every road by which a credential could reach a record:
//! the configuration (every URL-valued variable and rule key, valid or
//! broken, and what the runtime quotes of a valid one) and a failing
//! origin body that dumps the request's headers. Each runs next to its
//! positive control: what is no credential is still shown. (The guard's
//! own roads, a runtime message quoting the URL it failed on and a query
//! item without `=`, are its properties: guard/src/properties/records.rs.)
//!
//! Each property runs `PROPTEST_CASES` cases (default 20 000).

use error_shield::parts::{line, Renderer, RequestInfo};
use error_shield::{Cause, Failure, Format, Page};
use error_shield_harness::props::{config, over};
use error_shield_proxy::answer::credentials::{Secrets, MIN_LEN};
use error_shield_proxy::answer::excerpt::logged;
use error_shield_proxy::config::origin::outbound_url;
use error_shield_proxy::config::routes::Routes;
use error_shield_proxy::config::settings::Settings;
use proptest::prelude::*;
use proptest::sample::select;

/// A credential: `ZQ` and lowercase letters, which nothing else generated
/// here contains (and `REDACTED` does not either).
fn credential() -> impl Strategy<Value = String> {
    over(b"abcdefghijklmnopqrstuvwxyz", 6..=12).prop_map(|s| format!("ZQ{s}"))
}

// ---------------------------------------------------------------------------
// Credentials in every URL and ROUTES position
// ---------------------------------------------------------------------------

/// A URL-ish value carrying `pw`, valid or not, with or without a scheme.
fn url_with(pw: &str, form: u8, junk: &str) -> String {
    match form % 11 {
        10 => format!("http://u:{pw}@10.0.0.256{junk}"),
        9 => format!("https://h/x?{pw}&page=2{junk}"),
        8 => format!("https://api.example.com/?{pw}{junk}"),
        0 => format!("https://svc:{pw}@api.example.com{junk}"),
        1 => format!("svc:{pw}@api.example.com{junk}"),
        2 => format!("https://api.example.com/?key={pw}{junk}"),
        3 => format!("http://u:{pw}@h:99999/{junk}"),
        4 => format!("https://u:pa/s{pw}?#@host/ x{junk}"),
        5 => format!("{pw}@host{junk}"),
        6 => format!("ftp://u:{pw}@h{junk}"),
        _ => format!("https://u:{pw}@h/a b?token={pw}{junk}"),
    }
}

/// `ROUTES` text holding `url` in one position, broken in one way or not.
fn routes_with(url: &str, position: u8, breakage: u8) -> String {
    let u = serde_json::Value::from(url).to_string();
    let text = match position % 10 {
        9 => format!(r#"[{{"prefix":"/a/","fallback_origin_url":{u}}}]"#),
        8 => format!(r#"[{{"prefix":"/a/",{u}:1}}]"#),
        0 => format!(r#"[{{"prefix":"/a/","origin_url":{u}}}]"#),
        1 => format!(r#"[{u}]"#),
        2 => format!(r#"[{{"prefix":{u}}}]"#),
        3 => format!(r#"[{{"prefix":"/a/","colour":{u}}}]"#),
        4 => format!(r#"[{{"prefix":"/a/","origin_url":{{"u":{u}}}}}]"#),
        5 => format!(r#"[{{"prefix":"/a/","timeout_ms":{u}}}]"#),
        6 => format!(r#"{{"prefix":"/a/","origin_url":{u}}}"#),
        _ => format!(r#"[{{"prefix":"/b/"}},{{"prefix":"/a/","origin_url":[{u}]}}]"#),
    };
    match breakage % 6 {
        0 => text,
        1 => text[..text.len() - 1].to_owned(),
        2 => text.replacen('"', "", 1),
        3 => format!("{text},"),
        4 => text.replacen(':', "", 1),
        _ => text.replace('}', "},"),
    }
}

/// Every record and every answer a failing configuration can produce.
fn everything_shown(lookup: &impl Fn(&str) -> Option<String>) -> Vec<String> {
    let page = Page::from_vars(lookup);
    let failures: Vec<Failure> = [
        page.as_ref().err().cloned(),
        Settings::from_vars(lookup).err(),
        Routes::from_vars(lookup).err(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut shown = Vec::new();
    for f in &failures {
        let info = RequestInfo {
            request_id: "r1",
            method: "GET",
            url: "https://w.dev/a",
            ..RequestInfo::default()
        };
        shown.push(line(f, Some(&info)));
        shown.push(format!("{f:?}"));
    }
    // A valid configuration's URLs reach the runtime, whose error quotes
    // the whole target it was asked to fetch.
    for quoted in runtime_quotes(lookup) {
        let info = RequestInfo {
            request_id: "r1",
            url: "https://w.dev/a?k=v",
            ..RequestInfo::default()
        };
        shown.push(line(&quoted, Some(&info)));
    }
    let page = page.unwrap_or_default();
    let renderer = Renderer::new(&page);
    for format in [Format::Json, Format::Html, Format::Text] {
        let r = renderer.render(format, "r1", false);
        shown.push(r.body.to_string());
        shown.extend(r.headers.iter().map(|(k, v)| format!("{k}: {v}")));
    }
    shown
}

/// The fetch errors a valid configuration could meet: each origin it
/// names (top level and rules, primary and fallback) quoted by the
/// runtime as the target it could not fetch.
fn runtime_quotes(lookup: &impl Fn(&str) -> Option<String>) -> Vec<Failure> {
    let mut settings: Vec<Settings> = Settings::from_vars(lookup).into_iter().collect();
    if let Ok(routes) = Routes::from_vars(lookup) {
        settings.extend(routes.0.into_iter().map(|r| r.settings));
    }
    settings
        .iter()
        .flat_map(|s| [s.origin.clone(), s.fallback.clone()])
        .flatten()
        .map(|base| {
            let target = outbound_url(&base, "https://w.dev/a?k=v");
            Failure::new(Cause::OriginUnreachable, format!("Invalid URL: {target}"))
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_configured_credential_reaches_a_record_or_an_answer(
        pw in credential(),
        form in any::<u8>(),
        junk in select(&["", "/", "/v1", " x", "?a=b", "#f", ":1", "\u{7f}"][..]),
        position in any::<u8>(),
        breakage in any::<u8>(),
        variable in select(&[
            "ORIGIN_URL", "FALLBACK_ORIGIN_URL", "ROUTES", "ROUTES_STRUCTURED",
            "SUPPORT_URL_BAD", "PROBLEM_TYPE_BAD",
        ][..]),
    ) {
        let url = url_with(&pw, form, junk);
        let (name, value) = match variable {
            "ROUTES" => ("ROUTES", routes_with(&url, position, breakage)),
            // What a structured `[vars]` value arrives as: valid JSON text.
            "ROUTES_STRUCTURED" => ("ROUTES", routes_with(&url, position, 0)),
            // The page shows a valid SUPPORT_URL by design; a bad one is a
            // record, which must not show its credential.
            "SUPPORT_URL_BAD" => ("SUPPORT_URL", format!("{url} \u{1}")),
            "PROBLEM_TYPE_BAD" => ("PROBLEM_TYPE", format!("{url} \u{1}")),
            "FALLBACK_ORIGIN_URL" => ("FALLBACK_ORIGIN_URL", url.clone()),
            _ => ("ORIGIN_URL", url.clone()),
        };
        let lookup = |n: &str| (n == name).then(|| value.clone());
        for text in everything_shown(&lookup) {
            prop_assert!(!text.contains(&pw), "{}={:?} shows {:?} in {}", name, value, pw, text);
        }
    }
}

#[test]
fn the_credential_property_sees_the_failures_it_checks() {
    // The positive control: these configurations do fail, so the property
    // above inspects real records, and a plain value is shown in them.
    let failing = [
        ("ORIGIN_URL", "svc:ZQabcdef@api.example.com".to_string()),
        (
            "FALLBACK_ORIGIN_URL",
            "http://u:ZQabcdef@10.0.0.256".to_string(),
        ),
        ("ROUTES", routes_with("http://u:ZQabcdef@10.0.0.256", 9, 0)),
        ("ROUTES", routes_with("https://svc:ZQabcdef@h", 0, 1)),
        ("ROUTES", routes_with("https://svc:ZQabcdef@h", 3, 0)),
    ];
    for (name, value) in &failing {
        let lookup = |n: &str| (n == *name).then(|| value.clone());
        let shown = everything_shown(&lookup);
        assert!(
            shown.iter().any(|t| t.contains("config_error")),
            "{name}={value}"
        );
    }
    // A valid one is quoted by the runtime's errors: shown, redacted.
    for (name, value) in [
        (
            "ORIGIN_URL",
            "https://svc:ZQabcdef@api.example.com".to_string(),
        ),
        ("FALLBACK_ORIGIN_URL", "https://svc:ZQabcdef@b".to_string()),
        ("ROUTES", routes_with("https://svc:ZQabcdef@h", 9, 0)),
    ] {
        let lookup = |n: &str| (n == name).then(|| value.clone());
        assert!(
            everything_shown(&lookup)
                .iter()
                .any(|t| t.contains("Invalid URL: https://REDACTED@")),
            "{name}={value}"
        );
    }
    let lookup = |n: &str| (n == "ORIGIN_TIMEOUT_MS").then(|| "ZQplain".to_string());
    assert!(everything_shown(&lookup)
        .iter()
        .any(|t| t.contains("ZQplain")));
}

// ---------------------------------------------------------------------------
// The failing body's road
// ---------------------------------------------------------------------------

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
        let written = error_shield::parts::fit::escaped_len(&out);
        prop_assert!(written <= max, "{} bytes over {}", written, max);
        for pw in [&bearer, &basic, &sid, &theme, &token] {
            // Neither whole nor its first bytes, even where the excerpt ends.
            prop_assert!(!out.contains(&pw[..MIN_LEN]), "{} in {:?}", pw, out);
        }
        // The control: a plain header is shown when the excerpt reaches it.
        // (the bound counts the excerpt as the record writes it, escaped)
        let plain = body.find("plain-visible").unwrap_or(0) + "plain-visible".len();
        if max >= error_shield::parts::fit::escaped_len(&body[..plain]) {
            prop_assert!(out.contains("plain-visible"), "{:?}", out);
        }
    }
}
