//! `ERROR_PAGE_HTML`: an operator's own page with placeholders, parsed once
//! per isolate. Pure: tested natively.

/// The placeholders a page may use.
pub const PLACEHOLDERS: [&str; 4] = ["title", "message", "request_id", "support_url"];

/// The placeholders of a page file (the worker's static assets): these
/// and the status and language of the answer.
pub const FILE_PLACEHOLDERS: [&str; 6] = [
    "title",
    "message",
    "request_id",
    "support_url",
    "status",
    "lang",
];

/// A parsed page: literal text and placeholders, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(pub(crate) Vec<Part>);

/// A piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Text(String),
    Slot(&'static str),
}

impl Template {
    /// Parses a page; `Err` carries the first unknown placeholder. An
    /// unterminated `{{` is literal text.
    pub fn parse(src: &str) -> Result<Template, String> {
        Template::parse_with(src, &PLACEHOLDERS)
    }

    /// Parses a page that may use `allowed` placeholders.
    pub fn parse_with(src: &str, allowed: &[&'static str]) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = src;
        while let Some(open) = rest.find("{{") {
            let Some(close) = rest[open..].find("}}") else {
                break;
            };
            let name = rest[open + 2..open + close].trim();
            let slot = allowed
                .iter()
                .find(|p| **p == name)
                .ok_or_else(|| format!("{{{{{}}}}}", name.chars().take(40).collect::<String>()))?;
            parts.push(Part::Text(rest[..open].to_owned()));
            parts.push(Part::Slot(slot));
            rest = &rest[open + close + 2..];
        }
        parts.push(Part::Text(rest.to_owned()));
        Ok(Template(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_with_spaces_inside() {
        let t = Template::parse("<h1>{{ title }}</h1>{{request_id}}").unwrap();
        assert_eq!(
            t.0,
            vec![
                Part::Text("<h1>".into()),
                Part::Slot("title"),
                Part::Text("</h1>".into()),
                Part::Slot("request_id"),
                Part::Text(String::new()),
            ]
        );
    }

    #[test]
    fn unknown_placeholders_are_rejected() {
        assert_eq!(
            Template::parse("{{title}} {{secret}}"),
            Err("{{secret}}".to_string())
        );
        assert!(Template::parse("no placeholders, {{ unterminated").is_ok());
    }
}
