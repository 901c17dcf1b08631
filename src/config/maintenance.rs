//! Maintenance mode: which requests still pass, and the one info line per
//! isolate. Pure: tested natively.

use error_shield::parts::vars::{self, Vars};
use error_shield::Failure;

use crate::config::{origin, path, secret};

/// Maintenance mode: every request that is not bypassed gets the 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    /// `MAINTENANCE`.
    pub on: bool,
    /// `Retry-After` seconds; 0: no header.
    pub retry_after: u32,
    /// The 503's title.
    pub title: String,
    /// The 503's message.
    pub message: String,
    /// Path prefixes that pass through during maintenance.
    pub bypass_paths: Vec<String>,
    /// A secret: requests whose `X-Maintenance-Bypass` equals it pass.
    pub bypass_token: Option<String>,
}

impl Default for Maintenance {
    fn default() -> Self {
        Maintenance {
            on: false,
            retry_after: 300,
            title: "Service Unavailable".into(),
            message: "We are doing some maintenance. Please try again shortly.".into(),
            bypass_paths: Vec::new(),
            bypass_token: None,
        }
    }
}

impl Maintenance {
    /// The `MAINTENANCE*` variables.
    pub fn from_vars(v: &impl Vars) -> Result<Maintenance, Failure> {
        let d = Maintenance::default();
        Ok(Maintenance {
            on: vars::switch(v, "MAINTENANCE")?.unwrap_or(d.on),
            retry_after: vars::number(v, "MAINTENANCE_RETRY_AFTER", 0..=2_592_000, "seconds")?
                .unwrap_or(d.retry_after),
            title: vars::text(v, "MAINTENANCE_TITLE").unwrap_or(d.title),
            message: vars::text(v, "MAINTENANCE_MESSAGE").unwrap_or(d.message),
            bypass_paths: vars::parsed(
                v,
                "MAINTENANCE_BYPASS_PATHS",
                "a comma list of path prefixes such as /healthz,/status/",
                parse_prefixes,
            )?
            .unwrap_or_default(),
            bypass_token: bypass_token(v)?,
        })
    }
}

/// Comma-separated path prefixes, each starting with `/`, kept spelled and
/// normalised as the paths they are matched against. One that no request
/// could ever be bypassed under (it holds what makes a path ambiguous) is
/// refused rather than silently never matched.
fn parse_prefixes(v: &str) -> Option<Vec<String>> {
    v.split(',')
        .map(str::trim)
        .map(|p| {
            let ok = p.starts_with('/') && !p.contains(char::is_whitespace);
            let p = path::spelled(p).filter(|_| ok)?;
            let p = path::normalise(&p).into_owned();
            (!path::ambiguous(&p)).then_some(p)
        })
        .collect()
}

/// `MAINTENANCE_BYPASS_TOKEN`: a secret, so a bad one is named but never
/// shown. It must be a possible header value: visible ASCII.
fn bypass_token(v: &impl Vars) -> Result<Option<String>, Failure> {
    let Some(token) = v.get("MAINTENANCE_BYPASS_TOKEN").filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if token.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(Some(token))
    } else {
        Err(vars::invalid(
            "MAINTENANCE_BYPASS_TOKEN",
            "(secret, not shown)",
            "visible ASCII characters only",
        ))
    }
}

/// The header that carries `MAINTENANCE_BYPASS_TOKEN`.
pub const BYPASS_HEADER: &str = "x-maintenance-bypass";

/// Whether a request to `url` with `token` in the bypass header passes
/// through although maintenance is on: its normalised path lies under a
/// bypass path by whole segments (and origins cannot read it as another
/// path: [`path::ambiguous`]), or it carries the token.
pub fn bypassed(m: &Maintenance, url: &str, token: Option<&str>) -> bool {
    let raw = origin::path(url);
    let by_path = !path::ambiguous(raw) && {
        let path = path::normalise(raw);
        m.bypass_paths.iter().any(|p| path::under(&path, p))
    };
    by_path
        || matches!((&m.bypass_token, token), (Some(want), Some(got)) if secret::same(want.as_bytes(), got.as_bytes()))
}

/// The maintenance that governs a request to `url`: its rule's, unless the
/// top level's is on and the path is one origins read differently (`;`,
/// `%2F`…): a rule that turns maintenance off lets no such path through,
/// as a bypass path does not.
pub fn governing<'a>(
    top: &'a Maintenance,
    rule: Option<&'a Maintenance>,
    url: &str,
) -> &'a Maintenance {
    match rule {
        Some(r) if !(top.on && path::ambiguous(origin::path(url))) => r,
        _ => top,
    }
}

/// The info line written once per isolate while maintenance is on: not an
/// error record, so no alert fires for it. Its fields in this order:
/// `{"level":"info","event":"maintenance",…}`.
pub fn info_line(m: &Maintenance) -> String {
    // A struct, not a map: serde writes its fields in this order.
    #[derive(serde::Serialize)]
    struct Line {
        level: &'static str,
        event: &'static str,
        status: u16,
        retry_after: u32,
        message: &'static str,
    }
    let line = Line {
        level: "info",
        event: "maintenance",
        status: 503,
        retry_after: m.retry_after,
        message: "maintenance mode is on: requests that are not bypassed get 503 and the origin is not contacted",
    };
    serde_json::to_string(&line).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::{Settings, StatusPolicy};
    use error_shield::parts::vars::pairs;

    fn on(paths: &[&str], token: Option<&str>) -> Maintenance {
        Maintenance {
            on: true,
            bypass_paths: paths.iter().map(|p| p.to_string()).collect(),
            bypass_token: token.map(str::to_owned),
            ..Maintenance::default()
        }
    }

    #[test]
    fn a_rule_turning_maintenance_off_governs_no_ambiguous_path() {
        let top = on(&[], None);
        let off = Maintenance::default();
        // url, governed by the rule
        let table = [
            ("https://w.dev/live/x", true),
            ("https://w.dev/live/..;/admin", false),
            ("https://w.dev/live/..%2Fadmin?x=1", false),
            ("https://w.dev/live/x?q=;", true),
        ];
        for (url, by_rule) in table {
            let m = governing(&top, Some(&off), url);
            assert_eq!(std::ptr::eq(m, &off), by_rule, "{url}");
        }
        // With the top level off, the rule governs whatever the path.
        let top_off = Maintenance::default();
        let rule_on = on(&[], None);
        let m = governing(&top_off, Some(&rule_on), "https://w.dev/live/..;/x");
        assert!(std::ptr::eq(m, &rule_on));
        assert!(std::ptr::eq(governing(&top, None, "https://w.dev/;"), &top));
    }

    #[test]
    fn bypass_paths_match_whole_segments_of_the_normalised_path_only() {
        let m = on(&["/healthz", "/status/"], None);
        let table = [
            ("https://w.dev/healthz", true),
            ("https://w.dev/healthz/deep?x=1", true),
            ("https://w.dev/healthzz", false),
            ("https://w.dev/healthz.json", false),
            ("https://w.dev//healthz", true),
            ("https://w.dev/%68ealthz/x", true),
            ("https://w.dev/status/../healthz", true),
            ("https://w.dev/healthz/../api", false),
            ("https://w.dev/status%2Fdb", false),
            ("https://w.dev/status/db", true),
            ("https://w.dev/status", false),
            ("https://w.dev/api?next=/healthz", false),
            ("https://w.dev/", false),
            ("https://w.dev", false),
        ];
        for (url, want) in table {
            assert_eq!(bypassed(&m, url, None), want, "{url}");
        }
    }

    #[test]
    fn no_bypass_path_applies_to_a_path_origins_read_otherwise() {
        let m = on(&["/healthz"], Some("s3cret"));
        let table = [
            ("https://w.dev/healthz/deep", true),
            ("https://w.dev/healthz/..;/admin", false),
            ("https://w.dev/healthz;x=1", false),
            ("https://w.dev/healthz/..%2Fadmin", false),
            ("https://w.dev/healthz/..%2fadmin", false),
            ("https://w.dev/healthz/..%5Cadmin", false),
            ("https://w.dev/healthz/..%5cadmin", false),
            ("https://w.dev/healthz%00", false),
            ("https://w.dev/healthz/..%3B/admin", false),
            ("https://w.dev/healthz/x?q=;%2F", true),
        ];
        for (url, want) in table {
            assert_eq!(bypassed(&m, url, None), want, "{url}");
            // The token is the operator's own: it still lets any path through.
            assert!(bypassed(&m, url, Some("s3cret")), "{url}");
        }
    }

    #[test]
    fn bypass_paths_are_spelled_as_requests_are_and_ambiguous_ones_refused() {
        let parsed = |v: &str| {
            Maintenance::from_vars(&pairs(&[("MAINTENANCE_BYPASS_PATHS", v)]))
                .map(|m| m.bypass_paths)
        };
        assert_eq!(parsed("/ü, /%61pi/").unwrap(), vec!["/%C3%BC", "/api/"]);
        let m = on(&["/%C3%BC"], None);
        assert!(bypassed(&m, "https://w.dev/%C3%BC/x", None));
        for bad in ["/a;b", "/a%2Fb", "/a\\b", "/a?b", "healthz", "/a b"] {
            let err = parsed(bad).unwrap_err();
            assert_eq!(err.context[0].1, "MAINTENANCE_BYPASS_PATHS", "{bad}");
        }
    }

    #[test]
    fn the_token_must_match_exactly() {
        let m = on(&[], Some("s3cret"));
        let table = [
            (Some("s3cret"), true),
            (Some("s3cre"), false),
            (Some("s3cret!"), false),
            (Some("S3CRET"), false),
            (Some(""), false),
            (None, false),
        ];
        for (token, want) in table {
            assert_eq!(bypassed(&m, "https://w.dev/", token), want, "{token:?}");
        }
        assert!(!bypassed(&on(&[], None), "https://w.dev/", Some("")));
    }

    #[test]
    fn maintenance_variables_parse() {
        let s = Settings::from_vars(&pairs(&[
            ("RESPONSE_STATUS", "By-Cause"),
            ("MAINTENANCE", "on"),
            ("MAINTENANCE_RETRY_AFTER", "0"),
            ("MAINTENANCE_TITLE", "Back soon"),
            ("MAINTENANCE_BYPASS_PATHS", "/healthz, /status/"),
            ("MAINTENANCE_BYPASS_TOKEN", "s3cret-token"),
        ]))
        .unwrap();
        assert_eq!(s.response_status, StatusPolicy::ByCause);
        let m = s.maintenance;
        assert_eq!(
            (m.on, m.retry_after, m.title.as_str()),
            (true, 0, "Back soon")
        );
        assert_eq!(m.message, Maintenance::default().message);
        assert_eq!(
            m.bypass_paths,
            vec!["/healthz".to_string(), "/status/".to_string()]
        );
        assert_eq!(m.bypass_token.as_deref(), Some("s3cret-token"));
        let plain = Settings::from_vars(&pairs(&[("RESPONSE_STATUS", "500")])).unwrap();
        assert_eq!(plain.response_status, StatusPolicy::Always500);
    }

    #[test]
    fn a_bad_bypass_token_is_named_but_never_shown() {
        let err =
            Settings::from_vars(&pairs(&[("MAINTENANCE_BYPASS_TOKEN", "has space")])).unwrap_err();
        assert_eq!(err.context[0].1, "MAINTENANCE_BYPASS_TOKEN");
        assert!(!format!("{err:?}").contains("has space"), "{err:?}");
    }

    #[test]
    fn maintenance_is_an_info_line_not_an_error() {
        let line = info_line(&on(&[], None));
        assert!(
            line.starts_with(r#"{"level":"info","event":"maintenance","#),
            "{line}"
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (v["level"].as_str(), v["event"].as_str()),
            (Some("info"), Some("maintenance"))
        );
        assert_eq!(v["retry_after"], 300);
    }
}
