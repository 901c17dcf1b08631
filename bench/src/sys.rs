//! The machine: CPU time of a process group from /proc, the load, the run's
//! scratch directory, and the ends of a run (the time limit, ^C, `TERM`).
//! The servers themselves die with their guards whenever this process
//! exits (see `error_shield_harness::process`); what is left here is the
//! scratch directory.

use std::path::{Path, PathBuf};
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

/// One process of /proc: its group, command name and CPU time so far.
struct Proc {
    pgrp: u32,
    comm: String,
    ticks: u64,
}

fn procs() -> Vec<Proc> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        e.file_name().to_str()?.parse::<u32>().ok()?;
        parse_stat(&fs::read_to_string(e.path().join("stat")).ok()?) // processes come and go
    })
    .collect()
}

/// `pid (comm) state ppid pgrp ... utime stime ...` (proc(5)).
fn parse_stat(stat: &str) -> Option<Proc> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let fields: Vec<&str> = stat.get(close + 2..)?.split(' ').collect();
    let num = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some(Proc {
        pgrp: num(2)? as u32,
        comm: stat[open + 1..close].to_string(),
        ticks: num(11)? + num(12)?,
    })
}

/// CPU time (user + system, clock ticks) of every process in group `pgid`:
/// the server's own cost, much steadier than req/s on a busy machine.
pub fn group_ticks(pgid: u32) -> u64 {
    procs()
        .iter()
        .filter(|p| p.pgrp == pgid)
        .map(|p| p.ticks)
        .sum()
}

/// Whether group `pgid` has a process called `comm`.
pub fn group_runs(pgid: u32, comm: &str) -> bool {
    procs().iter().any(|p| p.pgrp == pgid && p.comm == comm)
}

/// Clock ticks per second.
pub fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// The 1-minute load average, as /proc/loadavg writes it.
pub fn load() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

pub fn cpus() -> usize {
    thread::available_parallelism().map_or(0, |n| n.get())
}

/// Whether some program answers on `port` of 127.0.0.1 (we cannot bind it).
pub fn port_busy(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_err()
}

/// Calls `probe` every 20 ms until it holds (`true`) or `limit` passes
/// (`false`). Like the harness's `poll`, but the bench reports a failure
/// with what it knows and exits instead of panicking.
pub fn wait_for(limit: Duration, mut probe: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if probe() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The program `name` on PATH, or in one of `also`.
pub fn which(name: &str, also: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(also.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// "YYYY-MM-DD HH:MM UTC", now.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m) = (rem / 3600, rem % 3600 / 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_group_and_ticks() {
        let p = parse_stat("42 (work erd) S 1 40 40 0 -1 4194560 1 0 0 0 7 3 0 0").unwrap();
        assert_eq!((p.pgrp, p.comm.as_str(), p.ticks), (40, "work erd", 10));
    }

    #[test]
    fn this_process_is_in_its_group() {
        // SAFETY: getpgrp has no preconditions.
        let pgid = unsafe { libc::getpgrp() } as u32;
        assert!(procs().iter().any(|p| p.pgrp == pgid));
    }
}
