//! `FAILURE_STATUSES`: the origin statuses that count as failures, parsed
//! from a comma list of codes and ranges into a 600-bit set.

/// The statuses an origin may answer with. The runtime's fetch takes any
/// three digits, but a response it builds refuses what lies outside: an
/// answer outside this range is the origin's failure (`origin_unreachable`),
/// never the worker's.
pub const ORIGIN_RANGE: std::ops::RangeInclusive<u16> = 100..=599;

/// Why a response with `status` cannot go to the client: `None` when it
/// may (within [`ORIGIN_RANGE`]), else the message of its
/// `origin_unreachable`. Read as the runtime's number, not as a `u16`
/// that could wrap into the range.
pub fn unanswerable(status: f64) -> Option<String> {
    let (lo, hi) = (*ORIGIN_RANGE.start(), *ORIGIN_RANGE.end());
    if (f64::from(lo)..=f64::from(hi)).contains(&status) {
        return None;
    }
    Some(format!(
        "the origin answered status {status}, outside {lo}–{hi}: no HTTP response can carry it"
    ))
}

/// A set of HTTP statuses (100–599), parsed from `500,502-504`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusSet([u64; 10]);

impl StatusSet {
    /// The statuses `lo..=hi`.
    pub fn range(lo: u16, hi: u16) -> StatusSet {
        let mut s = StatusSet([0; 10]);
        for code in lo..=hi {
            s.insert(code);
        }
        s
    }

    fn insert(&mut self, code: u16) {
        let i = usize::from(code);
        self.0[i / 64] |= 1 << (i % 64);
    }

    /// Whether `code` is in the set.
    pub fn contains(&self, code: u16) -> bool {
        let i = usize::from(code);
        i < 640 && self.0[i / 64] & (1 << (i % 64)) != 0
    }

    /// The set as one byte per status 0–599 (1 = failure), for the
    /// executor's check of each response.
    pub fn bitmap(&self) -> Vec<u8> {
        (0..600).map(|s| u8::from(self.contains(s))).collect()
    }

    /// Parses a comma list of codes and ranges; `None` when any part is not
    /// a status 100–599 or a range is reversed. Empty means no failures.
    pub fn parse(v: &str) -> Option<StatusSet> {
        let mut s = StatusSet([0; 10]);
        if v.trim().is_empty() {
            return Some(s);
        }
        for part in v.split(',') {
            let (lo, hi) = match part.split_once('-') {
                Some((lo, hi)) => (status(lo)?, status(hi)?),
                None => (status(part)?, status(part)?),
            };
            if lo > hi {
                return None;
            }
            for code in lo..=hi {
                s.insert(code);
            }
        }
        Some(s)
    }
}

fn status(v: &str) -> Option<u16> {
    let v = v.trim();
    if v.len() != 3 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok().filter(|c| ORIGIN_RANGE.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lists_parse() {
        let s = StatusSet::parse(" 500 , 502-504,418").unwrap();
        for (code, want) in [
            (500, true),
            (501, false),
            (502, true),
            (503, true),
            (504, true),
            (505, false),
            (418, true),
            (599, false),
        ] {
            assert_eq!(s.contains(code), want, "{code}");
        }
        assert!(!StatusSet::parse("").unwrap().contains(500));
        assert!(StatusSet::range(500, 599).contains(599));
        assert!(!StatusSet::range(500, 599).contains(600));
        let bitmap = s.bitmap();
        assert_eq!(bitmap.len(), 600);
        assert_eq!(
            (bitmap[500], bitmap[501], bitmap[418], bitmap[0]),
            (1, 0, 1, 0)
        );
        for bad in ["abc", "50", "5000", "500-", "-500", "099", "500-600", "1e3"] {
            assert!(StatusSet::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_status_outside_100_to_599_cannot_be_answered() {
        for ok in [100.0, 101.0, 200.0, 302.0, 599.0] {
            assert_eq!(unanswerable(ok), None, "{ok}");
        }
        for odd in [600.0, 999.0, 99.0, 0.0, 65_736.0, 1e6] {
            let m = unanswerable(odd).unwrap();
            assert!(m.contains(&format!("status {odd}")), "{m}");
        }
        assert!(unanswerable(f64::NAN).is_some());
    }

    #[test]
    fn a_status_is_exactly_three_digits() {
        // Each of these parses as a number in 100–599 but is not written
        // as a status.
        for bad in ["0500", "+500", "+50", "00500", "500-0504", "+500-504"] {
            assert!(StatusSet::parse(bad).is_none(), "{bad}");
        }
        for (good, code) in [("500", 500), (" 418 ", 418), ("100", 100), ("599", 599)] {
            assert!(StatusSet::parse(good).unwrap().contains(code), "{good}");
        }
    }
}
