//! Assertions more than one test file makes.

use serde_json::Value;

use crate::client::{get, unique_id};
use crate::worker::Worker;

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
