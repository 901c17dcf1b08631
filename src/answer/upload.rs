//! An upload that ended the request before the origin could answer. While
//! the body is on its way the worker cannot tell a client that stopped
//! sending from an origin that stopped reading, and a body that breaks is
//! the client's: so neither is an `error` record blaming the origin, nor a
//! count toward its breaker. The client gets the uniform error; the
//! operator one `warn` line.

use error_shield::parts::redact;
use wasm_bindgen::JsValue;

use error_shield::parts::Incoming;

/// No progress for the timeout.
pub const STALLED: &str = "upload_stalled";
/// The client's body broke.
pub const BROKEN: &str = "upload_broken";

/// The warn line (the answer is the rescue's: the uniform error, and for a
/// fail-open request the one record of the worker's failure that sent it).
pub fn warn(
    incoming: &Incoming,
    route: Option<&str>,
    event: &'static str,
    sent: u64,
    timeout_ms: u32,
) {
    let text = line(&Line {
        level: "warn",
        event,
        request_id: &incoming.id,
        method: &incoming.request.method(),
        url: &redact::url(&incoming.url),
        route,
        bytes: sent,
        timeout_ms,
    });
    web_sys::console::warn_1(&JsValue::from_str(&text));
}

/// The warn line's fields, in this order.
#[derive(serde::Serialize)]
pub struct Line<'a> {
    /// Always `warn`.
    pub level: &'static str,
    /// [`STALLED`] or [`BROKEN`].
    pub event: &'static str,
    /// The request id.
    pub request_id: &'a str,
    /// The method.
    pub method: &'a str,
    /// The URL, redacted.
    pub url: &'a str,
    /// The rule's prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<&'a str>,
    /// Body bytes the origin took.
    pub bytes: u64,
    /// How long an upload may make no progress.
    pub timeout_ms: u32,
}

/// One line of JSON.
pub fn line(l: &Line<'_>) -> String {
    serde_json::to_string(l).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_request_and_shows_no_query_value() {
        let url = redact::url("https://u:pw@w.dev/up?token=sk_live_1");
        let text = line(&Line {
            level: "warn",
            event: STALLED,
            request_id: "r1",
            method: "POST",
            url: &url,
            route: None,
            bytes: 5,
            timeout_ms: 1500,
        });
        assert_eq!(
            text,
            r#"{"level":"warn","event":"upload_stalled","request_id":"r1","method":"POST","url":"https://REDACTED@w.dev/up?token=REDACTED","bytes":5,"timeout_ms":1500}"#
        );
        assert!(!text.contains("sk_live") && !text.contains("pw"));
    }
}
