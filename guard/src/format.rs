//! The three representations of the uniform error and the media ranges that
//! name each. Pure: tested natively.

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
        let words = [
            ("json", Format::Json),
            ("html", Format::Html),
            ("text", Format::Text),
        ];
        crate::vars::keyword(value, &words)
    }

    /// The `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/problem+json",
            Format::Html => "text/html; charset=utf-8",
            Format::Text => "text/plain; charset=utf-8",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Format::Json => 0,
            Format::Html => 1,
            Format::Text => 2,
        }
    }

    /// How specifically a media range names this format: 3 its own type,
    /// 2 an alias (`application/json`, `application/xhtml+xml`), 1
    /// `type/*`, 0 `*/*`; `None` when it does not match.
    pub(crate) fn specificity(self, ty: &str, sub: &str) -> Option<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use Format::*;

    #[test]
    fn default_format_values_parse() {
        assert_eq!(Format::parse("json"), Some(Json));
        assert_eq!(Format::parse(" HTML "), Some(Html));
        assert_eq!(Format::parse("text"), Some(Text));
        assert_eq!(Format::parse("xml"), None);
    }

    #[test]
    fn media_ranges_name_formats_by_specificity() {
        let table = [
            (Json, "application", "problem+json", Some(3)),
            (Json, "APPLICATION", "JSON", Some(2)),
            (Json, "application", "*", Some(1)),
            (Json, "*", "*", Some(0)),
            (Json, "text", "plain", None),
            (Html, "text", "html", Some(3)),
            (Html, "application", "xhtml+xml", Some(2)),
            (Html, "text", "*", Some(1)),
            (Html, "application", "json", None),
            (Text, "text", "plain", Some(3)),
            (Text, "text", "*", Some(1)),
            (Text, "text", "html", None),
            (Text, "*", "plain", None),
        ];
        for (format, ty, sub, want) in table {
            assert_eq!(format.specificity(ty, sub), want, "{format:?} {ty}/{sub}");
        }
        assert_eq!(Format::ALL.map(Format::index), [0, 1, 2]);
    }
}
