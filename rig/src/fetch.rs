//! One request on a fresh connection: no redirects followed (a 3xx is an
//! answer to check), no idle connection kept, any status an answer.

use std::io::Read;
use std::time::Duration;

/// The most of a body read (the largest transfer a test makes is 48 MiB).
const MAX_BODY: u64 = 256 * 1024 * 1024;

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// By name (lower case), sorted; every value of a repeated header.
    pub headers: Vec<(String, String)>,
    /// The body; empty for a HEAD, of which nothing is read.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `method url` with `headers` and `body`; `Err` (ureq's words) when
/// no answer came within `timeout` or its body could not be read.
pub fn fetch(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    timeout: Duration,
) -> Result<Answer, String> {
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(timeout)
        .max_idle_connections(0)
        .build();
    let mut req = agent.request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let mut names = resp.headers_names();
    names.sort();
    names.dedup();
    let headers = names
        .iter()
        .flat_map(|name| resp.all(name).into_iter().map(|v| (name.clone(), v.into())))
        .collect();
    let mut body = Vec::new();
    if method != "HEAD" {
        resp.into_reader()
            .take(MAX_BODY)
            .read_to_end(&mut body)
            .map_err(|e| format!("reading the body: {e}"))?;
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}
