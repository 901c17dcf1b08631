//! Assertions more than one test file makes.

use std::time::Duration;

use serde_json::Value;

use crate::client::{get, unique_id, Resp};
use crate::worker::Worker;
use error_shield_rig::poll;

/// The `content-security-policy` of every HTML answer: no scripts, no
/// external loads. Written out here, so a change to it fails a test.
pub const HTML_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Makes `worker` trap each way (`abort`, `stack_overflow`), checks the
/// uniform 500 and its one `worker_trap` record, and returns the records.
pub fn assert_traps_answered(worker: &Worker) -> Vec<(&'static str, Value)> {
    let mut records = Vec::new();
    for kind in ["abort", "stack_overflow"] {
        let id = unique_id(kind);
        let r = get(
            &worker.url("/echo"),
            &[
                ("x-fault-inject", kind),
                ("x-request-id", &id),
                ("accept", "text/plain"),
            ],
        );
        assert_eq!(r.status, 500, "{kind}");
        assert!(
            r.text().contains(&format!("Request ID: {id}")),
            "{kind}: {}",
            r.text()
        );
        let record = worker.record_for(&id);
        assert_eq!(record["cause"], "worker_trap", "{record}");
        records.push((kind, record));
    }
    records
}

/// Whether `r` is a stored copy served instead of the error.
pub fn is_stale(r: &Resp) -> bool {
    r.status == 200 && r.header("x-served-stale") == Some("1")
}

/// Asks for `url` with `headers` until its stored copy is served: the
/// positive signal that the store (off the hot path) has happened.
pub fn until_stale(url: &str, headers: &[(&str, &str)]) -> Resp {
    poll(
        &format!("a stale copy of {url} for {headers:?}"),
        Duration::from_secs(4),
        || Some(get(url, headers)).filter(is_stale),
    )
}
