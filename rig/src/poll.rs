//! Waiting for a positive signal (a server answers, a copy became
//! servable, a stream ended) instead of a fixed sleep.

use std::thread;
use std::time::{Duration, Instant};

/// Calls `probe` every `every` until it gives `Some`, for at most `limit`
/// (`None` then). The probe runs at least once, also with a zero `limit`.
pub fn poll_every<T>(
    every: Duration,
    limit: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(every);
    }
}

/// Calls `probe` every 100 ms until it gives `Some`, for at most `limit`;
/// panics naming `what` if it never does (a test's way to fail).
pub fn poll<T>(what: &str, limit: Duration, probe: impl FnMut() -> Option<T>) -> T {
    poll_every(Duration::from_millis(100), limit, probe)
        .unwrap_or_else(|| panic!("gave up after {limit:?} waiting for {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_that_holds_at_once_is_called_once_even_without_time() {
        let mut calls = 0;
        let got = poll_every(Duration::from_secs(1), Duration::ZERO, || {
            calls += 1;
            Some(calls)
        });
        assert_eq!((got, calls), (Some(1), 1));
    }

    #[test]
    fn a_probe_that_never_holds_gives_none_after_the_limit() {
        let mut calls = 0;
        let started = Instant::now();
        let limit = Duration::from_millis(50);
        let got: Option<()> = poll_every(Duration::from_millis(5), limit, || {
            calls += 1;
            None
        });
        assert_eq!(got, None);
        assert!(started.elapsed() >= limit);
        // The control: it kept probing until the limit.
        assert!(calls > 1, "{calls} calls");
    }

    #[test]
    fn poll_returns_what_the_probe_found_late() {
        let mut calls = 0;
        let got = poll("the third call", Duration::from_secs(5), || {
            calls += 1;
            (calls == 3).then_some("found")
        });
        assert_eq!((got, calls), ("found", 3));
    }

    #[test]
    #[should_panic(expected = "waiting for nothing")]
    fn poll_panics_naming_what_never_came() {
        poll("nothing", Duration::from_millis(10), || None::<()>);
    }
}
