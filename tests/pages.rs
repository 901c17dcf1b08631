//! Pages per status and language from the worker's static assets (a pages
//! folder of the test's own, bound as `ERROR_PAGES`), end to end.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use error_shield_harness::{get, Env, Launch, Origin, Resp, Worker};

/// Every placeholder of a file page, each in a context of its own.
const ALL: &str = "<html lang=\"{{lang}}\"><h1>{{title}}</h1><p>{{message}}</p><b>{{status}}</b><a href=\"{{support_url}}\">{{request_id}}</a></html>";

/// A pages folder of its own for one worker.
fn folder(name: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("error-shield-pages-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the pages folder");
    for (file, bytes) in files {
        std::fs::write(dir.join(file), bytes).expect("write a page");
    }
    dir
}

fn assets(dir: &Path) -> String {
    format!(
        "[assets]\ndirectory = {}\nbinding = \"ERROR_PAGES\"\nrun_worker_first = true\n",
        serde_json::Value::from(dir.display().to_string())
    )
}

fn page(marker: &str) -> Vec<u8> {
    format!("<html><p>{marker} {{{{status}}}}</p><code>{{{{request_id}}}}</code></html>")
        .into_bytes()
}

/// `pages`: status, class, localised default, unusable files, messages;
/// `maintained`: maintenance and the unlocalised default; `templated`: a
/// class page and `ERROR_PAGE_HTML` after it.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let messages = r#"{"503": {"title": "Nicht verfügbar", "message": "Bitte später <wieder>"}, "default": {"title": "Fehler"}}"#;
        let a = folder(
            "a",
            &[
                ("503.html", ALL.into()),
                ("503.de.html", format!("DE {ALL}").into_bytes()),
                ("5xx.html", page("CLASS")),
                ("default.de.html", page("DEFAULT-DE")),
                ("504.html", b"<p>{{nope}}</p>".to_vec()),
                ("500.html", vec![b'a'; 64 * 1024 + 1]),
                ("501.html", b"<p>\xff\xfe</p>".to_vec()),
                ("messages.de.json", messages.into()),
            ],
        );
        let b = folder(
            "b",
            &[
                ("maintenance.html", page("MAINTENANCE")),
                ("503.html", page("NOT-FOR-MAINTENANCE")),
                ("default.html", page("DEFAULT")),
            ],
        );
        let c = folder(
            "c",
            &[
                ("4xx.html", page("FOUR-XX")),
                ("echo", b"SHADOW".to_vec()),
                ("echo.html", b"SHADOW".to_vec()),
            ],
        );
        let statuses = [("RESPONSE_STATUS", "origin"), ("FAILURE_STATUSES", "400-599")];
        let pages = Launch::proxy().toml(&assets(&a)).vars(&statuses).vars(&[
            ("ERROR_TITLE", "T <b>&'\""),
            ("ERROR_MESSAGE", "M <script>x</script>"),
            ("SUPPORT_URL", "https://help.example/?a=1&b=2"),
        ]);
        let maintained = Launch::proxy()
            .toml(&assets(&b))
            .vars(&statuses)
            .vars(&[("MAINTENANCE", "on"), ("MAINTENANCE_BYPASS_PATHS", "/status/")]);
        let templated = Launch::proxy().toml(&assets(&c)).vars(&statuses).vars(&[(
            "ERROR_PAGE_HTML",
            "<p>VARIABLE {{title}}</p><code>{{request_id}}</code>",
        )]);
        Env::build()
            .origin(Origin::start())
            .fronting("pages", pages)
            .fronting("maintained", maintained)
            .fronting("templated", templated)
            .start()
    })
}

fn html(w: &Worker, path: &str, lang: Option<&str>) -> Resp {
    let mut headers = vec![("accept", "text/html")];
    headers.extend(lang.map(|l| ("accept-language", l)));
    get(&w.url(path), &headers)
}

/// The headers every answer keeps, with the pages' `Vary`.
fn assert_safe(r: &Resp, what: &str) {
    assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(r.header("vary"), Some("Accept, Accept-Language"), "{what}");
    if r.header("content-type")
        .is_some_and(|c| c.starts_with("text/html"))
    {
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    }
}

#[test]
fn each_step_of_the_file_choice_is_taken() {
    let e = env();
    let (p, m, t) = (
        e.worker("pages"),
        e.worker("maintained"),
        e.worker("templated"),
    );
    // worker, path, Accept-Language, status, what the body shows
    let table = [
        (p, "/status/503", None, 503, "<b>503</b>"),
        (
            p,
            "/status/503",
            Some("de-CH, en;q=0.5"),
            503,
            "DE <html lang=\"de\">",
        ),
        (p, "/status/502", None, 502, "CLASS 502"),
        (p, "/status/502", Some("de"), 502, "DEFAULT-DE 502"),
        (p, "/status/404", None, 404, "<p class=\"code\">404</p>"),
        (m, "/echo", None, 503, "MAINTENANCE 503"),
        (m, "/status/404", None, 404, "DEFAULT 404"),
        (t, "/status/404", None, 404, "FOUR-XX 404"),
        (t, "/status/502", None, 502, "<p>VARIABLE Bad Gateway</p>"),
    ];
    for (w, path, lang, status, shows) in table {
        let what = format!("{path} {lang:?}");
        let r = html(w, path, lang);
        assert_eq!(r.status, status, "{what}");
        let body = r.text();
        assert!(body.contains(shows), "{what}: {body}");
        assert!(body.contains(&r.request_id()), "{what}: {body}");
        assert_safe(&r, &what);
    }
}

#[test]
fn a_localised_page_says_its_language_beside_an_unlocalised_control() {
    let p = env().worker("pages");
    let de = html(p, "/status/503", Some("de-CH;q=0.9, fr;q=0.8"));
    let en = html(p, "/status/503", None);
    let refused = html(p, "/status/503", Some("de;q=0, fr"));
    assert_eq!(de.header("content-language"), Some("de"));
    assert!(de.text().starts_with("DE "), "{}", de.text());
    assert!(de
        .text()
        .contains("<h1>Nicht verfügbar</h1><p>Bitte später &lt;wieder&gt;</p>"));
    for (r, what) in [(&en, "no header"), (&refused, "de;q=0")] {
        assert_eq!(r.header("content-language"), None, "{what}");
        assert!(
            r.text().starts_with("<html lang=\"\">"),
            "{what}: {}",
            r.text()
        );
    }
    assert_safe(&de, "de");
    assert_safe(&en, "en");
    // Uniform per status, format and language: only the id differs.
    let again = html(p, "/status/503", Some("de-CH;q=0.9, fr;q=0.8"));
    assert_eq!(
        again.text().replace(&again.request_id(), &de.request_id()),
        de.text()
    );
}

#[test]
fn head_gets_the_pages_headers_and_no_body() {
    let p = env().worker("pages");
    let headers = [("accept", "text/html"), ("accept-language", "de")];
    let head = error_shield_harness::send("HEAD", &p.url("/status/503"), &headers, None);
    let got = get(&p.url("/status/503"), &headers);
    assert_eq!((head.status, got.status), (503, 503));
    assert_eq!(head.header("content-language"), Some("de"));
    assert!(head.text().is_empty(), "{}", head.text());
    assert!(!got.text().is_empty(), "the control: GET has the page");
    assert_safe(&head, "HEAD");
}

#[test]
fn every_placeholder_of_a_file_page_is_escaped() {
    let r = html(env().worker("pages"), "/status/503", None);
    let id = r.request_id();
    assert_eq!(
        r.text(),
        format!("<html lang=\"\"><h1>T &lt;b&gt;&amp;&#39;&quot;</h1><p>M &lt;script&gt;x&lt;/script&gt;</p><b>503</b><a href=\"https://help.example/?a=1&amp;b=2\">{id}</a></html>")
    );
}

#[test]
fn problem_json_and_text_speak_the_language_of_the_messages() {
    let p = env().worker("pages");
    let json = |lang: Option<&str>, path: &str| {
        let mut headers = vec![("accept", "application/json")];
        headers.extend(lang.map(|l| ("accept-language", l)));
        get(&p.url(path), &headers)
    };
    let de = json(Some("de"), "/status/503");
    let v = de.json();
    assert_eq!(
        (v["title"].as_str(), v["detail"].as_str()),
        (Some("Nicht verfügbar"), Some("Bitte später <wieder>"))
    );
    assert_eq!(
        (v["status"].as_u64(), de.header("content-language")),
        (Some(503), Some("de"))
    );
    // A status without its own words takes the document's default ones.
    let v = json(Some("de"), "/status/502").json();
    assert_eq!(
        (v["title"].as_str(), v["detail"].as_str()),
        (Some("Fehler"), Some("M <script>x</script>"))
    );
    // The control: no header, a language without messages.
    for lang in [None, Some("fr")] {
        let r = json(lang, "/status/503");
        assert_eq!(r.json()["title"], "T <b>&'\"", "{lang:?}");
        assert_eq!(r.header("content-language"), None, "{lang:?}");
        assert_safe(&r, "json control");
    }
    let text = get(
        &p.url("/status/503"),
        &[("accept", "text/plain"), ("accept-language", "de")],
    );
    assert!(
        text.text().starts_with("Nicht verfügbar\n"),
        "{}",
        text.text()
    );
    assert_eq!(text.header("content-language"), Some("de"));
    assert_safe(&de, "json de");
}

/// The lines of `w`'s output that warn of `file`.
fn warnings(w: &Worker, file: &str) -> usize {
    let needle = format!("\"file\":\"{file}\"");
    w.output()
        .lines()
        .filter(|l| {
            l.contains(r#"{"level":"warn","event":"page_unusable","file":"#) && l.contains(&needle)
        })
        .count()
}

fn until_warned(w: &Worker, file: &str) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = warnings(w, file);
        if n > 0 || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_unusable_file_is_skipped_with_one_warn_line() {
    let p = env().worker("pages");
    for (status, file) in [(504, "504.html"), (500, "500.html"), (501, "501.html")] {
        for _ in 0..2 {
            let r = html(p, &format!("/status/{status}"), None);
            assert_eq!(r.status, status, "{file}");
            assert!(
                r.text().contains(&format!("CLASS {status}")),
                "{file}: {}",
                r.text()
            );
        }
        assert_eq!(until_warned(p, file), 1, "{file}");
    }
    // Lines come in order: the last file's line is out, so no second line
    // of the first is still on its way.
    assert_eq!(warnings(p, "504.html"), 1);
    assert_eq!(warnings(p, "5xx.html"), 0, "a usable file warns of nothing");
}

#[test]
fn no_file_shadows_an_origin_path() {
    // The folder holds `echo` and `echo.html`: the origin still answers.
    let w = env().worker("templated");
    for path in ["/echo", "/echo.html", "/4xx.html"] {
        let r = get(&w.url(path), &[("accept", "text/html")]);
        assert!(!r.text().contains("SHADOW"), "{path}: {}", r.text());
        // The control: the origin was asked (its answer, or its failure
        // recorded under the request's id).
        if path == "/echo" {
            assert_eq!(r.status, 200, "{path}");
        } else {
            let record = w.record_for(&r.request_id());
            assert_eq!(record["cause"], "origin_error_status", "{path}");
        }
    }
}
