//! The one error type: every way a request can fail, with what the operator
//! needs to debug it. Turned into the response by `answer::respond` and into
//! the log line by `record::line`, nowhere else.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::status;

/// Why a request failed: the `cause` field of the log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Cause {
    /// A service the worker calls could not be reached (DNS, connect,
    /// reset, TLS) or sent something that is not an HTTP response.
    OriginUnreachable,
    /// A service the worker calls took too long to answer.
    OriginTimeout,
    /// A service the worker calls answered with an error status (see
    /// [`Failure::with_origin_status`]).
    OriginErrorStatus,
    /// The worker's own code returned an error.
    WorkerError,
    /// The worker's code panicked; the instance keeps serving.
    WorkerPanic,
    /// The Wasm instance died (`std::process::abort()`, `unreachable`, stack
    /// overflow, out of memory); a fresh instance answers.
    WorkerTrap,
    /// The worker's configuration (a variable) is invalid, or a request
    /// loops back to the worker.
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

    /// Whether the origin failed (unreachable, too slow, a failing status),
    /// not the worker: what a stored copy or another origin may stand in for.
    pub fn is_origin(self) -> bool {
        matches!(
            self,
            Cause::OriginUnreachable | Cause::OriginTimeout | Cause::OriginErrorStatus
        )
    }

    /// The status a gateway answers this cause with: 502 when the origin
    /// failed or answered badly, 504 when it was too slow, 500 for the
    /// worker's own failures.
    pub fn gateway_status(self) -> u16 {
        match self {
            Cause::OriginUnreachable | Cause::OriginErrorStatus => status::BAD_GATEWAY,
            Cause::OriginTimeout => status::GATEWAY_TIMEOUT,
            _ => status::INTERNAL_SERVER_ERROR,
        }
    }

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
/// Built with [`Failure::new`] and the `with_*` methods; read through its
/// fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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
    /// Extra fields an application attached for the log (never the body),
    /// under the record's `context`.
    pub context: Vec<(String, String)>,
    /// Fields of the record's top level that a worker adds for its own
    /// features (a proxy's `attempts`, `route`, …). Never one of the
    /// record's own names (`level`, `cause`, `request_id`, `message`, …).
    pub fields: Vec<(String, Value)>,
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
            context: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Adds a field to the record's `context` (never to the response).
    pub fn with_context(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.context.push((key.into(), value.into()));
        self
    }

    /// The origin's failing status, for `origin_error_status`.
    pub fn with_origin_status(mut self, status: u16) -> Self {
        self.origin_status = Some(status);
        self
    }

    /// The first bytes of the failing origin body (already capped).
    pub fn with_origin_body(mut self, body: impl Into<String>) -> Self {
        self.origin_body = Some(body.into());
        self
    }

    /// Where a panic happened (`file:line:col`).
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// Sets a top-level field of the record (replacing one of that name),
    /// for a worker's own features; one of the record's own names
    /// (`level`, `cause`, `request_id`, `message`, …) is ignored, so a
    /// record never has a key twice.
    pub fn with_field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.set_field(key, value);
        self
    }

    /// [`Failure::with_field`] on a failure in place.
    pub fn set_field(&mut self, key: &str, value: impl Into<Value>) {
        if RESERVED.contains(&key) {
            return;
        }
        let value = value.into();
        match self.fields.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((key.to_owned(), value)),
        }
    }

    /// A top-level field set with [`Failure::with_field`].
    pub fn field(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.cause, self.message)
    }
}

impl std::error::Error for Failure {}

/// The names the record itself writes.
pub const RESERVED: [&str; 14] = [
    "level",
    "cause",
    "request_id",
    "trace_id",
    "cf_ray",
    "method",
    "url",
    "status",
    "duration_ms",
    "origin_status",
    "origin_body",
    "message",
    "location",
    "context",
];

/// The JS error name that carries a [`Failure`] through `worker::Error`.
#[cfg(feature = "workers-rs")]
const CARRIER: &str = "ErrorShieldFailure";

/// Any workers-rs error out of a handler is a `worker_error`; a `Failure`
/// that travelled as a `worker::Error` (e.g. out of a `Router` handler)
/// comes back whole, every field included.
#[cfg(feature = "workers-rs")]
impl From<worker::Error> for Failure {
    fn from(e: worker::Error) -> Self {
        carried(&e).unwrap_or_else(|| Failure::new(Cause::WorkerError, e.to_string()))
    }
}

/// The `Failure` inside `e`, when `e` is one that travelled as a carrier.
#[cfg(feature = "workers-rs")]
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
#[cfg(feature = "workers-rs")]
impl From<Failure> for worker::Error {
    fn from(f: Failure) -> Self {
        let error = js_sys::Error::new(&f.to_carrier());
        error.set_name(CARRIER);
        worker::Error::Internal(error.into())
    }
}

#[cfg(any(feature = "workers-rs", test))]
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
        let f = Failure::new(Cause::OriginErrorStatus, "slow \"db\"")
            .with_context("k", "v")
            .with_origin_status(502)
            .with_origin_body("trace")
            .with_location("src/a.rs:1:2")
            .with_field("attempts", 3)
            .with_field("served_stale", true);
        assert_eq!(Failure::from_carrier(&f.to_carrier()), Some(f));
        for cause in Cause::ALL {
            let f = Failure::new(cause, "m");
            assert_eq!(Failure::from_carrier(&f.to_carrier()), Some(f));
        }
        assert_eq!(Failure::from_carrier("not json"), None);
    }

    #[test]
    fn a_field_set_twice_keeps_its_place_and_the_last_value() {
        let f = Failure::new(Cause::OriginTimeout, "slow")
            .with_field("attempts", 1)
            .with_field("route", "/a/")
            .with_field("attempts", 2);
        assert_eq!(f.fields.len(), 2);
        assert_eq!(f.fields[0], ("attempts".into(), Value::from(2)));
        assert_eq!(f.field("route"), Some(&Value::from("/a/")));
        assert_eq!(f.field("circuit"), None);
        let f = f.with_field("status", 200).with_field("cause", "x");
        assert_eq!(f.fields.len(), 2, "the record's own names are never fields");
    }

    #[test]
    fn causes_know_whether_they_are_the_origins_and_their_gateway_status() {
        let table = [
            (Cause::OriginUnreachable, true, 502),
            (Cause::OriginErrorStatus, true, 502),
            (Cause::OriginTimeout, true, 504),
            (Cause::WorkerError, false, 500),
            (Cause::WorkerPanic, false, 500),
            (Cause::WorkerTrap, false, 500),
            (Cause::ConfigError, false, 500),
        ];
        for (cause, origin, status) in table {
            assert_eq!(
                (cause.is_origin(), cause.gateway_status()),
                (origin, status),
                "{cause}"
            );
        }
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
