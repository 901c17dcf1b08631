//! The HTML error page as people see it: the real worker under
//! `wrangler dev` in front of a failing origin, the page loaded in headless
//! Chromium at 1280×800 and 375×667, light and dark.
//!
//! `tests/browser/check.mjs` drives Debian's `/usr/bin/chromium` through
//! playwright-core (both installed by `scripts/bootstrap.sh`) and prints what
//! it measured as JSON; the assertions are `tests/browser/problems.rs`,
//! dark scheme against light included. Screenshots land in
//! `tests/artifacts/browser/` (git-ignored); with `UPDATE_SCREENSHOTS=1`
//! the desktop-light and phone-dark ones of the configured page replace the
//! README's in `docs/` (so a test run leaves the work tree clean).

#[path = "browser/problems.rs"]
mod problems;

use std::path::{Path, PathBuf};
use std::process::Command;

use error_shield_harness::{get, node_path, root, Env, Launch, Origin};
use problems::{dark_problems, problems, Expect, MAX_BYTES};
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

/// Runs check.mjs against `url`, screenshots into `out`; its JSON result.
fn run_check(url: &str, out: &Path, locale: Option<&str>) -> Value {
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
    let run = Command::new(root().join("node_modules/.bin/node"))
        .arg(root().join("tests/browser/check.mjs"))
        .arg(url)
        .arg(out)
        .current_dir(root())
        .env("PATH", node_path())
        .env("LOCALE", locale.unwrap_or(""))
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

/// Starts the origin and a worker, loads the page in the four variants and
/// asserts; returns the artifacts directory.
fn check_page(vars: &[(&str, &str)], want: &Expect, artifacts: &str) -> PathBuf {
    let env = Env::proxy(vars);
    let url = env.worker("main").url(PATH);

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
    let result = run_check(&url, &out, None);
    let variants = result["variants"].as_array().expect("variants");
    assert_eq!(variants.len(), 4, "{result}");
    let mut report = dark_problems(variants);
    for v in variants {
        for p in problems(v, &url, want) {
            report.push(format!("[{}] {p}", v["name"].as_str().unwrap_or("?")));
        }
    }
    // A favicon or any other implicit load would have gone through the
    // worker to the origin.
    assert_eq!(
        env.origin().hits("/favicon.ico"),
        0,
        "the browser asked for a favicon"
    );
    assert_eq!(env.origin().hits(PATH), 5, "one load per variant plus ours");
    assert!(
        report.is_empty(),
        "the error page fails in the browser ({}; screenshots in {}):\n{}",
        result["chromium"],
        out.display(),
        report.join("\n")
    );
    drop(env);
    out
}

#[test]
fn configured_page_in_desktop_and_phone_light_and_dark() {
    let want = Expect {
        status: 500,
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
        status: 500,
        title: "Internal Server Error",
        message: error_shield::Page::default().message,
        support: None,
    };
    check_page(&[], &want, "default");
}

/// The control for the dark-scheme check: a page with no dark styles at all
/// (served as `ERROR_PAGE_HTML`) must fail it at both sizes.
#[test]
fn a_page_without_dark_styles_fails_the_dark_scheme_check() {
    const LIGHT_ONLY: &str = "<!doctype html><html lang=\"en\"><title>{{title}}</title>\
<style>body{background:#fafafa;color:#222}</style><h1>{{title}}</h1><p>{{message}}</p>\
<p><code>{{request_id}}</code></p></html>";
    let env = Env::proxy(&[("ERROR_PAGE_HTML", LIGHT_ONLY)]);
    let worker = env.worker("main");
    let out = root().join("tests/artifacts/browser/light-only");
    let result = run_check(&worker.url(PATH), &out, None);
    let variants = result["variants"].as_array().expect("variants");
    let problems = dark_problems(variants);
    for size in ["desktop", "phone"] {
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(&format!("[{size}] page is"))),
            "a light-only page passed the dark check at {size}: {problems:?}"
        );
    }
}

/// The designed pages of the example folder (error-pages/, bound as
/// `ERROR_PAGES`): the 503 in English and, for a German browser, in German,
/// each passing every check above. `UPDATE_SCREENSHOTS=1` puts their
/// desktop-light shots in docs/ for the README.
#[test]
fn designed_pages_in_two_languages() {
    let dir = root().join("error-pages");
    let toml = format!(
        "[assets]\ndirectory = {}\nbinding = \"ERROR_PAGES\"\nrun_worker_first = true\n",
        Value::from(dir.display().to_string())
    );
    let launch = Launch::proxy().toml(&toml).var("RESPONSE_STATUS", "origin");
    let env = Env::build()
        .origin(Origin::start())
        .fronting("main", launch)
        .start();
    let url = env.worker("main").url("/status/503");
    let german =
        "Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.";
    let default_message = error_shield::Page::default().message;
    for (locale, title, message, shot) in [
        (
            "en-US",
            "Service Unavailable",
            default_message.as_str(),
            "en",
        ),
        ("de-DE", "Vorübergehend nicht verfügbar", german, "de"),
    ] {
        let want = Expect {
            status: 503,
            title,
            message: message.into(),
            support: None,
        };
        let out = root().join("tests/artifacts/browser/pages").join(shot);
        let result = run_check(&url, &out, Some(locale));
        let variants = result["variants"].as_array().expect("variants");
        let mut report = dark_problems(variants);
        for v in variants {
            assert_eq!(
                v["content_language"].as_str(),
                (shot == "de").then_some("de"),
                "{locale}"
            );
            for p in problems(v, &url, &want) {
                report.push(format!(
                    "[{locale} {}] {p}",
                    v["name"].as_str().unwrap_or("?")
                ));
            }
        }
        assert!(
            report.is_empty(),
            "{}:\n{}",
            out.display(),
            report.join("\n")
        );
        if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
            let to = root().join("docs").join(format!("pages-503-{shot}.png"));
            std::fs::copy(out.join("desktop-light.png"), &to).expect("copy the screenshot");
        }
    }
}
