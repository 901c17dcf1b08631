//! Stale-if-error (RFC 5861): which responses may be kept, for how long, and
//! whether a kept copy may still be served. Pure: tested natively; the Cache
//! API calls live in `js/origin.js`.

/// Whether a response to a GET without credentials (the plan checks the
/// request) may be stored, and for how many seconds it may be served when
/// the origin fails. `None`: never store it.
///
/// Stored: 200s without `Set-Cookie`, `private` or `no-store`. The origin's
/// own `stale-if-error=N` wins over the configured window.
pub fn window(
    status: u16,
    set_cookie: bool,
    cache_control: Option<&str>,
    configured: u32,
) -> Option<u32> {
    if status != 200 || set_cookie {
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

    /// status, Set-Cookie, Cache-Control, configured → window
    type Case = (u16, bool, Option<&'static str>, u32, Option<u32>);

    #[test]
    fn only_shareable_200s_are_stored() {
        let table: [Case; 11] = [
            (200, false, None, 60, Some(60)),
            (200, false, Some("max-age=10"), 60, Some(60)),
            (
                200,
                false,
                Some("public, stale-if-error=300"),
                60,
                Some(300),
            ),
            (200, false, Some("public, stale-if-error=300"), 0, Some(300)),
            (200, false, Some("stale-if-error=\"30\""), 60, Some(30)),
            (200, false, Some("stale-if-error=0"), 60, None),
            (200, false, Some("max-age=0, PRIVATE"), 60, None),
            (200, false, Some("no-store"), 60, None),
            (200, true, None, 60, None),
            (206, false, None, 60, None),
            (304, false, None, 60, None),
        ];
        for (status, cookie, cc, configured, want) in table {
            assert_eq!(
                window(status, cookie, cc, configured),
                want,
                "{status} {cookie} {cc:?} {configured}"
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
