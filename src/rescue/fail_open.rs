//! `ON_WORKER_FAILURE=fail-open`: when the worker's own code failed before
//! the request was sent, the request goes to the origin as it came (the id
//! and forwarded host added, nothing else decided), with the failure
//! carried for its one record (`failed_open`). Never for a `config_error`,
//! a loop, or during maintenance; never twice (the caller sends only what
//! was not sent). Pure: tested natively.

use error_shield::{Cause, Failure};

use super::journey::Stage;
use crate::config::settings::{OnWorkerFailure, Settings};

/// The stage of a request sent on as it came after `failure`, when the
/// settings say so; `None`: the uniform error stays.
pub fn fail_open(s: &Settings, failure: &Failure) -> Option<Stage> {
    let worker = matches!(
        failure.cause,
        Cause::WorkerError | Cause::WorkerPanic | Cause::WorkerTrap
    );
    if !worker || s.on_worker_failure != OnWorkerFailure::FailOpen || s.maintenance.on {
        return None;
    }
    Some(Stage::FailedOpen {
        failure: failure.clone().with_field("failed_open", true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_workers_own_failures_fail_open_and_only_when_asked() {
        let on = Settings {
            on_worker_failure: OnWorkerFailure::FailOpen,
            ..Settings::default()
        };
        for cause in Cause::ALL {
            let f = Failure::new(cause, "m");
            let worker = matches!(
                cause,
                Cause::WorkerError | Cause::WorkerPanic | Cause::WorkerTrap
            );
            let want = worker.then(|| Stage::FailedOpen {
                failure: f.clone().with_field("failed_open", true),
            });
            assert_eq!(fail_open(&on, &f), want, "{cause}");
            assert_eq!(fail_open(&Settings::default(), &f), None, "{cause}");
        }
        let mut maintenance = on.clone();
        maintenance.maintenance.on = true;
        let panic = Failure::new(Cause::WorkerPanic, "p");
        assert_eq!(fail_open(&maintenance, &panic), None);
    }
}
