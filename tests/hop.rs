//! The hop marker end to end: it belongs to one deployment, so a client's
//! forged marker and another deployment's are ordinary requests (passed
//! through, no record), two deployments in a chain both serve, and a real
//! loop still fails fast with one record. The marker never reaches a client.

use std::sync::OnceLock;

use error_shield_harness::{echo_header, get, unique_id, Env, Launch, Origin, Worker};
use serde_json::Value;

const HOP: &str = "x-error-shield-hop";
const NONCE: &str = "x-error-shield-nonce";
/// Without it, the inner wrangler's proxy compresses for the outer worker,
/// which passes the bytes on as they came.
const IDENTITY: (&str, &str) = ("accept-encoding", "identity");

/// The workers: B (`inner`) in front of the fake origin, A (`outer`) in
/// front of B; `looping`: no ORIGIN_URL and no zone origin, so every
/// request comes back; `looping_500_ok`: the same, with a FAILURE_STATUSES
/// that leaves out the loop's 500.
fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let looping_500_ok = Launch::proxy().var("FAILURE_STATUSES", "502-504");
        let mut env = Env::build()
            .origin(Origin::start())
            .worker("looping", Launch::proxy())
            .worker("looping_500_ok", looping_500_ok)
            .fronting("inner", Launch::proxy())
            .start();
        let inner = env.worker("inner").base.clone();
        env.add("outer", Launch::proxy().var("ORIGIN_URL", &inner));
        env
    })
}

/// The marker the origin received from `worker` for a plain request.
fn marker_sent_by(worker: &Worker) -> String {
    let echo = get(&worker.url("/echo"), &[IDENTITY]).json();
    echo_header(&echo, HOP)
        .unwrap_or_else(|| panic!("no marker reached the origin: {echo}"))
        .to_owned()
}

/// The error records `worker` printed for `id`, read once a later request
/// (`control`, which fails) has its record: a record of anything sent
/// before it would have been printed first.
fn errors_after_control(worker: &Worker, id: &str, control: &str) -> Vec<Value> {
    let control_id = unique_id("control");
    let r = get(&worker.url(control), &[("x-request-id", &control_id)]);
    assert_eq!(r.status, 500, "the control fails");
    worker.record_for(&control_id);
    (worker.records().into_iter())
        .filter(|r| r["request_id"] == id && r["level"] == "error")
        .collect()
}

/// The markers in a hop header: each a deployment's, 32 hex digits.
fn markers(header: &str) -> Vec<&str> {
    let list: Vec<&str> = header.split(',').collect();
    for m in &list {
        assert_eq!(m.len(), 32, "{header}");
        assert!(m.bytes().all(|b| b.is_ascii_hexdigit()), "{header}");
    }
    list
}

#[test]
fn a_forged_marker_is_an_ordinary_request_with_no_record() {
    let e = env();
    let ours = marker_sent_by(e.worker("inner"));
    assert_eq!(markers(&ours).len(), 1, "{ours}");
    // The same marker for every request of the deployment.
    assert_eq!(ours, marker_sent_by(e.worker("inner")));
    let other = "00000000000000000000000000000000";
    for forged in ["1", "looped", "true", "", other] {
        let id = unique_id("forged");
        let r = get(
            &e.worker("inner").url("/echo"),
            &[("x-request-id", &id), (HOP, forged)],
        );
        assert_eq!(r.status, 200, "{forged:?}: {}", r.text());
        // Garbage is dropped; a marker that is not ours is passed on
        // (another deployment's, in a chain), ours after it.
        let seen = echo_header(&r.json(), HOP).unwrap_or_default().to_owned();
        let want = if forged == other {
            format!("{other},{ours}")
        } else {
            ours.clone()
        };
        assert_eq!(seen, want, "{forged:?}");
        assert_eq!(r.header(HOP), None, "{forged:?}");
        assert!(
            errors_after_control(e.worker("inner"), &id, "/status/500").is_empty(),
            "{forged:?}"
        );
    }
}

#[test]
fn a_replayed_marker_gets_the_uniform_500_and_no_record() {
    let e = env();
    // What an echoing origin shows its client: the markers and nonces it
    // got, replayed whole, one by one, or the marker alone.
    for (front, chain) in [("inner", vec!["inner"]), ("outer", vec!["outer", "inner"])] {
        let echo = get(&e.worker(front).url("/echo"), &[IDENTITY]).json();
        let seen = echo_header(&echo, HOP).expect("markers").to_owned();
        let nonces = echo_header(&echo, NONCE).map(str::to_owned);
        let nonce_list: Vec<String> = (nonces.iter())
            .flat_map(|n| n.split(',').map(str::to_owned))
            .collect();
        let mut replays = vec![(seen.clone(), nonces.clone())];
        for (i, m) in markers(&seen).into_iter().enumerate() {
            replays.push((m.to_owned(), nonce_list.get(i).cloned()));
            replays.push((m.to_owned(), None));
        }
        for (marker, nonce) in replays {
            let id = unique_id("replay");
            let mut headers = vec![("x-request-id", id.as_str()), (HOP, &marker), IDENTITY];
            if let Some(n) = &nonce {
                headers.push((NONCE, n));
            }
            let r = get(&e.worker(front).url("/echo"), &headers);
            assert_eq!(r.status, 500, "{front}: {marker}: {}", r.text());
            assert_eq!(r.json()["status"], 500);
            for w in &chain {
                let errors = errors_after_control(e.worker(w), &id, "/status/500");
                assert!(errors.is_empty(), "{front} → {w}: {marker}: {errors:?}");
            }
        }
    }
    // The control: a request that truly comes back writes its one record.
    let id = unique_id("real-loop");
    let r = get(&e.worker("looping").url("/x"), &[("x-request-id", &id)]);
    assert_eq!(r.status, 500);
    let records = errors_after_control(e.worker("looping"), &id, "/x");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["cause"], "config_error");
}

#[test]
fn a_chain_of_eight_markers_is_a_loop_that_writes_nothing() {
    let e = env();
    let other = |i: usize| format!("{i:032x}");
    // Seven markers of others: passed on, ours the eighth.
    let seven: Vec<String> = (1..=7).map(other).collect();
    let r = get(
        &e.worker("inner").url("/echo"),
        &[(HOP, &seven.join(",")), IDENTITY],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = echo_header(&r.json(), HOP).unwrap_or_default().to_owned();
    assert_eq!(markers(&seen).len(), 8, "{seen}");
    // Eight: no deployment passes on a longer chain.
    let id = unique_id("eight");
    let eight: Vec<String> = (1..=8).map(other).collect();
    let r = get(
        &e.worker("inner").url("/echo"),
        &[("x-request-id", &id), (HOP, &eight.join(","))],
    );
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(errors_after_control(e.worker("inner"), &id, "/status/500").is_empty());
}

#[test]
fn a_replayed_loop_signal_is_an_ordinary_header() {
    let e = env();
    // The signal the answer to a replay carries…
    let inner = e.worker("inner");
    let echo = get(&inner.url("/echo"), &[IDENTITY]).json();
    let marker = echo_header(&echo, HOP).expect("a marker").to_owned();
    let nonce = echo_header(&echo, NONCE).unwrap_or_default().to_owned();
    let r = get(&inner.url("/echo"), &[(HOP, &marker), (NONCE, &nonce)]);
    let signal = r
        .header(HOP)
        .expect("the replay's answer has its signal")
        .to_owned();
    assert_eq!(signal.len(), 32, "{signal}");
    // …put back on the origin's answer by the client (an origin that sets
    // headers it is asked to) is no loop: the answer passes, no record.
    let id = unique_id("signal");
    let path = format!("/response-headers?{HOP}={signal}");
    let r = get(&inner.url(&path), &[("x-request-id", &id)]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(errors_after_control(inner, &id, "/status/500").is_empty());
}

#[test]
fn two_deployments_in_a_chain_both_serve_with_their_own_markers() {
    let e = env();
    let id = unique_id("chain");
    let r = get(
        &e.worker("outer").url("/echo?chain=1"),
        &[("x-request-id", &id), IDENTITY],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["target"], "/echo?chain=1");
    assert_eq!(r.header(HOP), None);
    // The origin sees both deployments' markers, the outer's first.
    let seen = r.json();
    let list = markers(echo_header(&seen, HOP).unwrap_or_default());
    let inner = marker_sent_by(e.worker("inner"));
    assert_eq!(list.len(), 2, "{seen}");
    assert_eq!(
        (list[0] != inner, list[1]),
        (true, inner.as_str()),
        "{seen}"
    );
    // The control: the chain does fail loudly when the origin fails.
    let failing = unique_id("chain-fail");
    let r = get(
        &e.worker("outer").url(&format!("/status/503?key={failing}")),
        &[("x-request-id", &failing)],
    );
    assert_eq!(r.status, 500);
    assert_eq!(
        e.worker("inner").record_for(&failing)["cause"],
        "origin_error_status"
    );
    assert_eq!(
        e.worker("outer").record_for(&failing)["cause"],
        "origin_error_status"
    );
    // Once: neither hop sent it again.
    assert_eq!(e.origin().hits_for("/status/503", &failing), 1);
    // That the inner served at all shows the outer's marker is not its own;
    // neither wrote a record for it (the control's came after).
    for hop in ["outer", "inner"] {
        e.worker(hop)
            .assert_no_records_after(&[&id], || failing.clone());
    }
}

#[test]
fn a_real_loop_fails_fast_with_one_record_and_no_marker_for_the_client() {
    let e = env();
    let id = unique_id("loop");
    let r = get(
        &e.worker("looping").url("/anything"),
        &[("x-request-id", &id)],
    );
    assert_eq!(r.status, 500);
    assert_eq!(
        r.header(HOP),
        None,
        "the marker never goes back to a client"
    );
    let record = e.worker("looping").record_for(&id);
    assert_eq!(record["cause"], "config_error", "{record}");
    // A client's forged marker on the looping worker: still one record, the
    // loop's, not a second one for the forgery.
    let id = unique_id("loop-forged");
    let r = get(
        &e.worker("looping").url("/anything"),
        &[("x-request-id", &id), (HOP, "1")],
    );
    assert_eq!(r.status, 500);
    assert_eq!(e.worker("looping").record_for(&id)["cause"], "config_error");
}

#[test]
fn a_loop_is_one_record_and_no_marker_whatever_failure_statuses_says() {
    let e = env();
    // The inner hop's 500 is no failing status here, yet it is the loop's
    // answer: judged as such, not passed on with its marker.
    let id = unique_id("loop-500-ok");
    let r = get(
        &e.worker("looping_500_ok").url("/anything"),
        &[("x-request-id", &id)],
    );
    assert_eq!(r.status, 500);
    assert_eq!(r.header(HOP), None, "{:?}", r.headers);
    assert_eq!(
        e.worker("looping_500_ok").record_for(&id)["cause"],
        "config_error"
    );
}
