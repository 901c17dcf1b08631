//! Stale-if-error (RFC 5861): which responses may be kept, for how long, and
//! whether a kept copy may still be served. Pure: tested natively; the Cache
//! API calls live in `js/origin.js`.

/// Whether a 200 GET may be stored, and for how many seconds it may be
/// served when the origin fails. `None`: never store it.
///
/// Not stored: requests with `Authorization` or `Cookie` (personal), responses
/// with `Set-Cookie`, `private` or `no-store`. The origin's own
/// `stale-if-error=N` wins over the configured window.
pub fn window(
    method: &str,
    personal_request: bool,
    status: u16,
    set_cookie: bool,
    cache_control: Option<&str>,
    configured: u32,
) -> Option<u32> {
    if method != "GET" || personal_request || status != 200 || set_cookie {
        return None;
    }
    let mut window = configured;
    for directive in cache_control.unwrap_or("").split(',') {
        let (name, value) = directive
            .split_once('=')
            .map_or((directive, None), |(n, v)| (n, Some(v)));
        match name.trim().to_ascii_lowercase().as_str() {
            "private" | "no-store" => return None,
            "stale-if-error" => {
                if let Some(n) = value.and_then(|v| v.trim().trim_matches('"').parse().ok()) {
                    window = n;
                }
            }
            _ => {}
        }
    }
    (window > 0).then_some(window)
}

/// The `Age` (seconds) to serve a copy stored at `stored_at_ms` with
/// `window` seconds, at `now_ms`; `None` once the window has passed.
pub fn age(stored_at_ms: f64, window: u32, now_ms: f64) -> Option<u64> {
    let age_ms = (now_ms - stored_at_ms).max(0.0);
    (age_ms <= f64::from(window) * 1000.0).then(|| (age_ms / 1000.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// method, personal request, status, Set-Cookie, Cache-Control, configured, expected.
    type Case = (
        &'static str,
        bool,
        u16,
        bool,
        Option<&'static str>,
        u32,
        Option<u32>,
    );

    #[test]
    fn only_shareable_200_gets_are_stored() {
        let table: [Case; 12] = [
            ("GET", false, 200, false, None, 60, Some(60)),
            ("GET", false, 200, false, Some("max-age=10"), 60, Some(60)),
            (
                "GET",
                false,
                200,
                false,
                Some("public, stale-if-error=300"),
                60,
                Some(300),
            ),
            (
                "GET",
                false,
                200,
                false,
                Some("stale-if-error=\"30\""),
                60,
                Some(30),
            ),
            ("GET", false, 200, false, Some("stale-if-error=0"), 60, None),
            (
                "GET",
                false,
                200,
                false,
                Some("max-age=0, PRIVATE"),
                60,
                None,
            ),
            ("GET", false, 200, false, Some("no-store"), 60, None),
            ("GET", true, 200, false, None, 60, None),
            ("GET", false, 200, true, None, 60, None),
            ("GET", false, 206, false, None, 60, None),
            ("POST", false, 200, false, None, 60, None),
            ("HEAD", false, 200, false, None, 60, None),
        ];
        for (method, personal, status, cookie, cc, configured, want) in table {
            assert_eq!(
                window(method, personal, status, cookie, cc, configured),
                want,
                "{method} {personal} {status} {cookie} {cc:?}"
            );
        }
    }

    #[test]
    fn copies_are_served_within_the_window_only() {
        assert_eq!(age(1_000.0, 60, 1_000.0), Some(0));
        assert_eq!(age(1_000.0, 60, 31_500.0), Some(30));
        assert_eq!(age(1_000.0, 60, 61_000.0), Some(60));
        assert_eq!(age(1_000.0, 60, 61_001.0), None);
        // A clock that went backwards never makes a negative age.
        assert_eq!(age(5_000.0, 60, 1_000.0), Some(0));
    }
}
