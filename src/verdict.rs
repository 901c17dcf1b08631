//! After an attempt failed: what the failure is, and what to do next (try
//! again, look for a stored copy, or answer). Pure: tested natively.

use error_shield::parts::status;
use error_shield::{Cause, Failure};

use crate::credentials::Secrets;
use crate::plan::Rescue;
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
        } if handshake_failed(status, excerpt) => Failure::new(
            Cause::OriginUnreachable,
            format!(
                "the origin's WebSocket handshake failed: {}",
                crate::excerpt::logged(excerpt, HANDSHAKE_TEXT_MAX, secrets)
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

/// How the runtime answers an upgrade whose `101` it refused (a wrong
/// `Sec-WebSocket-Accept`, no `Upgrade`): a 502 of its own making, with
/// this text. Not the origin's status nor its body: its protocol failed.
const HANDSHAKE: &[u8] = b"Server failed WebSocket handshake";

/// The runtime's text is short; more would be an origin's own body.
const HANDSHAKE_TEXT_MAX: usize = 256;

fn handshake_failed(status: u16, excerpt: &[u8]) -> bool {
    status == 502 && excerpt.starts_with(HANDSHAKE)
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again after `delay_ms`, with `timeout_ms` left for the headers.
    Retry {
        /// The backoff.
        delay_ms: u32,
        /// What is left of the timeout after the backoff.
        timeout_ms: u32,
    },
    /// Send it once to the fallback origin, with its own timeout.
    Fallback,
    /// Look for a stored copy to serve instead of the error.
    LookUp,
    /// Answer with the error.
    Fail,
}

/// The next step after `failure` on the `attempts`-th try, `elapsed_ms`
/// after the first began (`fallen`: that try was the fallback's); `jitter`
/// is a random byte. The order of rescue: retries, the fallback, a stale
/// copy, the error.
pub fn next(
    plan: &Rescue,
    failure: &Failure,
    attempts: u32,
    elapsed_ms: f64,
    jitter: u8,
    fallen: bool,
) -> Next {
    if fallen {
        return if plan.stale { Next::LookUp } else { Next::Fail };
    }
    if failure.cause == Cause::OriginUnreachable && attempts <= plan.retries {
        let delay_ms = backoff_ms(attempts, jitter);
        let left = f64::from(plan.timeout_ms) - elapsed_ms - f64::from(delay_ms);
        if left >= 1.0 {
            return Next::Retry {
                delay_ms,
                timeout_ms: left as u32,
            };
        }
    }
    if !failure.cause.is_origin() {
        return Next::Fail;
    }
    if plan.fallback.is_some() {
        return Next::Fallback;
    }
    if plan.stale {
        return Next::LookUp;
    }
    Next::Fail
}

/// 25 ms, 50 ms, 100 ms, … (capped at 1.6 s) plus 0–25 ms of jitter.
pub fn backoff_ms(attempt: u32, jitter: u8) -> u32 {
    25 * (1 << attempt.saturating_sub(1).min(6)) + u32::from(jitter) % 26
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
