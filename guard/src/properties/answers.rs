//! The JSON and text answers and the headers of all three: exact texts,
//! no control characters, fixed headers, no body for HEAD.

use error_shield_props::request_id;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use super::{config_with, texts, FORMATS};
use crate::format::Format;
use crate::render::Renderer;

/// Text for `text/plain`: every control character as a space.
fn plain_visible(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}

proptest! {
    #![proptest_config(super::config())]

    #[test]
    fn json_parses_and_carries_the_exact_texts(t in texts(), id in request_id()) {
        let body = Renderer::new(&config_with(&t, None)).render(Format::Json, &id, false).body;
        let v: Value = match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(e) => return Err(TestCaseError::fail(format!("JSON body does not parse ({e}): {body:?}"))),
        };
        prop_assert_eq!(&v["request_id"], &Value::from(id.as_str()), "{:?}", body);
        prop_assert_eq!(&v["title"], &Value::from(t.title.as_str()), "{:?}", body);
        prop_assert_eq!(&v["detail"], &Value::from(t.message.as_str()), "{:?}", body);
        prop_assert_eq!(&v["type"], &Value::from(t.problem_type.as_str()), "{:?}", body);
        prop_assert_eq!(&v["status"], &Value::from(500), "{:?}", body);
        prop_assert_eq!(v.get("support_url").and_then(Value::as_str), t.support_url.as_deref(), "{:?}", body);
        let keys = v.as_object().map_or(0, |o| o.len());
        prop_assert_eq!(keys, 5 + usize::from(t.support_url.is_some()), "unexpected members in {:?}", body);
    }

    #[test]
    fn text_has_no_control_characters_but_newlines_and_carries_the_id(
        t in texts(),
        id in request_id(),
    ) {
        let body = Renderer::new(&config_with(&t, None)).render(Format::Text, &id, false).body;
        let bad = body.chars().find(|c| c.is_control() && *c != '\n');
        prop_assert!(bad.is_none(), "text body has control character {:?}: {:?}", bad, body);
        let id_line = format!("\nRequest ID: {id}\n");
        prop_assert!(body.contains(&id_line), "text body lacks {:?}: {:?}", id_line, body);
        let mut want = format!(
            "{}\n\n{}\n\nRequest ID: {id}\n",
            plain_visible(&t.title),
            plain_visible(&t.message)
        );
        if let Some(url) = &t.support_url {
            want.push_str(&format!("Support: {}\n", plain_visible(url)));
        }
        prop_assert_eq!(&body, &want);
    }

    #[test]
    fn headers_are_fixed_and_head_has_no_body(
        t in texts(),
        id in request_id(),
        format in select(&FORMATS[..]),
    ) {
        let renderer = Renderer::new(&config_with(&t, None));
        let full = renderer.render(format, &id, false);
        let head = renderer.render(format, &id, true);
        prop_assert!(head.body.is_empty(), "HEAD body {:?}", head.body);
        prop_assert_eq!(&head.headers, &full.headers);
        prop_assert_eq!(header(&full.headers, "x-request-id"), Some(id.as_str()));
        prop_assert_eq!(header(&full.headers, "content-type"), Some(format.content_type()));
        prop_assert_eq!(header(&full.headers, "cache-control"), Some("no-store"));
        for (name, value) in &full.headers {
            prop_assert!(
                !value.chars().any(char::is_control),
                "header {} has a control character: {:?}",
                name,
                value
            );
        }
    }
}
