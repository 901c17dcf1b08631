//! The report: Markdown tables of one run, the targets last.

use std::fmt::Write;

use crate::knobs::Knobs;
use crate::results::{ratio, Results};
use crate::rows::{Row, Server, Worker, STALE_VARS};
use crate::targets::{bytes, kib, num, TARGETS};
use crate::wrangler::Binding;

/// What the report's first line says about the run.
pub struct Setting {
    pub date: String,
    pub workerd: String,
    pub compat: String,
    /// The load average before and after the load runs.
    pub load: (String, String),
    /// The default worker's bindings.
    pub vars: Vec<Binding>,
}

pub fn render(s: &Setting, k: &Knobs, r: &Results, wall_s: u64) -> String {
    let mut out = String::new();
    header(&mut out, s, k);
    load_table(&mut out, r);
    row_check(&mut out, r);
    other_tables(&mut out, r, k.stream_runs);
    targets(&mut out, r);
    let _ = writeln!(
        out,
        "Run wall time: {wall_s} s (watchdog {} s).",
        k.time_limit
    );
    out
}

fn header(out: &mut String, s: &Setting, k: &Knobs) {
    let vars: Vec<String> = s.vars.iter().map(Binding::shown).collect();
    let stale: Vec<String> = STALE_VARS.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = writeln!(out, "## error-shield benchmark — {}\n", s.date);
    let _ = writeln!(
        out,
        "workerd {}, compat {}; {} CPUs, load {} → {}; wrk -t{} -c{}, {}s per run after {}s warm-up, \
         runs interleaved A B A B over all targets; nginx 1 worker; error-shield = the \
         `wrangler deploy --dry-run` bundle; vars: {} (stale+retries row adds {})\n",
        s.workerd,
        s.compat,
        crate::machine::cpus(),
        s.load.0,
        s.load.1,
        k.threads,
        k.connections,
        k.duration,
        k.warmup,
        vars.join(" "),
        stale.join(" ")
    );
}

fn load_table(out: &mut String, r: &Results) {
    out.push_str("| target | req/s run 1 | req/s run 2 | req/s mean | vs JS worker | vs equal JS | p50 ms (1/2) | p99 ms (1/2) | server CPU µs/req (1/2) | requests | non-2xx | socket errors |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let js = r.mean_rps(Row::Pass(Worker::Js));
    for row in Row::ALL {
        let runs = r.runs(row);
        let each = |f: &dyn Fn(&crate::load::Run) -> String| -> String {
            runs.iter().map(f).collect::<Vec<_>>().join(" / ")
        };
        let sum = |f: &dyn Fn(&crate::load::Run) -> u64| -> u64 { runs.iter().map(f).sum() };
        let m = r.mean_rps(row);
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |",
            row.label(),
            each(&|x| format!("{:.1}", x.rps)).replace(" / ", " | "),
            m,
            ratio(m, js),
            ratio(m, r.mean_rps(row.peer())),
            each(&|x| format!("{:.3}", x.p50_ms)),
            each(&|x| format!("{:.3}", x.p99_ms)),
            each(&|x| x.cpu_us.map_or("-".into(), |c| format!("{c:.0}"))),
            sum(&|x| x.requests),
            sum(&|x| x.non2xx),
            sum(&|x| x.socket_errors),
        );
    }
    out.push_str("\nvs JS worker: against the minimal JS pass-through; vs equal JS: against the equal-function worker's row of the same kind (failure rows against its failure path). Server CPU = user+system time of the serving process group (workerd, or nginx for the origin) per request, from /proc: steadier than req/s on a busy machine.\n\n");
}

/// Every pass-through answer a 2xx, every failure-path answer a 500, and no
/// socket errors: otherwise the row measures something else.
pub fn row_problems(r: &Results) -> Vec<String> {
    let mut problems = Vec::new();
    for row in Row::ALL {
        for (i, run) in r.runs(row).iter().enumerate() {
            let at = format!("{}, run {}", row.label(), i + 1);
            let (n, all) = (run.non2xx, run.requests);
            if row.passes() && n != 0 {
                problems.push(format!("{at}: {n} non-2xx of {all}"));
            }
            if !row.passes() && n != all {
                problems.push(format!("{at}: {n} non-2xx of {all} (all expected)"));
            }
            if run.socket_errors != 0 {
                problems.push(format!("{at}: {} socket errors", run.socket_errors));
            }
        }
    }
    problems
}

fn row_check(out: &mut String, r: &Results) {
    let problems = row_problems(r);
    if problems.is_empty() {
        out.push_str(
            "Row check: pass-through rows all 2xx, failure rows all 500, no socket errors.\n",
        );
    }
    for p in problems {
        let _ = writeln!(out, "- **row check failed:** {p}");
    }
    out.push('\n');
}

fn other_tables(out: &mut String, r: &Results, stream_runs: u32) {
    let _ = writeln!(
        out,
        "| 48 MiB streamed | best MB/s | median MB/s (of {stream_runs}) |\n|---|---:|---:|"
    );
    let servers = std::iter::once(Server::Origin).chain(Worker::STREAM.map(Server::Worker));
    for server in servers {
        let label = match server {
            Server::Origin => "origin direct",
            Server::Worker(w) => w.label(),
        };
        let s = &r.stream[&server];
        let _ = writeln!(
            out,
            "| {label} | {:.0} | {:.0} |",
            s.best_mb_s(),
            s.median_mb_s()
        );
    }
    out.push_str("\n| cold start (workerd start → first 200) | median ms | runs ms | first request ms (median) |\n|---|---:|---:|---:|\n");
    for w in Worker::COLD {
        let c = &r.cold[&w];
        let runs: Vec<String> = c.runs_ms.iter().map(u64::to_string).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} |",
            w.label(),
            num(c.median_ms()),
            runs.join("/"),
            c.first_median_ms()
        );
    }
    out.push_str("\n| size (deploy bundle) | raw | gzip -9 |\n|---|---:|---:|\n");
    for (name, raw, gz) in [
        (r.wasm_name.as_str(), r.wasm_raw, r.wasm_gzip),
        ("index.js", r.js_raw, r.js_gzip),
    ] {
        let (raw, gz) = (raw as f64, gz as f64);
        let _ = writeln!(
            out,
            "| {name} | {} ({}) | {} ({}) |",
            bytes(raw),
            kib(raw),
            bytes(gz),
            kib(gz)
        );
    }
    out.push('\n');
}

fn targets(out: &mut String, r: &Results) {
    out.push_str("| target | bound | measured | holds/missed |\n|---|---:|---|---|\n");
    for t in TARGETS {
        let v = t.judge(r);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            t.label(),
            v.bound,
            v.measured,
            verdict(v.holds)
        );
    }
    out.push_str("\nThe CPU targets by req/s (higher = faster; a CPU bound of k× asks for at least 1/k× the req/s), noisier:\n\n");
    out.push_str(
        "| same pairs, req/s | measured | bound (1/k) | holds/missed |\n|---|---|---:|---|\n",
    );
    for t in TARGETS {
        if let Some((measured, bound, holds)) = t.as_rps(r) {
            let _ = writeln!(
                out,
                "| {} | {measured} | ≥ {bound:.2} | {} |",
                t.what,
                verdict(holds)
            );
        }
    }
    out.push('\n');
}

fn verdict(holds: bool) -> &'static str {
    if holds {
        "holds"
    } else {
        "missed"
    }
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
