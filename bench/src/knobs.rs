//! The knobs of a run, from the environment (`BENCH_*`).

use crate::exit::die;

pub struct Knobs {
    /// Seconds per measurement (`BENCH_DURATION`, 6).
    pub duration: u64,
    /// Seconds of warm-up per row (`BENCH_WARMUP`, 2).
    pub warmup: u64,
    /// Interleaved load runs of every row (`BENCH_RUNS`, 3: odd, so that
    /// the median is one run).
    pub runs: u32,
    /// wrk connections (`BENCH_CONNECTIONS`, 32) and threads (`BENCH_THREADS`, 2).
    pub connections: u32,
    pub threads: u32,
    /// Cold starts per worker, interleaved (`BENCH_COLD_RUNS`, 9).
    pub cold_runs: u32,
    /// 48 MiB downloads per server (`BENCH_STREAM_RUNS`, 3).
    pub stream_runs: u32,
    /// The origin's port; the workers' follow (`BENCH_PORT_BASE`, 28080).
    pub port_base: u16,
    /// The whole run's limit, seconds (`BENCH_TIME_LIMIT`, 600).
    pub time_limit: u64,
}

impl Knobs {
    pub fn from_env() -> Knobs {
        Knobs {
            duration: knob("BENCH_DURATION", 6),
            warmup: knob("BENCH_WARMUP", 2),
            runs: knob("BENCH_RUNS", 3),
            connections: knob("BENCH_CONNECTIONS", 32),
            threads: knob("BENCH_THREADS", 2),
            cold_runs: knob("BENCH_COLD_RUNS", 9),
            stream_runs: knob("BENCH_STREAM_RUNS", 3),
            port_base: knob("BENCH_PORT_BASE", 28080),
            time_limit: knob("BENCH_TIME_LIMIT", 600),
        }
    }
}

fn knob<T: std::str::FromStr + PartialOrd + Default>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Err(_) => default,
        Ok(s) if s.is_empty() => default,
        Ok(s) => match s.parse::<T>() {
            Ok(v) if v > T::default() => v,
            _ => die(&format!("{name}={s}: expected a positive whole number")),
        },
    }
}
