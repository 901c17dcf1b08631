//! The one error type: every way a request can fail, with what the operator
//! needs to debug it. Turned into the response by `Shield::respond` and into
//! the log line by `record::log_line`, nowhere else.

use std::fmt;

/// Why a request failed: the `cause` field of the log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
/// comes back whole, context included.
impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Self {
        if let worker::Error::Internal(value) = &e {
            let error = wasm_bindgen::JsCast::dyn_ref::<js_sys::Error>(value);
            if let Some(error) = error.filter(|err| err.name() == CARRIER) {
                if let Some(f) = Failure::from_carrier(&String::from(error.message())) {
                    return f;
                }
            }
        }
        Failure::new(Cause::WorkerError, e.to_string())
    }
}

/// Lets a `Failure` with its context travel where a `worker::Error` is
/// expected: `return Err(failure.into())` inside a `Router` handler.
impl From<Failure> for worker::Error {
    fn from(f: Failure) -> Self {
        let error = js_sys::Error::new(&f.to_carrier());
        error.set_name(CARRIER);
        worker::Error::Internal(error.into())
    }
}

impl Failure {
    fn to_carrier(&self) -> String {
        serde_json::json!({"cause": self.cause.as_str(), "message": self.message, "context": self.context}).to_string()
    }

    fn from_carrier(s: &str) -> Option<Failure> {
        let v: serde_json::Value = serde_json::from_str(s).ok()?;
        let cause = Cause::ALL.into_iter().find(|c| v["cause"] == c.as_str())?;
        let mut f = Failure::new(cause, v["message"].as_str()?);
        for pair in v["context"].as_array()? {
            f.context
                .push((pair[0].as_str()?.to_owned(), pair[1].as_str()?.to_owned()));
        }
        Some(f)
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
    fn a_failure_survives_its_trip_through_the_carrier() {
        let f = Failure::new(Cause::OriginTimeout, "slow \"db\"").with_context("k", "v");
        assert_eq!(Failure::from_carrier(&f.to_carrier()), Some(f));
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
