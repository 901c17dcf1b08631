//! Request ids: the id grammar, the precedence of `choose`, trace ids
//! from `traceparent`, minted ids.

use std::cell::Cell;

use error_shield_props::{input, nasty, nasty_char, over, ID_CHARS};
use proptest::prelude::*;
use proptest::sample::select;

use crate::request_id::{choose, from_bytes, is_valid, trace_id};

/// Strings around the id grammar: valid ones (incl. lengths 127–129),
/// valid ones with one foreign character, and arbitrary ones.
fn id_like() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => over(ID_CHARS, 0..=24),
        2 => over(ID_CHARS, 120..=135),
        2 => (over(ID_CHARS, 0..=130), nasty_char(), any::<prop::sample::Index>()).prop_map(
            |(s, c, at)| {
                let mut chars: Vec<char> = s.chars().collect();
                let at = at.index(chars.len() + 1);
                chars.insert(at, c);
                chars.into_iter().collect()
            }
        ),
        3 => nasty(140),
    ]
}

/// `traceparent` values: valid ones, and ones broken in one place.
fn traceparent() -> impl Strategy<Value = String> {
    fn valid() -> impl Strategy<Value = String> {
        const HEX: &[u8] = b"0123456789abcdef";
        (over(HEX, 32..=32), over(HEX, 16..=16), over(HEX, 2..=2))
            .prop_map(|(t, p, f)| format!("00-{t}-{p}-{f}"))
    }
    prop_oneof![
        4 => valid(),
        1 => (valid(), 0..55usize, select(&b"0aAgZ-_ \xff"[..]))
            .prop_map(|(v, i, c)| {
                let mut b = v.into_bytes();
                b[i] = c;
                String::from_utf8_lossy(&b).into_owned()
            }),
        1 => Just("00-00000000000000000000000000000000-00f067aa0ba902b7-01".to_string()),
        1 => Just("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01".to_string()),
        1 => input(60),
    ]
}

/// The trace-id of `t` per W3C Trace Context level 1, written plainly.
fn reference_trace_id(t: &str) -> Option<String> {
    let parts: Vec<&str> = t.split('-').collect();
    let lower_hex = |s: &str, n: usize| {
        s.len() == n
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    };
    match parts.as_slice() {
        ["00", trace, parent, flags]
            if lower_hex(trace, 32)
                && lower_hex(parent, 16)
                && lower_hex(flags, 2)
                && trace.chars().any(|c| c != '0')
                && parent.chars().any(|c| c != '0') =>
        {
            Some(trace.to_string())
        }
        _ => None,
    }
}

/// `^[A-Za-z0-9._:-]{1,128}$`, by hand.
fn reference_is_valid(s: &str) -> bool {
    let mut n = 0;
    for c in s.chars() {
        n += 1;
        let ok = c.is_ascii_uppercase()
            || c.is_ascii_lowercase()
            || c.is_ascii_digit()
            || c == '.'
            || c == '_'
            || c == ':'
            || c == '-';
        if !ok {
            return false;
        }
    }
    (1..=128).contains(&n)
}

proptest! {
    #![proptest_config(super::config())]

    #[test]
    fn is_valid_matches_the_id_grammar(s in id_like()) {
        prop_assert_eq!(
            is_valid(&s),
            reference_is_valid(&s),
            "is_valid({:?}) disagrees with ^[A-Za-z0-9._:-]{{1,128}}$ ({} bytes, {} chars)",
            s,
            s.len(),
            s.chars().count()
        );
    }

    #[test]
    fn choose_returns_a_valid_id_in_precedence_order(
        client in prop::option::of(id_like()),
        trace in prop::option::of(traceparent()),
        ray in prop::option::of(id_like()),
        minted in prop_oneof![over(ID_CHARS, 1..=128), any::<[u8; 16]>().prop_map(from_bytes)],
    ) {
        let calls = Cell::new(0);
        let trace_id = trace.as_deref().and_then(trace_id);
        let id = choose(client.as_deref(), trace_id, ray.as_deref(), || {
            calls.set(calls.get() + 1);
            minted.clone()
        });
        prop_assert!(is_valid(&id), "choose({:?}, {:?}, {:?}) gave invalid id {:?}", client, trace, ray, id);
        let reference_trace = trace.as_deref().and_then(reference_trace_id);
        let want = match (&client, &reference_trace, &ray) {
            (Some(c), _, _) if reference_is_valid(c) => c.as_str(),
            (_, Some(t), _) => t,
            (_, _, Some(r)) if reference_is_valid(r) => r.as_str(),
            _ => minted.as_str(),
        };
        prop_assert_eq!(id.as_str(), want, "wrong precedence for {:?} {:?} {:?}", client, trace, ray);
        let should_mint = !client.as_deref().is_some_and(reference_is_valid)
            && reference_trace.is_none()
            && !ray.as_deref().is_some_and(reference_is_valid);
        prop_assert_eq!(calls.get(), usize::from(should_mint), "mint called {} times", calls.get());
    }


    #[test]
    fn trace_ids_come_only_from_valid_traceparents(t in traceparent()) {
        prop_assert_eq!(trace_id(&t).map(str::to_owned), reference_trace_id(&t), "{:?}", t);
    }

    #[test]
    fn from_bytes_is_32_lowercase_hex_and_injective(bytes in any::<[u8; 16]>()) {
        let id = from_bytes(bytes);
        prop_assert!(is_valid(&id), "{:?}", id);
        prop_assert_eq!(id.len(), 32);
        prop_assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{:?}", id);
        let back: Vec<u8> = (0..16)
            .map(|i| u8::from_str_radix(&id[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        prop_assert_eq!(&back[..], &bytes[..], "{:?} does not decode to its bytes", id);
    }
}
