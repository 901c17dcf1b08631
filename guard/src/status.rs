//! The statuses the uniform error can be sent with, and what each is
//! called: one table, so the title on a page and the status it is sent with
//! cannot drift apart. Pure: tested natively.

/// The uniform error's status unless a worker says otherwise.
pub const INTERNAL_SERVER_ERROR: u16 = 500;
/// The origin failed or answered badly.
pub const BAD_GATEWAY: u16 = 502;
/// Come back later: maintenance, an open circuit, an origin's own 503.
pub const SERVICE_UNAVAILABLE: u16 = 503;
/// The origin was too slow.
pub const GATEWAY_TIMEOUT: u16 = 504;

/// The statuses an answer may carry: the client and server errors.
pub const RANGE: std::ops::RangeInclusive<u16> = 400..=599;

/// Reason phrases of RFC 9110 (and the few registered since) for 4xx/5xx.
const TITLES: [(u16, &str); 41] = [
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (402, "Payment Required"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (406, "Not Acceptable"),
    (407, "Proxy Authentication Required"),
    (408, "Request Timeout"),
    (409, "Conflict"),
    (410, "Gone"),
    (411, "Length Required"),
    (412, "Precondition Failed"),
    (413, "Content Too Large"),
    (414, "URI Too Long"),
    (415, "Unsupported Media Type"),
    (416, "Range Not Satisfiable"),
    (417, "Expectation Failed"),
    (418, "I'm a teapot"),
    (421, "Misdirected Request"),
    (422, "Unprocessable Content"),
    (423, "Locked"),
    (424, "Failed Dependency"),
    (425, "Too Early"),
    (426, "Upgrade Required"),
    (428, "Precondition Required"),
    (429, "Too Many Requests"),
    (431, "Request Header Fields Too Large"),
    (451, "Unavailable For Legal Reasons"),
    (500, "Internal Server Error"),
    (501, "Not Implemented"),
    (502, "Bad Gateway"),
    (503, "Service Unavailable"),
    (504, "Gateway Timeout"),
    (505, "HTTP Version Not Supported"),
    (506, "Variant Also Negotiates"),
    (507, "Insufficient Storage"),
    (508, "Loop Detected"),
    (510, "Not Extended"),
    (511, "Network Authentication Required"),
    (599, "Network Connect Timeout Error"),
];

/// The status an answer is sent with: `status` when it is a client or
/// server error, else the 500 (an answer is never a success).
pub fn answerable(status: u16) -> u16 {
    if RANGE.contains(&status) {
        status
    } else {
        INTERNAL_SERVER_ERROR
    }
}

/// The title of an answer with `status` when the page sets none: its
/// reason phrase, or the class's ("Client Error", "Server Error") for an
/// unregistered one.
pub fn title(status: u16) -> &'static str {
    match TITLES.binary_search_by_key(&status, |(s, _)| *s) {
        Ok(i) => TITLES[i].1,
        Err(_) if (400..500).contains(&status) => "Client Error",
        Err(_) => "Server Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answerable_status_has_a_title_and_the_table_is_sorted() {
        assert!(
            TITLES.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted for the search"
        );
        for (status, want) in [
            (500, "Internal Server Error"),
            (502, "Bad Gateway"),
            (503, "Service Unavailable"),
            (504, "Gateway Timeout"),
            (429, "Too Many Requests"),
            (520, "Server Error"),
            (499, "Client Error"),
        ] {
            assert_eq!(title(status), want, "{status}");
        }
        for s in RANGE {
            assert!(!title(s).is_empty());
        }
    }

    #[test]
    fn only_errors_are_answerable() {
        for (status, want) in [
            (503, 503),
            (418, 418),
            (599, 599),
            (200, 500),
            (302, 500),
            (600, 500),
            (0, 500),
        ] {
            assert_eq!(answerable(status), want, "{status}");
        }
    }
}
