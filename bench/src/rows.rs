//! What is measured: the servers (nginx and ten workerd configs) and the
//! rows of the load table, each a URL on one of them.

use crate::origin::{FAIL, SMALL};
use crate::wrangler::Binding;

/// A worker served by workerd from a config of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Worker {
    /// bench/passthrough.js: the smallest JavaScript pass-through.
    Js,
    /// bench/equal.js: error-shield's job written in JavaScript.
    Equal,
    /// bench/watching.js: equal.js with its bodies watched through a native
    /// pipe, one log line when one breaks (the default's peer).
    Watching,
    /// error-shield's deploy bundle with wrangler.toml's vars.
    Shield,
    /// The bundle with stale-if-error and retries on.
    Stale,
    /// The bundle with ROUTES of one rule that every request matches.
    Route1,
    /// The bundle with ROUTES of 64 rules that no request matches.
    Route64,
    /// The bundle with WATCH_BODIES=off.
    Unwatched,
    /// The bundle with a fallback origin and the circuit breaker on (closed:
    /// nothing fails on the pass-through).
    Resilient,
    /// The bundle whose circuit opens at the first failure and stays open:
    /// its failure row is the open circuit's answer at once.
    Open,
}

impl Worker {
    pub const ALL: [Worker; 10] = [
        Worker::Js,
        Worker::Equal,
        Worker::Watching,
        Worker::Shield,
        Worker::Stale,
        Worker::Route1,
        Worker::Route64,
        Worker::Unwatched,
        Worker::Resilient,
        Worker::Open,
    ];
    /// Timed at cold start; the others are the same bundle as `Shield`.
    pub const COLD: [Worker; 4] = [Worker::Js, Worker::Equal, Worker::Watching, Worker::Shield];
    /// Timed streaming 48 MiB (after the origin itself).
    #[rustfmt::skip]
    pub const STREAM: [Worker; 5] =
        [Worker::Js, Worker::Equal, Worker::Watching, Worker::Shield, Worker::Unwatched];

    /// Its directory in the run's scratch directory, its port's offset from
    /// `BENCH_PORT_BASE` (the origin's is 0; taken, the next free port) and
    /// its name in the tables.
    #[rustfmt::skip]
    fn spec(self) -> (&'static str, u16, &'static str) {
        match self {
            Worker::Js => ("js", 1, "JS pass-through worker (minimal)"),
            Worker::Shield => ("shield", 2, "error-shield"),
            Worker::Equal => ("equal", 3, "JS equal-function worker"),
            Worker::Stale => ("stale", 4, "error-shield, stale-if-error + retries on"),
            Worker::Route1 => ("route1", 5, "error-shield, ROUTES with 1 rule"),
            Worker::Route64 => ("route64", 6, "error-shield, ROUTES with 64 rules"),
            Worker::Unwatched => ("unwatched", 7, "error-shield, WATCH_BODIES=off"),
            Worker::Resilient => ("resilient", 8, "error-shield, fallback origin + circuit breaker on"),
            Worker::Open => ("open", 9, "error-shield, circuit open"),
            Worker::Watching => ("watching", 10, "JS watching peer (equal-function + native body watch)"),
        }
    }

    pub fn dir(self) -> &'static str {
        self.spec().0
    }

    pub fn port_offset(self) -> u16 {
        self.spec().1
    }

    pub fn label(self) -> &'static str {
        self.spec().2
    }

    /// The bindings it gets on top of wrangler.toml's vars (replacing those
    /// of the same name).
    pub fn vars(self) -> Vec<Binding> {
        match self {
            // Retries only act on an unreachable origin; stale-if-error tees
            // every cacheable 200 GET (the 4 KiB file is one) and stores a
            // copy off the hot path. workerd without a cache service rejects
            // every Cache API put and match ("No Cache was configured") and
            // error-shield swallows that, so this row pays the tee, the
            // stored copy's headers and a rejected put, not real storage.
            Worker::Stale => STALE_VARS
                .iter()
                .map(|(k, v)| Binding::text(k, v))
                .collect(),
            // One rule that every request matches, and 64 that none does (the
            // whole scan, then the top level): the cost of matching.
            Worker::Route1 => vec![Binding::text(
                "ROUTES",
                r#"[{"prefix":"/","timeout_ms":30000}]"#,
            )],
            Worker::Route64 => {
                let rules: Vec<String> = (0..64)
                    .map(|i| format!(r#"{{"prefix":"/r{i}/","timeout_ms":30000}}"#))
                    .collect();
                vec![Binding::text("ROUTES", &format!("[{}]", rules.join(",")))]
            }
            // Bodies passed on unwatched: what watching them for a break costs.
            Worker::Unwatched => vec![Binding::text("WATCH_BODIES", "off")],
            // Never contacted: nothing fails on the pass-through.
            Worker::Resilient => vec![
                Binding::text("FALLBACK_ORIGIN_URL", "http://127.0.0.1:9"),
                Binding::text("CIRCUIT_FAILURES", "5"),
            ],
            // The first failure opens the circuit for a day: every later
            // failure-row request is answered without waiting for the origin.
            Worker::Open => vec![
                Binding::text("CIRCUIT_FAILURES", "1"),
                Binding::text("CIRCUIT_OPEN_SECONDS", "86400"),
            ],
            Worker::Js | Worker::Equal | Worker::Watching | Worker::Shield => Vec::new(),
        }
    }
}

pub const STALE_VARS: [(&str, &str); 2] =
    [("STALE_IF_ERROR_SECONDS", "60"), ("ORIGIN_RETRIES", "2")];

/// What serves a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Server {
    Origin,
    Worker(Worker),
}

/// A row of the load table: a URL on a server, loaded by wrk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Row {
    Origin,
    Pass(Worker),
    /// The failure path: the origin answers 500.
    Fail(Worker),
}

impl Row {
    /// In the order they are loaded (A B A B) and reported.
    pub const ALL: [Row; 13] = [
        Row::Origin,
        Row::Pass(Worker::Js),
        Row::Pass(Worker::Equal),
        Row::Pass(Worker::Watching),
        Row::Pass(Worker::Shield),
        Row::Pass(Worker::Unwatched),
        Row::Pass(Worker::Stale),
        Row::Pass(Worker::Route1),
        Row::Pass(Worker::Route64),
        Row::Pass(Worker::Resilient),
        Row::Fail(Worker::Shield),
        Row::Fail(Worker::Equal),
        Row::Fail(Worker::Open),
    ];

    pub fn server(self) -> Server {
        match self {
            Row::Origin => Server::Origin,
            Row::Pass(w) | Row::Fail(w) => Server::Worker(w),
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Row::Fail(_) => FAIL,
            _ => SMALL,
        }
    }

    /// Every answer a 2xx (else every answer a 500).
    pub fn passes(self) -> bool {
        !matches!(self, Row::Fail(_))
    }

    /// The JS peer an error-shield row is compared with ("vs JS peer"):
    /// one that does the same job. Bodies watched (the default and every
    /// feature on top of it): the watching peer; `WATCH_BODIES=off`: the
    /// equal-function worker; a failure row: the equal-function worker's
    /// failure path. The origin and the JS workers have none.
    pub fn peer(self) -> Option<Row> {
        match self {
            Row::Origin | Row::Pass(Worker::Js | Worker::Equal | Worker::Watching) => None,
            Row::Fail(Worker::Js | Worker::Equal | Worker::Watching) => None,
            Row::Fail(_) => Some(Row::Fail(Worker::Equal)),
            Row::Pass(Worker::Unwatched) => Some(Row::Pass(Worker::Equal)),
            Row::Pass(_) => Some(Row::Pass(Worker::Watching)),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Row::Origin => "origin direct (nginx, 4 KiB)",
            Row::Pass(Worker::Js) => "JS pass-through worker (minimal)",
            Row::Pass(Worker::Equal) => "JS equal-function worker",
            Row::Pass(Worker::Watching) => "JS watching peer (equal-function + native pipe watching the body)",
            Row::Pass(Worker::Shield) => "error-shield pass-through",
            Row::Pass(Worker::Unwatched) => "error-shield, WATCH_BODIES=off, pass-through",
            Row::Pass(Worker::Stale) => "error-shield, stale-if-error + retries on, pass-through (tee + rejected cache put: no cache service)",
            Row::Pass(Worker::Route1) => "error-shield, ROUTES with 1 rule (matching), pass-through",
            Row::Pass(Worker::Route64) => "error-shield, ROUTES with 64 rules (none matching), pass-through",
            Row::Pass(Worker::Resilient) => "error-shield, fallback origin + circuit breaker on (closed), pass-through",
            Row::Fail(Worker::Open) => "error-shield, circuit open: the answer at once (origin 500 before)",
            Row::Pass(Worker::Open) => "error-shield, circuit breaker on, pass-through",
            Row::Fail(Worker::Equal) => "JS equal-function worker, failure path (origin 500)",
            Row::Fail(_) => "error-shield failure path (origin 500)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watched_rows_meet_the_watching_peer_and_the_rest_the_equal_one() {
        for w in [
            Worker::Shield,
            Worker::Stale,
            Worker::Route1,
            Worker::Route64,
            Worker::Resilient,
        ] {
            assert_eq!(
                Row::Pass(w).peer(),
                Some(Row::Pass(Worker::Watching)),
                "{w:?}"
            );
        }
        assert_eq!(
            Row::Pass(Worker::Unwatched).peer(),
            Some(Row::Pass(Worker::Equal))
        );
        for w in [Worker::Shield, Worker::Open] {
            assert_eq!(Row::Fail(w).peer(), Some(Row::Fail(Worker::Equal)), "{w:?}");
        }
        for r in [
            Row::Origin,
            Row::Pass(Worker::Js),
            Row::Pass(Worker::Equal),
            Row::Pass(Worker::Watching),
        ] {
            assert_eq!(r.peer(), None, "{r:?}");
        }
    }

    #[test]
    fn every_peer_is_a_measured_row_of_the_same_kind() {
        for row in Row::ALL {
            if let Some(peer) = row.peer() {
                assert!(Row::ALL.contains(&peer), "{row:?}");
                assert_eq!(peer.passes(), row.passes(), "{row:?}");
            }
        }
        assert!(Row::ALL
            .iter()
            .any(|r| r.peer() == Some(Row::Pass(Worker::Watching))));
    }

    #[test]
    fn the_watching_peer_is_timed_everywhere_and_ports_differ() {
        assert!(Worker::COLD.contains(&Worker::Watching));
        assert!(Worker::STREAM.contains(&Worker::Watching));
        assert!(
            Row::ALL.contains(&Row::Pass(Worker::Watching)) && Row::Pass(Worker::Watching).passes()
        );
        let mut offsets: Vec<u16> = Worker::ALL.iter().map(|w| w.port_offset()).collect();
        offsets.sort_unstable();
        offsets.dedup();
        assert_eq!(offsets.len(), Worker::ALL.len());
        assert!(!offsets.contains(&0), "0 is the origin's");
    }
}
