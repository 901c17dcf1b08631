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

    /// The one record for `request_id`; fails unless there is exactly one.
    pub fn record_for(&self, request_id: &str) -> Value {
        let mut found = self.records_for(request_id);
        // Give a duplicate a moment to show up before declaring there is one.
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
