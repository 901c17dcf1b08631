//! `Accept` → the format of the 500 (RFC 9110 §12.5.1): q-values, wildcards,
//! specificity. Never fails and never yields "not acceptable": anything we
//! cannot use falls back to the configured default.

/// A representation of the uniform 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `application/problem+json` (RFC 9457).
    Json,
    /// `text/html`.
    Html,
    /// `text/plain`.
    Text,
}

impl Format {
    /// All formats, in tie-break order after the default.
    pub const ALL: [Format; 3] = [Format::Json, Format::Html, Format::Text];

    /// Parses a `DEFAULT_FORMAT` value.
    pub fn parse(value: &str) -> Option<Format> {
        match value.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "html" => Some(Format::Html),
            "text" => Some(Format::Text),
            _ => None,
        }
    }

    /// The `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/problem+json",
            Format::Html => "text/html; charset=utf-8",
            Format::Text => "text/plain; charset=utf-8",
        }
    }

    fn index(self) -> usize {
        match self {
            Format::Json => 0,
            Format::Html => 1,
            Format::Text => 2,
        }
    }

    /// How specifically a media range names this format: 3 its own type,
    /// 2 an alias (`application/json`, `application/xhtml+xml`), 1
    /// `type/*`, 0 `*/*`; `None` when it does not match.
    fn specificity(self, ty: &str, sub: &str) -> Option<u8> {
        const JSON: &[(&str, &str, u8)] = &[
            ("application", "problem+json", 3),
            ("application", "json", 2),
            ("application", "*", 1),
        ];
        const HTML: &[(&str, &str, u8)] = &[
            ("text", "html", 3),
            ("application", "xhtml+xml", 2),
            ("text", "*", 1),
        ];
        const TEXT: &[(&str, &str, u8)] = &[("text", "plain", 3), ("text", "*", 1)];
        if ty == "*" && sub == "*" {
            return Some(0);
        }
        let table = match self {
            Format::Json => JSON,
            Format::Html => HTML,
            Format::Text => TEXT,
        };
        table
            .iter()
            .find(|(t, s, _)| ty.eq_ignore_ascii_case(t) && sub.eq_ignore_ascii_case(s))
            .map(|&(_, _, spec)| spec)
    }
}

/// Longest `Accept` value we look at; the rest is ignored, never an error.
const MAX_ACCEPT: usize = 8 * 1024;

/// Chooses the format for an `Accept` header value.
///
/// Each format gets the q-value of the most specific media range that
/// matches it; the highest q wins, then the more specific match, then the
/// default, then the order json, html, text. No usable range → default.
pub fn negotiate(accept: Option<&str>, default: Format) -> Format {
    let Some(accept) = accept else { return default };
    let accept = truncate(accept, MAX_ACCEPT);
    // (specificity, q in thousandths) of the best match per format.
    let mut best: [Option<(u8, u16)>; 3] = [None; 3];
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let Some((ty, sub)) = media.split_once('/') else {
            continue;
        };
        let (ty, sub) = (ty.trim(), sub.trim());
        if ty.is_empty() || sub.is_empty() {
            continue;
        }
        let mut q = 1000;
        for param in parts {
            if let Some((k, v)) = param.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    match parse_q(v.trim()) {
                        Some(v) => q = v,
                        None => q = 0,
                    }
                }
            }
        }
        for format in Format::ALL {
            if let Some(spec) = format.specificity(ty, sub) {
                let slot = &mut best[format.index()];
                if slot.is_none_or(|(s, _)| spec > s) {
                    *slot = Some((spec, q));
                }
            }
        }
    }
    // Ties go to the default, then to the order of `Format::ALL`.
    let order = std::iter::once(default).chain(Format::ALL.into_iter().filter(|f| *f != default));
    let mut winner: Option<(Format, u16, u8)> = None;
    for format in order {
        if let Some((spec, q)) = best[format.index()] {
            if q == 0 {
                continue;
            }
            match winner {
                Some((_, wq, ws)) if (q, spec) <= (wq, ws) => {}
                _ => winner = Some((format, q, spec)),
            }
        }
    }
    winner.map_or(default, |(f, _, _)| f)
}

/// A qvalue per RFC 9110 §12.4.2, in thousandths; `None` when malformed.
fn parse_q(v: &str) -> Option<u16> {
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
    fn default_format_values_parse() {
        assert_eq!(Format::parse("json"), Some(Json));
        assert_eq!(Format::parse(" HTML "), Some(Html));
        assert_eq!(Format::parse("text"), Some(Text));
        assert_eq!(Format::parse("xml"), None);
    }
}
