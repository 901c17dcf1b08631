//! What the browser test asserts on check.mjs's JSON: every way one variant
//! of the page can be wrong (`problems`), and the dark scheme compared with
//! the light one (`dark_problems`). Empty lists mean the page passes.

use serde_json::Value;

/// The page stays small: one request, no external loads.
pub const MAX_BYTES: usize = 4096;
/// WCAG 2.x AA for normal text, and for the focus ring (non-text, 1.4.11).
const MIN_TEXT_CONTRAST: f64 = 4.5;
const MIN_FOCUS_CONTRAST: f64 = 3.0;

/// What the page must say.
pub struct Expect {
    pub status: u16,
    pub title: &'static str,
    pub message: String,
    pub support: Option<&'static str>,
}

/// Chromium's own console line for a document with an error status.
fn is_status_notice(m: &Value, url: &str, status: u16) -> bool {
    // The reason phrases of the statuses the pages are checked with.
    let reason = match status {
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => panic!("no reason phrase for {status} here"),
    };
    m["type"] == "error"
        && m["url"] == url
        && m["text"].as_str()
            == Some(&*format!(
                "Failed to load resource: the server responded with a status of {status} ({reason})"
            ))
}

/// Everything wrong with one variant (empty when it passes).
pub fn problems(v: &Value, url: &str, want: &Expect) -> Vec<String> {
    let mut bad = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            bad.push(what);
        }
    };
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);

    check(
        v["status"] == want.status,
        format!("status {}", v["status"]),
    );
    check(
        v["content_type"]
            .as_str()
            .is_some_and(|c| c.starts_with("text/html")),
        format!("content-type {}", v["content_type"]),
    );
    check(
        v["csp"]
            .as_str()
            .is_some_and(|c| c.contains("default-src 'none'")),
        format!("content-security-policy {}", v["csp"]),
    );
    check(
        v["scheme_applied"] == true,
        "prefers-color-scheme was not emulated".into(),
    );
    check(
        num(&v["bytes"]) < MAX_BYTES as f64,
        format!("page is {} bytes (max {MAX_BYTES})", v["bytes"]),
    );

    // Nothing but the document: no console noise, no other request. The
    // one message Chromium logs for any document served with an error
    // status is the contract's 500 itself, not a fault of the page.
    let noise: Vec<&Value> = v["console"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|m| !is_status_notice(m, url, want.status))
                .collect()
        })
        .unwrap_or_default();
    check(
        noise.is_empty(),
        format!("console errors/warnings: {noise:?}"),
    );
    let requests = v["requests"].as_array().cloned().unwrap_or_default();
    check(
        requests.len() == 1 && requests[0]["url"] == url && requests[0]["type"] == "document",
        format!("requests beyond the document: {}", v["requests"]),
    );
    check(
        v["scripts"] == 0 && v["external"] == 0,
        format!(
            "scripts {} / external loads {}",
            v["scripts"], v["external"]
        ),
    );

    // Structure.
    check(
        v["lang"].as_str().is_some_and(|l| !l.is_empty()),
        format!("<html lang> is {}", v["lang"]),
    );
    check(v["h1_count"] == 1, format!("{} h1 elements", v["h1_count"]));
    check(
        v["doc_title"] == want.title,
        format!("<title> is {}", v["doc_title"]),
    );

    // Title, message and request id: there, visible, within the width.
    let id = v["header_request_id"].as_str().unwrap_or("");
    check(!id.is_empty(), "no x-request-id header".into());
    for (name, text) in [
        ("title", want.title),
        ("message", want.message.as_str()),
        ("request_id", id),
    ] {
        let b = &v[name];
        if b.is_null() {
            check(false, format!("{name}: not found on the page"));
            continue;
        }
        check(
            b["text"].as_str().map(str::trim) == Some(text),
            format!("{name}: text {} (want {text:?})", b["text"]),
        );
        check(
            b["visible"] == true,
            format!("{name}: not visible ({}x{})", b["width"], b["height"]),
        );
        check(
            b["inside_width"] == true,
            format!(
                "{name}: outside the viewport width ({}..{} of {})",
                b["left"], b["right"], v["viewport"][0]
            ),
        );
    }
    check(
        v["request_id"]["user_select"] == "all",
        format!(
            "request id user-select is {}",
            v["request_id"]["user_select"]
        ),
    );
    check(
        v["selected_after_click"] == id,
        format!(
            "one click on the request id selects {} (want the whole id)",
            v["selected_after_click"]
        ),
    );

    // No horizontal overflow (and none at 320 px on phones).
    let width = num(&v["viewport"][0]);
    check(
        num(&v["scroll_width"]) <= width && num(&v["widest_right"]) <= width + 0.5,
        format!(
            "horizontal overflow: scrollWidth {} / widest element ends at {} in {width} px",
            v["scroll_width"], v["widest_right"]
        ),
    );
    if !v["at_320"].is_null() {
        check(
            num(&v["at_320"]["scroll_width"]) <= num(&v["at_320"]["viewport"]),
            format!("horizontal overflow at 320 px: {}", v["at_320"]),
        );
    }

    // Contrast of every piece of text against what is behind it.
    let texts = v["texts"].as_array().cloned().unwrap_or_default();
    check(
        texts.iter().any(|t| t["tag"] == "h1"),
        "the h1 was not measured for contrast".into(),
    );
    for t in &texts {
        check(
            num(&t["contrast"]) >= MIN_TEXT_CONTRAST && t["gradient"] == false,
            format!(
                "contrast {} < {MIN_TEXT_CONTRAST} for <{}> {:?} ({} on {})",
                t["contrast"], t["tag"], t["text"], t["color"], t["background"]
            ),
        );
    }

    // The support link: there when configured, reached by the first Tab,
    // with a visible focus ring.
    let focus = &v["focus_after_tab"];
    match want.support {
        Some(url) => {
            let link = &v["link"];
            check(
                link["href"] == url,
                format!("support link href {} (want {url})", link["href"]),
            );
            check(
                link["visible"] == true && link["inside_width"] == true,
                format!("support link not visible within the width: {link}"),
            );
            check(
                focus["tag"] == "a" && focus["href"] == url,
                format!("Tab does not focus the support link: {focus}"),
            );
            check(
                focus["outline_style"] != "none"
                    && num(&focus["outline_width"]) >= 2.0
                    && num(&focus["outline_contrast"]) >= MIN_FOCUS_CONTRAST,
                format!("focus ring not visible enough: {focus}"),
            );
        }
        None => {
            check(
                v["link"].is_null(),
                format!("a link without SUPPORT_URL: {}", v["link"]),
            );
            check(
                focus["tag"].is_null(),
                format!("something focusable without SUPPORT_URL: {focus}"),
            );
        }
    }
    bad
}

/// Relative luminance (WCAG) of a `#rrggbb` colour.
fn luminance(hex: &Value) -> f64 {
    let hex = hex.as_str().unwrap_or("").trim_start_matches('#');
    let channel = |i: usize| {
        let v = hex
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        let v = f64::from(v.unwrap_or(0)) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

/// Everything wrong with the dark scheme, comparing each size's dark
/// variant with its light one: the page and the heading must actually turn
/// dark, with light text (a page without dark styles looks the same in both).
pub fn dark_problems(variants: &[Value]) -> Vec<String> {
    let mut bad = Vec::new();
    for size in ["desktop", "phone"] {
        let find = |scheme: &str| {
            variants
                .iter()
                .find(|v| v["name"] == format!("{size}-{scheme}"))
                .map(|v| &v["scheme_colors"])
        };
        let (Some(light), Some(dark)) = (find("light"), find("dark")) else {
            bad.push(format!("[{size}] no light and dark variants"));
            continue;
        };
        for part in ["page", "heading_background", "heading_text"] {
            if light[part].is_null() || light[part] == dark[part] {
                bad.push(format!(
                    "[{size}] {part} is {} in light and dark",
                    dark[part]
                ));
            }
        }
        for part in ["page", "heading_background"] {
            if luminance(&dark[part]) >= luminance(&light[part]) {
                bad.push(format!(
                    "[{size}] dark {part} {} is not darker than light {}",
                    dark[part], light[part]
                ));
            }
        }
        if luminance(&dark["heading_text"]) <= luminance(&dark["heading_background"]) {
            bad.push(format!(
                "[{size}] dark heading text {} is darker than its background {}",
                dark["heading_text"], dark["heading_background"]
            ));
        }
    }
    bad
}
