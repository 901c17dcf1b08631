//! The machine as /proc shows it: the CPU time of a process group (the
//! server's own cost), whether a group still runs a program, the load and
//! the CPUs.

use std::{fs, thread};

/// One process of /proc: its group, command name, whether it has exited
/// (a zombie not yet reaped) and CPU time so far.
struct Proc {
    pgrp: u32,
    zombie: bool,
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
        zombie: fields.first() == Some(&"Z"),
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

/// Whether group `pgid` has a live process called `comm`.
pub fn group_runs(pgid: u32, comm: &str) -> bool {
    procs()
        .iter()
        .any(|p| p.pgrp == pgid && p.comm == comm && !p.zombie)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_group_and_ticks() {
        let p = parse_stat("42 (work erd) S 1 40 40 0 -1 4194560 1 0 0 0 7 3 0 0").unwrap();
        assert_eq!((p.pgrp, p.comm.as_str(), p.ticks), (40, "work erd", 10));
        assert!(!p.zombie);
        let z = parse_stat("42 (workerd) Z 1 40 40 0 -1 4194560 1 0 0 0 7 3 0 0").unwrap();
        assert!(z.zombie, "an exited process not yet reaped");
    }

    #[test]
    fn this_process_is_in_its_group() {
        // SAFETY: getpgrp has no preconditions.
        let pgid = unsafe { libc::getpgrp() } as u32;
        assert!(procs().iter().any(|p| p.pgrp == pgid));
    }
}
