//! Property tests for the pure modules: Accept negotiation, request ids,
//! configuration (FAILURE_STATUSES, URLs), redaction, log records, excerpts
//! and the three renderers.
//!
//! Every property runs `PROPTEST_CASES` cases (default 100 000; proptest
//! reads that variable only for its default config, so `cases()` does it
//! here). `make fuzz` runs the same file in release mode with a million.

use std::cell::Cell;

use error_shield::parts::redact::{
    credentials as redact_url, query as redact_query, text as redact_text,
};
use error_shield::parts::request_id::{choose, from_bytes, is_valid, trace_id};
use error_shield::parts::{
    escape_html, line as log_line_of, negotiate, Renderer, RequestInfo, Template,
};
use error_shield::{Cause, Failure, Format, Page};
use error_shield_harness::props::over;
use error_shield_proxy::answer::excerpt::text as excerpt;
use error_shield_proxy::config::failure_statuses::StatusSet;
use error_shield_proxy::config::settings::Settings;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::RngAlgorithm;
use serde_json::Value;

// ---------------------------------------------------------------------------
// Configuration of the runner
// ---------------------------------------------------------------------------

/// Cases per property: `PROPTEST_CASES` when set, else 100 000.
fn cases() -> u32 {
    match std::env::var("PROPTEST_CASES") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("PROPTEST_CASES must be a whole number, got {v:?}")),
        Err(_) => 100_000,
    }
}

fn runner_config() -> ProptestConfig {
    ProptestConfig {
        // Failures print the minimal input; no regression files are written.
        failure_persistence: None,
        // ChaCha, the default, dominates the run time of a debug build.
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::with_cases(cases())
    }
}

// ---------------------------------------------------------------------------
// Input strategies
// ---------------------------------------------------------------------------

// Strings are built from vectors of integers mapped through tables: in a
// debug build that is about twenty times faster than per-character
// `prop_oneof!`/regex strategies, which is what lets every property run
// 100 000 cases in seconds. Elements shrink towards 0, i.e. towards 'a'.

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
const ID_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-";

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

fn nasty_char() -> impl Strategy<Value = char> {
    any::<u32>().prop_map(to_char)
}

/// Up to `max` characters of printable ASCII, syntax characters, control
/// characters and assorted Unicode.
fn nasty(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u32>(), 0..=max).prop_map(|v| v.into_iter().map(to_char).collect())
}

/// Like `nasty`, but about one case in 200 is huge (up to ~100 KB, often
/// past the 8 KiB Accept cut-off): a short string repeated, which is cheap
/// to generate. (Rarely, because processing it is not cheap in debug.)
fn input(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        200 => nasty(max),
        1 => huge(),
    ]
}

fn huge() -> impl Strategy<Value = String> {
    (nasty(8), 300usize..3000).prop_map(|(s, n)| s.repeat(n))
}

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

/// Query values in the redaction properties: `[a-z0-9]`.
const VALUE_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `scheme://host[:port][/path...]` without `?`, `#`, `=` or `@`.
fn url_base() -> impl Strategy<Value = String> {
    (
        select(&["https://", "http://", "HTTP://"][..]),
        over(b"abcxyz0123456789.-", 1..=12),
        prop::option::of(any::<u16>()),
        prop::collection::vec(over(b"abcXYZ0129._~-", 0..=8), 0..=3),
    )
        .prop_map(|(scheme, host, port, path)| {
            let mut s = format!("{scheme}{host}");
            if let Some(port) = port {
                s.push_str(&format!(":{port}"));
            }
            for segment in path {
                s.push('/');
                s.push_str(&segment);
            }
            s
        })
}

/// A request id as the worker uses it: valid by construction (`choose`,
/// covered below, guarantees that), mostly short, sometimes the longest
/// allowed, sometimes minted.
fn request_id() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => over(ID_CHARS, 1..=16),
        1 => over(ID_CHARS, 1..=128),
        1 => any::<[u8; 16]>().prop_map(from_bytes),
    ]
}

/// The configurable texts of the error representations.
#[derive(Debug, Clone)]
struct Texts {
    title: String,
    message: String,
    support_url: Option<String>,
    problem_type: String,
}

fn texts() -> impl Strategy<Value = Texts> {
    (input(40), input(40), prop::option::of(input(24)), input(12)).prop_map(
        |(title, message, support_url, problem_type)| Texts {
            title,
            message,
            support_url,
            problem_type,
        },
    )
}

fn config_with(t: &Texts, template: Option<Template>) -> Page {
    Page {
        title: Some(t.title.clone()),
        message: t.message.clone(),
        support_url: t.support_url.clone(),
        problem_type: t.problem_type.clone(),
        template,
        ..Page::default()
    }
}

/// The log line of `failure` on `info`.
fn log_line(failure: &Failure, info: &RequestInfo<'_>) -> String {
    log_line_of(failure, Some(info))
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

/// One piece of a generated `ERROR_PAGE_HTML`.
#[derive(Debug, Clone)]
enum Piece {
    /// Literal operator HTML (no braces, so it never forms a placeholder; no
    /// `&`, so it never runs into an escaped value as one entity).
    Text(String),
    /// `{{ name }}` with the given padding inside the braces.
    Slot(&'static str, &'static str),
}

fn template_pieces() -> impl Strategy<Value = Vec<Piece>> {
    let piece = prop_oneof![
        over(b"abcxyz <>/=\"'!;-", 0..=12).prop_map(Piece::Text),
        (
            select(&["title", "message", "request_id", "support_url"][..]),
            select(&["", " ", "  "][..]),
        )
            .prop_map(|(name, pad)| Piece::Slot(name, pad)),
    ];
    prop::collection::vec(piece, 0..8)
}

fn template_source(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.clone(),
            Piece::Slot(name, pad) => format!("{{{{{pad}{name}{pad}}}}}"),
        })
        .collect()
}

const FORMATS: [Format; 3] = [Format::Json, Format::Html, Format::Text];

const CAUSES: [Cause; 7] = Cause::ALL;

// ---------------------------------------------------------------------------
// Reference implementations and helpers (written independently of src/)
// ---------------------------------------------------------------------------

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

/// Decodes the five entities `escape_html` may produce; `None` on any other
/// `&` (which would be an unescaped ampersand).
fn unescape_html(s: &str) -> Option<String> {
    const ENTITIES: [(&str, char); 5] = [
        ("&amp;", '&'),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&quot;", '"'),
        ("&#39;", '\''),
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (entity, ch) = ENTITIES.iter().find(|(e, _)| rest.starts_with(e))?;
        out.push(*ch);
        rest = &rest[entity.len()..];
    }
    out.push_str(rest);
    Some(out)
}

/// What HTML escaping should preserve: the text, with control characters
/// other than newline and tab shown as spaces.
fn html_visible(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Text for `text/plain`: every control character as a space.
fn plain_visible(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Replaces every occurrence of the tokens in `s` in a single left-to-right
/// pass, so a substituted value is never itself searched for tokens.
fn substitute(s: &str, subs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let next = subs
            .iter()
            .filter_map(|(token, value)| rest.find(token).map(|i| (i, *token, *value)))
            .min_by_key(|(i, _, _)| *i);
        match next {
            Some((i, token, value)) => {
                out.push_str(&rest[..i]);
                out.push_str(value);
                rest = &rest[i + token.len()..];
            }
            None => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// Placeholder texts for the "neutral" config: private-use brackets that
/// appear in no template and survive escaping unchanged.
const TOK_TITLE: &str = "\u{e000}TITLE\u{e001}";
const TOK_MESSAGE: &str = "\u{e000}MESSAGE\u{e001}";
const TOK_SUPPORT: &str = "\u{e000}SUPPORT\u{e001}";
const TOK_ID: &str = "\u{e000}ID\u{e001}";

fn count(s: &str, c: char) -> usize {
    s.matches(c).count()
}

/// `&`s that do not start one of the entities `escape_html` produces.
fn bare_ampersands(s: &str) -> usize {
    s.match_indices('&')
        .filter(|(i, _)| {
            let rest = &s[*i..];
            !["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                .iter()
                .any(|e| rest.starts_with(e))
        })
        .count()
}

/// The `url` field of the log record of a request to `url`.
fn logged_url(url: &str) -> Option<String> {
    let failure = Failure::new(Cause::WorkerError, "boom");
    let info = RequestInfo {
        request_id: "rid",
        url,
        ..RequestInfo::default()
    };
    let v: Value = serde_json::from_str(&log_line(&failure, &info)).ok()?;
    v["url"].as_str().map(String::from)
}

fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}

/// Checks the HTML body for `t` and `id` against the neutral rendering.
fn check_html(t: &Texts, template: Option<Template>, id: &str) -> Result<String, TestCaseError> {
    let body = Renderer::new(&config_with(t, template.clone()))
        .render(Format::Html, id, false)
        .body;
    let neutral_texts = Texts {
        title: TOK_TITLE.into(),
        message: TOK_MESSAGE.into(),
        // An empty support URL renders no link at all.
        support_url: t.support_url.as_ref().map(|s| {
            if s.is_empty() {
                String::new()
            } else {
                TOK_SUPPORT.into()
            }
        }),
        problem_type: "about:blank".into(),
    };
    let neutral = Renderer::new(&config_with(&neutral_texts, template))
        .render(Format::Html, TOK_ID, false)
        .body;
    // The fixed parts carry the specials they need; the inputs add none.
    for special in ['<', '>', '"', '\''] {
        prop_assert_eq!(
            count(&body, special),
            count(&neutral, special),
            "HTML gained a raw {:?} from the inputs\nbody:    {:?}\nneutral: {:?}",
            special,
            body,
            neutral
        );
    }
    prop_assert_eq!(
        bare_ampersands(&body),
        bare_ampersands(&neutral),
        "HTML gained a bare '&' from the inputs\nbody:    {:?}\nneutral: {:?}",
        body,
        neutral
    );
    let (title, message) = (escape_html(&t.title), escape_html(&t.message));
    let support = t
        .support_url
        .as_deref()
        .map(escape_html)
        .unwrap_or_default();
    let expected = substitute(
        &neutral,
        &[
            (TOK_TITLE, &title),
            (TOK_MESSAGE, &message),
            (TOK_SUPPORT, &support),
            (TOK_ID, id),
        ],
    );
    prop_assert_eq!(
        &body,
        &expected,
        "HTML is not the fixed page with the escaped inputs slotted in"
    );
    Ok(body)
}

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

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(runner_config())]

    // --- request ids -------------------------------------------------------

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

    // --- Accept negotiation ------------------------------------------------

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

    // --- FAILURE_STATUSES --------------------------------------------------

    #[test]
    fn status_set_parse_agrees_with_the_generated_set(
        items in prop::collection::vec(
            (
                prop_oneof![
                    (100u16..=599).prop_map(|c| (c, c, false)),
                    (100u16..=599, 100u16..=599).prop_map(|(a, b)| (a.min(b), a.max(b), true)),
                ],
                select(&["", " ", "  ", "\t"][..]),
                select(&["", " ", "\t "][..]),
            ),
            0..10,
        ),
        blank in select(&["", " ", "  \t"][..]),
    ) {
        let text = if items.is_empty() {
            blank.to_string()
        } else {
            items
                .iter()
                .map(|((lo, hi, range), pad, inner)| {
                    if *range {
                        format!("{pad}{lo}{inner}-{inner}{hi}{pad}")
                    } else {
                        format!("{pad}{lo}{pad}")
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let set = StatusSet::parse(&text);
        prop_assert!(set.is_some(), "StatusSet::parse({:?}) rejected a valid list", text);
        let set = set.unwrap();
        let mut want = [false; 701];
        for ((lo, hi, _), _, _) in &items {
            want[usize::from(*lo)..=usize::from(*hi)].fill(true);
        }
        for (code, want) in (0u16..).zip(want) {
            prop_assert_eq!(set.contains(code), want, "{:?}.contains({})", text, code);
        }
        prop_assert!(!set.contains(u16::MAX), "{:?}.contains(65535)", text);
    }

    #[test]
    fn status_set_rejects_a_list_with_one_bad_part(
        good in prop::collection::vec(100u16..=599, 0..5),
        bad in prop_oneof![
            (0u16..=99).prop_map(|c| format!("{c:03}")),
            (600u16..=999).prop_map(|c| c.to_string()),
            select(&["000", "001", "099", "600", "601", "999"][..]).prop_map(String::from),
            (100u16..=598, any::<u16>())
                .prop_map(|(lo, x)| format!("{}-{lo}", lo + 1 + x % (599 - lo))),
            (100u16..=599).prop_map(|c| format!("{c}-")),
            (100u16..=599).prop_map(|c| format!("-{c}")),
            (100u16..=599).prop_map(|c| format!("{c}-{c}-{c}")),
            (1000u16..=9999).prop_map(|c| c.to_string()),
            (0u16..=99).prop_map(|c| c.to_string()),
            Just(String::new()),
            Just(" ".to_string()),
            over(b"abcz+.", 1..=4),
        ],
        at in any::<prop::sample::Index>(),
    ) {
        let mut parts: Vec<String> = good.iter().map(u16::to_string).collect();
        let at = at.index(parts.len() + 1);
        parts.insert(at, bad.clone());
        let text = parts.join(",");
        if text.trim().is_empty() {
            // A lone blank part is the empty list, which is valid.
            prop_assert_eq!(StatusSet::parse(&text), StatusSet::parse(""));
            prop_assert!(!StatusSet::parse(&text).unwrap().contains(500));
            return Ok(());
        }
        prop_assert_eq!(
            StatusSet::parse(&text),
            None,
            "StatusSet::parse({:?}) accepted the bad part {:?}",
            text,
            bad
        );
    }

    #[test]
    fn status_set_parse_is_total_and_stays_in_range(text in input(48)) {
        if let Some(set) = StatusSet::parse(&text) {
            for code in (0..100).chain(600..=700).chain([u16::MAX]) {
                prop_assert!(!set.contains(code), "{:?} parsed to a set containing {}", text, code);
            }
        }
    }

    #[test]
    fn config_from_vars_is_total(
        values in prop::collection::vec(
            prop::option::of(prop_oneof![
                4 => input(24),
                1 => (select(&["https://", "http://", "HTTP://", "ftp://"][..]), nasty(30))
                    .prop_map(|(scheme, rest)| format!("{scheme}{rest}")),
                1 => over(b"0123456789", 1..=7),
                1 => Just("500,502-504".to_string()),
            ]),
            14,
        ),
        id in request_id(),
    ) {
        const NAMES: [&str; 14] = [
            "ORIGIN_URL", "ORIGIN_TIMEOUT_MS", "FAILURE_STATUSES", "DEFAULT_FORMAT",
            "ERROR_TITLE", "ERROR_MESSAGE", "SUPPORT_URL", "PROBLEM_TYPE",
            "LOG_ORIGIN_BODY_BYTES", "ERROR_PAGE_HTML", "STALE_IF_ERROR_SECONDS",
            "ORIGIN_RETRIES", "FAULT_INJECTION", "UNRELATED",
        ];
        let lookup = |name: &str| {
            NAMES.iter().position(|n| *n == name).and_then(|i| values[i].clone())
        };
        let parsed = Page::from_vars(&lookup).and_then(|page| Settings::from_vars(&lookup).map(|_| page));
        match parsed {
            Ok(c) => {
                // Whatever parsed must render: JSON that parses, for any format.
                let renderer = Renderer::new(&c);
                for format in FORMATS {
                    let _ = renderer.render(format, &id, false);
                }
                let body = renderer.render(Format::Json, &id, false).body;
                prop_assert!(serde_json::from_str::<Value>(&body).is_ok(), "bad JSON {:?}", body);
            }
            Err(failure) => {
                prop_assert_eq!(failure.cause, Cause::ConfigError);
                prop_assert!(
                    failure.context.first().is_some_and(|(k, v)| k == "variable" && NAMES.contains(&v.as_str())),
                    "config error does not name the variable: {:?}",
                    failure
                );
                let line = log_line(&failure, &RequestInfo { request_id: &id, ..RequestInfo::default() });
                prop_assert!(serde_json::from_str::<Value>(&line).is_ok(), "bad log line {:?}", line);
            }
        }
    }

    // --- redaction ---------------------------------------------------------

    #[test]
    fn redact_query_never_leaks_a_value(
        base in url_base(),
        pairs in prop::collection::vec(
            (
                over(b"abcXYZ019_.%+[]-", 0..=8),
                prop::option::of(over(VALUE_CHARS, 4..=12)),
                select(&["=", "=="][..]),
            ),
            0..8,
        ),
        fragment in prop::option::of((over(b"abcz", 0..=4), over(VALUE_CHARS, 4..=12))),
    ) {
        let mut url = base.clone();
        let mut expected = base.clone();
        if !pairs.is_empty() {
            url.push('?');
            expected.push('?');
        }
        let mut values = Vec::new();
        for (i, (name, value, eq)) in pairs.iter().enumerate() {
            if i > 0 {
                url.push('&');
                expected.push('&');
            }
            match value {
                Some(v) => {
                    url.push_str(&format!("{name}{eq}{v}"));
                    expected.push_str(&format!("{name}=REDACTED"));
                    values.push(v.clone());
                }
                // A bare item may be the token itself: hidden whole.
                None => {
                    url.push_str(name);
                    if !name.is_empty() {
                        expected.push_str("REDACTED");
                    }
                }
            }
        }
        if let Some((key, v)) = &fragment {
            url.push_str(&format!("#{key}={v}"));
            values.push(v.clone());
        }
        let logged = logged_url(&url).unwrap_or_default();
        for out in [redact_query(&url), redact_query(&redact_url(&url)), logged] {
            for v in &values {
                prop_assert!(
                    !out.contains(&format!("={v}")),
                    "redact_query({:?}) = {:?} leaks the value {:?}",
                    url,
                    out,
                    v
                );
            }
            prop_assert_eq!(&out, &expected, "redact_query({:?})", url);
        }
    }

    #[test]
    fn redact_query_is_total_and_redacts_every_value(url in input(80)) {
        let out = redact_query(&url);
        prop_assert!(!out.contains('#'), "fragment kept: {:?} -> {:?}", url, out);
        if let Some((_, query)) = out.split_once('?') {
            for pair in query.split('&') {
                match pair.split_once('=') {
                    Some((_, value)) => {
                        prop_assert_eq!(value, "REDACTED", "redact_query({:?}) = {:?}", url, out);
                    }
                    None => prop_assert!(
                        pair.is_empty() || pair == "REDACTED",
                        "redact_query({:?}) = {:?} shows the bare item {:?}", url, out, pair
                    ),
                }
            }
        }
        prop_assert_eq!(redact_query(&out), out.clone(), "redact_query is not idempotent on {:?}", url);
        let _ = redact_url(&url);
    }

    #[test]
    fn redact_url_hides_userinfo(
        scheme in select(&["https", "http", "HTTPS", "ftp"][..]),
        user in over(b"abcXYZ09._~!$&'()*+,;=%-", 0..=10),
        password in prop::option::of(over(b"abcXYZ09._~!$&'()*+,;=%@:-", 1..=12)),
        host in (over(b"abcxyz0123456789.-", 1..=12), prop::option::of(any::<u16>()))
            .prop_map(|(h, port)| port.map_or(h.clone(), |p| format!("{h}:{p}"))),
        rest in (
            prop::collection::vec(over(b"abc019", 0..=6), 0..=2),
            prop::option::of((over(b"abcz", 1..=4), over(b"abc09@:", 0..=6))),
            prop::option::of(over(b"abcz@", 0..=4)),
        )
            .prop_map(|(path, query, fragment)| {
                let mut s: String = path.iter().map(|seg| format!("/{seg}")).collect();
                if let Some((k, v)) = query {
                    s.push_str(&format!("?{k}={v}"));
                }
                if let Some(f) = fragment {
                    s.push_str(&format!("#{f}"));
                }
                s
            }),
    ) {
        let userinfo = match &password {
            Some(p) => format!("{user}:{p}"),
            None => user.clone(),
        };
        let url = format!("{scheme}://{userinfo}@{host}{rest}");
        let out = redact_url(&url);
        prop_assert_eq!(&out, &format!("{scheme}://REDACTED@{host}{rest}"), "redact_url({:?})", url);
        let plain = format!("{scheme}://{host}{rest}");
        prop_assert_eq!(redact_url(&plain), plain.clone(), "redact_url changed {:?}", plain);
        // The log record goes through both redactions.
        prop_assert_eq!(
            logged_url(&url),
            Some(redact_query(&format!("{scheme}://REDACTED@{host}{rest}"))),
            "logged URL for {:?}",
            url
        );
    }

    // --- log records -------------------------------------------------------

    #[test]
    fn log_line_is_one_line_of_json_with_the_request_id(
        cause in select(&CAUSES[..]),
        message in input(32),
        origin_status in prop::option::of(any::<u16>()),
        origin_body in prop::option::of(input(48)),
        location in prop::option::of(nasty(24)),
        attempts in prop::option::of(any::<u32>()),
        context in prop::collection::vec((nasty(8), nasty(24)), 0..4),
        id in prop_oneof![request_id(), nasty(40)],
        cf_ray in prop::option::of(nasty(24)),
        method in prop_oneof![select(&["GET", "HEAD", "POST", "DELETE"][..]).prop_map(String::from), nasty(8)],
        url in input(48),
        duration_ms in any::<u64>(),
        served_stale in any::<bool>(),
    ) {
        let mut failure = Failure::new(cause, message.clone());
        failure.origin_status = origin_status;
        failure.origin_body = origin_body.clone();
        failure.location = location.clone();
        if let Some(n) = attempts {
            failure.set_field("attempts", n);
        }
        if served_stale {
            failure.set_field("served_stale", true);
        }
        failure.context = context.clone();
        let info = RequestInfo {
            request_id: &id,
            trace_id: None,
            cf_ray: cf_ray.as_deref(),
            method: &method,
            url: &url,
            duration_ms,
            status: 500,
        };
        let line = log_line(&failure, &info);
        prop_assert!(
            !line.contains('\n') && !line.contains('\r'),
            "log line spans lines: {:?}",
            line
        );
        let v: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => return Err(TestCaseError::fail(format!("log line is not JSON ({e}): {line:?}"))),
        };
        prop_assert!(v.is_object(), "{:?}", line);
        prop_assert_eq!(&v["request_id"], &Value::from(id.as_str()), "request_id in {:?}", line);
        if is_valid(&id) {
            let needle = format!("\"request_id\":\"{id}\"");
            prop_assert!(line.contains(&needle), "{:?} lacks {:?}", line, needle);
        }
        prop_assert_eq!(&v["level"], "error");
        prop_assert_eq!(&v["cause"], cause.as_str());
        // A URL inside the message is shown redacted like the request's.
        prop_assert_eq!(&v["message"], &Value::from(redact_text(&message)));
        prop_assert_eq!(&v["method"], &Value::from(method.as_str()));
        let redacted = redact_query(&redact_url(&url));
        prop_assert_eq!(&v["url"], &Value::from(redacted.as_str()));
        prop_assert_eq!(v["duration_ms"].as_u64(), Some(duration_ms));
        prop_assert_eq!(v.get("origin_status").and_then(Value::as_u64), origin_status.map(u64::from));
        prop_assert_eq!(v.get("origin_body").and_then(Value::as_str), origin_body.as_deref());
        prop_assert_eq!(v.get("location").and_then(Value::as_str), location.as_deref());
        prop_assert_eq!(v.get("cf_ray").and_then(Value::as_str), cf_ray.as_deref());
        prop_assert_eq!(v.get("attempts").and_then(Value::as_u64), attempts.map(u64::from));
        prop_assert_eq!(v.get("served_stale").and_then(Value::as_bool), served_stale.then_some(true));
        for (key, _) in &context {
            // Shown redacted, as the message is.
            let last = context.iter().rev().find(|(k, _)| k == key).map(|(_, v)| redact_text(v));
            prop_assert_eq!(v["context"][key.as_str()].as_str(), last.as_deref(), "context {:?}", key);
        }
    }

    // --- excerpts ----------------------------------------------------------

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

    // --- rendering ---------------------------------------------------------

    #[test]
    fn escape_html_leaves_no_raw_special_characters(s in input(64)) {
        let out = escape_html(&s);
        prop_assert!(!out.contains(['<', '>', '"', '\'']), "escape_html({:?}) = {:?}", s, out);
        prop_assert!(
            !out.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "escape_html({:?}) kept a control character: {:?}",
            s,
            out
        );
        let decoded = unescape_html(&out);
        prop_assert!(decoded.is_some(), "escape_html({:?}) = {:?} has a bare '&'", s, out);
        prop_assert_eq!(decoded.unwrap(), html_visible(&s), "escape_html({:?}) is lossy beyond controls", s);
    }

    #[test]
    fn html_has_only_escaped_inputs(t in texts(), id in request_id()) {
        let body = check_html(&t, None, &id)?;
        let needle = format!("<code>{id}</code>");
        prop_assert!(body.contains(&needle), "HTML lacks {:?}", needle);
    }

    #[test]
    fn html_templates_have_only_escaped_inputs(
        t in texts(),
        id in request_id(),
        pieces in template_pieces(),
    ) {
        let src = template_source(&pieces);
        let template = match Template::parse(&src) {
            Ok(template) => template,
            Err(e) => return Err(TestCaseError::fail(format!("Template::parse({src:?}) failed: {e}"))),
        };
        let body = check_html(&t, Some(template), &id)?;
        let (title, message) = (escape_html(&t.title), escape_html(&t.message));
        let support = t.support_url.as_deref().map(escape_html).unwrap_or_default();
        let expected: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(text) => text.as_str(),
                Piece::Slot("title", _) => &title,
                Piece::Slot("message", _) => &message,
                Piece::Slot("request_id", _) => &id,
                Piece::Slot(_, _) => &support,
            })
            .collect();
        prop_assert_eq!(&body, &expected, "template {:?}", src);
    }

    #[test]
    fn template_parse_is_total(
        src in prop_oneof![
            prop::collection::vec(
                select(&["{{", "}}", "{", "}", " ", "title", "message", "request_id", "support_url", "x", "é", "<p>"][..]),
                0..16,
            )
            .prop_map(|v| v.concat()),
            input(64),
        ],
        id in request_id(),
    ) {
        match Template::parse(&src) {
            Ok(template) => {
                let c = Page { template: Some(template), ..Page::default() };
                let body = Renderer::new(&c).render(Format::Html, &id, false).body;
                if !src.contains("{{") {
                    prop_assert_eq!(&body, &src, "a template without placeholders must be served as is");
                }
            }
            Err(e) => prop_assert!(e.starts_with("{{") && e.ends_with("}}"), "error {:?} for {:?}", e, src),
        }
    }

    #[test]
    fn json_parses_and_carries_the_exact_texts(t in texts(), id in request_id()) {
        let body = Renderer::new(&config_with(&t, None)).render(Format::Json, &id, false).body;
        let v: Value = match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(e) => return Err(TestCaseError::fail(format!("JSON body does not parse ({e}): {body:?}"))),
        };
        prop_assert_eq!(&v["request_id"], &Value::from(id.as_str()), "{:?}", body);
        prop_assert_eq!(&v["title"], &Value::from(t.title.as_str()), "{:?}", body);
        prop_assert_eq!(&v["detail"], &Value::from(t.message.as_str()), "{:?}", body);
        prop_assert_eq!(&v["type"], &Value::from(t.problem_type.as_str()), "{:?}", body);
        prop_assert_eq!(&v["status"], &Value::from(500), "{:?}", body);
        prop_assert_eq!(v.get("support_url").and_then(Value::as_str), t.support_url.as_deref(), "{:?}", body);
        let keys = v.as_object().map_or(0, |o| o.len());
        prop_assert_eq!(keys, 5 + usize::from(t.support_url.is_some()), "unexpected members in {:?}", body);
    }

    #[test]
    fn text_has_no_control_characters_but_newlines_and_carries_the_id(
        t in texts(),
        id in request_id(),
    ) {
        let body = Renderer::new(&config_with(&t, None)).render(Format::Text, &id, false).body;
        let bad = body.chars().find(|c| c.is_control() && *c != '\n');
        prop_assert!(bad.is_none(), "text body has control character {:?}: {:?}", bad, body);
        let id_line = format!("\nRequest ID: {id}\n");
        prop_assert!(body.contains(&id_line), "text body lacks {:?}: {:?}", id_line, body);
        let mut want = format!(
            "{}\n\n{}\n\nRequest ID: {id}\n",
            plain_visible(&t.title),
            plain_visible(&t.message)
        );
        if let Some(url) = &t.support_url {
            want.push_str(&format!("Support: {}\n", plain_visible(url)));
        }
        prop_assert_eq!(&body, &want);
    }

    #[test]
    fn headers_are_fixed_and_head_has_no_body(
        t in texts(),
        id in request_id(),
        format in select(&FORMATS[..]),
    ) {
        let renderer = Renderer::new(&config_with(&t, None));
        let full = renderer.render(format, &id, false);
        let head = renderer.render(format, &id, true);
        prop_assert!(head.body.is_empty(), "HEAD body {:?}", head.body);
        prop_assert_eq!(&head.headers, &full.headers);
        prop_assert_eq!(header(&full.headers, "x-request-id"), Some(id.as_str()));
        prop_assert_eq!(header(&full.headers, "content-type"), Some(format.content_type()));
        prop_assert_eq!(header(&full.headers, "cache-control"), Some("no-store"));
        for (name, value) in &full.headers {
            prop_assert!(
                !value.chars().any(char::is_control),
                "header {} has a control character: {:?}",
                name,
                value
            );
        }
    }
}
