//! Property tests of the origin-body excerpt a record keeps: the longest
//! start that fits its budget as the record writes it (JSON-escaped), for
//! text and for any bytes.
//!
//! Every property runs `PROPTEST_CASES` cases (default 100 000).

use error_shield_harness::props::{config_of, input};
use error_shield_proxy::answer::excerpt::text as excerpt;
use proptest::prelude::*;
use proptest::sample::select;

/// The excerpt of `bytes` is the longest start of their first `max` bytes,
/// read lossily, that takes at most `max` bytes in the record (JSON-escaped,
/// as serde_json writes it): bounded as written, and nothing that fits cut.
fn check_excerpt(bytes: &[u8], max: usize) -> Result<(), TestCaseError> {
    let written = |s: &str| serde_json::to_string(s).map_or(usize::MAX, |j| j.len() - 2);
    let out = excerpt(bytes, max);
    let whole = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned();
    prop_assert!(
        whole.starts_with(&out),
        "{:?} is not a start of {:?}",
        out,
        whole
    );
    prop_assert!(
        written(&out) <= max,
        "{:?} takes {} > {}",
        out,
        written(&out),
        max
    );
    if let Some(next) = whole[out.len()..].chars().next() {
        let longer = format!("{out}{next}");
        prop_assert!(
            written(&longer) > max,
            "{:?} would still fit {}",
            longer,
            max
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config_of(100_000))]

    #[test]
    fn excerpt_of_text_is_the_longest_prefix_that_fits_as_written(
        text in input(64),
        max in prop_oneof![0usize..80, 0usize..200_000],
    ) {
        check_excerpt(text.as_bytes(), max)?;
    }

    #[test]
    fn excerpt_of_any_bytes_is_bounded_as_written(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..96),
            prop::collection::vec(select(&[0x80u8, 0xbf, 0xc0, 0xc3, 0xe0, 0xed, 0xf0, 0xf4, 0xf8, 0xff, b'a', 0x01, b'"'][..]), 0..96),
        ],
        max in 0usize..128,
    ) {
        check_excerpt(&bytes, max)?;
    }
}
