//! The HTML error page as people see it: the real worker under
//! `wrangler dev` in front of a failing origin, the page loaded in headless
//! Chromium at 1280×800 and 375×667, light and dark.
//!
//! `tests/browser/check.mjs` drives Debian's `/usr/bin/chromium` through
//! playwright-core (both installed by `scripts/bootstrap.sh`) and prints what
//! it measured as JSON; the assertions are here. Screenshots land in
//! `tests/artifacts/browser/` (git-ignored); with `UPDATE_SCREENSHOTS=1`
//! the desktop-light and phone-dark ones of the configured page replace the
//! README's in `docs/` (so a test run leaves the work tree clean).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{get, root, Origin, Worker};
use serde_json::Value;

/// Configured text with HTML special characters, and a long unbroken URL
/// that must wrap on a phone.
const TITLE: &str = "Something went wrong <& we're on it>";
const MESSAGE: &str = "The \"Acme\" service didn't answer in time. Please try again in a minute. <Status> & updates: https://status.example.com/incidents/2026-11-29-upstream-gateway-timeouts";
const SUPPORT: &str = "https://help.example.com/contact?topic=errors&lang=en";
/// What Chromium sends on a navigation.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
/// The failing route of the fake origin.
const PATH: &str = "/status/502";
/// The page stays small: one request, no external loads.
const MAX_BYTES: usize = 4096;
/// WCAG 2.x AA for normal text, and for the focus ring (non-text, 1.4.11).
const MIN_TEXT_CONTRAST: f64 = 4.5;
const MIN_FOCUS_CONTRAST: f64 = 3.0;

struct Expect {
    title: &'static str,
    message: String,
    support: Option<&'static str>,
}

/// Runs check.mjs against `url`, screenshots into `out`; its JSON result.
fn run_check(url: &str, out: &Path) -> Value {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/bootstrap.sh (apt-get install chromium)"
    );
    assert!(
        root().join("node_modules/playwright-core").exists(),
        "node_modules/playwright-core is missing: run scripts/bootstrap.sh (npm ci)"
    );
    let _ = std::fs::remove_dir_all(out);
    let run = Command::new("node")
        .arg(root().join("tests/browser/check.mjs"))
        .arg(url)
        .arg(out)
        .current_dir(root())
        .output()
        .expect("run node tests/browser/check.mjs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "check.mjs failed ({}):\n{stderr}\n{stdout}",
        run.status
    );
    let _ = std::fs::write(out.join("result.json"), stdout.as_bytes());
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("check.mjs printed no JSON ({e}):\n{stdout}\n{stderr}"))
}

/// Chromium's own console line for a document with status 500.
fn is_status_notice(m: &Value, url: &str) -> bool {
    m["type"] == "error"
        && m["url"] == url
        && m["text"]
            == "Failed to load resource: the server responded with a status of 500 (Internal Server Error)"
}

/// Everything wrong with one variant (empty when it passes).
fn problems(v: &Value, url: &str, want: &Expect) -> Vec<String> {
    let mut bad = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            bad.push(what);
        }
    };
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);

    check(v["status"] == 500, format!("status {}", v["status"]));
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
        .map(|a| a.iter().filter(|m| !is_status_notice(m, url)).collect())
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

/// Starts the origin and a worker, loads the page in the four variants and
/// asserts; returns the artifacts directory.
fn check_page(vars: &[(&str, &str)], want: &Expect, artifacts: &str) -> PathBuf {
    let origin = Origin::start();
    let origin_url = origin.url();
    let mut all: Vec<(&str, &str)> = vec![("ORIGIN_URL", &origin_url)];
    all.extend_from_slice(vars);
    let worker = Worker::start(&all);
    let url = worker.url(PATH);

    // The bytes a browser gets, straight off the wire.
    let direct = get(&url, &[("accept", BROWSER_ACCEPT)]);
    assert_eq!(direct.status, 500, "{}", direct.text());
    assert!(
        direct.body.len() < MAX_BYTES,
        "page is {} bytes",
        direct.body.len()
    );
    eprintln!("{artifacts}: page is {} bytes", direct.body.len());

    let out = root().join("tests/artifacts/browser").join(artifacts);
    let result = run_check(&url, &out);
    let variants = result["variants"].as_array().expect("variants");
    assert_eq!(variants.len(), 4, "{result}");
    let mut report = Vec::new();
    for v in variants {
        for p in problems(v, &url, want) {
            report.push(format!("[{}] {p}", v["name"].as_str().unwrap_or("?")));
        }
    }
    // A favicon or any other implicit load would have gone through the
    // worker to the origin.
    assert_eq!(
        origin.hits("/favicon.ico"),
        0,
        "the browser asked for a favicon"
    );
    assert_eq!(origin.hits(PATH), 5, "one load per variant plus ours");
    assert!(
        report.is_empty(),
        "the error page fails in the browser ({}; screenshots in {}):\n{}",
        result["chromium"],
        out.display(),
        report.join("\n")
    );
    drop(worker);
    out
}

#[test]
fn configured_page_in_desktop_and_phone_light_and_dark() {
    let want = Expect {
        title: TITLE,
        message: MESSAGE.into(),
        support: Some(SUPPORT),
    };
    let out = check_page(
        &[
            ("ERROR_TITLE", TITLE),
            ("ERROR_MESSAGE", MESSAGE),
            ("SUPPORT_URL", SUPPORT),
        ],
        &want,
        "configured",
    );
    if std::env::var_os("UPDATE_SCREENSHOTS").is_none() {
        return;
    }
    let docs = root().join("docs");
    std::fs::create_dir_all(&docs).expect("mkdir docs");
    for (from, to) in [
        ("desktop-light.png", "error-page-desktop.png"),
        ("phone-dark.png", "error-page-phone.png"),
    ] {
        std::fs::copy(out.join(from), docs.join(to))
            .unwrap_or_else(|e| panic!("copy {from} to docs/{to}: {e}"));
    }
}

#[test]
fn default_page_without_support_link() {
    let want = Expect {
        title: "Internal Server Error",
        message: error_shield::page::DEFAULT_MESSAGE.into(),
        support: None,
    };
    check_page(&[], &want, "default");
}
