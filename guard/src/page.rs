//! What the uniform error says: title, message, support link, problem type,
//! the operator's own page and the default format. Read from the worker's
//! variables once per isolate; the guard reads no other variable.

use crate::failure::Failure;
use crate::format::Format;
use crate::template::Template;
use crate::vars::{self, Vars};

/// The default `detail` sentence.
pub const DEFAULT_MESSAGE: &str =
    "Sorry, something went wrong on our side. Please try again in a moment.";

/// What an answer says: its status, title and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    /// The HTTP status, shown on the page and in the problem document.
    pub status: u16,
    /// The title.
    pub title: String,
    /// The human sentence (`detail`).
    pub message: String,
}

/// The words and shape of the uniform error.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The title of every representation (`ERROR_TITLE`); unset, the
    /// title follows the status.
    pub title: Option<String>,
    /// The human sentence, `detail` in JSON (`ERROR_MESSAGE`).
    pub message: String,
    /// Optional support link (`SUPPORT_URL`).
    pub support_url: Option<String>,
    /// RFC 9457 `type` (`PROBLEM_TYPE`).
    pub problem_type: String,
    /// The operator's own HTML page (`ERROR_PAGE_HTML`).
    pub template: Option<Template>,
    /// The format when `Accept` does not decide (`DEFAULT_FORMAT`).
    pub default_format: Format,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            title: None,
            message: DEFAULT_MESSAGE.into(),
            support_url: None,
            problem_type: "about:blank".into(),
            template: None,
            default_format: Format::Json,
        }
    }
}

impl Page {
    /// What the failure answer with `status` says.
    pub fn words(&self, status: u16) -> Words {
        Words {
            status,
            title: self
                .title
                .clone()
                .unwrap_or_else(|| crate::status::title(status).into()),
            message: self.message.clone(),
        }
    }

    /// Reads the page's variables; the first invalid one is a
    /// `config_error` naming it and its value.
    pub fn from_vars(v: &impl Vars) -> Result<Page, Failure> {
        let d = Page::default();
        Ok(Page {
            title: vars::text(v, "ERROR_TITLE"),
            message: vars::text(v, "ERROR_MESSAGE").unwrap_or(d.message),
            support_url: vars::parsed(v, "SUPPORT_URL", "an http(s) URL", |s| {
                vars::is_http_url(s).then(|| s.to_owned())
            })?,
            problem_type: problem_type(v)?.unwrap_or(d.problem_type),
            template: template(v)?,
            default_format: default_format(v)?.unwrap_or(d.default_format),
        })
    }
}

/// `DEFAULT_FORMAT`, when set: read here for the page and by any app (or
/// rule) that overlays its own variables.
pub fn default_format(v: &impl Vars) -> Result<Option<Format>, Failure> {
    vars::parsed(v, "DEFAULT_FORMAT", "json, html or text", Format::parse)
}

/// `PROBLEM_TYPE`: a URI (a scheme, no whitespace).
fn problem_type(v: &impl Vars) -> Result<Option<String>, Failure> {
    let Some(raw) = v.get("PROBLEM_TYPE") else {
        return Ok(None);
    };
    let t = raw.trim();
    if t.is_empty() || t.contains(|c: char| c.is_whitespace() || c.is_control()) || !t.contains(':')
    {
        return Err(vars::invalid(
            "PROBLEM_TYPE",
            &raw,
            "a URI such as about:blank",
        ));
    }
    Ok(Some(t.to_owned()))
}

/// `ERROR_PAGE_HTML`: the value named in the error is the bad placeholder,
/// not the whole page.
fn template(v: &impl Vars) -> Result<Option<Template>, Failure> {
    let Some(src) = v.get("ERROR_PAGE_HTML").filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    Template::parse(&src).map(Some).map_err(|bad| {
        vars::invalid(
            "ERROR_PAGE_HTML",
            &bad,
            "{{title}}, {{message}}, {{request_id}}, {{support_url}} placeholders only",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::Cause;
    use crate::vars::pairs;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(Page::from_vars(&pairs(&[])).unwrap(), Page::default());
    }

    #[test]
    fn valid_values_are_taken() {
        let p = Page::from_vars(&pairs(&[
            ("ERROR_TITLE", "Oops"),
            ("ERROR_MESSAGE", "Later"),
            ("SUPPORT_URL", " https://status.example.com "),
            ("PROBLEM_TYPE", "https://errors.example.com/x"),
            ("ERROR_PAGE_HTML", "<p>{{request_id}}</p>"),
            ("DEFAULT_FORMAT", "HTML"),
        ]))
        .unwrap();
        assert_eq!(
            (p.title.as_deref(), p.message.as_str()),
            (Some("Oops"), "Later")
        );
        assert_eq!(p.support_url.as_deref(), Some("https://status.example.com"));
        assert_eq!(p.problem_type, "https://errors.example.com/x");
        assert!(p.template.is_some());
        assert_eq!(p.default_format, Format::Html);
    }

    #[test]
    fn invalid_values_name_the_variable_and_value() {
        let table = [
            ("SUPPORT_URL", "javascript:alert(1)", "javascript:alert(1)"),
            ("PROBLEM_TYPE", "not a uri", "not a uri"),
            ("PROBLEM_TYPE", "", ""),
            ("PROBLEM_TYPE", "nocolon", "nocolon"),
            ("ERROR_PAGE_HTML", "<p>{{nope}}</p>", "{{nope}}"),
            ("DEFAULT_FORMAT", "xml", "xml"),
        ];
        for (var, value, shown) in table {
            let err = Page::from_vars(&pairs(&[(var, value)])).unwrap_err();
            assert_eq!(err.cause, Cause::ConfigError, "{var}={value}");
            assert_eq!(err.context[0], ("variable".into(), var.into()), "{var}");
            assert_eq!(err.context[1], ("value".into(), shown.into()), "{var}");
            assert!(err.message.contains(var), "{}", err.message);
        }
    }

    #[test]
    fn blank_optional_values_count_as_unset() {
        let p = Page::from_vars(&pairs(&[("SUPPORT_URL", " "), ("ERROR_PAGE_HTML", "")])).unwrap();
        assert_eq!((p.support_url, p.template), (None, None));
    }

    #[test]
    fn problem_types_are_uris_without_inner_whitespace_or_controls() {
        let table = [
            ("about:blank", Some("about:blank")),
            (" urn:x:y ", Some("urn:x:y")),
            ("urn:a b", None),
            ("https://e.example/a\tb", None),
            ("urn:a\u{7f}b", None),
            ("urn:a\u{1}b", None),
            ("  ", None),
        ];
        for (raw, want) in table {
            let got = Page::from_vars(&pairs(&[("PROBLEM_TYPE", raw)]));
            assert_eq!(
                got.as_ref().ok().map(|p| p.problem_type.as_str()),
                want,
                "{raw:?}"
            );
        }
    }
}
