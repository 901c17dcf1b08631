//! After an attempt failed: what the failure is, and the status of its
//! answer. (What to do next is the rescue's: `rescue::next`.) Pure: tested
//! natively.

use error_shield::parts::status;
use error_shield::{Cause, Failure};

use crate::credentials::Secrets;
use crate::settings::{Settings, StatusPolicy};

/// How an attempt at the origin failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// The origin answered with a status in `FAILURE_STATUSES`.
    Status {
        /// The status.
        status: u16,
        /// The first bytes of its body (at most `LOG_ORIGIN_BODY_BYTES`).
        excerpt: &'a [u8],
        /// The client's credentials, cut out of it before it is logged.
        secrets: &'a Secrets,
    },
    /// No response headers within the timeout.
    TimedOut,
    /// The fetch failed (DNS, connect, reset, TLS, not HTTP).
    Unreachable(String),
    /// The body broke after the headers went to the client, which had
    /// `sent` bytes of it by then.
    BrokenBody {
        /// The stream's error.
        message: String,
        /// Body bytes that reached the client.
        sent: u64,
    },
}

/// The failure of `attempt`, the `attempts`-th try.
pub fn classify(s: &Settings, attempt: Attempt<'_>, attempts: u32) -> Failure {
    let mut failure = match attempt {
        Attempt::Status {
            status,
            excerpt,
            secrets,
        } => {
            let f = Failure::new(
                Cause::OriginErrorStatus,
                format!("origin answered {status}"),
            )
            .with_origin_status(status);
            let max = s.log_origin_body_bytes as usize;
            if max > 0 {
                f.with_origin_body(crate::excerpt::logged(excerpt, max, secrets))
            } else {
                f
            }
        }
        Attempt::TimedOut => Failure::new(
            Cause::OriginTimeout,
            format!("no response headers within {} ms", s.timeout_ms),
        ),
        Attempt::Unreachable(message) => Failure::new(Cause::OriginUnreachable, message),
        Attempt::BrokenBody { message, sent } => Failure::new(
            Cause::OriginUnreachable,
            format!("body broke after the headers, {sent} bytes sent: {message}"),
        )
        .with_field("after_headers", true)
        .with_field("bytes", sent),
    };
    // With retries configured, every record says how many tries it took.
    if s.retries > 0 {
        failure.set_field("attempts", attempts);
    }
    failure
}

/// The status of the uniform error for `failure` under `policy`: with
/// `by-cause`, the cause's gateway status (502, 504, 500); with `origin`,
/// the same except that an origin's failing status is kept.
pub fn status_for(policy: StatusPolicy, failure: &Failure) -> u16 {
    match (policy, failure.origin_status) {
        (StatusPolicy::Always500, _) => status::INTERNAL_SERVER_ERROR,
        (StatusPolicy::Origin, Some(origin))
            if failure.cause == Cause::OriginErrorStatus && status::RANGE.contains(&origin) =>
        {
            origin
        }
        _ => failure.cause.gateway_status(),
    }
}

/// The status of the uniform error while the circuit is open: 503 ("come
/// back later", with `Retry-After`) unless every failure is a 500.
pub fn open_status(policy: StatusPolicy) -> u16 {
    match policy {
        StatusPolicy::Always500 => status::INTERNAL_SERVER_ERROR,
        StatusPolicy::ByCause | StatusPolicy::Origin => status::SERVICE_UNAVAILABLE,
    }
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
