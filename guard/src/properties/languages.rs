//! Properties of the pages folder's choice (pages/): which languages a
//! client's `Accept-Language` tries, and which file an answer gets from a
//! folder, over generated headers and folders. A `q=0` tag is never
//! chosen; every tag tried is a range the client sent or its prefix; at
//! most three ranges are tried; the file served is one that was found, and
//! (the positive control) a client asking for exactly one language the
//! folder has gets it.

use proptest::prelude::*;

use crate::pages::{lang, Pages, Want, MAX_TAGS};

const LANGS: [&str; 6] = ["de", "de-ch", "fr", "pt-br", "pt", "en"];

/// One range with an optional q (valid or not), in any case.
fn item() -> impl Strategy<Value = (String, Option<String>)> {
    let range = prop_oneof![
        prop::sample::select(LANGS.to_vec()).prop_map(str::to_owned),
        Just("*".to_owned()),
        "[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8}){0,2}",
        "[ a-zA-Z0-9*_.-]{0,12}",
    ];
    let q = prop::option::of(prop_oneof![
        Just("0".to_owned()),
        Just("0.000".to_owned()),
        Just("1".to_owned()),
        "0\\.[0-9]{1,3}",
        "[a-z0-9. ]{0,5}",
    ]);
    (range, q)
}

fn header(items: &[(String, Option<String>)]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|(r, q)| match q {
            Some(q) => format!("{r};q={q}"),
            None => r.clone(),
        })
        .collect();
    parts.join(", ")
}

/// A qvalue of zero as RFC 9110 writes it: `0`, `0.`, `0.0`, … `0.000`.
fn is_zero(q: &Option<String>) -> bool {
    q.as_deref().is_some_and(|q| {
        let q = q.trim();
        q == "0"
            || q.strip_prefix("0.")
                .is_some_and(|f| f.len() <= 3 && f.bytes().all(|b| b == b'0'))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn tags_come_from_the_client_and_q0_is_never_tried(items in prop::collection::vec(item(), 0..8)) {
        let tags = lang::tags(Some(&header(&items)));
        let refused: Vec<String> = items.iter().filter(|(_, q)| is_zero(q)).map(|(r, _)| r.trim().to_ascii_lowercase()).collect();
        let sent: Vec<String> = items.iter().map(|(r, _)| r.trim().to_ascii_lowercase()).collect();
        let mut ranges = std::collections::BTreeSet::new();
        for tag in &tags {
            prop_assert!(!refused.contains(tag), "{tag} refused in {items:?}");
            prop_assert!(!refused.iter().any(|r| r != "*" && tag.starts_with(&format!("{r}-"))), "{tag}");
            let from = sent.iter().find(|r| *r == tag || r.starts_with(&format!("{tag}-")));
            prop_assert!(from.is_some(), "{tag} not sent: {items:?}");
            ranges.insert(from.cloned());
            prop_assert!(!tag.contains(['/', '.', ' ', '*']), "{tag}");
        }
        prop_assert!(tags.len() <= lang::MAX_TAGS_TRIED);
        let unique: std::collections::BTreeSet<_> = tags.iter().collect();
        prop_assert_eq!(unique.len(), tags.len());
    }

    #[test]
    fn the_file_served_was_found_and_a_sole_language_of_the_folder_is_taken(
        present in prop::collection::btree_set(prop::sample::select(LANGS.to_vec()), 0..6),
        unlocalised in any::<bool>(),
        asked in prop::sample::select(LANGS.to_vec()),
        status in prop::sample::select(vec![500u16, 502, 503, 504]),
    ) {
        let want = Want { status, maintenance: false, html: true };
        let tags = lang::tags(Some(asked));
        let mut pages = Pages::default();
        let found = |name: &str| {
            let tagged = name.strip_prefix("5xx.").and_then(|n| n.strip_suffix(".html"));
            match tagged {
                Some(t) => present.contains(t),
                None => unlocalised && name == "default.html",
            }
        };
        for name in pages.unknown(&want, &tags) {
            let body = format!("<p>{name}</p>");
            pages.store(&name, found(&name).then_some(body.as_bytes()));
        }
        let choice = pages.choose(&want, &tags);
        if let Some(page) = choice.page {
            let text = format!("{:?}", page);
            let name = text.split("<p>").nth(1).and_then(|t| t.split("</p>").next()).unwrap_or_default();
            prop_assert!(found(name), "{name} was not in the folder");
            prop_assert_eq!(choice.lang.is_some(), name != "default.html");
        }
        let wanted = tags.iter().find(|t| present.contains(t.as_str()));
        prop_assert_eq!(choice.lang, wanted.map(String::as_str));
        prop_assert_eq!(choice.page.is_some(), wanted.is_some() || unlocalised);
        prop_assert!(MAX_TAGS >= 3);
    }
}
