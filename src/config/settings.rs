//! The proxy's own variables, parsed and validated once per isolate. The
//! page's variables (title, message, formats…) belong to the guard
//! (`error_shield::Page`). Pure: takes a lookup, so it is tested natively.

use error_shield::parts::vars::{self, Vars};
use error_shield::Failure;

use crate::config::failure_statuses::StatusSet;
use crate::config::maintenance::Maintenance;

/// The largest `STALE_MAX_BYTES`: one copy is collected whole before it is
/// stored, and an isolate has 128 MB in all.
pub const MAX_BYTES_LIMIT: u32 = 16 * 1024 * 1024;

/// How the proxy reaches the origin and judges its answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Origin base URL without a trailing slash; `None` = zone-route mode.
    pub origin: Option<String>,
    /// Time allowed until the origin's response headers arrive.
    pub timeout_ms: u32,
    /// Origin statuses treated as failures.
    pub failure_statuses: StatusSet,
    /// How much of a failing origin body goes into the log.
    pub log_origin_body_bytes: u32,
    /// Serve a stored copy for this long when the origin fails (0 = off).
    pub stale_if_error_seconds: u32,
    /// The largest body kept for stale-if-error.
    pub stale_max_bytes: u32,
    /// Retries on `origin_unreachable` for idempotent body-less requests.
    pub retries: u32,
    /// Which status each failure gets.
    pub response_status: StatusPolicy,
    /// Maintenance mode.
    pub maintenance: Maintenance,
    /// Honour `X-Fault-Inject`.
    pub fault_injection: bool,
    /// Watch every body for a break after the headers (and record it).
    pub watch_bodies: bool,
    /// A second origin base URL, tried once when the primary failed.
    pub fallback: Option<String>,
    /// Consecutive failures that open the circuit (0 = no breaker).
    pub circuit_failures: u32,
    /// How long an open circuit answers without the origin.
    pub circuit_open_seconds: u32,
    /// What the worker's own failures before the fetch get.
    pub on_worker_failure: OnWorkerFailure,
}

/// `ON_WORKER_FAILURE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnWorkerFailure {
    /// The uniform error.
    Uniform,
    /// The request goes to the origin as it came.
    FailOpen,
}

impl OnWorkerFailure {
    fn parse(v: &str) -> Option<OnWorkerFailure> {
        let words = [
            ("uniform", OnWorkerFailure::Uniform),
            ("fail-open", OnWorkerFailure::FailOpen),
        ];
        vars::keyword(v, &words)
    }
}

/// `RESPONSE_STATUS`: the status of the uniform error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPolicy {
    /// Every failure is a 500.
    Always500,
    /// 502 for the origin's failures, 504 for its timeout, 500 for the rest.
    ByCause,
    /// As `ByCause`, but an origin's failing status is kept (with its valid
    /// `Retry-After`).
    Origin,
}

impl StatusPolicy {
    fn parse(v: &str) -> Option<StatusPolicy> {
        let words = [
            ("500", StatusPolicy::Always500),
            ("by-cause", StatusPolicy::ByCause),
            ("origin", StatusPolicy::Origin),
        ];
        vars::keyword(v, &words)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            origin: None,
            timeout_ms: 30_000,
            failure_statuses: StatusSet::range(500, 599),
            log_origin_body_bytes: 2048,
            stale_if_error_seconds: 0,
            stale_max_bytes: 1_048_576,
            retries: 0,
            response_status: StatusPolicy::Always500,
            maintenance: Maintenance::default(),
            fault_injection: false,
            watch_bodies: true,
            fallback: None,
            circuit_failures: 0,
            circuit_open_seconds: 30,
            on_worker_failure: OnWorkerFailure::Uniform,
        }
    }
}

impl Settings {
    /// Parses the proxy's variables; the first invalid one becomes a
    /// `config_error` naming the variable and its value.
    pub fn from_vars(v: &impl Vars) -> Result<Settings, Failure> {
        let d = Settings::default();
        Ok(Settings {
            origin: vars::parsed(
                v,
                "ORIGIN_URL",
                "an http(s) URL without query or fragment",
                parse_origin,
            )?,
            timeout_ms: vars::number(v, "ORIGIN_TIMEOUT_MS", 1..=600_000, "milliseconds")?
                .unwrap_or(d.timeout_ms),
            failure_statuses: failure_statuses(v)?.unwrap_or(d.failure_statuses),
            log_origin_body_bytes: vars::number(v, "LOG_ORIGIN_BODY_BYTES", 0..=65_536, "bytes")?
                .unwrap_or(d.log_origin_body_bytes),
            stale_if_error_seconds: vars::number(
                v,
                "STALE_IF_ERROR_SECONDS",
                0..=31_536_000,
                "seconds",
            )?
            .unwrap_or(d.stale_if_error_seconds),
            // One copy is collected whole: at most 16 MiB (of 128 MB).
            stale_max_bytes: vars::number(v, "STALE_MAX_BYTES", 0..=MAX_BYTES_LIMIT, "bytes")?
                .unwrap_or(d.stale_max_bytes),
            retries: vars::number(v, "ORIGIN_RETRIES", 0..=5, "retries")?.unwrap_or(d.retries),
            response_status: vars::parsed(
                v,
                "RESPONSE_STATUS",
                "500, by-cause or origin",
                StatusPolicy::parse,
            )?
            .unwrap_or(d.response_status),
            maintenance: Maintenance::from_vars(v)?,
            fault_injection: vars::switch(v, "FAULT_INJECTION")?.unwrap_or(d.fault_injection),
            watch_bodies: vars::switch(v, "WATCH_BODIES")?.unwrap_or(d.watch_bodies),
            fallback: vars::parsed(
                v,
                "FALLBACK_ORIGIN_URL",
                "an http(s) URL without query or fragment",
                parse_origin,
            )?,
            circuit_failures: vars::number(v, "CIRCUIT_FAILURES", 0..=1000, "failures")?
                .unwrap_or(d.circuit_failures),
            circuit_open_seconds: vars::number(v, "CIRCUIT_OPEN_SECONDS", 1..=86_400, "seconds")?
                .unwrap_or(d.circuit_open_seconds),
            on_worker_failure: vars::parsed(
                v,
                "ON_WORKER_FAILURE",
                "uniform or fail-open",
                OnWorkerFailure::parse,
            )?
            .unwrap_or(d.on_worker_failure),
        })
    }
}

/// `FAILURE_STATUSES`: an empty list is valid (nothing fails), so blank is
/// not "unset" here.
fn failure_statuses(v: &impl Vars) -> Result<Option<StatusSet>, Failure> {
    let Some(raw) = v.get("FAILURE_STATUSES") else {
        return Ok(None);
    };
    StatusSet::parse(&raw).map(Some).ok_or_else(|| {
        vars::invalid(
            "FAILURE_STATUSES",
            &raw,
            "codes and ranges such as 500,502-504",
        )
    })
}

/// An origin base URL without its trailing slash, so the incoming path can
/// be appended as is.
fn parse_origin(v: &str) -> Option<String> {
    (vars::is_http_url(v) && !v.contains(['?', '#'])).then(|| v.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use error_shield::parts::vars::pairs;
    use error_shield::Cause;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(
            Settings::from_vars(&pairs(&[])).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn valid_values_parse() {
        let s = Settings::from_vars(&pairs(&[
            ("ORIGIN_URL", "https://api.example.com/v1/"),
            ("ORIGIN_TIMEOUT_MS", "1500"),
            ("FAILURE_STATUSES", "500,502-504"),
            ("LOG_ORIGIN_BODY_BYTES", "0"),
            ("STALE_IF_ERROR_SECONDS", "60"),
            ("ORIGIN_RETRIES", "2"),
            ("FAULT_INJECTION", "on"),
            ("FALLBACK_ORIGIN_URL", "http://backup:81/"),
            ("CIRCUIT_FAILURES", "5"),
            ("CIRCUIT_OPEN_SECONDS", "10"),
            ("ON_WORKER_FAILURE", "fail-open"),
        ]))
        .unwrap();
        assert_eq!(s.fallback.as_deref(), Some("http://backup:81"));
        assert_eq!((s.circuit_failures, s.circuit_open_seconds), (5, 10));
        assert_eq!(s.on_worker_failure, OnWorkerFailure::FailOpen);
        assert_eq!(s.origin.as_deref(), Some("https://api.example.com/v1"));
        assert_eq!(s.timeout_ms, 1500);
        assert!(s.failure_statuses.contains(503) && !s.failure_statuses.contains(501));
        assert_eq!(s.log_origin_body_bytes, 0);
        assert_eq!(
            (s.stale_if_error_seconds, s.retries, s.fault_injection),
            (60, 2, true)
        );
        let off = Settings::from_vars(&pairs(&[
            ("FAULT_INJECTION", "off"),
            ("FAILURE_STATUSES", ""),
            ("WATCH_BODIES", "off"),
        ]));
        let off = off.unwrap();
        assert!(!off.fault_injection && !off.failure_statuses.contains(500));
        assert!(!off.watch_bodies && Settings::default().watch_bodies);
    }

    #[test]
    fn invalid_values_name_the_variable_and_value() {
        let table = [
            ("ORIGIN_URL", "not a url"),
            ("ORIGIN_URL", "ftp://x"),
            ("ORIGIN_URL", "https://x/?q=1"),
            ("ORIGIN_URL", "https://x/#f"),
            ("ORIGIN_URL", "http://host:99999"),
            ("ORIGIN_TIMEOUT_MS", "soon"),
            ("ORIGIN_TIMEOUT_MS", "0"),
            ("ORIGIN_TIMEOUT_MS", "600001"),
            ("FAILURE_STATUSES", "5xx"),
            ("FAILURE_STATUSES", "504-502"),
            ("LOG_ORIGIN_BODY_BYTES", "lots"),
            ("LOG_ORIGIN_BODY_BYTES", "65537"),
            ("STALE_IF_ERROR_SECONDS", "1h"),
            ("STALE_MAX_BYTES", "1MB"),
            ("STALE_MAX_BYTES", "16777217"),
            ("ORIGIN_RETRIES", "6"),
            ("FAULT_INJECTION", "maybe"),
            ("WATCH_BODIES", "sometimes"),
            ("RESPONSE_STATUS", "502"),
            ("RESPONSE_STATUS", "origins"),
            ("FALLBACK_ORIGIN_URL", "backup"),
            ("FALLBACK_ORIGIN_URL", "https://b/?k=1"),
            ("CIRCUIT_FAILURES", "-1"),
            ("CIRCUIT_FAILURES", "1001"),
            ("CIRCUIT_FAILURES", "many"),
            ("CIRCUIT_OPEN_SECONDS", "0"),
            ("CIRCUIT_OPEN_SECONDS", "86401"),
            ("ON_WORKER_FAILURE", "open"),
            ("RESPONSE_STATUS", "bycause"),
            ("MAINTENANCE", "soon"),
            ("MAINTENANCE_RETRY_AFTER", "-1"),
            ("MAINTENANCE_RETRY_AFTER", "2592001"),
            ("MAINTENANCE_BYPASS_PATHS", "healthz"),
            ("MAINTENANCE_BYPASS_PATHS", "/a,,/b"),
        ];
        for (var, value) in table {
            let err = Settings::from_vars(&pairs(&[(var, value)])).unwrap_err();
            assert_eq!(err.cause, Cause::ConfigError, "{var}={value}");
            assert_eq!(
                err.context[0],
                ("variable".into(), var.into()),
                "{var}={value}"
            );
            // A query value may be a token: the record shows its name only
            // (and no fragment).
            let shown = match value {
                "https://x/?q=1" => "https://x/?REDACTED",
                "https://b/?k=1" => "https://b/?REDACTED",
                "https://x/#f" => "https://x/",
                other => other,
            };
            assert_eq!(
                err.context[1],
                ("value".into(), shown.into()),
                "{var}={value}"
            );
        }
    }

    #[test]
    fn credentials_in_a_bad_origin_url_are_redacted() {
        let err = Settings::from_vars(&pairs(&[("ORIGIN_URL", "https://user:hunter2@host/a b")]))
            .unwrap_err();
        assert_eq!(err.context[1].1, "https://REDACTED@host/a b");
        let err = Settings::from_vars(&pairs(&[("ORIGIN_URL", "svc:hunter2@host")])).unwrap_err();
        assert_eq!(err.context[1].1, "REDACTED@host", "no scheme, still hidden");
        // What the runtime's URL parser refuses (no IPv4 octet is 256).
        for var in ["ORIGIN_URL", "FALLBACK_ORIGIN_URL"] {
            let err =
                Settings::from_vars(&pairs(&[(var, "http://svc:hunter2@10.0.0.256")])).unwrap_err();
            assert_eq!(err.context[0].1, var);
            assert_eq!(err.context[1].1, "http://REDACTED@10.0.0.256");
        }
        for ok in ["http://[::1]:8080/p", "http://[::1]", "https://h:443"] {
            assert!(
                Settings::from_vars(&pairs(&[("ORIGIN_URL", ok)])).is_ok(),
                "{ok}"
            );
        }
    }
}
