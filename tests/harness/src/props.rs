//! What the property-test files share: their configuration and a string
//! strategy over a chosen alphabet.

use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::test_runner::RngAlgorithm;

/// `PROPTEST_CASES` cases (20 000 unless set), no persisted failures, a
/// fast generator.
pub fn config() -> ProptestConfig {
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

/// Strings of `len` characters drawn from `alphabet`.
pub fn over(alphabet: &'static [u8], len: RangeInclusive<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), len).prop_map(move |v| {
        v.into_iter()
            .map(|b| char::from(alphabet[usize::from(b) % alphabet.len()]))
            .collect()
    })
}
