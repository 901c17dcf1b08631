//! After an attempt failed: what the failure is (its cause and what the
//! record shows of it). What comes next is [`super::next`]'s. Pure: tested
//! natively.

use error_shield::{Cause, Failure};

use crate::answer::credentials::Secrets;
use crate::config::settings::Settings;

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
    /// The body broke after the headers went to the client. The runtime's
    /// own pipe moved it, which counts nothing: what the origin promised
    /// (`Content-Length`, when it framed the body) is what is known.
    BrokenBody {
        /// The stream's error.
        message: String,
        /// The length the origin promised, if it framed the body by one.
        expected: Option<u64>,
    },
}

/// The failure of `attempt`, the `attempts`-th try.
pub fn classify(s: &Settings, attempt: Attempt<'_>, attempts: u32) -> Failure {
    let mut failure = match attempt {
        Attempt::Status {
            status,
            excerpt,
            secrets,
        } if handshake_failed(status, excerpt) => Failure::new(
            Cause::OriginUnreachable,
            format!(
                "the origin's WebSocket handshake failed: {}",
                crate::answer::excerpt::logged(excerpt, HANDSHAKE_TEXT_MAX, secrets)
            ),
        ),
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
                f.with_origin_body(crate::answer::excerpt::logged(excerpt, max, secrets))
            } else {
                f
            }
        }
        Attempt::TimedOut => Failure::new(
            Cause::OriginTimeout,
            format!("no response headers within {} ms", s.timeout_ms),
        ),
        Attempt::Unreachable(message) => Failure::new(Cause::OriginUnreachable, message),
        Attempt::BrokenBody { message, expected } => {
            let f = Failure::new(
                Cause::OriginUnreachable,
                format!("body broke after the headers: {message}"),
            )
            .with_field("after_headers", true);
            match expected {
                Some(n) => f.with_field("expected_bytes", n),
                None => f,
            }
        }
    };
    // With retries configured, every record says how many tries it took.
    if s.retries > 0 {
        failure.set_field("attempts", attempts);
    }
    failure
}

/// How the runtime answers an upgrade whose `101` it refused (a wrong
/// `Sec-WebSocket-Accept`, no `Upgrade`): a 502 of its own making, with
/// this text. Not the origin's status nor its body: its protocol failed.
const HANDSHAKE: &[u8] = b"Server failed WebSocket handshake";

/// The runtime's text is short; more would be an origin's own body.
const HANDSHAKE_TEXT_MAX: usize = 256;

fn handshake_failed(status: u16, excerpt: &[u8]) -> bool {
    status == 502 && excerpt.starts_with(HANDSHAKE)
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
