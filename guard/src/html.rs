//! The HTML page of the uniform error: ours (small, self-contained, light
//! and dark, readable on phones) or the operator's `ERROR_PAGE_HTML`, every
//! configured text escaped. Pure: tested natively (with the other formats in
//! `render`).

use crate::body::Body;
use crate::page::{Page, Words};
use crate::template::{Part, Template};

/// The page: the operator's template when there is one, else ours.
pub(crate) fn body(c: &Page, w: &Words) -> Body {
    let support = c
        .support_url
        .as_deref()
        .map(escape_html)
        .unwrap_or_default();
    if let Some(template) = &c.template {
        return fill(template, w, &support, "");
    }
    let title = escape_html(&w.title);
    let link = if support.is_empty() {
        String::new()
    } else {
        format!("<p><a href=\"{support}\">Contact support</a></p>")
    };
    let head = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{title}</title><style>{CSS}</style></head>\
<body><main><p class=\"code\">{status}</p><h1>{title}</h1><p>{message}</p>\
<p class=\"id\">Request ID: <code>",
        message = escape_html(&w.message),
        status = w.status,
    );
    let tail = format!("</code></p>{link}</main></body></html>\n");
    Body(vec![head, tail])
}

/// An operator's page with every placeholder filled in (escaped) but the
/// request id, left as the slots between the pieces.
pub(crate) fn fill(template: &Template, w: &Words, support: &str, lang: &str) -> Body {
    let mut pieces = vec![String::new()];
    for part in &template.0 {
        let last = pieces.last_mut().expect("pieces starts non-empty");
        match part {
            Part::Text(t) => last.push_str(t),
            Part::Slot("request_id") => pieces.push(String::new()),
            Part::Slot("title") => last.push_str(&escape_html(&w.title)),
            Part::Slot("message") => last.push_str(&escape_html(&w.message)),
            Part::Slot("status") => last.push_str(&w.status.to_string()),
            Part::Slot("lang") => last.push_str(&escape_html(lang)),
            Part::Slot(_) => last.push_str(support),
        }
    }
    Body(pieces)
}

const CSS: &str = ":root{color-scheme:light dark;--bg:#f7f7f8;--fg:#1c1c1f;--mu:#55555c;--ac:#0b57d0;--card:#fff}\
@media(prefers-color-scheme:dark){:root{--bg:#141417;--fg:#ececf0;--mu:#a9a9b3;--ac:#8ab4f8;--card:#1f1f24}}\
*{box-sizing:border-box}body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;\
background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;padding:1rem}\
main{background:var(--card);max-width:34rem;width:100%;padding:min(2rem,6vw);border-radius:12px;\
box-shadow:0 1px 4px #0002;overflow-wrap:anywhere}main>:last-child{margin-bottom:0}h1{font-size:1.5rem;line-height:1.25;margin:0 0 .5rem}\
.code{margin:0;color:var(--mu);font-weight:600;letter-spacing:.1em}.id{color:var(--mu);font-size:.9rem}\
code{-webkit-user-select:all;user-select:all;font-size:.95em}\
a{color:var(--ac)}a:focus-visible{outline:3px solid var(--ac);outline-offset:2px}";

/// Escapes text for HTML content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
