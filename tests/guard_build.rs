//! The guard as a newcomer builds it: its docs build without a warning or a
//! link left as literal brackets, the README's example compiles as written,
//! and a wasm32 build that cannot unwind fails loudly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use error_shield_harness::root;

/// `cargo <args>` at the repository's root, sharing its target directory.
fn cargo(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Output {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args).current_dir(dir);
    cmd.env("CARGO_TARGET_DIR", root().join("target"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run cargo")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Intra-doc links rustdoc could not resolve, shown as `[a::b]` in the text.
fn bracketed_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (start, _) in text.match_indices('[') {
        let rest = &text[start + 1..];
        let Some(end) = rest.find(']') else { continue };
        let inside = &rest[..end];
        let path_like = inside
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        if path_like && inside.contains("::") {
            found.push(inside.to_owned());
        }
    }
    found
}

/// The text of an HTML page, tags dropped.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

fn html_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("read the doc directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            html_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "html") {
            into.push(path);
        }
    }
}

#[test]
fn the_guard_docs_build_without_warnings_or_unresolved_links() {
    // Positive control for the scan.
    assert_eq!(
        bracketed_paths("a [worker::Error], [Self], [:port]"),
        ["worker::Error"]
    );
    let out = cargo(
        &["doc", "-p", "error-shield", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
        &root(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut pages = Vec::new();
    html_files(&root().join("target/doc/error_shield"), &mut pages);
    assert!(pages.len() > 5, "the guard's pages: {pages:?}");
    for page in pages {
        let text = text_of(&std::fs::read_to_string(&page).expect("read a page"));
        let broken = bracketed_paths(&text);
        assert!(broken.is_empty(), "{}: {broken:?}", page.display());
    }
}

#[test]
fn a_wasm_build_without_unwinding_fails_with_the_fix() {
    let dir = root();
    // Control: the same crate checks natively.
    let native = cargo(
        &["check", "-q", "-p", "error-shield", "--no-default-features"],
        &[],
        &dir,
    );
    assert!(native.status.success(), "{}", stderr(&native));
    // The stable toolchain's wasm32 std aborts on panic.
    let wasm = cargo(
        &[
            "check",
            "-q",
            "-p",
            "error-shield",
            "--no-default-features",
            "--target",
            "wasm32-unknown-unknown",
        ],
        &[],
        &dir,
    );
    let err = stderr(&wasm);
    assert!(!wasm.status.success(), "built without unwinding");
    assert!(
        err.contains("error-shield needs panics to unwind")
            && err.contains("worker-build --release --panic-unwind")
            && err.contains("rust-src"),
        "{err}"
    );
}

/// The first ` ```rust ` block of `markdown`.
fn first_rust_block(markdown: &str) -> String {
    let start = markdown.find("```rust\n").expect("a rust block") + "```rust\n".len();
    let len = markdown[start..].find("```").expect("its end");
    markdown[start..start + len].to_owned()
}

#[test]
fn the_readme_examples_compile_as_written() {
    let guard = std::fs::read_to_string(root().join("guard/README.md")).expect("guard/README.md");
    let main = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let section = main
        .split_once("## Use it in your own worker")
        .expect("the section")
        .1;
    for (name, markdown) in [("guard", guard.as_str()), ("main", section)] {
        compiles(name, &first_rust_block(markdown));
    }
}

/// Checks `example` as the `src/lib.rs` of an app of its own.
fn compiles(name: &str, example: &str) {
    assert!(example.contains("#[event(fetch)]"), "{name}: {example}");
    let app = root().join(format!("target/readme-example-{name}"));
    std::fs::create_dir_all(app.join("src")).expect("create the app");
    let manifest = format!(
        "[package]\nname = \"readme-example-{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n\
         error-shield = {{ path = {:?} }}\nworker = \"0.8.7\"\n\n[workspace]\n",
        root().join("guard").display().to_string()
    );
    std::fs::write(app.join("Cargo.toml"), manifest).expect("write Cargo.toml");
    std::fs::write(app.join("src/lib.rs"), example).expect("write src/lib.rs");
    // The repository's versions, offline.
    std::fs::copy(root().join("Cargo.lock"), app.join("Cargo.lock")).expect("copy Cargo.lock");
    let out = cargo(&["check", "-q", "--offline"], &[], &app);
    assert!(out.status.success(), "{name}: {}", stderr(&out));
}
