//! Library mode: a workers-rs app under `Shield::run` that binds a pages
//! folder as `ERROR_PAGES` gets the proxy's pages (`examples/app`, a pages
//! folder of the test's own), beside the same app without the binding.

use std::sync::OnceLock;

use error_shield_harness::{ensure_built, get, unique_id, Env, Launch, Project, Resp, Worker};

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        ensure_built(Project::App);
        let dir = std::env::temp_dir().join(unique_id("app-pages"));
        std::fs::create_dir_all(&dir).unwrap();
        let page = "<p>APP {{status}} {{title}} {{lang}}</p><code>{{request_id}}</code>";
        std::fs::write(dir.join("5xx.html"), page).unwrap();
        std::fs::write(dir.join("500.de.html"), format!("DE {page}")).unwrap();
        std::fs::write(
            dir.join("messages.de.json"),
            r#"{"default": {"title": "Fehler", "message": "Später"}}"#,
        )
        .unwrap();
        let toml = format!(
            "[assets]\ndirectory = {}\nbinding = \"ERROR_PAGES\"\nrun_worker_first = true\n",
            serde_json::Value::from(dir.display().to_string())
        );
        Env::build()
            .worker("pages", Launch::app().toml(&toml))
            .worker("plain", Launch::app())
            .start()
    })
}

fn ask(w: &Worker, accept: &str, lang: Option<&str>) -> Resp {
    let mut headers = vec![("accept", accept)];
    headers.extend(lang.map(|l| ("accept-language", l)));
    get(&w.url("/items/not-a-number"), &headers)
}

#[test]
fn an_app_with_a_pages_binding_answers_from_its_pages() {
    let (pages, plain) = (env().worker("pages"), env().worker("plain"));
    let en = ask(pages, "text/html", None);
    assert_eq!(en.status, 500);
    assert_eq!(
        en.text(),
        format!(
            "<p>APP 500 Internal Server Error </p><code>{}</code>",
            en.request_id()
        )
    );
    assert_eq!(en.header("vary"), Some("Accept, Accept-Language"));
    assert_eq!(en.header("content-language"), None);
    let de = ask(pages, "text/html", Some("de-AT"));
    assert_eq!(
        de.text(),
        format!(
            "DE <p>APP 500 Fehler de</p><code>{}</code>",
            de.request_id()
        )
    );
    assert_eq!(de.header("content-language"), Some("de"));
    assert_eq!(de.header("cache-control"), Some("no-store"));
    assert!(de.header("content-security-policy").is_some());
    let json = ask(pages, "application/json", Some("de"));
    assert_eq!(
        (
            json.json()["title"].as_str(),
            json.json()["detail"].as_str()
        ),
        (Some("Fehler"), Some("Später"))
    );
    // The control: the same app without the binding answers as before.
    let before = ask(plain, "text/html", Some("de"));
    assert_eq!(before.status, 500);
    assert_eq!(before.header("vary"), Some("Accept"));
    assert!(
        before.text().contains("<p class=\"code\">500</p>"),
        "{}",
        before.text()
    );
    assert_eq!(before.header("content-language"), None);
}
