//! The worker under test: one `wrangler dev --local` (real workerd) per
//! [`Worker`], started as a [`Launch`] says.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use error_shield_rig::{fetch, free_port, node_path, poll_every, root, Group};

/// Which worker to serve.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Project {
    /// The origin proxy (the crate at the root).
    Proxy,
    /// The library-mode example in `examples/app`.
    App,
}

impl Project {
    fn dir(self) -> PathBuf {
        match self {
            Project::Proxy => root(),
            Project::App => root().join("examples/app"),
        }
    }
}

/// Builds the worker once per test binary (a no-op when `make test` built it).
pub fn ensure_built(project: Project) {
    static BUILT: [OnceLock<()>; 2] = [OnceLock::new(), OnceLock::new()];
    let (slot, target) = match project {
        Project::Proxy => (&BUILT[0], "build"),
        Project::App => (&BUILT[1], "app"),
    };
    slot.get_or_init(|| {
        let status = Command::new("make")
            .arg("-s")
            .arg(target)
            .current_dir(root())
            .status()
            .expect("run make");
        assert!(status.success(), "make {target} failed");
    });
}

/// How to start a worker: which one, its vars and secrets, and anything
/// more for `wrangler dev`. Owned, so a launch can go to another thread
/// ([`Launch::spawn`]): wrangler's start-up dominates, so tests start
/// their workers at once.
#[derive(Clone, Debug)]
pub struct Launch {
    project: Project,
    vars: Vec<(String, String)>,
    secrets: Vec<(String, String)>,
    toml: Option<String>,
    port: Option<u16>,
    args: Vec<String>,
}

impl Launch {
    /// The origin proxy, with no vars.
    pub fn proxy() -> Launch {
        Launch::of(Project::Proxy)
    }

    /// The library-mode example app, with no vars.
    pub fn app() -> Launch {
        Launch::of(Project::App)
    }

    /// `project`, with no vars.
    fn of(project: Project) -> Launch {
        Launch {
            project,
            vars: Vec::new(),
            secrets: Vec::new(),
            toml: None,
            port: None,
            args: Vec::new(),
        }
    }

    /// One more `--var name:value` (after those given before).
    pub fn var(mut self, name: &str, value: &str) -> Launch {
        self.vars.push((name.into(), value.into()));
        self
    }

    /// `--var name:value` before all others.
    pub(crate) fn first_var(mut self, name: &str, value: &str) -> Launch {
        self.vars.insert(0, (name.into(), value.into()));
        self
    }

    /// More `--var`s, in order.
    pub fn vars(self, vars: &[(&str, &str)]) -> Launch {
        vars.iter().fold(self, |l, (k, v)| l.var(k, v))
    }

    /// Secret bindings, as `wrangler secret put` makes them (loaded from an
    /// env file).
    pub fn secrets(mut self, secrets: &[(&str, &str)]) -> Launch {
        let owned = secrets.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        self.secrets.extend(owned);
        self
    }

    /// A wrangler.toml of its own that adds `toml` (e.g. structured
    /// `[vars]`) to the project's name, entry, date and flags.
    pub fn toml(mut self, toml: &str) -> Launch {
        self.toml = Some(toml.into());
        self
    }

    /// On `port`, one the test picked first (e.g. to point `ORIGIN_URL` at
    /// the worker itself); otherwise on a free one.
    pub fn port(mut self, port: u16) -> Launch {
        self.port = Some(port);
        self
    }

    /// More `wrangler dev` arguments.
    pub fn args(mut self, args: &[&str]) -> Launch {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Starts the worker and waits until it answers.
    pub fn start(&self) -> Worker {
        ensure_built(self.project);
        // A free port can be taken by another process before wrangler binds
        // it: try again on new ports (a port the test chose cannot change).
        for _ in 0..3 {
            let port = self.port.unwrap_or_else(free_port);
            let worker = self.spawn_on(port);
            if worker.wait_ready() {
                return worker;
            }
            if self.port.is_some() {
                break;
            }
        }
        panic!("wrangler dev found its port taken");
    }

    /// [`Launch::start`] on a thread of its own.
    pub fn spawn(self) -> JoinHandle<Worker> {
        thread::spawn(move || self.start())
    }

    pub(crate) fn spawn_on(&self, port: u16) -> Worker {
        ensure_built(self.project);
        let persist =
            std::env::temp_dir().join(format!("error-shield-e2e-{}-{port}", std::process::id()));
        let mut wrangler = Command::new(root().join("node_modules/.bin/wrangler"));
        wrangler.args(["dev", "--local", "--ip", "127.0.0.1", "--port"]);
        wrangler.arg(port.to_string());
        wrangler
            .arg("--inspector-port")
            .arg(free_port().to_string());
        wrangler.arg("--persist-to").arg(&persist);
        wrangler.args(["--log-level", "info"]);
        for (k, v) in &self.vars {
            wrangler.arg("--var").arg(format!("{k}:{v}"));
        }
        if let Some(extra) = &self.toml {
            let file = persist.with_extension("toml");
            let main = self.project.dir().join("build/index.js");
            let text = format!(
                "name = \"error-shield-test\"\nmain = {}\ncompatibility_date = \"2026-11-24\"\n{extra}\n",
                serde_json::Value::from(main.display().to_string())
            );
            std::fs::write(&file, text).expect("write the wrangler.toml");
            wrangler.arg("--config").arg(file);
        }
        if !self.secrets.is_empty() {
            let file = persist.with_extension("env");
            let text: String = (self.secrets.iter())
                .map(|(k, v)| format!("{k}={}\n", serde_json::Value::from(v.as_str())))
                .collect();
            std::fs::write(&file, text).expect("write the secrets file");
            wrangler.arg("--env-file").arg(file);
        }
        wrangler.args(&self.args).current_dir(self.project.dir());
        // wrangler's own Node, no metrics, no prompts, no colours.
        wrangler
            .env("PATH", node_path())
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0");
        let group = Group::spawn(&wrangler).expect("spawn wrangler dev");
        let base = format!("http://127.0.0.1:{port}");
        let output = group.shared_output();
        outputs().lock().unwrap().insert(base.clone(), output);
        Worker { base, group }
    }
}

/// One `wrangler dev` serving a worker. Its whole process group dies when
/// this value drops or the test process exits.
pub struct Worker {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    group: Group,
}

impl Worker {
    /// Waits until the worker answers; `false` when its port was taken.
    pub(crate) fn wait_ready(&self) -> bool {
        let ready = poll_every(Duration::from_millis(100), Duration::from_secs(120), || {
            if self.group.printed("Address already in use") {
                return Some(false);
            }
            // Ready once wrangler says so and the worker answers a request
            // with any HTTP status (a connection error means not yet).
            let answers = self.group.printed("Ready on")
                && fetch(
                    "GET",
                    &self.url("/__ready"),
                    &[],
                    None,
                    Duration::from_secs(10),
                )
                .is_ok();
            answers.then_some(true)
        });
        ready.unwrap_or_else(|| panic!("wrangler dev did not become ready:\n{}", self.output()))
    }

    /// `base` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything wrangler printed so far.
    pub fn output(&self) -> String {
        self.group.output()
    }

    /// Resident memory (KiB) of the largest workerd process of this worker.
    pub fn workerd_rss_kb(&self) -> u64 {
        self.group.rss_kb("workerd")
    }
}

/// Every worker's output by base URL, so a request that cannot reach a
/// worker reports what its wrangler said.
type Outputs = Mutex<HashMap<String, Arc<Mutex<String>>>>;

fn outputs() -> &'static Outputs {
    static OUTPUTS: OnceLock<Outputs> = OnceLock::new();
    OUTPUTS.get_or_init(Default::default)
}

/// The last lines wrangler printed for the worker `url` belongs to, as a
/// paragraph for a panic message (empty when `url` is no worker's).
pub(crate) fn wrangler_tail(url: &str) -> String {
    let outputs = outputs().lock().unwrap();
    let Some((_, output)) = outputs
        .iter()
        .find(|(base, _)| url.starts_with(base.as_str()))
    else {
        return String::new();
    };
    let output = output.lock().unwrap();
    let lines: Vec<&str> = output.lines().collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
    format!("\n--- the worker's wrangler said, last 40 lines ---\n{tail}")
}
