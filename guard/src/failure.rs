//! The one error type: every way a request can fail, with what the operator
//! needs to debug it. Turned into the response by `answer::respond` and into
//! the log line by `record::line`, nowhere else.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a request failed: the `cause` field of the log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Cause {
    /// DNS/connect/reset/TLS error, or an unparseable origin response.
    OriginUnreachable,
    /// No response headers within `ORIGIN_TIMEOUT_MS`.
    OriginTimeout,
    /// The origin answered with a status in `FAILURE_STATUSES`.
    OriginErrorStatus,
    /// The worker's own code returned an error.
    WorkerError,
    /// Rust code panicked; the instance keeps serving.
    WorkerPanic,
    /// The Wasm instance trapped; answered by the JS entry.
    WorkerTrap,
    /// Invalid configuration, or a request that loops back to the worker.
    ConfigError,
}

impl Cause {
    /// Every cause.
    pub const ALL: [Cause; 7] = [
        Cause::OriginUnreachable,
        Cause::OriginTimeout,
        Cause::OriginErrorStatus,
        Cause::WorkerError,
        Cause::WorkerPanic,
        Cause::WorkerTrap,
        Cause::ConfigError,
    ];

    /// The snake_case name used in log records.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::OriginUnreachable => "origin_unreachable",
            Cause::OriginTimeout => "origin_timeout",
            Cause::OriginErrorStatus => "origin_error_status",
            Cause::WorkerError => "worker_error",
            Cause::WorkerPanic => "worker_panic",
            Cause::WorkerTrap => "worker_trap",
            Cause::ConfigError => "config_error",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed request: the cause plus the details that go to the log only.
///
/// Nothing in here ever reaches the client; the client sees the uniform 500.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Why it failed.
    pub cause: Cause,
    /// A human description for the operator.
    pub message: String,
    /// The origin's status, for `origin_error_status`.
    pub origin_status: Option<u16>,
    /// The first bytes of the failing origin body (already capped).
    pub origin_body: Option<String>,
    /// `file:line:col` of a panic.
    pub location: Option<String>,
    /// How many times the origin was tried, when retries are on.
    pub attempts: Option<u32>,
    /// When the body broke after the headers were sent: how many body bytes
    /// had reached the client (it can no longer get the uniform error).
    pub after_headers: Option<u64>,
    /// Extra fields an application attached for the log (never the body).
    pub context: Vec<(String, String)>,
}

impl Failure {
    /// A failure with a cause and an operator-facing message.
    pub fn new(cause: Cause, message: impl Into<String>) -> Self {
        Failure {
            cause,
            message: message.into(),
            origin_status: None,
            origin_body: None,
            location: None,
            attempts: None,
            after_headers: None,
            context: Vec::new(),
        }
    }

    /// Adds a field to the log record of this failure (never to the response).
    pub fn with_context(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.context.push((key.into(), value.into()));
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.cause, self.message)
    }
}

impl std::error::Error for Failure {}

/// The JS error name that carries a [`Failure`] through `worker::Error`.
const CARRIER: &str = "ErrorShieldFailure";

/// Any workers-rs error out of a handler is a `worker_error`; a `Failure`
/// that travelled as a `worker::Error` (e.g. out of a `Router` handler)
/// comes back whole, every field included.
impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Self {
        carried(&e).unwrap_or_else(|| Failure::new(Cause::WorkerError, e.to_string()))
    }
}

/// The `Failure` inside `e`, when `e` is one that travelled as a carrier.
fn carried(e: &worker::Error) -> Option<Failure> {
    let worker::Error::Internal(value) = e else {
        return None;
    };
    let error = wasm_bindgen::JsCast::dyn_ref::<js_sys::Error>(value)?;
    if error.name() != CARRIER {
        return None;
    }
    Failure::from_carrier(&String::from(error.message()))
}

/// Lets a `Failure` travel where a `worker::Error` is expected:
/// `return Err(failure.into())` inside a `Router` handler.
impl From<Failure> for worker::Error {
    fn from(f: Failure) -> Self {
        let error = js_sys::Error::new(&f.to_carrier());
        error.set_name(CARRIER);
        worker::Error::Internal(error.into())
    }
}

impl Failure {
    /// The failure as the message of its carrier error (JSON).
    fn to_carrier(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| self.to_string())
    }

    /// The failure back from a carrier's message.
    fn from_carrier(s: &str) -> Option<Failure> {
        serde_json::from_str(s).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_names_match_the_contract() {
        let table = [
            (Cause::OriginUnreachable, "origin_unreachable"),
            (Cause::OriginTimeout, "origin_timeout"),
            (Cause::OriginErrorStatus, "origin_error_status"),
            (Cause::WorkerError, "worker_error"),
            (Cause::WorkerPanic, "worker_panic"),
            (Cause::WorkerTrap, "worker_trap"),
            (Cause::ConfigError, "config_error"),
        ];
        for (cause, name) in table {
            assert_eq!(cause.as_str(), name);
            assert_eq!(cause.to_string(), name);
        }
    }

    #[test]
    fn a_failure_survives_its_trip_through_the_carrier_with_every_field() {
        let mut f = Failure::new(Cause::OriginErrorStatus, "slow \"db\"").with_context("k", "v");
        f.origin_status = Some(502);
        f.origin_body = Some("trace".into());
        f.location = Some("src/a.rs:1:2".into());
        f.attempts = Some(3);
        assert_eq!(Failure::from_carrier(&f.to_carrier()), Some(f));
        for cause in Cause::ALL {
            let f = Failure::new(cause, "m");
            assert_eq!(Failure::from_carrier(&f.to_carrier()), Some(f));
        }
        assert_eq!(Failure::from_carrier("not json"), None);
    }

    #[test]
    fn context_is_kept_in_order() {
        let f = Failure::new(Cause::WorkerError, "boom")
            .with_context("user", "42")
            .with_context("route", "/a");
        assert_eq!(
            f.context,
            vec![("user".into(), "42".into()), ("route".into(), "/a".into())]
        );
        assert_eq!(f.to_string(), "worker_error: boom");
    }
}
