//! The origin's `Retry-After`, kept with its status under
//! `RESPONSE_STATUS=origin` when it is valid (RFC 9110 §10.2.3): the one
//! thing of a failing origin response that reaches the client. Pure:
//! tested natively.

use error_shield::{Cause, Failure};
use serde::{Deserialize, Serialize};

use super::status_of::{status_of, Of};
use crate::config::settings::StatusPolicy;

/// Where an answer's `Retry-After` comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RetryAfter {
    /// The origin's, on its failing answer (kept under
    /// `RESPONSE_STATUS=origin` when valid).
    Origin(String),
    /// The open circuit's: seconds until its probe.
    Circuit(u32),
}

/// The `Retry-After` of the answer to `failure`, from where it came: an
/// open circuit's always, an origin's only when [`passed_on`].
pub fn header(
    policy: StatusPolicy,
    failure: &Failure,
    from: Option<&RetryAfter>,
) -> Option<String> {
    match from? {
        RetryAfter::Circuit(seconds) => Some(seconds.to_string()),
        RetryAfter::Origin(v) => passed_on(policy, failure, Some(v)).map(str::to_owned),
    }
}

/// The origin's `Retry-After` to pass on with its kept status (policy
/// `origin`), when it is a valid delta-seconds or HTTP-date; nothing else
/// of the origin's response is kept. A status that is not kept (a failing
/// 3xx becomes 502) keeps no `Retry-After` either: it spoke of that status.
pub fn passed_on<'a>(
    policy: StatusPolicy,
    failure: &Failure,
    value: Option<&'a str>,
) -> Option<&'a str> {
    let kept = policy == StatusPolicy::Origin
        && failure.cause == Cause::OriginErrorStatus
        && failure.origin_status == Some(status_of(Some(policy), Of::Failure(failure)));
    value
        .map(str::trim)
        .filter(|v| kept && (is_delta_seconds(v) || is_http_date(v)))
}

fn is_delta_seconds(v: &str) -> bool {
    (1..=10).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit())
}

/// RFC 9110 §5.6.7: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), or the
/// obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`) forms, checked field by field.
fn is_http_date(v: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const LONG: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let within = |s: &str, lo: u32, hi: u32| s.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n));
    // hour:minute:second, each two digits in range (60: a leap second).
    let time = |s: &str| {
        let p: Vec<&str> = s.split(':').collect();
        p.len() == 3
            && p.iter().all(|x| digits(x, 2))
            && within(p[0], 0, 23)
            && within(p[1], 0, 59)
            && within(p[2], 0, 60)
    };
    let mday = |d: &str, n: usize| digits(d, n) && within(d, 1, 31);
    let f: Vec<&str> = v.split(' ').collect();
    match f.as_slice() {
        [day, d, m, y, t, "GMT"] if day.strip_suffix(',').is_some_and(|d| DAYS.contains(&d)) => {
            mday(d, 2) && MONTHS.contains(m) && digits(y, 4) && time(t)
        }
        [day, date, t, "GMT"] if day.strip_suffix(',').is_some_and(|d| LONG.contains(&d)) => {
            let p: Vec<&str> = date.split('-').collect();
            p.len() == 3 && mday(p[0], 2) && MONTHS.contains(&p[1]) && digits(p[2], 2) && time(t)
        }
        [day, m, rest @ ..] if DAYS.contains(day) && MONTHS.contains(m) => match rest {
            ["", d, t, y] => mday(d, 1) && time(t) && digits(y, 4),
            [d, t, y] => mday(d, 2) && time(t) && digits(y, 4),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_circuits_retry_after_is_always_sent_an_origins_only_when_kept() {
        let f = Failure::new(Cause::OriginErrorStatus, "m").with_origin_status(503);
        let circuit = RetryAfter::Circuit(7);
        let origin = RetryAfter::Origin(" 120 ".into());
        for policy in [
            StatusPolicy::Always500,
            StatusPolicy::ByCause,
            StatusPolicy::Origin,
        ] {
            assert_eq!(header(policy, &f, Some(&circuit)).as_deref(), Some("7"));
            assert_eq!(header(policy, &f, None), None);
        }
        assert_eq!(
            header(StatusPolicy::Origin, &f, Some(&origin)).as_deref(),
            Some("120")
        );
        assert_eq!(header(StatusPolicy::ByCause, &f, Some(&origin)), None);
    }

    #[test]
    fn only_a_valid_retry_after_is_kept_and_only_with_the_origins_status() {
        let f = Failure::new(Cause::OriginErrorStatus, "m").with_origin_status(503);
        let valid = [
            "120",
            "0",
            " 30 ",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun Nov 16 08:49:37 1994",
        ];
        for v in valid {
            assert_eq!(
                passed_on(StatusPolicy::Origin, &f, Some(v)),
                Some(v.trim()),
                "{v}"
            );
            assert_eq!(passed_on(StatusPolicy::ByCause, &f, Some(v)), None, "{v}");
        }
        let invalid = [
            "",
            "-1",
            "1.5",
            "soon",
            "12345678901",
            "120, 30",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun, 99 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:61:00 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            // RFC 850, each field wrong on its own.
            "Sunxday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-94-1 08:49:37 GMT",
            "Sunday, 6-Nov-94 08:49:37 GMT",
            "Sunday, 06-Foo-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 8:49:37 GMT",
            // asctime, each field wrong on its own.
            "Xyz Nov  6 08:49:37 1994",
            "Sun Foo  6 08:49:37 1994",
            "Sun Nov  0 08:49:37 1994",
            "Sun Nov  6 8:49:37 1994",
            "Sun Nov  6 08:49:37 94",
            "<script>",
        ];
        for v in invalid {
            assert_eq!(passed_on(StatusPolicy::Origin, &f, Some(v)), None, "{v:?}");
        }
        // A failing status that is not kept takes its Retry-After with it.
        for status in [302, 399, 600] {
            let f = Failure::new(Cause::OriginErrorStatus, "m").with_origin_status(status);
            assert_eq!(
                passed_on(StatusPolicy::Origin, &f, Some("86400")),
                None,
                "{status}"
            );
        }
        let f429 = Failure::new(Cause::OriginErrorStatus, "m").with_origin_status(429);
        assert_eq!(passed_on(StatusPolicy::Origin, &f429, Some("7")), Some("7"));
        let timeout = Failure::new(Cause::OriginTimeout, "m");
        assert_eq!(passed_on(StatusPolicy::Origin, &timeout, Some("5")), None);
        assert_eq!(passed_on(StatusPolicy::Origin, &f, None), None);
    }
}
