//! The operator's side: the JSON log records a worker prints, read back
//! from what its wrangler printed.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::worker::Worker;

/// A log record from one line of wrangler output, if it holds one.
pub fn parse_record(line: &str) -> Option<Value> {
    let start = line.find("{\"level\":")?;
    let end = line.rfind('}')?;
    serde_json::from_str(line.get(start..=end)?).ok()
}

impl Worker {
    /// All records printed so far.
    pub fn records(&self) -> Vec<Value> {
        self.output().lines().filter_map(parse_record).collect()
    }

    /// The records printed so far for `request_id`.
    fn matching(&self, request_id: &str) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r["request_id"] == request_id)
            .collect()
    }

    /// The records for `request_id`, waiting up to 5 s for at least one
    /// (wrangler prints a record after the response has gone).
    pub fn records_for(&self, request_id: &str) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self.matching(request_id);
            if !found.is_empty() || Instant::now() > deadline {
                return found;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asserts that none of `ids` has a record, once a record written
    /// after them has shown: `control` sends a request on this worker that
    /// writes one and gives its id (a record written for `ids` would have
    /// been printed before it). No fixed wait stands in for that signal.
    pub fn assert_no_records_after(&self, ids: &[&str], control: impl FnOnce() -> String) {
        let control = control();
        assert!(
            !self.records_for(&control).is_empty(),
            "the control {control} wrote no record\n--- output ---\n{}",
            self.output()
        );
        let recorded: Vec<Value> = (self.records().into_iter())
            .filter(|r| ids.iter().any(|id| r["request_id"] == *id))
            .collect();
        assert!(recorded.is_empty(), "records: {recorded:?}");
    }

    /// [`Worker::assert_no_records_after`] with a failing status (the
    /// origin's `500`) for its control.
    pub fn assert_no_records(&self, ids: &[&str]) {
        self.assert_no_records_after(ids, || {
            let id = crate::unique_id("control");
            let r = crate::get(&self.url("/status/500"), &[("x-request-id", &id)]);
            assert!(r.status >= 500, "the control: {r:?}");
            id
        });
    }

    /// The one record for `request_id`; fails unless there is exactly one.
    pub fn record_for(&self, request_id: &str) -> Value {
        let mut found = self.records_for(request_id);
        // Give a duplicate a moment to show up before declaring there is one
        // (a marker request here could change what a test measures: a
        // breaker's count, a stored copy).
        thread::sleep(Duration::from_millis(200));
        if !found.is_empty() {
            found = self.matching(request_id);
        }
        assert_eq!(
            found.len(),
            1,
            "want exactly one record for {request_id}, got {found:?}\n--- output ---\n{}",
            self.output()
        );
        found.remove(0)
    }
}
