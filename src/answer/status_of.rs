//! The status of every answer of ours, chosen here once: a failure's
//! uniform error under the rule's `RESPONSE_STATUS`, an open circuit's, an
//! upload that ended the request, the maintenance 503. Pure: tested
//! natively.

use error_shield::parts::status::{self as http, INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE};
use error_shield::{Cause, Failure};

use crate::config::settings::StatusPolicy;

/// What an answer of ours answers.
#[derive(Debug, Clone, Copy)]
pub enum Of<'a> {
    /// A failure: its uniform error.
    Failure(&'a Failure),
    /// A request the open circuit held off, with nowhere else to go.
    Held,
    /// A client's upload that stalled or broke: no failure of anyone's we
    /// can name.
    UploadEnded,
    /// The maintenance 503.
    Maintenance,
}

/// The status of the answer to `of` under `policy` (`None`: the settings
/// could not be read, and every failure is a 500). With `by-cause`, a
/// failure gets its cause's gateway status (502, 504, 500); with `origin`
/// the same, except that an origin's failing status is kept. An open
/// circuit is a 503 ("come back later", with `Retry-After`) unless every
/// failure is a 500.
pub fn status_of(policy: Option<StatusPolicy>, of: Of<'_>) -> u16 {
    let policy = policy.unwrap_or(StatusPolicy::Always500);
    match (of, policy) {
        (Of::Maintenance, _) => SERVICE_UNAVAILABLE,
        (Of::UploadEnded, _) | (_, StatusPolicy::Always500) => INTERNAL_SERVER_ERROR,
        (Of::Held, StatusPolicy::ByCause | StatusPolicy::Origin) => SERVICE_UNAVAILABLE,
        (Of::Failure(f), StatusPolicy::Origin) => match f.origin_status {
            Some(origin)
                if f.cause == Cause::OriginErrorStatus && http::RANGE.contains(&origin) =>
            {
                origin
            }
            _ => f.cause.gateway_status(),
        },
        (Of::Failure(f), StatusPolicy::ByCause) => f.cause.gateway_status(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_cause_only_when_asked() {
        let by_cause = [
            (Cause::OriginUnreachable, 502),
            (Cause::OriginErrorStatus, 502),
            (Cause::OriginTimeout, 504),
            (Cause::WorkerError, 500),
            (Cause::WorkerPanic, 500),
            (Cause::WorkerTrap, 500),
            (Cause::ConfigError, 500),
        ];
        for (cause, want) in by_cause {
            let f = Failure::new(cause, "m");
            assert_eq!(
                status_of(Some(StatusPolicy::ByCause), Of::Failure(&f)),
                want,
                "{cause}"
            );
            assert_eq!(
                status_of(Some(StatusPolicy::Origin), Of::Failure(&f)),
                want,
                "{cause}"
            );
            assert_eq!(
                status_of(Some(StatusPolicy::Always500), Of::Failure(&f)),
                500,
                "{cause}"
            );
        }
    }

    #[test]
    fn the_origin_policy_keeps_the_origins_failing_status_and_only_that() {
        let answered = |s| Failure::new(Cause::OriginErrorStatus, "m").with_origin_status(s);
        for (origin, want) in [(503, 503), (500, 500), (599, 599), (429, 429), (302, 502)] {
            assert_eq!(
                status_of(Some(StatusPolicy::Origin), Of::Failure(&answered(origin))),
                want,
                "{origin}"
            );
            assert_eq!(
                status_of(Some(StatusPolicy::ByCause), Of::Failure(&answered(origin))),
                502,
                "{origin}"
            );
        }
    }

    #[test]
    fn an_open_circuit_is_a_503_an_ended_upload_a_500_and_maintenance_a_503() {
        for (policy, held) in [
            (Some(StatusPolicy::ByCause), 503),
            (Some(StatusPolicy::Origin), 503),
            (Some(StatusPolicy::Always500), 500),
            (None, 500),
        ] {
            assert_eq!(status_of(policy, Of::Held), held, "{policy:?}");
            assert_eq!(status_of(policy, Of::UploadEnded), 500, "{policy:?}");
            assert_eq!(status_of(policy, Of::Maintenance), 503, "{policy:?}");
        }
        // Unreadable settings: every failure is a 500.
        let f = Failure::new(Cause::OriginTimeout, "t");
        assert_eq!(status_of(None, Of::Failure(&f)), 500);
    }
}
