//! What the property tests share: the runner's configuration and strings
//! built to break parsers and escapers.
//!
//! Strings are built from vectors of integers mapped through tables: in a
//! debug build that is about twenty times faster than per-character
//! `prop_oneof!`/regex strategies, which is what lets a property run
//! 100 000 cases in seconds. Elements shrink towards 0, i.e. towards 'a'.

use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::test_runner::RngAlgorithm;

/// `PROPTEST_CASES` cases (20 000 unless set), no persisted failures, a
/// fast generator.
pub fn config() -> ProptestConfig {
    config_of(20_000)
}

/// Like [`config`], with `default` cases unless `PROPTEST_CASES` is set
/// (proptest reads that variable only for its own default config).
pub fn config_of(default: u32) -> ProptestConfig {
    let cases = match std::env::var("PROPTEST_CASES") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("PROPTEST_CASES must be a whole number, got {v:?}")),
        Err(_) => default,
    };
    ProptestConfig {
        // Failures print the minimal input; no regression files are written.
        failure_persistence: None,
        // ChaCha, the default, dominates the run time of a debug build.
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

/// Printable ASCII, simplest first.
const PRINTABLE: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// Characters that mean something to one of the parsers or escapers.
const SPECIALS: &[char] = &[
    '<', '>', '&', '"', '\'', ';', ',', '=', '/', '*', '?', '#', '@', ':', '{', '}', '\\', '%',
    '-', '.', '_', '[', ']',
];

/// Non-ASCII troublemakers: C1 controls, invisible and bidi characters,
/// multi-byte letters, the replacement char, private use, astral planes.
const UNICODE: &[char] = &[
    '\u{7f}',
    '\u{80}',
    '\u{85}',
    '\u{9f}',
    '\u{a0}',
    '\u{ad}',
    'é',
    'ü',
    'ß',
    '中',
    '\u{200b}',
    '\u{2028}',
    '\u{2029}',
    '\u{202e}',
    '\u{e000}',
    '\u{feff}',
    '\u{fffd}',
    '😀',
    '\u{10ffff}',
];

/// The request-id alphabet `[A-Za-z0-9._:-]`.
pub const ID_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-";

/// Maps a random word to a character: half printable ASCII, the rest
/// syntax characters, C0 controls, chosen Unicode and any scalar value.
fn to_char(x: u32) -> char {
    let i = (x >> 4) as usize;
    match x & 0xf {
        0..=7 => char::from(PRINTABLE[i % PRINTABLE.len()]),
        8..=10 => SPECIALS[i % SPECIALS.len()],
        11 | 12 => char::from((i % 32) as u8),
        13 | 14 => UNICODE[i % UNICODE.len()],
        _ => char::from_u32((i % 0x11_0000) as u32).unwrap_or('\u{fffd}'),
    }
}

/// One character as [`nasty`] draws them.
pub fn nasty_char() -> impl Strategy<Value = char> {
    any::<u32>().prop_map(to_char)
}

/// Up to `max` characters of printable ASCII, syntax characters, control
/// characters and assorted Unicode.
pub fn nasty(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u32>(), 0..=max).prop_map(|v| v.into_iter().map(to_char).collect())
}

/// Like [`nasty`], but about one case in 200 is huge (up to ~100 KB, often
/// past the 8 KiB Accept cut-off): a short string repeated, which is cheap
/// to generate. (Rarely, because processing it is not cheap in debug.)
pub fn input(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        200 => nasty(max),
        1 => huge(),
    ]
}

/// A short nasty string repeated into 2–100 KB.
pub fn huge() -> impl Strategy<Value = String> {
    (nasty(8), 300usize..3000).prop_map(|(s, n)| s.repeat(n))
}

/// A request id as a worker uses it: valid by construction, mostly short,
/// sometimes the longest allowed, sometimes minted (32 lowercase hex, as
/// the guard mints them from 16 random bytes).
pub fn request_id() -> impl Strategy<Value = String> {
    let minted = any::<[u8; 16]>().prop_map(|b| b.iter().map(|x| format!("{x:02x}")).collect());
    prop_oneof![
        3 => over(ID_CHARS, 1..=16),
        1 => over(ID_CHARS, 1..=128),
        1 => minted,
    ]
}
