//! Maintenance mode: which requests still pass, and the one notice line per
//! isolate. Pure but for the notice: tested natively.

use crate::origin;
use crate::settings::Maintenance;

/// The header that carries `MAINTENANCE_BYPASS_TOKEN`.
pub const BYPASS_HEADER: &str = "x-maintenance-bypass";

/// Whether a request to `url` with `token` in the bypass header passes
/// through although maintenance is on.
pub fn bypassed(m: &Maintenance, url: &str, token: Option<&str>) -> bool {
    let path = origin::path(url);
    m.bypass_paths.iter().any(|p| path.starts_with(p.as_str()))
        || matches!((&m.bypass_token, token), (Some(want), Some(got)) if same(want.as_bytes(), got.as_bytes()))
}

/// Compares in time independent of where the inputs differ (a guessed
/// prefix of the secret is not faster to reject than a wrong one).
fn same(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

/// The info line written once per isolate while maintenance is on: not an
/// error record, so no alert fires for it.
pub fn notice(m: &Maintenance) -> String {
    serde_json::json!({
        "level": "info",
        "event": "maintenance",
        "status": 503,
        "retry_after": m.retry_after,
        "message": "maintenance mode is on: requests that are not bypassed get 503 and the origin is not contacted",
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(paths: &[&str], token: Option<&str>) -> Maintenance {
        Maintenance {
            on: true,
            bypass_paths: paths.iter().map(|p| p.to_string()).collect(),
            bypass_token: token.map(str::to_owned),
            ..Maintenance::default()
        }
    }

    #[test]
    fn bypass_paths_are_prefixes_of_the_path_only() {
        let m = on(&["/healthz", "/status/"], None);
        let table = [
            ("https://w.dev/healthz", true),
            ("https://w.dev/healthz/deep?x=1", true),
            ("https://w.dev/healthzz", true),
            ("https://w.dev/status/db", true),
            ("https://w.dev/status", false),
            ("https://w.dev/api?next=/healthz", false),
            ("https://w.dev/", false),
            ("https://w.dev", false),
        ];
        for (url, want) in table {
            assert_eq!(bypassed(&m, url, None), want, "{url}");
        }
    }

    #[test]
    fn the_token_must_match_exactly() {
        let m = on(&[], Some("s3cret"));
        let table = [
            (Some("s3cret"), true),
            (Some("s3cre"), false),
            (Some("s3cret!"), false),
            (Some("S3CRET"), false),
            (Some(""), false),
            (None, false),
        ];
        for (token, want) in table {
            assert_eq!(bypassed(&m, "https://w.dev/", token), want, "{token:?}");
        }
        assert!(!bypassed(&on(&[], None), "https://w.dev/", Some("")));
    }

    #[test]
    fn the_notice_is_an_info_line_not_an_error() {
        let v: serde_json::Value = serde_json::from_str(&notice(&on(&[], None))).unwrap();
        assert_eq!(
            (v["level"].as_str(), v["event"].as_str()),
            (Some("info"), Some("maintenance"))
        );
        assert_eq!(v["retry_after"], 300);
    }
}
