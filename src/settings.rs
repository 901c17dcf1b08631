//! The worker's configuration, parsed and validated once per isolate from
//! string variables (`[vars]`, `--var`, secrets). Pure: takes a lookup
//! function, so it is tested natively.

use crate::failure::{Cause, Failure};
use crate::negotiate::Format;
use crate::render::Template;
pub use crate::status::StatusSet;

/// Parsed configuration (CONTRACT §1).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Origin base URL without a trailing slash; `None` = zone-route mode.
    pub origin: Option<String>,
    /// Time allowed until the origin's response headers arrive.
    pub timeout_ms: u32,
    /// Origin statuses treated as failures.
    pub failure_statuses: StatusSet,
    /// Format when `Accept` does not decide.
    pub default_format: Format,
    /// The title of every error representation.
    pub title: String,
    /// The human sentence (`detail`).
    pub message: String,
    /// Optional support link.
    pub support_url: Option<String>,
    /// RFC 9457 `type`.
    pub problem_type: String,
    /// How much of a failing origin body goes into the log.
    pub log_origin_body_bytes: usize,
    /// The operator's own HTML page, if any.
    pub page_template: Option<Template>,
    /// Serve a stored copy for this long when the origin fails (0 = off).
    pub stale_if_error_seconds: u32,
    /// Retries on `origin_unreachable` for idempotent body-less requests.
    pub retries: u32,
    /// Honour `X-Fault-Inject`.
    pub fault_injection: bool,
}

/// The default `detail` sentence.
pub const DEFAULT_MESSAGE: &str =
    "Sorry, something went wrong on our side. Please try again in a moment.";

impl Default for Config {
    fn default() -> Self {
        Config {
            origin: None,
            timeout_ms: 30_000,
            failure_statuses: StatusSet::range(500, 599),
            default_format: Format::Json,
            title: "Internal Server Error".into(),
            message: DEFAULT_MESSAGE.into(),
            support_url: None,
            problem_type: "about:blank".into(),
            log_origin_body_bytes: 2048,
            page_template: None,
            stale_if_error_seconds: 0,
            retries: 0,
            fault_injection: false,
        }
    }
}

impl Config {
    /// Parses every variable through `var`; the first invalid one becomes a
    /// `config_error` failure naming the variable and its value.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, Failure> {
        let mut c = Config::default();
        if let Some(v) = var("ORIGIN_URL").filter(|v| !v.trim().is_empty()) {
            c.origin = Some(parse_origin(&v).ok_or_else(|| {
                invalid(
                    "ORIGIN_URL",
                    &redact_userinfo(&v),
                    "an http(s) URL without query or fragment",
                )
            })?);
        }
        if let Some(v) = var("ORIGIN_TIMEOUT_MS") {
            c.timeout_ms = v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=600_000).contains(n))
                .ok_or_else(|| invalid("ORIGIN_TIMEOUT_MS", &v, "milliseconds, 1 to 600000"))?;
        }
        if let Some(v) = var("FAILURE_STATUSES") {
            c.failure_statuses = StatusSet::parse(&v).ok_or_else(|| {
                invalid(
                    "FAILURE_STATUSES",
                    &v,
                    "codes and ranges such as 500,502-504",
                )
            })?;
        }
        if let Some(v) = var("DEFAULT_FORMAT") {
            c.default_format = Format::parse(&v)
                .ok_or_else(|| invalid("DEFAULT_FORMAT", &v, "json, html or text"))?;
        }
        if let Some(v) = var("ERROR_TITLE") {
            c.title = v;
        }
        if let Some(v) = var("ERROR_MESSAGE") {
            c.message = v;
        }
        if let Some(v) = var("SUPPORT_URL").filter(|v| !v.trim().is_empty()) {
            if !is_http_url(v.trim()) {
                return Err(invalid("SUPPORT_URL", &v, "an http(s) URL"));
            }
            c.support_url = Some(v.trim().to_owned());
        }
        if let Some(v) = var("PROBLEM_TYPE") {
            let t = v.trim();
            if t.is_empty()
                || t.contains(|ch: char| ch.is_whitespace() || ch.is_control())
                || !t.contains(':')
            {
                return Err(invalid("PROBLEM_TYPE", &v, "a URI such as about:blank"));
            }
            c.problem_type = t.to_owned();
        }
        if let Some(v) = var("LOG_ORIGIN_BODY_BYTES") {
            c.log_origin_body_bytes = v
                .trim()
                .parse()
                .ok()
                .filter(|n| *n <= 65_536)
                .ok_or_else(|| invalid("LOG_ORIGIN_BODY_BYTES", &v, "bytes, 0 to 65536"))?;
        }
        if let Some(v) = var("ERROR_PAGE_HTML").filter(|v| !v.trim().is_empty()) {
            c.page_template = Some(Template::parse(&v).map_err(|why| {
                invalid(
                    "ERROR_PAGE_HTML",
                    &why,
                    "{{title}}, {{message}}, {{request_id}}, {{support_url}} placeholders only",
                )
            })?);
        }
        if let Some(v) = var("STALE_IF_ERROR_SECONDS") {
            c.stale_if_error_seconds = v
                .trim()
                .parse()
                .ok()
                .filter(|n| *n <= 31_536_000)
                .ok_or_else(|| invalid("STALE_IF_ERROR_SECONDS", &v, "seconds, 0 to 31536000"))?;
        }
        if let Some(v) = var("ORIGIN_RETRIES") {
            c.retries = v
                .trim()
                .parse()
                .ok()
                .filter(|n| *n <= 5)
                .ok_or_else(|| invalid("ORIGIN_RETRIES", &v, "0 to 5"))?;
        }
        if let Some(v) = var("FAULT_INJECTION") {
            c.fault_injection = match v.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" | "" => false,
                _ => return Err(invalid("FAULT_INJECTION", &v, "on or off")),
            };
        }
        Ok(c)
    }
}

fn invalid(var: &str, value: &str, expected: &str) -> Failure {
    let shown: String = value.chars().take(200).collect();
    Failure::new(
        Cause::ConfigError,
        format!("invalid {var}: expected {expected}"),
    )
    .with_context("variable", var)
    .with_context("value", shown)
}

/// Validates an origin base URL and strips the trailing slash, so the
/// incoming path can be appended as is.
fn parse_origin(v: &str) -> Option<String> {
    let v = v.trim();
    if !is_http_url(v) || v.contains(['?', '#']) {
        return None;
    }
    Some(v.trim_end_matches('/').to_owned())
}

/// `http(s)://host[:port][/path]` with a non-empty host and no spaces.
fn is_http_url(v: &str) -> bool {
    let rest = match v.get(..8).map(|s| s.to_ascii_lowercase()) {
        Some(p) if p == "https://" => &v[8..],
        _ => match v.get(..7).map(|s| s.to_ascii_lowercase()) {
            Some(p) if p == "http://" => &v[7..],
            _ => return false,
        },
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    // `[v6]:port` or `name:port`: what follows the host must be a port.
    let (name, port) = match host.strip_prefix('[') {
        Some(v6) => {
            let Some((addr, rest)) = v6.split_once(']') else {
                return false;
            };
            if !rest.is_empty() && !rest.starts_with(':') {
                return false;
            }
            (addr, rest.strip_prefix(':'))
        }
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    let host_ok = !name.is_empty();
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok());
    host_ok && port_ok && !v.contains(|c: char| c.is_whitespace() || c.is_control())
}

/// Hides credentials in a URL (`user:pass@`) before it is logged.
pub fn redact_url(v: &str) -> String {
    let Some(scheme_end) = v.find("://") else {
        return v.to_owned();
    };
    let after = &v[scheme_end + 3..];
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    match after[..authority_end].rfind('@') {
        Some(at) => format!("{}://REDACTED@{}", &v[..scheme_end], &after[at + 1..]),
        None => v.to_owned(),
    }
}

/// For a value that failed to parse: everything between `://` and the last
/// `@` is hidden, even when the password holds `/`, `?` or `#`.
fn redact_userinfo(v: &str) -> String {
    match (v.find("://"), v.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://REDACTED@{}", &v[..s], &v[at + 1..]),
        _ => v.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(Config::from_vars(vars(&[])).unwrap(), Config::default());
    }

    #[test]
    fn valid_values_parse() {
        let c = Config::from_vars(vars(&[
            ("ORIGIN_URL", "https://api.example.com/v1/"),
            ("ORIGIN_TIMEOUT_MS", "1500"),
            ("FAILURE_STATUSES", "500,502-504"),
            ("DEFAULT_FORMAT", "html"),
            ("ERROR_TITLE", "Oops"),
            ("SUPPORT_URL", "https://status.example.com"),
            ("LOG_ORIGIN_BODY_BYTES", "0"),
            ("STALE_IF_ERROR_SECONDS", "60"),
            ("ORIGIN_RETRIES", "2"),
            ("FAULT_INJECTION", "on"),
        ]))
        .unwrap();
        assert_eq!(c.origin.as_deref(), Some("https://api.example.com/v1"));
        assert_eq!(c.timeout_ms, 1500);
        assert!(c.failure_statuses.contains(503) && !c.failure_statuses.contains(501));
        assert_eq!(c.default_format, Format::Html);
        assert_eq!(c.title, "Oops");
        assert_eq!(c.log_origin_body_bytes, 0);
        assert_eq!(
            (c.stale_if_error_seconds, c.retries, c.fault_injection),
            (60, 2, true)
        );
    }

    #[test]
    fn invalid_values_name_the_variable_and_value() {
        let table = [
            ("ORIGIN_URL", "not a url"),
            ("ORIGIN_URL", "ftp://x"),
            ("ORIGIN_URL", "https://x/?q=1"),
            ("ORIGIN_URL", "https://:80"),
            ("ORIGIN_URL", "http://host:99999"),
            ("ORIGIN_URL", "http://[::1]:99999"),
            ("ORIGIN_URL", "http://[::1]:abc"),
            ("ORIGIN_URL", "http://[::1"),
            ("ORIGIN_TIMEOUT_MS", "soon"),
            ("ORIGIN_TIMEOUT_MS", "0"),
            ("ORIGIN_TIMEOUT_MS", "-5"),
            ("FAILURE_STATUSES", "5xx"),
            ("FAILURE_STATUSES", "504-502"),
            ("FAILURE_STATUSES", "600"),
            ("FAILURE_STATUSES", "500,"),
            ("DEFAULT_FORMAT", "xml"),
            ("SUPPORT_URL", "javascript:alert(1)"),
            ("PROBLEM_TYPE", "not a uri"),
            ("LOG_ORIGIN_BODY_BYTES", "lots"),
            ("ERROR_PAGE_HTML", "<p>{{nope}}</p>"),
            ("STALE_IF_ERROR_SECONDS", "1h"),
            ("ORIGIN_RETRIES", "99"),
            ("FAULT_INJECTION", "maybe"),
        ];
        for (var, value) in table {
            let err = Config::from_vars(vars(&[(var, value)])).unwrap_err();
            assert_eq!(err.cause, Cause::ConfigError, "{var}={value}");
            assert_eq!(
                err.context[0],
                ("variable".to_string(), var.to_string()),
                "{var}={value}"
            );
            assert!(err.message.contains(var), "{}", err.message);
        }
    }

    #[test]
    fn credentials_in_a_bad_origin_url_are_redacted() {
        let err = Config::from_vars(vars(&[("ORIGIN_URL", "https://user:hunter2@host/a b")]))
            .unwrap_err();
        assert_eq!(err.context[1].1, "https://REDACTED@host/a b");
        let err =
            Config::from_vars(vars(&[("ORIGIN_URL", "https://u:pa/ss?#@host/ x")])).unwrap_err();
        assert_eq!(err.context[1].1, "https://REDACTED@host/ x");
        for ok in ["http://[::1]:8080/p", "http://[::1]", "https://h:443"] {
            assert!(
                Config::from_vars(vars(&[("ORIGIN_URL", ok)])).is_ok(),
                "{ok}"
            );
        }
    }
}
