//! `Accept` → the format of the 500 (RFC 9110 §12.5.1): q-values, wildcards,
//! specificity. Never fails and never yields "not acceptable": anything we
//! cannot use falls back to the configured default.

use crate::format::Format;

/// Longest `Accept` value we look at; the rest is ignored, never an error.
const MAX_ACCEPT: usize = 8 * 1024;

/// Chooses the format for an `Accept` header value.
///
/// Each format takes the q of the most specific range naming it (its own
/// type or an alias, then `type/*`, then `*/*`). The highest q wins; at
/// equal q a format the client named beats one matched by `type/*`, which
/// beats `*/*`; then the format the client listed first; then `default`;
/// then the order json, html, text. No usable range → `default`.
pub fn negotiate(accept: Option<&str>, default: Format) -> Format {
    let Some(accept) = accept else { return default };
    let best = best_matches(truncate(accept, MAX_ACCEPT));
    // Ties go to the default, then to the order of `Format::ALL`.
    let order = std::iter::once(default).chain(Format::ALL.into_iter().filter(|f| *f != default));
    let mut winner: Option<(Format, Score)> = None;
    for format in order {
        let Some(m) = best[format.index()] else {
            continue;
        };
        let score = m.score();
        if m.q > 0 && winner.is_none_or(|(_, w)| score > w) {
            winner = Some((format, score));
        }
    }
    winner.map_or(default, |(f, _)| f)
}

/// The range that gave a format its q.
#[derive(Debug, Clone, Copy)]
struct Match {
    /// 3 own type, 2 alias, 1 `type/*`, 0 `*/*`.
    specificity: u8,
    /// q in thousandths.
    q: u16,
    /// Index of the range in the header.
    position: usize,
}

/// Orders candidates: q, then named > `type/*` > `*/*`, then earlier.
type Score = (u16, u8, std::cmp::Reverse<usize>);

impl Match {
    fn score(self) -> Score {
        // An alias names its format as fully as the format's own type.
        (
            self.q,
            self.specificity.min(2),
            std::cmp::Reverse(self.position),
        )
    }
}

/// The most specific range matching each format (the first of equals).
fn best_matches(accept: &str) -> [Option<Match>; 3] {
    let mut best: [Option<Match>; 3] = [None; 3];
    for (position, range) in accept.split(',').enumerate() {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let Some((ty, sub)) = media.split_once('/') else {
            continue;
        };
        let (ty, sub) = (ty.trim(), sub.trim());
        if ty.is_empty() || sub.is_empty() {
            continue;
        }
        let q = quality(parts);
        for format in Format::ALL {
            if let Some(specificity) = format.specificity(ty, sub) {
                let slot = &mut best[format.index()];
                if slot.is_none_or(|m| specificity > m.specificity) {
                    *slot = Some(Match {
                        specificity,
                        q,
                        position,
                    });
                }
            }
        }
    }
    best
}

/// The q of a range's parameters: 1 when absent, 0 when malformed.
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> u16 {
    let mut q = 1000;
    for param in params {
        if let Some((k, v)) = param.split_once('=') {
            if k.trim().eq_ignore_ascii_case("q") {
                q = parse_q(v.trim()).unwrap_or(0);
            }
        }
    }
    q
}

/// A qvalue per RFC 9110 §12.4.2, in thousandths; `None` when malformed.
/// The one reading of a qvalue: `Accept`, `Accept-Language` (the pages)
/// and the proxy's `Accept-Encoding` all use it.
pub fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut scale = 100;
    for b in frac.bytes() {
        thousandths += u16::from(b - b'0') * scale;
        scale /= 10;
    }
    (thousandths <= 1000).then_some(thousandths)
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use Format::*;

    #[test]
    fn accept_headers_choose_the_expected_format() {
        let table: &[(Option<&str>, Format, Format)] = &[
            (None, Json, Json),
            (None, Html, Html),
            (Some(""), Text, Text),
            (Some("*/*"), Html, Html),
            (Some("*/*"), Json, Json),
            (Some("application/json"), Html, Json),
            (Some("application/problem+json"), Text, Json),
            (Some("application/*"), Text, Json),
            (Some("text/html"), Json, Html),
            (Some("text/plain"), Json, Text),
            (Some("text/*"), Text, Text),
            (Some("text/*"), Html, Html),
            (Some("image/png"), Text, Text),
            (Some("garbage"), Html, Html),
            (Some(";;;,,,//"), Json, Json),
            // Browsers.
            (
                Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                Json,
                Html,
            ),
            (Some("application/xhtml+xml"), Json, Html),
            // q-values.
            (Some("text/html;q=0.5, application/json"), Text, Json),
            (Some("text/html, application/json;q=0.9"), Text, Html),
            (Some("application/json;q=0, text/plain;q=0.1"), Html, Text),
            (Some("*/*;q=0"), Html, Html),
            (Some("text/html;q=0"), Html, Html),
            (Some("text/plain;q=1.0"), Json, Text),
            (Some("text/plain;q=2"), Json, Json),
            (Some("text/plain;q=abc"), Json, Json),
            // Specificity: text/plain;q=0 beats text/*.
            (Some("text/*, text/plain;q=0"), Text, Html),
            // An alias names its format as fully as the format's own type;
            // at equal q the client's order decides.
            (Some("application/json, text/plain, */*"), Html, Json),
            (Some("text/plain, application/json"), Json, Text),
            (Some("application/xhtml+xml, text/plain"), Json, Html),
            (Some("text/plain, application/xhtml+xml"), Json, Text),
            // Named beats type/* beats */* at equal q, whatever the order.
            (Some("*/*, text/*, application/json"), Text, Json),
            (Some("text/*, application/json"), Html, Json),
            (Some("application/*, text/plain"), Json, Text),
            (Some("*/*;q=0.1, text/plain"), Json, Text),
            // Case and whitespace.
            (Some("  TEXT/PLAIN ; Q=0.7 "), Json, Text),
            (Some("Application/JSON; charset=utf-8"), Html, Json),
        ];
        for (accept, default, want) in table {
            assert_eq!(
                negotiate(*accept, *default),
                *want,
                "Accept {accept:?} default {default:?}"
            );
        }
    }

    /// The `Accept` that common clients send by default (from their
    /// sources and docs), and what each must get with the default `json`.
    #[test]
    fn default_accept_of_common_clients() {
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        let table: &[(&str, Option<&str>, Format, Format)] = &[
            ("Chrome / Edge navigation", Some(chrome), Json, Html),
            ("Firefox / Safari navigation", Some(firefox), Json, Html),
            (
                "lynx",
                Some("text/html, text/plain, text/sgml, */*;q=0.01"),
                Json,
                Html,
            ),
            ("w3m", Some("text/html, text/*;q=0.5, image/*"), Json, Html),
            (
                "axios",
                Some("application/json, text/plain, */*"),
                Html,
                Json,
            ),
            (
                "Angular HttpClient",
                Some("application/json, text/plain, */*"),
                Text,
                Json,
            ),
            (
                "jQuery getJSON",
                Some("application/json, text/javascript, */*; q=0.01"),
                Html,
                Json,
            ),
            ("HTTPie", Some("application/json, */*;q=0.5"), Text, Json),
            ("curl / wget / Postman", Some("*/*"), Json, Json),
            ("curl with DEFAULT_FORMAT=text", Some("*/*"), Text, Text),
            ("Python requests / httpx", Some("*/*"), Html, Html),
            ("fetch() in browsers and Node", Some("*/*"), Json, Json),
            ("Go net/http, Java HttpClient, OkHttp", None, Text, Text),
            (
                "an <img> load in Chrome",
                Some("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"),
                Html,
                Html,
            ),
        ];
        for (client, accept, default, want) in table {
            assert_eq!(negotiate(*accept, *default), *want, "{client}");
        }
    }

    #[test]
    fn huge_accept_headers_do_not_error() {
        let huge = "text/plain;q=0.1,".repeat(100_000) + "application/json";
        assert_eq!(negotiate(Some(&huge), Html), Text);
        let multibyte = "é".repeat(10_000);
        assert_eq!(negotiate(Some(&multibyte), Html), Html);
    }

    #[test]
    fn qvalues_parse_per_rfc_9110() {
        let table = [
            ("0", Some(0)),
            ("1", Some(1000)),
            ("0.5", Some(500)),
            ("0.125", Some(125)),
            ("1.000", Some(1000)),
            ("1.001", None),
            ("0.1234", None),
            ("-1", None),
            ("", None),
        ];
        for (v, want) in table {
            assert_eq!(parse_q(v), want, "{v}");
        }
    }

    #[test]
    fn a_full_wildcard_gives_every_format_not_named_its_q() {
        // `text/plain;q=0` refuses text; `*/*` still offers json and html.
        let table = [
            ("text/plain;q=0, */*", Text, Json),
            ("text/plain;q=0, */*", Html, Html),
            ("*/*;q=0.5, text/html;q=0.1", Json, Json),
            ("*/*;q=0.5, text/html;q=0.1", Html, Json),
        ];
        for (accept, default, want) in table {
            assert_eq!(
                negotiate(Some(accept), default),
                want,
                "Accept {accept:?} default {default:?}"
            );
        }
    }

    #[test]
    fn only_the_first_8_kib_of_accept_are_read() {
        assert_eq!(MAX_ACCEPT, 8192);
        // `before` bytes of ranges that match nothing, then `text/plain`.
        let accept = |before: usize| {
            let filler = "x/y,".repeat((before - 1) / 4) + &"x".repeat((before - 1) % 4);
            filler + ",text/plain"
        };
        let end = MAX_ACCEPT - "text/plain".len();
        let table = [
            (2_000, Text),
            (end - 1, Text),
            (end, Text),
            // One byte more and the range is cut to `text/plai`.
            (end + 1, Json),
            (MAX_ACCEPT, Json),
        ];
        for (before, want) in table {
            let accept = accept(before);
            assert_eq!(accept.len(), before + "text/plain".len());
            assert_eq!(
                negotiate(Some(&accept), Json),
                want,
                "{before} bytes before"
            );
        }
    }

    #[test]
    fn truncation_backs_off_to_a_character_boundary() {
        let table = [
            ("abc", 5, "abc"),
            ("abc", 3, "abc"),
            ("abc", 2, "ab"),
            ("aé", 2, "a"),
            ("aé", 3, "aé"),
            ("a✓", 2, "a"),
            ("a✓", 3, "a"),
            ("a✓b", 4, "a✓"),
            ("é", 1, ""),
        ];
        for (s, max, want) in table {
            assert_eq!(truncate(s, max), want, "{s:?} {max}");
        }
        // A multibyte character across the 8 KiB mark is dropped whole, so
        // the range before it is read as it is.
        let accept = "x/y,".repeat(2045) + "x,text/htmlé";
        assert_eq!(accept.find('é'), Some(MAX_ACCEPT - 1));
        assert_eq!(negotiate(Some(&accept), Json), Html);
    }
}
