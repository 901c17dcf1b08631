//! Log records: one line of JSON carrying the request id and every field,
//! and no credential by the roads a runtime's message or a bare query
//! item would carry one (each next to its positive control).

use error_shield_props::{input, nasty, over, request_id};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use super::log_line;
use crate::failure::{Cause, Failure};
use crate::record::{line, RequestInfo};
use crate::redact::{credentials as redact_url, query as redact_query, text as redact_text};
use crate::request_id::is_valid;

const CAUSES: [Cause; 7] = Cause::ALL;

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

proptest! {
    #![proptest_config(super::config())]

    #[test]
    fn log_line_is_one_line_of_json_with_the_request_id(
        cause in select(&CAUSES[..]),
        message in input(32),
        origin_status in prop::option::of(any::<u16>()),
        origin_body in prop::option::of(input(48)),
        location in prop::option::of(nasty(24)),
        attempts in prop::option::of(any::<u32>()),
        context in prop::collection::vec((nasty(8), nasty(24)), 0..4),
        id in prop_oneof![request_id(), nasty(40)],
        cf_ray in prop::option::of(nasty(24)),
        method in prop_oneof![select(&["GET", "HEAD", "POST", "DELETE"][..]).prop_map(String::from), nasty(8)],
        url in input(48),
        duration_ms in any::<u64>(),
        served_stale in any::<bool>(),
    ) {
        let mut failure = Failure::new(cause, message.clone());
        failure.origin_status = origin_status;
        failure.origin_body = origin_body.clone();
        failure.location = location.clone();
        if let Some(n) = attempts {
            failure.set_field("attempts", n);
        }
        if served_stale {
            failure.set_field("served_stale", true);
        }
        failure.context = context.clone();
        let info = RequestInfo {
            request_id: &id,
            trace_id: None,
            cf_ray: cf_ray.as_deref(),
            method: &method,
            url: &url,
            duration_ms,
            status: 500,
        };
        let line = log_line(&failure, &info);
        prop_assert!(
            !line.contains('\n') && !line.contains('\r'),
            "log line spans lines: {:?}",
            line
        );
        let v: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => return Err(TestCaseError::fail(format!("log line is not JSON ({e}): {line:?}"))),
        };
        prop_assert!(v.is_object(), "{:?}", line);
        prop_assert_eq!(&v["request_id"], &Value::from(id.as_str()), "request_id in {:?}", line);
        if is_valid(&id) {
            let needle = format!("\"request_id\":\"{id}\"");
            prop_assert!(line.contains(&needle), "{:?} lacks {:?}", line, needle);
        }
        prop_assert_eq!(&v["level"], "error");
        prop_assert_eq!(&v["cause"], cause.as_str());
        // A URL inside the message is shown redacted like the request's.
        prop_assert_eq!(&v["message"], &Value::from(redact_text(&message)));
        prop_assert_eq!(&v["method"], &Value::from(method.as_str()));
        let redacted = redact_query(&redact_url(&url));
        prop_assert_eq!(&v["url"], &Value::from(redacted.as_str()));
        prop_assert_eq!(v["duration_ms"].as_u64(), Some(duration_ms));
        prop_assert_eq!(v.get("origin_status").and_then(Value::as_u64), origin_status.map(u64::from));
        prop_assert_eq!(v.get("origin_body").and_then(Value::as_str), origin_body.as_deref());
        prop_assert_eq!(v.get("location").and_then(Value::as_str), location.as_deref());
        prop_assert_eq!(v.get("cf_ray").and_then(Value::as_str), cf_ray.as_deref());
        prop_assert_eq!(v.get("attempts").and_then(Value::as_u64), attempts.map(u64::from));
        prop_assert_eq!(v.get("served_stale").and_then(Value::as_bool), served_stale.then_some(true));
        for (key, _) in &context {
            // Shown redacted, as the message is.
            let last = context.iter().rev().find(|(k, _)| k == key).map(|(_, v)| redact_text(v));
            prop_assert_eq!(v["context"][key.as_str()].as_str(), last.as_deref(), "context {:?}", key);
        }
    }
}

// The roads run 20 000 cases, as they did beside the proxy's.
proptest! {
    #![proptest_config(error_shield_props::config())]

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
}
