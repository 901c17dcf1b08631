//! Accept negotiation: total, deaf to junk ranges, and picking the one
//! format a client accepts.

use error_shield_props::{huge, nasty, nasty_char};
use proptest::prelude::*;
use proptest::sample::select;

use super::FORMATS;
use crate::format::Format;
use crate::negotiate::negotiate;

proptest! {
    #![proptest_config(super::config())]

    #[test]
    fn at_equal_q_swapping_two_named_formats_swaps_the_answer(
        (a, b) in (0..3usize, 1..3usize).prop_map(|(a, d)| (a, (a + d) % 3)),
        (alias_a, alias_b) in (any::<bool>(), any::<bool>()),
        q in 1..=1000u16,
        wildcards in prop::option::of(select(&["*/*", "text/*", "application/*"][..])),
        default in select(&FORMATS[..]),
    ) {
        // Each format's own type, or its alias (text/plain has none).
        let named = |f: usize, alias: bool| match (f, alias) {
            (0, false) => "application/problem+json",
            (0, true) => "application/json",
            (1, false) => "text/html",
            (1, true) => "application/xhtml+xml",
            _ => "text/plain",
        };
        let q = format!("{}.{:03}", q / 1000, q % 1000);
        let (ra, rb) = (format!("{};q={q}", named(a, alias_a)), format!("{};q={q}", named(b, alias_b)));
        let tail = wildcards.map(|w| format!(", {w};q={q}")).unwrap_or_default();
        let ab = negotiate(Some(&format!("{ra}, {rb}{tail}")), default);
        let ba = negotiate(Some(&format!("{rb}, {ra}{tail}")), default);
        prop_assert_eq!((ab, ba), (FORMATS[a], FORMATS[b]), "q={} default {:?} tail {:?}", q, default, tail);
    }


    #[test]
    fn negotiate_is_total(
        accept in prop_oneof![
            10 => nasty(96),
            // Past the 8 KiB cut-off, often with the cut inside a character.
            1 => huge(),
        ],
        default in select(&FORMATS[..]),
    ) {
        // Any result is fine; it must simply return.
        let _ = negotiate(Some(&accept), default);
        prop_assert_eq!(negotiate(None, default), default);
    }

    #[test]
    fn negotiate_ignores_appended_ranges_without_a_slash(
        accept in nasty(96),
        junk in prop::collection::vec(nasty_char(), 0..32)
            .prop_map(|v| v.into_iter().filter(|c| *c != '/').collect::<String>()),
        default in select(&FORMATS[..]),
    ) {
        let longer = format!("{accept},{junk}");
        prop_assert_eq!(
            negotiate(Some(&longer), default),
            negotiate(Some(&accept), default),
            "appending {:?} (no media range) to {:?} changed the choice",
            junk,
            accept
        );
    }

    #[test]
    fn negotiate_picks_the_only_type_with_positive_q(
        chosen in prop::option::of(0usize..3),
        chosen_q in select(&["", ";q=1", ";q=1.0", ";q=1.000", ";q=0.5", ";q=0.001", ";Q=0.9", " ; q = 0.25 "][..]),
        others in prop::collection::vec(
            (
                select(&[
                    "application/problem+json", "text/html", "text/plain", "application/json",
                    "application/xhtml+xml", "application/*", "text/*", "*/*",
                    "image/png", "application/xml", "text/csv", "application/foo+json", "x/y",
                ][..]),
                // q=0, or a malformed q, which the module counts as 0.
                select(
                    &[
                        ";q=0", ";q=0.", ";q=0.0", ";q=0.000", ";Q=0", " ; q = 0 ", ";q=2",
                        ";q=1.001", ";q=abc", ";q=-1", ";q=0.1234", ";q=",
                    ][..]
                ),
                select(&["", ";charset=utf-8", ";level=1"][..]),
                any::<bool>(),
            ),
            0..10,
        ),
        at in any::<prop::sample::Index>(),
        uppercase in any::<bool>(),
        sep in select(&[",", ", ", " ,  "][..]),
        default in select(&FORMATS[..]),
    ) {
        const OURS: [(&str, Format); 3] = [
            ("application/problem+json", Format::Json),
            ("text/html", Format::Html),
            ("text/plain", Format::Text),
        ];
        let mut ranges: Vec<String> = others
            .iter()
            .filter(|(media, ..)| chosen.is_none_or(|i| *media != OURS[i].0))
            .map(|(media, q, param, upper)| {
                let media = if *upper { media.to_ascii_uppercase() } else { media.to_string() };
                format!("{media}{param}{q}")
            })
            .collect();
        if let Some(i) = chosen {
            let media = if uppercase { OURS[i].0.to_ascii_uppercase() } else { OURS[i].0.to_string() };
            let at = at.index(ranges.len() + 1);
            ranges.insert(at, format!("{media}{chosen_q}"));
        }
        let accept = ranges.join(sep);
        let want = chosen.map_or(default, |i| OURS[i].1);
        prop_assert_eq!(
            negotiate(Some(&accept), default),
            want,
            "Accept {:?} with default {:?}",
            accept,
            default
        );
    }
}
