//! Property tests of the trust boundaries: no credential in the
//! configuration ever reaches a record or a response, and rules match the
//! normalised path (idempotent, the same rule for every spelling of a path,
//! no allocation when there is nothing to normalise).
//!
//! Each property runs `PROPTEST_CASES` cases (default 20 000).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use error_shield::parts::{line, Renderer, RequestInfo};
use error_shield::{Failure, Format, Page};
use error_shield_proxy::path::normalise;
use error_shield_proxy::routes::Routes;
use error_shield_proxy::settings::Settings;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::RngAlgorithm;

// ---------------------------------------------------------------------------
// Allocations, counted per thread (the properties run on several threads)
// ---------------------------------------------------------------------------

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations_of<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

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

// ---------------------------------------------------------------------------
// Credentials in every URL and ROUTES position
// ---------------------------------------------------------------------------

/// The credential: `ZQ` and lowercase letters, which nothing else generated
/// here contains.
fn credential() -> impl Strategy<Value = String> {
    over(b"abcdefghijklmnopqrstuvwxyz", 6..=12).prop_map(|s| format!("ZQ{s}"))
}

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
    let page = page.unwrap_or_default();
    let renderer = Renderer::new(&page);
    for format in [Format::Json, Format::Html, Format::Text] {
        let r = renderer.render(format, "r1", false);
        shown.push(r.body.to_string());
        shown.extend(r.headers.iter().map(|(k, v)| format!("{k}: {v}")));
    }
    shown
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
    let lookup = |n: &str| (n == "ORIGIN_TIMEOUT_MS").then(|| "ZQplain".to_string());
    assert!(everything_shown(&lookup)
        .iter()
        .any(|t| t.contains("ZQplain")));
}

// ---------------------------------------------------------------------------
// The normalised path
// ---------------------------------------------------------------------------

/// Any path: heavy in `/`, `%`, `.`, hex digits and escapes.
fn any_path() -> impl Strategy<Value = String> {
    over(b"/%.aA2eEdfF~-_x9/%.", 0..=24).prop_map(|s| format!("/{s}"))
}

/// A path with nothing to normalise: segments of unreserved characters,
/// none of them `.` or `..`.
fn normal_path() -> impl Strategy<Value = (Vec<String>, bool)> {
    (
        prop::collection::vec(over(b"abcxyz019-_~.", 1..=6), 0..=5),
        any::<bool>(),
    )
        .prop_map(|(segments, trailing)| {
            let segments = segments
                .into_iter()
                .map(|s| {
                    if s == "." || s == ".." {
                        format!("{s}x")
                    } else {
                        s
                    }
                })
                .collect();
            (segments, trailing)
        })
}

fn join(segments: &[String], trailing: bool) -> String {
    let mut p: String = segments.iter().map(|s| format!("/{s}")).collect();
    if trailing || p.is_empty() {
        p.push('/');
    }
    p
}

/// Another spelling of the same path: a doubled slash, an unreserved
/// character percent-encoded (either case), a `.` segment or a
/// `segment/..` detour, at chosen places.
fn spell(segments: &[String], trailing: bool, edits: &[(u8, u8)]) -> String {
    let mut out = String::new();
    for (i, s) in segments.iter().enumerate() {
        let (kind, at) = edits.get(i).copied().unwrap_or((0, 0));
        out.push('/');
        match kind % 5 {
            1 => out.push('/'),
            2 => out.push_str("./"),
            3 => out.push_str("zz/../"),
            _ => {}
        }
        let at = usize::from(at) % s.len();
        for (j, c) in s.chars().enumerate() {
            if kind % 5 == 4 && j == at {
                let hex = format!("%{:02x}", c as u32);
                out.push_str(&if at % 2 == 0 { hex.to_uppercase() } else { hex });
            } else {
                out.push(c);
            }
        }
    }
    if trailing || segments.is_empty() {
        out.push('/');
    }
    out
}

fn rules_for(segments: &[String]) -> Routes {
    // A rule for every prefix of the path, and one that is no prefix.
    let mut prefixes = vec!["/".to_string(), "/zz-never/".to_string()];
    for n in 1..=segments.len() {
        prefixes.push(join(&segments[..n], n % 2 == 0));
    }
    prefixes.dedup();
    let rules: Vec<String> = prefixes
        .iter()
        .map(|p| format!(r#"{{"prefix":{}}}"#, serde_json::Value::from(p.as_str())))
        .collect();
    let text = format!("[{}]", rules.join(","));
    let lookup = |n: &str| (n == "ROUTES").then(|| text.clone());
    Routes::from_vars(&lookup).expect("valid rules")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn normalising_twice_changes_nothing(p in any_path()) {
        let once = normalise(&p).into_owned();
        let twice = normalise(&once);
        prop_assert_eq!(twice.as_ref(), once.as_str(), "{:?}", p);
        prop_assert!(!once.contains("//"), "{:?} -> {:?}", p, once);
    }

    #[test]
    fn every_spelling_of_a_path_selects_the_same_rule(
        (segments, trailing) in normal_path(),
        edits in prop::collection::vec((any::<u8>(), any::<u8>()), 0..=5),
        query in select(&["", "?a=/b", "?x=%61"][..]),
    ) {
        let path = join(&segments, trailing);
        let variant = spell(&segments, trailing, &edits);
        let normal = normalise(&variant);
        prop_assert_eq!(normal.as_ref(), path.as_str(), "{:?}", variant);
        let routes = rules_for(&segments);
        let pick = |p: &str| routes.select(&format!("https://w.dev{p}{query}")).map(|(i, _)| i);
        prop_assert_eq!(pick(&variant), pick(&path), "{:?} vs {:?}", variant, path);
    }

    #[test]
    fn matching_a_normal_path_allocates_nothing(
        (segments, trailing) in normal_path(),
        query in select(&["", "?a=//b/../%61"][..]),
    ) {
        let routes = rules_for(&segments);
        let url = format!("https://w.dev{}{query}", join(&segments, trailing));
        let (chosen, n) = allocations_of(|| routes.select(&url).map(|(i, _)| i));
        prop_assert!(chosen.is_some());
        prop_assert_eq!(n, 0, "{} allocated", url);
    }
}

#[test]
fn the_allocation_counter_counts() {
    // The positive control: a path to normalise does allocate.
    let routes = rules_for(&["a".to_string()]);
    let (chosen, n) = allocations_of(|| routes.select("https://w.dev//a/%62").map(|(i, _)| i));
    assert!(chosen.is_some());
    assert!(n > 0);
}
