use super::*;

const HTML_503: Want = Want {
    status: 503,
    maintenance: false,
    html: true,
};

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

/// A folder holding `files`; every other name the answer asks for missing.
fn folder(want: &Want, asked: &[&str], files: &[(&str, &str)]) -> Pages {
    let mut p = Pages::default();
    for name in p.unknown(want, &tags(asked)) {
        let found = files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.as_bytes());
        assert_eq!(p.store(&name, found), None, "{name}");
    }
    p
}

fn chosen(p: &Pages, want: &Want, asked: &[&str]) -> (Option<String>, String) {
    let c = p.choose(want, &tags(asked));
    let page = c.page.map(|t| format!("{:?}", t.0)).unwrap_or_default();
    (c.lang.map(str::to_owned), page)
}

#[test]
fn file_names_go_from_status_to_class_to_default() {
    assert_eq!(
        HTML_503.pages(Some("de")),
        ["503.de.html", "5xx.de.html", "default.de.html"]
    );
    let m = Want {
        maintenance: true,
        ..HTML_503
    };
    assert_eq!(
        m.pages(None),
        ["maintenance.html", "503.html", "5xx.html", "default.html"]
    );
    assert_eq!(m.keys(), ["maintenance", "503", "default"]);
}

#[test]
fn each_step_of_the_choice_is_taken_when_the_more_specific_is_missing() {
    let all = [
        ("503.de.html", "a"),
        ("5xx.de.html", "b"),
        ("default.de.html", "c"),
        ("503.html", "d"),
        ("5xx.html", "e"),
        ("default.html", "f"),
    ];
    for skip in 0..=all.len() {
        let files = &all[skip..];
        let p = folder(&HTML_503, &["de"], files);
        let (lang, page) = chosen(&p, &HTML_503, &["de"]);
        match files.first() {
            Some((name, body)) => {
                assert!(page.contains(body), "{name}: {page}");
                assert_eq!(lang.is_some(), name.contains(".de."), "{name}");
            }
            None => assert_eq!((lang, page), (None, String::new())),
        }
    }
}

#[test]
fn without_a_language_only_unlocalised_files_are_asked_for() {
    let p = Pages::default();
    assert_eq!(
        p.unknown(&HTML_503, &[]),
        ["503.html", "5xx.html", "default.html"]
    );
    let json = Want {
        html: false,
        ..HTML_503
    };
    assert_eq!(
        p.unknown(&json, &tags(&["de-ch", "de"])),
        ["messages.de-ch.json", "messages.de.json"]
    );
}

#[test]
fn a_known_file_is_never_asked_for_again() {
    let p = folder(&HTML_503, &["de"], &[("503.html", "x")]);
    assert!(p.unknown(&HTML_503, &tags(&["de"])).is_empty());
    assert_eq!(p.unknown(&HTML_503, &tags(&["fr"])).len(), 4);
}

#[test]
fn messages_localise_words_and_choose_the_language_for_any_format() {
    let json = Want {
        html: false,
        ..HTML_503
    };
    let files = [("messages.de.json", r#"{"default": {"title": "Fehler"}}"#)];
    let p = folder(&json, &["fr", "de"], &files);
    let c = p.choose(&json, &tags(&["fr", "de"]));
    assert_eq!(
        (c.lang, c.title, c.message),
        (Some("de"), Some("Fehler"), None)
    );
    // A document without a word for this answer does not choose its language.
    let files = [("messages.de.json", r#"{"404": {"title": "Fehlt"}}"#)];
    let p = folder(&json, &["de"], &files);
    assert_eq!(p.choose(&json, &tags(&["de"])), Choice::default());
}

#[test]
fn an_unusable_file_warns_once_and_the_next_is_used() {
    let mut p = Pages::default();
    let warn = p.store("503.de.html", Some(b"{{nope}}")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&warn).unwrap();
    assert_eq!(
        (v["level"].as_str(), v["event"].as_str()),
        (Some("warn"), Some("page_unusable"))
    );
    assert_eq!(v["file"], "503.de.html");
    assert!(warn.starts_with(r#"{"level":"warn","event":"page_unusable","file":"#));
    assert_eq!(p.store("503.de.html", Some(b"{{nope}}")), None, "once");
    p.store("5xx.de.html", Some(b"ok"));
    let (lang, page) = chosen(&p, &HTML_503, &["de"]);
    assert_eq!(lang.as_deref(), Some("de"));
    assert!(page.contains("ok"));
}

#[test]
fn client_chosen_tags_cannot_grow_the_cache() {
    let mut p = Pages::default();
    for i in 0..MAX_TAGS * 4 {
        let tag = format!("x{i}");
        for name in p.unknown(&HTML_503, &tags(&[&tag])) {
            p.store(&name, None);
        }
    }
    assert_eq!(p.tags.len(), MAX_TAGS);
    assert_eq!(p.entries.len(), MAX_TAGS * 4 + 3);
    // A new language is no longer tried; the known ones still are.
    assert_eq!(p.unknown(&HTML_503, &tags(&["de"])), Vec::<String>::new());
    assert!(p.store("503.de.html", Some(b"x")).is_none());
    assert_eq!(chosen(&p, &HTML_503, &["de"]).0, None);
}

#[test]
fn tags_are_read_from_our_file_names() {
    assert_eq!(tag_of("503.de.html"), Some("de"));
    assert_eq!(tag_of("default.pt-br.html"), Some("pt-br"));
    assert_eq!(tag_of("messages.de.json"), Some("de"));
    assert_eq!(tag_of("503.html"), None);
}
