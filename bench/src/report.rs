//! The report: Markdown tables of one run, the targets last.

use std::fmt::Write;

use crate::knobs::Knobs;
use crate::load::Run;
use crate::results::{median, paired, Results, Spread};
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
        "workerd {}, compat {}; {} CPUs, load {} → {}; wrk -t{} -c{}, {} runs of {}s per row after {}s warm-up, \
         runs interleaved (every row's run 1, then every row's run 2, …); {} cold starts and {} 48 MiB \
         downloads per worker, interleaved likewise; nginx 1 worker; error-shield = the \
         `wrangler deploy --dry-run` bundle; vars: {} (stale+retries row adds {})\n",
        s.workerd,
        s.compat,
        crate::machine::cpus(),
        s.load.0,
        s.load.1,
        k.threads,
        k.connections,
        k.runs,
        k.duration,
        k.warmup,
        k.cold_runs,
        k.stream_runs,
        vars.join(" "),
        stale.join(" ")
    );
}

/// The median of run i of `a` over run i of `b`, or "–".
fn paired_median(a: &[f64], b: &[f64]) -> String {
    let ratios = paired(a, b);
    if ratios.is_empty() {
        return "–".into();
    }
    format!("{:.2}", median(&ratios))
}

fn load_table(out: &mut String, r: &Results) {
    out.push_str("| target | req/s median (min–max) | vs minimal JS | vs JS peer | p50 ms | p99 ms | server CPU µs/req median (min–max) | CPU vs JS peer | requests | non-2xx | socket errors |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let js = r.rps(Row::Pass(Worker::Js));
    for row in Row::ALL {
        let runs = r.runs(row);
        let of = |f: fn(&Run) -> f64| Spread::of(&runs.iter().map(f).collect::<Vec<_>>());
        let sum = |f: fn(&Run) -> u64| -> u64 { runs.iter().map(f).sum() };
        let peer = |f: fn(&Results, Row) -> Vec<f64>| {
            row.peer()
                .map_or("–".into(), |p| paired_median(&f(r, row), &f(r, p)))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.3} | {:.3} | {} | {} | {} | {} | {} |",
            row.label(),
            Spread::show(of(|x| x.rps), 1),
            paired_median(&r.rps(row), &js),
            peer(Results::rps),
            of(|x| x.p50_ms).map_or(0.0, |s| s.median),
            of(|x| x.p99_ms).map_or(0.0, |s| s.median),
            Spread::show(Spread::of(&r.cpu(row)), 0),
            peer(Results::cpu),
            sum(|x| x.requests),
            sum(|x| x.non2xx),
            sum(|x| x.socket_errors),
        );
    }
    out.push_str("\nMedians of the interleaved runs, their spread (min–max) in brackets. Ratios are the median of run i of the row over run i of the other (req/s, except the CPU column). vs minimal JS: against the minimal JS pass-through. vs JS peer: against the JS worker doing the same job — error-shield's rows with bodies watched (the default, stale+retries, routes, fallback + breaker) against the JS watching peer (bench/watching.js: equal.js with its body piped natively and one log line when the pipe fails); WATCH_BODIES=off against the plain equal-function worker (bench/equal.js); failure rows against the equal-function worker's failure path. Server CPU = user+system time of the serving process group (workerd, or nginx for the origin) per request, from /proc: steadier than req/s on a busy machine.\n\n");
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
        "| 48 MiB streamed | best MB/s | median MB/s (of {stream_runs}) | runs MB/s |\n|---|---:|---:|---:|"
    );
    let servers = std::iter::once(Server::Origin).chain(Worker::STREAM.map(Server::Worker));
    for server in servers {
        let label = match server {
            Server::Origin => "origin direct",
            Server::Worker(w) => w.label(),
        };
        let s = &r.stream[&server];
        let runs: Vec<String> = r.stream_mb_s(server).iter().map(|v| num(*v)).collect();
        let _ = writeln!(
            out,
            "| {label} | {:.0} | {:.0} | {} |",
            s.best_mb_s(),
            s.median_mb_s(),
            runs.join("/")
        );
    }
    out.push_str("\n| cold start (workerd start → first 200) | median ms | runs ms | first request ms median (min–max) |\n|---|---:|---:|---:|\n");
    for w in Worker::COLD {
        let c = &r.cold[&w];
        let runs: Vec<String> = c.runs_ms.iter().map(u64::to_string).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            w.label(),
            num(c.median_ms()),
            runs.join("/"),
            Spread::show(Spread::of(&c.first_ms), 1)
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
    out.push_str("Targets: the median of the per-run ratios (run i over run i of the interleaved runs), their spread and each side's median in brackets.\n\n");
    out.push_str("| target | bound | measured | holds/missed |\n|---|---:|---|---|\n");
    for t in TARGETS {
        let v = t.judge(r);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            t.label(),
            v.bound,
            v.measured,
            v.verdict
        );
    }
    out.push_str("\nThe CPU targets by req/s (higher = faster; a CPU bound of k× asks for at least 1/k× the req/s), noisier:\n\n");
    out.push_str(
        "| same pairs, req/s | measured | bound (1/k) | holds/missed |\n|---|---|---:|---|\n",
    );
    for t in TARGETS {
        if let Some(v) = t.as_rps(r) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                t.what, v.measured, v.bound, v.verdict
            );
        }
    }
    out.push('\n');
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
