//! Properties of whose copy a request gets (src/stale_key.rs), over
//! generated header sets: a copy is never served to a request that differs
//! from the one it was stored from in an identifying header or in a header
//! its response varies on; and (the positive control) a request that
//! differs only in headers that identify nobody and are not varied on gets
//! it.

use std::collections::BTreeMap;

use error_shield_proxy::rescue::stale_key::{identifying, key, varied};
use proptest::prelude::*;

type Headers = BTreeMap<String, String>;

/// Header names from both sides of the list, custom ones included.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("x-api-key".to_owned()),
        Just("x-tenant".to_owned()),
        Just("x-session".to_owned()),
        Just("authorization-token".to_owned()),
        Just("accept".to_owned()),
        Just("accept-language".to_owned()),
        Just("user-agent".to_owned()),
        Just("x-request-id".to_owned()),
        Just("x-forwarded-for".to_owned()),
        Just("sec-fetch-mode".to_owned()),
        Just("cf-ipcountry".to_owned()),
        Just("if-none-match".to_owned()),
        "x-[a-z]{1,6}",
    ]
}

fn headers() -> impl Strategy<Value = Headers> {
    prop::collection::btree_map(name(), "[a-zA-Z0-9 ,;=._-]{0,12}", 0..6)
}

/// Whether a request with `lookup` gets the copy stored from `stored`,
/// whose response said `vary`: the same key and the same varied values.
fn served(url: &str, stored: &Headers, vary: &str, lookup: &Headers) -> bool {
    let get = |h: &Headers| {
        let h = h.clone();
        move |n: &str| h.get(n).cloned()
    };
    key(url, pairs(stored)) == key(url, pairs(lookup))
        && varied(Some(vary), get(stored)) == varied(Some(vary), get(lookup))
}

fn pairs(h: &Headers) -> Vec<(&str, &str)> {
    h.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

/// The names a change of which must keep a request from the copy.
fn guarded(name: &str, vary: &[String]) -> bool {
    identifying(name) || vary.iter().any(|v| v == name)
}

proptest! {
    #[test]
    fn a_copy_never_reaches_a_request_that_differs_in_a_guarded_header(
        stored in headers(),
        vary in prop::collection::vec(name(), 0..3),
        changed in name(),
        value in prop::option::of("[a-z0-9]{1,8}"),
    ) {
        let mut lookup = stored.clone();
        match &value {
            Some(v) => lookup.insert(changed.clone(), v.clone()),
            None => lookup.remove(&changed),
        };
        let differs = stored.get(&changed) != lookup.get(&changed);
        let url = "https://w.dev/account?page=1";
        let vary_header = vary.join(", ");
        if differs && guarded(&changed, &vary) {
            prop_assert!(!served(url, &stored, &vary_header, &lookup), "{changed}: {value:?}");
        }
        // The control: the very same request always gets it.
        prop_assert!(served(url, &stored, &vary_header, &stored));
    }

    #[test]
    fn a_request_that_differs_only_in_unguarded_headers_gets_the_copy(
        stored in headers(),
        vary in prop::collection::vec(name(), 0..3),
        noise in headers(),
    ) {
        let mut lookup = stored.clone();
        for (n, v) in noise.into_iter().filter(|(n, _)| !guarded(n, &vary)) {
            lookup.insert(n, v);
        }
        prop_assert!(served("https://w.dev/a", &stored, &vary.join(","), &lookup));
    }

    #[test]
    fn vary_star_is_never_stored(vary in prop::collection::vec(name(), 0..3), at in 0usize..3) {
        let mut names = vary;
        names.insert(at.min(names.len()), "*".to_owned());
        prop_assert_eq!(varied(Some(&names.join(", ")), |_| None), None);
    }
}
