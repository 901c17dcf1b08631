//! The spans a worker's requests left in `wrangler dev`'s local trace store
//! (`POST /cdn-cgi/explorer/api/local/observability/query`, SQL on the
//! tables `spans` and `logs`).

use std::time::Duration;

use error_shield_rig::poll;
use serde_json::{json, Value};

use crate::client::send;
use crate::worker::Worker;

/// A root span as stored: its trace, span id, error and attributes.
#[derive(Debug)]
pub struct Root {
    /// The platform's trace id.
    pub trace_id: String,
    /// The span's own id.
    pub span_id: String,
    /// What `recordException` left (null: nothing).
    pub error: Value,
    /// The span's attributes, as an object.
    pub attributes: Value,
}

impl Worker {
    /// The rows `sql` selects from the worker's local trace store.
    pub fn spans(&self, sql: &str, params: &[&str]) -> Vec<Vec<Value>> {
        let body = json!({ "sql": sql, "params": params }).to_string();
        let url = self.url("/cdn-cgi/explorer/api/local/observability/query");
        let json = [("content-type", "application/json")];
        let r = send("POST", &url, &json, Some(body.as_bytes()));
        assert_eq!(r.status, 200, "the local trace store: {}", r.text());
        let answer = r.json();
        assert_eq!(answer["success"], true, "{answer}");
        serde_json::from_value(answer["result"]["rows"].clone()).expect("rows")
    }

    /// The one root span `filter` (SQL on `attributes`, one `?`) selects,
    /// waited for: spans are stored once the request is done.
    pub fn root_span(&self, filter: &str, param: &str) -> Root {
        let sql = format!(
            "SELECT trace_id, span_id, error, json(attributes) FROM spans \
             WHERE parent_id IS NULL AND {filter}"
        );
        let mut rows = poll("the root span", Duration::from_secs(10), || {
            let rows = self.spans(&sql, &[param]);
            (!rows.is_empty()).then_some(rows)
        });
        assert_eq!(rows.len(), 1, "{rows:?}");
        let row = rows.remove(0);
        Root {
            trace_id: row[0].as_str().expect("a trace id").to_owned(),
            span_id: row[1].as_str().expect("a span id").to_owned(),
            error: row[2].clone(),
            attributes: serde_json::from_str(row[3].as_str().expect("attributes"))
                .expect("JSON attributes"),
        }
    }

    /// The root span of the failure with request id `id`.
    pub fn failed_span(&self, id: &str) -> Root {
        self.root_span(
            "json_extract(attributes, '$.\"error_shield.request_id\"') = ?",
            id,
        )
    }

    /// The root span of the request whose URL ended with `tail`.
    pub fn span_of_url(&self, tail: &str) -> Root {
        self.root_span(
            "json_extract(attributes, '$.\"url.full\"') LIKE '%' || ?",
            tail,
        )
    }

    /// The children of `parent`: (name, attributes).
    pub fn children(&self, parent: &Root) -> Vec<(String, Value)> {
        let sql = "SELECT name, json(attributes) FROM spans \
                   WHERE trace_id = ? AND parent_id = ? ORDER BY start_ms";
        let rows = self.spans(sql, &[&parent.trace_id, &parent.span_id]);
        rows.into_iter()
            .map(|r| {
                let a = serde_json::from_str(r[1].as_str().expect("attributes")).expect("JSON");
                (r[0].as_str().expect("a name").to_owned(), a)
            })
            .collect()
    }

    /// Everything the trace store holds, every column, as one text.
    pub fn every_span(&self) -> String {
        let rows = self.spans("SELECT *, json(attributes) FROM spans", &[]);
        serde_json::to_string(&rows).expect("JSON")
    }
}

/// The attributes error-shield sets (`error.type`, `error_shield.*`).
pub fn ours(attributes: &Value) -> Vec<&String> {
    let map = attributes.as_object().expect("an object");
    map.keys()
        .filter(|k| *k == "error.type" || k.starts_with("error_shield."))
        .collect()
}

/// The control of a trace test, which also shows the store works: a
/// request to `path` that passes has its root span, with nothing of ours
/// on it.
pub fn assert_a_pass_leaves_its_span_alone(w: &Worker, path: &str) {
    let passed = crate::unique_id("passed");
    let r = crate::get(&w.url(&format!("{path}?id={passed}")), &[]);
    assert_eq!(r.status, 200);
    let span = w.span_of_url(&passed);
    assert!(ours(&span.attributes).is_empty(), "{}", span.attributes);
    assert!(span.error.is_null(), "{:?}", span.error);
}

/// A failing `path` on `w` with a client `traceparent` the platform does
/// not take: the record keeps the client's trace id and names the
/// platform's as `platform_trace_id`, the failed span's.
pub fn assert_client_trace_kept_beside_the_platforms(w: &Worker, path: &str) {
    let id = crate::unique_id("tp");
    let client = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{client}-00f067aa0ba902b7-01");
    let r = crate::get(
        &w.url(path),
        &[("x-request-id", &id), ("traceparent", &traceparent)],
    );
    assert_eq!(r.status, 500);
    let record = w.record_for(&id);
    let span = w.failed_span(&id);
    // The local runtime starts its own trace whatever the client sent.
    assert_ne!(span.trace_id, client);
    assert_eq!(record["trace_id"], client, "{record}");
    assert_eq!(
        record["platform_trace_id"],
        span.trace_id.as_str(),
        "{record}"
    );
}
