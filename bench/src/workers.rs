//! The workers: error-shield's deploy bundle, every worker's directory with
//! its workerd config, and starting one under workerd (timed: the cold
//! start).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use error_shield_rig::{fetch, node_path, poll_every, ports, Group};

use crate::capnp::{config, Module};
use crate::exit::{die, tail};
use crate::machine::group_runs;
use crate::origin::SMALL;
use crate::rows::Worker;
use crate::tools::Tools;
use crate::wrangler::{Binding, Wrangler};
use crate::EVERY;

/// error-shield as production runs it: what `wrangler deploy` uploads.
pub struct Bundle {
    pub dir: PathBuf,
    /// The Wasm module index.js imports, under its content-hashed name.
    pub wasm: String,
}

/// `wrangler deploy --dry-run --outdir` into the run's directory (wrangler
/// runs wrangler.toml's build command first, a no-op when build/ is
/// current), so a concurrent `make build` cannot swap files mid-run.
pub fn bundle(tools: &Tools, root: &Path, scratch: &Path) -> Bundle {
    crate::say!("bundling error-shield (wrangler deploy --dry-run)");
    let dir = scratch.join("bundle");
    // In a process group of its own, like the servers: whatever it leaves
    // running ends with it. The shell reports its exit status.
    let mut cmd = Command::new("bash");
    cmd.args(["-c", r#""$@"; echo "bench: wrangler exited $?""#, "bundle"])
        .arg(&tools.wrangler)
        .args(["deploy", "--dry-run", "--outdir"])
        .arg(&dir)
        .current_dir(root)
        .env("PATH", node_path())
        .env("CI", "true")
        .env("WRANGLER_SEND_METRICS", "false");
    let group = Group::spawn(&cmd).unwrap_or_else(|e| die(&format!("wrangler: {e}")));
    poll_every(EVERY, Duration::from_secs(24 * 3600), || {
        group.printed("bench: wrangler exited ").then_some(())
    });
    let out = group.output();
    drop(group);
    if !out.contains("bench: wrangler exited 0\n") {
        die(&format!(
            "wrangler deploy --dry-run failed:\n{}",
            tail(&out, 40)
        ));
    }
    let index = fs::read_to_string(dir.join("index.js")).unwrap_or_else(|_| {
        die("the bundle has no index.js");
    });
    let imports = imports(&index);
    match imports.as_slice() {
        [wasm] if wasm.ends_with(".wasm") && dir.join(wasm).is_file() => Bundle {
            wasm: wasm.clone(),
            dir,
        },
        _ => die(&format!(
            "expected index.js to import exactly one Wasm file of the bundle, got: {imports:?}"
        )),
    }
}

/// The files `import … from "./file";` lines of `js` name, each once.
fn imports(js: &str) -> Vec<String> {
    let mut out: Vec<String> = js
        .lines()
        .filter(|l| l.starts_with("import "))
        .filter_map(|l| {
            let rest = l.trim_end().trim_end_matches(';');
            let at = rest.rfind(" from \"./")?;
            Some(rest[at + 9..].strip_suffix('"')?.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Writes each worker's directory: its modules and config.capnp.
pub fn prepare(
    root: &Path,
    scratch: &Path,
    bundle: &Bundle,
    wrangler: &Wrangler,
    origin: &str,
    ports: &HashMap<Worker, u16>,
) {
    for w in Worker::ALL {
        let dir = scratch.join(w.dir());
        fs::create_dir_all(&dir).unwrap_or_else(|e| die(&format!("{}: {e}", dir.display())));
        let (files, modules): (Vec<PathBuf>, Vec<Module>) = match w {
            Worker::Js => (
                vec![root.join("bench/passthrough.js")],
                vec![Module::Es("passthrough.js")],
            ),
            Worker::Equal => (
                vec![root.join("bench/equal.js")],
                vec![Module::Es("equal.js")],
            ),
            // The first module is the main one; it imports ./equal.js.
            Worker::Watching => (
                vec![root.join("bench/watching.js"), root.join("bench/equal.js")],
                vec![Module::Es("watching.js"), Module::Es("equal.js")],
            ),
            _ => (
                vec![bundle.dir.join("index.js"), bundle.dir.join(&bundle.wasm)],
                vec![Module::Es("index.js"), Module::Wasm(&bundle.wasm)],
            ),
        };
        for f in &files {
            let to = dir.join(f.file_name().expect("a file name"));
            fs::copy(f, &to).unwrap_or_else(|e| die(&format!("{}: {e}", f.display())));
        }
        let bindings: Vec<Binding> = wrangler.bindings(origin, &w.vars());
        let text = config(ports[&w], &modules, &bindings, wrangler);
        fs::write(dir.join("config.capnp"), text).unwrap_or_else(|e| die(&format!("config: {e}")));
    }
}

/// A started worker and how long it took.
pub struct Started {
    pub group: Group,
    /// workerd start → first 200 from the worker, ms.
    pub cold_ms: u64,
    /// The first successful request itself, ms.
    pub first_ms: f64,
}

/// Starts workerd on `dir`'s config and waits for the worker's first 200 on
/// `port` (polled every 2 ms on fresh connections).
pub fn start(workerd: &Path, dir: &Path, port: u16) -> Started {
    let free = || (!ports::busy(port)).then_some(());
    if poll_every(EVERY, Duration::from_millis(300), free).is_none() {
        die(&format!("port {port} still busy"));
    }
    let url = format!("http://127.0.0.1:{port}{SMALL}");
    let t0 = Instant::now();
    let mut cmd = Command::new(workerd);
    cmd.arg("serve")
        .arg(dir.join("config.capnp"))
        .arg("--experimental");
    let group = Group::spawn(&cmd).unwrap_or_else(|e| die(&format!("workerd: {e}")));
    loop {
        let t = Instant::now();
        let got = fetch("GET", &url, &[], None, Duration::from_secs(10));
        if got.as_ref().is_ok_and(|g| g.status == 200) {
            return Started {
                cold_ms: t0.elapsed().as_millis() as u64,
                first_ms: t.elapsed().as_secs_f64() * 1000.0,
                group,
            };
        }
        let gone = t0.elapsed() > Duration::from_secs(2) && !group_runs(group.pgid(), "workerd");
        if gone || t0.elapsed() > Duration::from_secs(30) {
            let last = got.map_or_else(|e| e, |g| format!("status {}", g.status));
            die(&format!(
                "{}: workerd did not serve 200 within 30 s (last: {last}):\n{}",
                dir.display(),
                tail(&group.output(), 30)
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_the_relative_files() {
        let js = "import { a } from \"./shield.js\";\nimport wasm from \"./ab12-index_bg.wasm\";\nimport x from \"cloudflare:workers\";\nimport wasm from \"./ab12-index_bg.wasm\"\n";
        assert_eq!(imports(js), ["ab12-index_bg.wasm", "shield.js"]);
    }
}
