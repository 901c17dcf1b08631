//! The client's own credentials, cut out of a failing origin body before
//! its excerpt is logged: an error page that dumps the request's headers
//! (Django's debug page, many frameworks') would otherwise put the client's
//! bearer token and cookies into the record. Pure: tested natively.

/// Values shorter than this are not cut: a value of 1–3 bytes matches all
/// over any text and would shred the excerpt, and shows little on its own.
pub const MIN_LEN: usize = 4;

/// What stands where a credential was.
const MARK: &str = "REDACTED";

/// The request headers whose values are credentials, scheme and all.
const AUTHORIZATIONS: [&str; 2] = ["authorization", "proxy-authorization"];

/// Most values (in all their forms) cut from one excerpt: a client that sends more (a Cookie of
/// thousands of values) would make the cutting cost what it likes, so its
/// excerpt is withheld whole instead ([`Secrets::cut`]).
pub const MAX_VALUES: usize = 256;

/// The values an excerpt must not show, each in the forms a page may print
/// it in (as sent, JSON-escaped, HTML-escaped), and whether there were too
/// many to cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets(Vec<String>, bool);

impl Secrets {
    /// A request's credentials: its `Authorization` and
    /// `Proxy-Authorization` (whole, and the part after the scheme), its
    /// `Cookie` (whole, and each cookie's value), as `header` reads them,
    /// and the bypass token.
    pub fn of(header: impl Fn(&str) -> Option<String>, token: Option<&str>) -> Secrets {
        let mut s = Secrets::default();
        for name in AUTHORIZATIONS {
            if let Some(v) = header(name) {
                s.add(&v);
                if let Some((scheme, credential)) = v.trim().split_once([' ', '\t']) {
                    s.add(credential);
                    // A page may show Basic's password decoded (phpinfo's
                    // PHP_AUTH_PW).
                    if scheme.eq_ignore_ascii_case("basic") {
                        let decoded = base64(credential.trim()).unwrap_or_default();
                        let decoded = String::from_utf8_lossy(&decoded);
                        if let Some((_, password)) = decoded.split_once(':') {
                            s.add(password);
                        }
                    }
                }
            }
        }
        if let Some(v) = header("cookie") {
            s.add(&v);
            // A Cookie header joined from several is split at `,` too (no
            // cookie value holds one).
            for pair in v.split([';', ',']) {
                if let Some((_, value)) = pair.split_once('=') {
                    s.add(value);
                    s.add(value.trim().trim_matches('"'));
                }
            }
        }
        if let Some(t) = token {
            s.add(t);
        }
        s
    }

    /// Whether there is nothing to cut.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty() && !self.1
    }

    fn add(&mut self, v: &str) {
        let v = v.trim();
        if v.len() < MIN_LEN || self.1 {
            return;
        }
        if self.0.len() >= MAX_VALUES {
            self.1 = true;
            self.0.clear();
            return;
        }
        let forms = [
            v.to_owned(),
            json_escaped(v),
            json_escaped(v).replace("\\/", "/"),
            html_escaped(v),
            percent_decoded(v),
        ];
        for form in forms {
            if form.len() < MIN_LEN {
                continue;
            }
            if !self.0.contains(&form) {
                self.0.push(form);
            }
        }
    }

    /// `excerpt` with every credential replaced by `REDACTED` (the whole of
    /// it when there were too many to cut), and, when
    /// the excerpt was cut short (`cut`), a credential's first bytes at its
    /// end too (at least [`MIN_LEN`] of them).
    pub fn cut(&self, excerpt: &str, cut: bool) -> String {
        if self.1 {
            return MARK.to_owned();
        }
        if self.0.is_empty() {
            return excerpt.to_owned();
        }
        let mut hidden = vec![false; excerpt.len()];
        for secret in &self.0 {
            for (at, _) in excerpt.match_indices(secret.as_str()) {
                hidden[at..at + secret.len()].fill(true);
            }
            if cut {
                let tail = trailing_prefix(excerpt, secret);
                let len = hidden.len();
                hidden[len - tail..].fill(true);
            }
        }
        let mut out = String::with_capacity(excerpt.len());
        let mut shown = 0;
        let mut i = 0;
        while i < excerpt.len() {
            if !hidden[i] {
                i += 1;
                continue;
            }
            let end = hidden[i..]
                .iter()
                .position(|h| !h)
                .map_or(excerpt.len(), |n| i + n);
            out.push_str(&excerpt[shown..i]);
            out.push_str(MARK);
            shown = end;
            i = end;
        }
        out.push_str(&excerpt[shown..]);
        out
    }
}

/// How many bytes at the end of `text` are the start of `secret` (at
/// least [`MIN_LEN`], less than the whole). A character cut in half at the
/// very end (U+FFFD there) counts as part of it.
fn trailing_prefix(text: &str, secret: &str) -> usize {
    let (body, extra) = match text.strip_suffix('\u{fffd}') {
        Some(body) => (body, '\u{fffd}'.len_utf8()),
        None => (text, 0),
    };
    let longest = secret
        .char_indices()
        .map(|(i, _)| i)
        .filter(|k| *k >= MIN_LEN)
        .rev()
        .find(|k| body.ends_with(&secret[..*k]));
    match longest {
        Some(k) => k + extra,
        None => 0,
    }
}

/// Standard base64 (padding optional); `None` for anything else.
fn base64(v: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(v.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for b in v.trim_end_matches('=').bytes() {
        let n = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(n);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// As a JSON string (or a PHP `json_encode`) shows it, quotes not included.
fn json_escaped(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('/', "\\/")
}

/// As a framework shows a cookie it decoded (`%3D` → `=`, `+` kept).
fn percent_decoded(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (c, ..) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// As an HTML page shows it.
fn html_escaped(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
