//! `make error-assets`: what Cloudflare serves when the worker cannot answer
//! is the worker's own answer, with `::RAY_ID::` as the id.

use std::path::PathBuf;
use std::process::Command;

use error_shield_harness::{get, unique_id, Env};
use serde_json::Value;

/// Runs the generator (built by `cargo test` with the other examples).
fn generate(envs: &[(&str, &str)]) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("examples/error_assets");
    let out = std::env::temp_dir().join(unique_id("error-assets"));
    let status = Command::new(&bin)
        .arg(&out)
        .env_clear()
        .envs(envs.iter().copied())
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    assert!(status.success());
    out
}

#[test]
fn the_assets_are_the_workers_own_answers_with_the_ray_id_token() {
    let env = Env::proxy(&[]);
    let out = generate(&[]);
    let read = |name: &str| std::fs::read_to_string(out.join(name)).expect(name);
    let (page, problem) = (read("page.html"), read("problem.json"));
    for (accept, asset) in [("text/html", &page), ("application/json", &problem)] {
        let id = unique_id("asset");
        let r = get(
            &env.worker("main").url("/status/500"),
            &[("x-request-id", &id), ("accept", accept)],
        );
        assert_eq!(r.status, 500);
        assert_eq!(&r.text().replace(&id, "::RAY_ID::"), asset, "{accept}");
    }
    assert_eq!(
        serde_json::from_str::<Value>(&problem).unwrap()["request_id"],
        "::RAY_ID::"
    );
    assert!(page.contains("<code>::RAY_ID::</code>"));
    assert!(page.len() < 4096, "the page is {} bytes", page.len());
    let rules: Value = serde_json::from_str(&read("custom-error-rules.json")).unwrap();
    let rules = rules["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    for (rule, content_type, content) in [
        (&rules[0], "text/html", &page),
        (&rules[1], "application/json", &problem),
    ] {
        assert_eq!(rule["action"], "serve_error");
        assert!(rule["expression"]
            .as_str()
            .unwrap()
            .contains("cf.response.1xxx_code in {1101 1102}"));
        assert_eq!(rule["action_parameters"]["content_type"], content_type);
        assert_eq!(
            rule["action_parameters"]["content"].as_str(),
            Some(content.as_str())
        );
    }
    assert!(rules[0]["expression"]
        .as_str()
        .unwrap()
        .contains("text/html"));
}

#[test]
fn the_page_variables_shape_the_assets_and_a_bad_one_fails_the_command() {
    let out = generate(&[
        ("ERROR_TITLE", "Down <for> a bit"),
        ("SUPPORT_URL", "https://status.example.com"),
    ]);
    let page = std::fs::read_to_string(out.join("page.html")).unwrap();
    assert!(page.contains("<h1>Down &lt;for&gt; a bit</h1>"), "{page}");
    assert!(page.contains("href=\"https://status.example.com\""));
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples/error_assets");
    let status = Command::new(bin)
        .arg(std::env::temp_dir().join(unique_id("bad-assets")))
        .env_clear()
        .env("DEFAULT_FORMAT", "xml")
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
}

/// With a pages folder (`ERROR_PAGES_DIR`, `make error-assets` passes
/// error-pages/), the page is the one the worker answers a 500 with from
/// the same folder: its 500 → 5xx → default choice, `::RAY_ID::` as the id.
#[test]
fn the_page_comes_from_the_pages_folder_as_the_worker_chooses_it() {
    let dir = std::env::temp_dir().join(unique_id("assets-pages"));
    std::fs::create_dir_all(&dir).unwrap();
    let page = "<p>FOLDER {{status}} {{title}}</p><code>{{request_id}}</code>";
    std::fs::write(dir.join("5xx.html"), page).unwrap();
    std::fs::write(
        dir.join("default.html"),
        "<p>LESS SPECIFIC {{request_id}}</p>",
    )
    .unwrap();
    let toml = format!(
        "[assets]\ndirectory = {}\nbinding = \"ERROR_PAGES\"\nrun_worker_first = true\n",
        Value::from(dir.display().to_string())
    );
    let env = Env::build()
        .origin(error_shield_harness::Origin::start())
        .fronting("pages", error_shield_harness::Launch::proxy().toml(&toml))
        .start();
    let out = generate(&[("ERROR_PAGES_DIR", dir.to_str().unwrap())]);
    let asset = std::fs::read_to_string(out.join("page.html")).unwrap();
    let id = unique_id("asset");
    let r = get(
        &env.worker("pages").url("/status/500"),
        &[("x-request-id", &id), ("accept", "text/html")],
    );
    assert_eq!(r.status, 500);
    assert!(
        r.text()
            .starts_with("<p>FOLDER 500 Internal Server Error</p>"),
        "{}",
        r.text()
    );
    assert_eq!(r.text().replace(&id, "::RAY_ID::"), asset);
    // The control: without the folder, the built-in page.
    let plain = std::fs::read_to_string(generate(&[]).join("page.html")).unwrap();
    assert!(!plain.contains("FOLDER") && plain.contains("<code>::RAY_ID::</code>"));
}
