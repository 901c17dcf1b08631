//! How a run ends, and what it says on the way: `bench: …` lines, the run's
//! scratch directory (removed on every way out), the time limit, ^C and
//! `TERM`. The servers themselves die with their groups whenever this
//! process exits (see `error_shield_rig::group`); what is left here is the
//! scratch directory.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use std::{fs, thread};

/// Prints `bench: <message>` on stderr.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { eprintln!("bench: {}", format_args!($($arg)*)) };
}

/// The scratch directory of this run, removed on every way out.
static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

/// Makes this run's scratch directory (mode 755: nginx workers may run as an
/// unprivileged user).
pub fn scratch() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let base = std::env::var_os("TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    let dir = base.join(format!("error-shield-bench.{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| die(&format!("{}: {e}", dir.display())));
    let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o755));
    SCRATCH.get_or_init(|| dir).clone()
}

/// Ends the run with `code` after removing the scratch directory (every
/// server's guard sees our pipes close and kills its process group).
pub fn exit(code: i32) -> ! {
    if let Some(dir) = SCRATCH.get() {
        let _ = fs::remove_dir_all(dir);
    }
    std::process::exit(code)
}

/// `bench: error: <message>`, then [`exit`] 1.
pub fn die(message: &str) -> ! {
    say!("error: {message}");
    exit(1)
}

/// Ends the run at `limit`, on ^C (130) and on `TERM` (143), cleaning up.
/// Call before any other thread starts: the signals are blocked in every
/// thread and taken by one that waits for them.
pub fn watch(limit: Duration) {
    // SAFETY: plain libc calls on a local, zeroed signal set.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    thread::spawn(move || {
        let mut sig = 0;
        // SAFETY: `set` and `sig` outlive the call.
        unsafe { libc::sigwait(&set, &mut sig) };
        if sig == libc::SIGINT {
            say!("interrupted");
            exit(130)
        }
        say!("terminated");
        exit(143)
    });
    thread::spawn(move || {
        thread::sleep(limit);
        say!("terminated (time limit {}s)", limit.as_secs());
        exit(143)
    });
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
