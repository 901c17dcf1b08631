//! Property tests of the trust boundaries: rules match the normalised path
//! (idempotent, the same rule for every spelling of a path, no allocation
//! when there is nothing to normalise). No credential reaches a record:
//! `roads.rs`.
//!
//! Each property runs `PROPTEST_CASES` cases (default 20 000).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use error_shield_harness::props::{config, over};
use error_shield_proxy::config::path::normalise;
use error_shield_proxy::config::routes::Routes;
use proptest::prelude::*;
use proptest::sample::select;

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
