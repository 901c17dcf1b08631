//! `make error-assets`: what Cloudflare itself serves when the worker cannot
//! answer (error 1101: it threw before our code ran; 1102: it exceeded its
//! CPU or memory limit), made from the same renderer as the worker's own
//! error, with Cloudflare's `::RAY_ID::` token in the request-id slot. The
//! page's variables (`ERROR_TITLE`, `ERROR_MESSAGE`, `SUPPORT_URL`,
//! `PROBLEM_TYPE`, `ERROR_PAGE_HTML`) are read from the environment.
//!
//! With `ERROR_PAGES_DIR` naming a pages folder (the one bound as
//! `ERROR_PAGES`), the page is the one the worker answers a 500 with from it
//! (`500.html`, else `5xx.html`, else `default.html`; unlocalised: a Custom
//! Error Rule cannot tell languages apart).
//!
//! Writes `page.html`, `problem.json` and `custom-error-rules.json` (the
//! rules for the zone's `http_custom_errors` phase) into the folder given as
//! the first argument (default `build/error-assets`).

use std::path::PathBuf;

use error_shield::parts::pages::{self, Pages, Want};
use error_shield::parts::Renderer;
use error_shield::{Format, Page};
use serde_json::json;

/// Cloudflare's token for the ray id; our request id falls back to the ray
/// id, so the two agree.
const RAY_ID: &str = "::RAY_ID::";

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "build/error-assets".into()),
    );
    let vars = |name: &str| std::env::var(name).ok();
    let page = match Page::from_vars(&vars) {
        Ok(page) => page,
        Err(failure) => {
            eprintln!("error-assets: {failure} ({:?})", failure.context);
            std::process::exit(2);
        }
    };
    let renderer = Renderer::new(&page);
    let html = match std::env::var_os("ERROR_PAGES_DIR") {
        Some(dir) => from_folder(&PathBuf::from(dir), &page),
        None => renderer.render(Format::Html, RAY_ID, false).body,
    };
    let problem = renderer.render(Format::Json, RAY_ID, false).body;
    let rules = rules(&html, &problem);
    std::fs::create_dir_all(&out).unwrap_or_else(|e| die(&out, e));
    for (name, text) in [
        ("page.html", &html),
        ("problem.json", &problem),
        ("custom-error-rules.json", &rules),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| die(&path, e));
        println!("{} ({} bytes)", path.display(), text.len());
    }
}

/// The 500's page from the pages folder, chosen and filled in as the worker
/// does (an unusable file skipped with its warning).
fn from_folder(dir: &std::path::Path, page: &Page) -> String {
    let want = Want {
        status: 500,
        maintenance: false,
        html: true,
    };
    let mut found = Pages::default();
    for name in found.unknown(&want, &[]) {
        let bytes = std::fs::read(dir.join(&name)).ok();
        if let Some(warning) = found.store(&name, bytes.as_deref()) {
            eprintln!("{warning}");
        }
    }
    let choice = found.choose(&want, &[]);
    pages::body(&choice, page, &page.words(500), Format::Html, RAY_ID)
}

/// Two rules for Workers' own errors: browsers get the page, everyone else
/// the problem document. Inline content, so nothing needs hosting.
fn rules(html: &str, problem: &str) -> String {
    let worker_errors = "cf.response.1xxx_code in {1101 1102}";
    let browser = r#"any(lower(http.request.headers["accept"][*])[*] contains "text/html")"#;
    let rule = |description: &str, expression: String, content_type: &str, content: &str| {
        json!({
            "description": description,
            "expression": expression,
            "action": "serve_error",
            "action_parameters": {"content": content, "content_type": content_type, "status_code": 500},
        })
    };
    let doc = json!({
        "description": "error-shield: the same answer when the worker itself cannot give it",
        "rules": [
            rule("error-shield page for browsers (Workers errors 1101, 1102)", format!("{worker_errors} and {browser}"), "text/html", html),
            rule("error-shield problem document for API clients (Workers errors 1101, 1102)", worker_errors.to_owned(), "application/json", problem),
        ],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn die(path: &std::path::Path, e: std::io::Error) -> ! {
    eprintln!("error-assets: {}: {e}", path.display());
    std::process::exit(1);
}
