//! What came back from the executor: one kind with its data
//! (`{ kind, response, status, excerpt, retryAfter, error, signal, sent,
//! expected, left }`,
//! each only where its kind has it), read into one [`Outcome`]. The kinds
//! are numbered here and handed to JS by name ([`Kind::ALL`]).

use error_shield::{Cause, Failure};

use crate::answer::credentials::Secrets;
use crate::config::settings::Settings;
use crate::rescue::classify::{self, Attempt};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Response;

/// What came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A good response Rust asked to see (stale-if-error may store it).
    Good = 1,
    /// The origin answered a status in `FAILURE_STATUSES`.
    FailingStatus,
    /// An answer carrying a loop signal: whose, Rust judges (`hop`).
    Signalled,
    /// The fetch failed: DNS, connect, reset, TLS, not HTTP.
    FetchError,
    /// No response headers within the timeout.
    TimedOut,
    /// The executor could not build the request: the worker's failure.
    BrokenRequest,
    /// The stored copy was found…
    CacheHit,
    /// …or not.
    CacheMiss,
    /// The body broke after its headers reached the client.
    BodyBroken,
    /// The request's body made no progress for the timeout: the client
    /// stopped sending or the origin stopped reading, no telling which.
    UploadStalled,
    /// The client's body broke while it was being sent on.
    UploadBroken,
}

impl Kind {
    /// Every kind, with the name JS knows it by.
    pub const ALL: [(Kind, &'static str); 11] = [
        (Kind::Good, "good"),
        (Kind::FailingStatus, "failingStatus"),
        (Kind::Signalled, "signalled"),
        (Kind::FetchError, "fetchError"),
        (Kind::TimedOut, "timedOut"),
        (Kind::BrokenRequest, "brokenRequest"),
        (Kind::CacheHit, "cacheHit"),
        (Kind::CacheMiss, "cacheMiss"),
        (Kind::BodyBroken, "bodyBroken"),
        (Kind::UploadStalled, "uploadStalled"),
        (Kind::UploadBroken, "uploadBroken"),
    ];

    /// The kind numbered `n`.
    pub fn of(n: u8) -> Option<Kind> {
        Kind::ALL.iter().map(|(k, _)| *k).find(|k| *k as u8 == n)
    }
}

/// One kind with its data.
pub enum Outcome {
    /// See [`Kind::Good`].
    Good(Response),
    /// See [`Kind::FailingStatus`].
    FailingStatus {
        /// The status.
        status: u16,
        /// The first bytes of its body.
        excerpt: Vec<u8>,
        /// Its `Retry-After`.
        retry_after: Option<String>,
    },
    /// See [`Kind::Signalled`].
    Signalled {
        /// The answer, unread.
        response: Response,
        /// Its signal.
        signal: String,
    },
    /// See [`Kind::FetchError`].
    FetchError(String),
    /// See [`Kind::TimedOut`].
    TimedOut,
    /// See [`Kind::BrokenRequest`].
    BrokenRequest(String),
    /// See [`Kind::CacheHit`].
    CacheHit(Response),
    /// See [`Kind::CacheMiss`].
    CacheMiss,
    /// See [`Kind::BodyBroken`].
    BodyBroken {
        /// The status the client got.
        status: u16,
        /// The length the origin promised, if it framed the body by one.
        expected: Option<u64>,
        /// The stream's error.
        message: String,
        /// The client had left by then: its going broke the pipe, which
        /// is no failure.
        left: bool,
    },
    /// See [`Kind::UploadStalled`].
    UploadStalled {
        /// Body bytes passed on by then.
        sent: u64,
    },
    /// See [`Kind::UploadBroken`] (its error, the client's, is not kept).
    UploadBroken {
        /// Body bytes passed on by then.
        sent: u64,
    },
}

impl Outcome {
    /// What came back (`came`); a kind this build does not know (the
    /// executor and Rust out of step) is the worker's own failure.
    pub fn read(came: &JsValue) -> Result<Outcome, Failure> {
        Outcome::known(came).ok_or_else(|| {
            Failure::new(
                Cause::WorkerError,
                "the executor handed back an unknown outcome",
            )
        })
    }

    fn known(came: &JsValue) -> Option<Outcome> {
        let get =
            |name: &str| js_sys::Reflect::get(came, &JsValue::from_str(name)).unwrap_or_default();
        let number = |name: &str| get(name).as_f64().unwrap_or(0.0);
        // As the executor set them: no `instanceof` (a runtime's objects
        // need not be this realm's).
        let object = |name: &str| Some(get(name)).filter(JsValue::is_object);
        let response = || object("response").map(JsCast::unchecked_into::<Response>);
        let message = || message(&get("error"));
        Some(match Kind::of(number("kind") as u8)? {
            Kind::Good => answerable(response()?),
            Kind::FailingStatus => Outcome::FailingStatus {
                status: number("status") as u16,
                excerpt: object("excerpt")
                    .map(|b| b.unchecked_into::<js_sys::Uint8Array>().to_vec())
                    .unwrap_or_default(),
                retry_after: get("retryAfter").as_string(),
            },
            Kind::Signalled => Outcome::Signalled {
                response: response()?,
                signal: get("signal").as_string().unwrap_or_default(),
            },
            Kind::FetchError => Outcome::FetchError(message()),
            Kind::TimedOut => Outcome::TimedOut,
            Kind::BrokenRequest => Outcome::BrokenRequest(message()),
            Kind::CacheHit => Outcome::CacheHit(response()?),
            Kind::CacheMiss => Outcome::CacheMiss,
            Kind::BodyBroken => Outcome::BodyBroken {
                status: number("status") as u16,
                expected: Some(number("expected"))
                    .filter(|n| *n >= 0.0)
                    .map(|n| n as u64),
                message: message(),
                left: get("left").is_truthy(),
            },
            Kind::UploadStalled => Outcome::UploadStalled {
                sent: number("sent") as u64,
            },
            Kind::UploadBroken => Outcome::UploadBroken {
                sent: number("sent") as u64,
            },
        })
    }
}

/// The failure of the `attempts`-th attempt, as the executor saw it;
/// `secrets` (read only for a failing body to log) are the client's
/// credentials, cut out of its excerpt.
pub fn failure_of(
    settings: &Settings,
    outcome: Outcome,
    attempts: u32,
    secrets: impl FnOnce() -> Secrets,
) -> Failure {
    let attempt = match outcome {
        Outcome::FailingStatus {
            status, excerpt, ..
        } => {
            let secrets = if settings.log_origin_body_bytes > 0 && !excerpt.is_empty() {
                secrets()
            } else {
                Secrets::default()
            };
            return classify::classify(
                settings,
                Attempt::Status {
                    status,
                    excerpt: &excerpt,
                    secrets: &secrets,
                },
                attempts,
            );
        }
        Outcome::TimedOut => Attempt::TimedOut,
        Outcome::FetchError(message) => Attempt::Unreachable(message),
        Outcome::BodyBroken {
            expected, message, ..
        } => Attempt::BrokenBody { message, expected },
        // Our executor failed to build the request: not the origin's fault.
        Outcome::BrokenRequest(message) => {
            return Failure::new(
                Cause::WorkerError,
                format!("building the origin request: {message}"),
            );
        }
        Outcome::Good(_)
        | Outcome::Signalled { .. }
        | Outcome::CacheHit(_)
        | Outcome::CacheMiss
        | Outcome::UploadStalled { .. }
        | Outcome::UploadBroken { .. } => {
            return Failure::new(
                Cause::WorkerError,
                "an outcome that is no failure was judged as one",
            );
        }
    };
    classify::classify(settings, attempt, attempts)
}

/// A good response, unless its status is one no response can carry (the
/// runtime's fetch takes a 600): that is the origin's failure, judged
/// before anything builds a response from it.
fn answerable(response: Response) -> Outcome {
    let status = js_sys::Reflect::get(&response, &JsValue::from_str("status"))
        .ok()
        .and_then(|s| s.as_f64())
        .unwrap_or(f64::NAN);
    match crate::config::failure_statuses::unanswerable(status) {
        None => Outcome::Good(response),
        Some(message) => {
            if let Some(body) = response.body() {
                let _ = body.cancel();
            }
            Outcome::FetchError(message)
        }
    }
}

/// The message of a JS error (or of whatever was thrown).
fn message(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "fetch failed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_number_and_one_name() {
        for (i, (kind, name)) in Kind::ALL.iter().enumerate() {
            assert_eq!(Kind::of(*kind as u8), Some(*kind), "{name}");
            assert!(
                Kind::ALL[i + 1..].iter().all(|(_, n)| n != name),
                "{name} twice"
            );
        }
        assert_eq!((Kind::of(0), Kind::of(200)), (None, None));
    }
}
