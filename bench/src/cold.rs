//! The cold starts: each timed worker started again and again, the
//! workers taking turns, then every worker left running for the load.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use error_shield_rig::{poll_every, Group};

use crate::exit::die;
use crate::machine;
use crate::results::{self, Results};
use crate::rows::Worker;
use crate::workers;

/// Cold start of each timed worker, `runs` times, the workers taking turns
/// (each turn starting with the next one) so that a slow spell of the
/// machine hits them alike; the last start of each keeps running. The
/// others (the same bundle) are started untimed.
pub fn starts(
    workerd: &Path,
    scratch: &Path,
    ports: &HashMap<Worker, u16>,
    runs: u32,
    results: &mut Results,
) -> HashMap<Worker, Group> {
    let mut groups: HashMap<Worker, Group> = HashMap::new();
    let mut stopping = Vec::new();
    for turn in 0..runs as usize {
        for i in 0..Worker::COLD.len() {
            let w = Worker::COLD[(turn + i) % Worker::COLD.len()];
            if let Some(g) = groups.remove(&w) {
                stopping.push(stop_quietly(g));
            }
            let s = workers::start(workerd, &scratch.join(w.dir()), ports[&w]);
            let cold = results.cold.entry(w).or_default();
            cold.runs_ms.push(s.cold_ms);
            cold.first_ms.push(results::round1(s.first_ms));
            groups.insert(w, s.group);
        }
    }
    stopping.into_iter().for_each(|t| drop(t.join()));
    for w in Worker::ALL {
        if let std::collections::hash_map::Entry::Vacant(e) = groups.entry(w) {
            e.insert(workers::start(workerd, &scratch.join(w.dir()), ports[&w]).group);
        }
    }
    groups
}

/// Stops `g` on a thread of its own (its guard lingers 2 s after the TERM)
/// once its workerd is gone, so that no dying server shares the machine
/// with the next cold start.
fn stop_quietly(g: Group) -> std::thread::JoinHandle<()> {
    let pgid = g.pgid();
    let t = std::thread::spawn(move || drop(g));
    let gone = || (!machine::group_runs(pgid, "workerd")).then_some(());
    if poll_every(Duration::from_millis(10), Duration::from_secs(5), gone).is_none() {
        die("a workerd of a cold start would not stop");
    }
    t
}
