//! Property tests of the proxy's configuration: `FAILURE_STATUSES` parsed
//! exactly as generated, a list with one bad part refused, and any set of
//! variables either parsed into answers that render or refused as a
//! `config_error` that names the variable.
//!
//! Every property runs `PROPTEST_CASES` cases (default 100 000). `make
//! fuzz` runs the same file in release mode with a million.

use error_shield::parts::{line, Renderer, RequestInfo};
use error_shield::{Cause, Format, Page};
use error_shield_harness::props::{config_of, input, nasty, over, request_id};
use error_shield_proxy::config::failure_statuses::StatusSet;
use error_shield_proxy::config::settings::Settings;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

const FORMATS: [Format; 3] = [Format::Json, Format::Html, Format::Text];

proptest! {
    #![proptest_config(config_of(100_000))]

    #[test]
    fn status_set_parse_agrees_with_the_generated_set(
        items in prop::collection::vec(
            (
                prop_oneof![
                    (100u16..=599).prop_map(|c| (c, c, false)),
                    (100u16..=599, 100u16..=599).prop_map(|(a, b)| (a.min(b), a.max(b), true)),
                ],
                select(&["", " ", "  ", "\t"][..]),
                select(&["", " ", "\t "][..]),
            ),
            0..10,
        ),
        blank in select(&["", " ", "  \t"][..]),
    ) {
        let text = if items.is_empty() {
            blank.to_string()
        } else {
            items
                .iter()
                .map(|((lo, hi, range), pad, inner)| {
                    if *range {
                        format!("{pad}{lo}{inner}-{inner}{hi}{pad}")
                    } else {
                        format!("{pad}{lo}{pad}")
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let set = StatusSet::parse(&text);
        prop_assert!(set.is_some(), "StatusSet::parse({:?}) rejected a valid list", text);
        let set = set.unwrap();
        let mut want = [false; 701];
        for ((lo, hi, _), _, _) in &items {
            want[usize::from(*lo)..=usize::from(*hi)].fill(true);
        }
        for (code, want) in (0u16..).zip(want) {
            prop_assert_eq!(set.contains(code), want, "{:?}.contains({})", text, code);
        }
        prop_assert!(!set.contains(u16::MAX), "{:?}.contains(65535)", text);
    }

    #[test]
    fn status_set_rejects_a_list_with_one_bad_part(
        good in prop::collection::vec(100u16..=599, 0..5),
        bad in prop_oneof![
            (0u16..=99).prop_map(|c| format!("{c:03}")),
            (600u16..=999).prop_map(|c| c.to_string()),
            select(&["000", "001", "099", "600", "601", "999"][..]).prop_map(String::from),
            (100u16..=598, any::<u16>())
                .prop_map(|(lo, x)| format!("{}-{lo}", lo + 1 + x % (599 - lo))),
            (100u16..=599).prop_map(|c| format!("{c}-")),
            (100u16..=599).prop_map(|c| format!("-{c}")),
            (100u16..=599).prop_map(|c| format!("{c}-{c}-{c}")),
            (1000u16..=9999).prop_map(|c| c.to_string()),
            (0u16..=99).prop_map(|c| c.to_string()),
            Just(String::new()),
            Just(" ".to_string()),
            over(b"abcz+.", 1..=4),
        ],
        at in any::<prop::sample::Index>(),
    ) {
        let mut parts: Vec<String> = good.iter().map(u16::to_string).collect();
        let at = at.index(parts.len() + 1);
        parts.insert(at, bad.clone());
        let text = parts.join(",");
        if text.trim().is_empty() {
            // A lone blank part is the empty list, which is valid.
            prop_assert_eq!(StatusSet::parse(&text), StatusSet::parse(""));
            prop_assert!(!StatusSet::parse(&text).unwrap().contains(500));
            return Ok(());
        }
        prop_assert_eq!(
            StatusSet::parse(&text),
            None,
            "StatusSet::parse({:?}) accepted the bad part {:?}",
            text,
            bad
        );
    }

    #[test]
    fn status_set_parse_is_total_and_stays_in_range(text in input(48)) {
        if let Some(set) = StatusSet::parse(&text) {
            for code in (0..100).chain(600..=700).chain([u16::MAX]) {
                prop_assert!(!set.contains(code), "{:?} parsed to a set containing {}", text, code);
            }
        }
    }

    #[test]
    fn config_from_vars_is_total(
        values in prop::collection::vec(
            prop::option::of(prop_oneof![
                4 => input(24),
                1 => (select(&["https://", "http://", "HTTP://", "ftp://"][..]), nasty(30))
                    .prop_map(|(scheme, rest)| format!("{scheme}{rest}")),
                1 => over(b"0123456789", 1..=7),
                1 => Just("500,502-504".to_string()),
            ]),
            14,
        ),
        id in request_id(),
    ) {
        const NAMES: [&str; 14] = [
            "ORIGIN_URL", "ORIGIN_TIMEOUT_MS", "FAILURE_STATUSES", "DEFAULT_FORMAT",
            "ERROR_TITLE", "ERROR_MESSAGE", "SUPPORT_URL", "PROBLEM_TYPE",
            "LOG_ORIGIN_BODY_BYTES", "ERROR_PAGE_HTML", "STALE_IF_ERROR_SECONDS",
            "ORIGIN_RETRIES", "FAULT_INJECTION", "UNRELATED",
        ];
        let lookup = |name: &str| {
            NAMES.iter().position(|n| *n == name).and_then(|i| values[i].clone())
        };
        let parsed = Page::from_vars(&lookup).and_then(|page| Settings::from_vars(&lookup).map(|_| page));
        match parsed {
            Ok(c) => {
                // Whatever parsed must render: JSON that parses, for any format.
                let renderer = Renderer::new(&c);
                for format in FORMATS {
                    let _ = renderer.render(format, &id, false);
                }
                let body = renderer.render(Format::Json, &id, false).body;
                prop_assert!(serde_json::from_str::<Value>(&body).is_ok(), "bad JSON {:?}", body);
            }
            Err(failure) => {
                prop_assert_eq!(failure.cause, Cause::ConfigError);
                prop_assert!(
                    failure.context.first().is_some_and(|(k, v)| k == "variable" && NAMES.contains(&v.as_str())),
                    "config error does not name the variable: {:?}",
                    failure
                );
                let record = line(&failure, Some(&RequestInfo { request_id: &id, ..RequestInfo::default() }));
                prop_assert!(serde_json::from_str::<Value>(&record).is_ok(), "bad log line {:?}", record);
            }
        }
    }
}
