//! A command in a process group of its own that cannot outlive its owner.
//!
//! A [`Group`] runs a command under a small guard shell that watches a pipe
//! from us: when the [`Group`] drops, or this process exits however it
//! exits (a panic, a signal, `SIGKILL`), the pipe closes and the guard kills
//! the whole group, grandchildren included (wrangler's workerd, a server's
//! workers). Everything the command prints on stdout and stderr is kept,
//! ANSI colours removed.

use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

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
