//! The hop marker end to end: it belongs to one deployment, so a client's
//! forged marker and another deployment's are ordinary requests (passed
//! through, no record), two deployments in a chain both serve, and a real
//! loop still fails fast with one record. The marker never reaches a client.

use std::sync::OnceLock;

use error_shield_harness::{echo_header, get, unique_id, Env, Launch, Origin, Worker};

const HOP: &str = "x-error-shield-hop";
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

#[test]
fn a_forged_marker_is_an_ordinary_request_with_no_record() {
    let e = env();
    let ours = marker_sent_by(e.worker("inner"));
    assert_eq!(ours.len(), 32, "{ours}");
    for forged in [
        "1",
        "looped",
        "true",
        "",
        "00000000000000000000000000000000",
    ] {
        let id = unique_id("forged");
        let r = get(
            &e.worker("inner").url("/echo"),
            &[("x-request-id", &id), (HOP, forged)],
        );
        assert_eq!(r.status, 200, "{forged:?}: {}", r.text());
        // The origin gets our marker, not the client's.
        assert_eq!(
            echo_header(&r.json(), HOP),
            Some(ours.as_str()),
            "{forged:?}"
        );
        assert_eq!(r.header(HOP), None, "{forged:?}");
        assert!(e.worker("inner").records_for(&id).is_empty(), "{forged:?}");
    }
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
    // The origin sees the inner deployment's marker, which is not the outer's.
    let seen = r.json();
    assert_eq!(
        echo_header(&seen, HOP),
        Some(marker_sent_by(e.worker("inner")).as_str())
    );
    // That the inner served at all shows the outer's marker is not its own.
    assert!(e.worker("outer").records_for(&id).is_empty());
    assert!(e.worker("inner").records_for(&id).is_empty());
    // The control: the chain does fail loudly when the origin fails.
    let failing = unique_id("chain-fail");
    let r = get(
        &e.worker("outer").url("/status/503"),
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
    assert!(e.origin().hits("/status/503") >= 1);
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
