//! The example pages folder the project ships (error-pages/, `make dev`),
//! read through the guard's `Pages` as the worker reads it. (The
//! properties of the folder's choice are the guard's: guard/src/properties.)

use error_shield::parts::pages::Pages;

/// The example folder the project ships (error-pages/, `make dev`): every
/// file usable, every page self-contained (no script, nothing loaded from
/// elsewhere: the answer's CSP would block it).
#[test]
fn the_example_pages_are_usable_and_self_contained() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("error-pages");
    let mut pages = Pages::default();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("error-pages/") {
        let path = entry.expect("an entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let bytes = std::fs::read(&path).expect("a file");
        assert_eq!(pages.store(&name, Some(&bytes)), None, "{name}");
        let text = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
        for banned in [
            "<script",
            "src=\"http",
            "href=\"http",
            "url(http",
            "@import",
        ] {
            assert!(!text.contains(banned), "{name} has {banned}");
        }
        seen += 1;
    }
    assert!(seen >= 5, "{seen} files");
    // The positive control: a page the CSP would block is caught.
    assert!("<img src=\"https://x\">".contains("src=\"http"));
}
