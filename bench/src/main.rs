//! `make bench`: error-shield's deploy bundle (what `wrangler deploy`
//! uploads) against the bare origin, a minimal JavaScript pass-through
//! worker, a JavaScript worker doing error-shield's job (bench/equal.js)
//! and the same worker watching its bodies (bench/watching.js), in one run.
//!
//! Workers run under workerd itself (wrangler dev's proxy caps ~500 req/s),
//! from generated capnp configs; the origin is nginx; load comes from wrk.
//! Everything listens on 127.0.0.1 only; every server runs in a process
//! group of its own that dies with this process, whatever the exit.
//!
//! Knobs (environment): BENCH_DURATION (s per run, 6), BENCH_WARMUP (s, 2),
//! BENCH_RUNS (interleaved load runs, 3), BENCH_CONNECTIONS (32),
//! BENCH_THREADS (2), BENCH_COLD_RUNS (9), BENCH_STREAM_RUNS (3),
//! BENCH_PORT_BASE (28080), BENCH_TIME_LIMIT (600).
//! The report also lands in bench/out/latest.md.

mod capnp;
mod checks;
mod cold;
mod download;
mod exit;
mod knobs;
mod load;
mod machine;
mod origin;
mod report;
mod results;
mod rows;
mod targets;
mod tools;
mod workers;
mod wrangler;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use error_shield_rig::{root, Group};

use exit::die;
use knobs::Knobs;
use load::Wrk;
use results::Results;
use rows::{Row, Server, Worker};
use tools::Tools;
use wrangler::Wrangler;

/// How often the bench looks again while it waits for a server.
const EVERY: Duration = Duration::from_millis(20);

/// The servers of a run, each in its process group.
struct Servers {
    origin: Group,
    workers: HashMap<Worker, Group>,
    ports: HashMap<Server, u16>,
}

impl Servers {
    fn base(&self, server: Server) -> String {
        format!("http://127.0.0.1:{}", self.ports[&server])
    }

    fn pgid(&self, server: Server) -> u32 {
        match server {
            Server::Origin => self.origin.pgid(),
            Server::Worker(w) => self.workers[&w].pgid(),
        }
    }

    /// Stops them all at once (each group's guard takes ~2 s).
    fn stop(self) {
        let groups = std::iter::once(self.origin).chain(self.workers.into_values());
        let stops: Vec<_> = groups
            .map(|g| std::thread::spawn(move || drop(g)))
            .collect();
        stops.into_iter().for_each(|t| drop(t.join()));
    }
}

/// What every step of a run needs.
struct Bench {
    knobs: Knobs,
    root: PathBuf,
    tools: Tools,
    wrangler: Wrangler,
    scratch: PathBuf,
}

fn main() {
    let started = Instant::now();
    let knobs = Knobs::from_env();
    exit::watch(Duration::from_secs(knobs.time_limit));
    let root = root();
    let toml = fs::read_to_string(root.join("wrangler.toml"))
        .unwrap_or_else(|e| die(&format!("wrangler.toml: {e}")));
    let b = Bench {
        wrangler: Wrangler::parse(&toml).unwrap_or_else(|e| die(&e)),
        tools: Tools::find(&root),
        scratch: exit::scratch(),
        knobs,
        root,
    };
    let mut results = Results::default();
    let (servers, bundle) = b.start(&mut results);
    sanity(&servers, &b.scratch.join("nginx"));
    streams(&servers, b.knobs.stream_runs, &mut results);
    let load = b.measure(&servers, &mut results);
    sizes(&b.tools, &bundle, &mut results);
    let setting = report::Setting {
        date: report::utc_now(),
        workerd: b.tools.workerd_version(),
        compat: b.wrangler.compatibility_date.clone(),
        load,
        vars: b.wrangler.bindings(&servers.base(Server::Origin), &[]),
    };
    let text = report::render(&setting, &b.knobs, &results, started.elapsed().as_secs());
    print!("{text}");
    let out = b.root.join("bench/out");
    let written = fs::create_dir_all(&out).and_then(|()| fs::write(out.join("latest.md"), &text));
    written.unwrap_or_else(|e| die(&format!("bench/out/latest.md: {e}")));
    servers.stop();
    exit::exit(0)
}

impl Bench {
    /// The origin, the bundle, every worker's config, and the workers
    /// (timing the cold starts).
    fn start(&self, results: &mut Results) -> (Servers, workers::Bundle) {
        let ports = pick_ports(self.knobs.port_base);
        let origin_url = format!("http://127.0.0.1:{}", ports[&Server::Origin]);
        let origin = origin::start(
            &self.tools.nginx,
            &self.scratch.join("nginx"),
            ports[&Server::Origin],
        );
        let bundle = workers::bundle(&self.tools, &self.root, &self.scratch);
        let worker_ports = Worker::ALL.map(|w| (w, ports[&Server::Worker(w)])).into();
        let (root, scratch) = (&self.root, &self.scratch);
        workers::prepare(
            root,
            scratch,
            &bundle,
            &self.wrangler,
            &origin_url,
            &worker_ports,
        );
        crate::say!(
            "origin {origin_url}; cold starts (x{})",
            self.knobs.cold_runs
        );
        let workers = cold::starts(
            &self.tools.workerd,
            scratch,
            &worker_ports,
            self.knobs.cold_runs,
            results,
        );
        let servers = Servers {
            origin,
            workers,
            ports,
        };
        (servers, bundle)
    }

    /// Warms each row, then loads them all `runs` times, interleaved (A B …
    /// A B …); gives the load average before and after.
    fn measure(&self, servers: &Servers, results: &mut Results) -> (String, String) {
        let (k, tools) = (&self.knobs, &self.tools);
        let script = self.root.join("bench/report.lua");
        let wrk = Wrk {
            wrk: &tools.wrk,
            script: &script,
            threads: k.threads,
            connections: k.connections,
        };
        let run = |row: Row, seconds: u64| {
            let url = format!("{}{}", servers.base(row.server()), row.path());
            wrk.run(&url, seconds, servers.pgid(row.server()))
                .unwrap_or_else(|e| die(&e))
        };
        let load_start = machine::load();
        crate::say!("warming each target {}s", k.warmup);
        for row in Row::ALL {
            run(row, k.warmup);
        }
        for i in 1..=k.runs {
            for row in Row::ALL {
                crate::say!("run {i}: {} ({}s)", row.label(), k.duration);
                let r = run(row, k.duration);
                results.load.entry(row).or_default().push(r);
            }
        }
        (load_start, machine::load())
    }
}

/// Each server's port: `base` + its offset, or the next one free and not
/// yet taken.
fn pick_ports(base: u16) -> HashMap<Server, u16> {
    let servers = std::iter::once((Server::Origin, 0))
        .chain(Worker::ALL.map(|w| (Server::Worker(w), w.port_offset())));
    let mut taken: Vec<u16> = Vec::new();
    let mut ports = HashMap::new();
    for (server, offset) in servers {
        let first = base.saturating_add(offset);
        let port = (first..first.saturating_add(200))
            .find(|p| !taken.contains(p) && !error_shield_rig::ports::busy(*p))
            .unwrap_or_else(|| die(&format!("no free port in {first}..{}", first + 200)));
        taken.push(port);
        ports.insert(server, port);
    }
    ports
}

fn sanity(servers: &Servers, nginx_dir: &Path) {
    let small = fs::read(nginx_dir.join("www").join(&origin::SMALL[1..]))
        .unwrap_or_else(|e| die(&format!("the 4 KiB file: {e}")));
    let named = |row: Row| (row.label(), servers.base(row.server()));
    let passes: Vec<_> = Row::ALL
        .into_iter()
        .filter(|r| r.passes())
        .map(named)
        .collect();
    let fails: Vec<_> = Row::ALL
        .into_iter()
        .filter(|r| !r.passes())
        .map(named)
        .collect();
    checks::sanity(&small, &servers.base(Server::Origin), &passes, &fails);
}

/// 48 MiB downloads, `runs` per server, the servers taking turns.
fn streams(servers: &Servers, runs: u32, results: &mut Results) {
    crate::say!("48 MiB streaming (x{runs} each)");
    let all: Vec<Server> = std::iter::once(Server::Origin)
        .chain(Worker::STREAM.map(Server::Worker))
        .collect();
    for _ in 0..runs {
        for &server in &all {
            let url = format!("{}{}", servers.base(server), origin::BIG);
            match download::download(&url, Duration::from_secs(60)) {
                Ok((200, origin::BIG_BYTES, secs)) => {
                    let s = results.stream.entry(server).or_default();
                    s.speeds.push(origin::BIG_BYTES as f64 / secs);
                }
                Ok((status, n, _)) => die(&format!("{url} answered {status} with {n} bytes")),
                Err(e) => die(&format!("{url}: {e}")),
            }
        }
    }
}

fn sizes(tools: &Tools, bundle: &workers::Bundle, results: &mut Results) {
    let size = |f: &Path| fs::metadata(f).map_or(0, |m| m.len());
    let wasm = bundle.dir.join(&bundle.wasm);
    let js = bundle.dir.join("index.js");
    results.wasm_name = bundle.wasm.clone();
    results.wasm_raw = size(&wasm);
    results.wasm_gzip = tools::gzip_size(&tools.gzip, &wasm);
    results.js_raw = size(&js);
    results.js_gzip = tools::gzip_size(&tools.gzip, &js);
}
