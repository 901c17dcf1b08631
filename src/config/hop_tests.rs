use super::*;

const A: &str = "4f3c2b1a-0000-4000-8000-123456789abc";
const B: &str = "9e8d7c6b-0000-4000-8000-cba987654321";

fn signal_of(back: Arrival) -> String {
    match back {
        Arrival::Back(s) => s,
        other => panic!("not back: {other:?}"),
    }
}

fn chain_of(arrival: Arrival) -> Chain {
    match arrival {
        Arrival::Ordinary(c) => c,
        other => panic!("not ordinary: {other:?}"),
    }
}

/// What a hop with `hop` sends for a request that arrived with `before`.
fn sent(hop: &Hop, before: &Chain, nonce: u64) -> Chain {
    let arrived = hop.arrival(
        Some(&before.markers)
            .filter(|m| !m.is_empty())
            .map(String::as_str),
        Some(&before.nonces),
    );
    hop.onward(&chain_of(arrived), nonce)
}

fn back_at(hop: &Hop, c: &Chain) -> Arrival {
    hop.arrival(Some(&c.markers), Some(&c.nonces))
}

#[test]
fn one_deployment_has_one_marker_in_every_isolate() {
    let first = Hop::of(A).onward(&Chain::default(), 7);
    assert_eq!(first.markers, Hop::of(A).marker());
    assert_eq!(first.markers.len(), 32);
    assert_eq!(first.nonces, "0000000000000007");
    // Another isolate of the same deployment knows it and its nonce.
    let signal = signal_of(back_at(&Hop::of(A), &first));
    assert_eq!(
        Hop::of(A).answered(&first.nonces, &signal, 500),
        Answered::Ours
    );
    // The same marker with another nonce: its own signal, not this one.
    let other = Hop::of(A).onward(&Chain::default(), 8);
    assert_eq!(other.markers, first.markers);
    let other_signal = signal_of(back_at(&Hop::of(A), &other));
    assert_ne!(signal, other_signal);
    assert_eq!(
        Hop::of(A).answered(&first.nonces, &other_signal, 500),
        Answered::Not
    );
}

#[test]
fn other_deployments_and_forged_values_are_ordinary() {
    let a = Hop::of(A);
    assert_ne!(a.marker(), Hop::of(B).marker());
    let theirs = Hop::of(B).onward(&Chain::default(), 7);
    assert_eq!(chain_of(back_at(&a, &theirs)), theirs);
    assert_eq!(chain_of(a.arrival(None, None)), Chain::default());
    let ours = a.marker();
    let cut = &ours[..31];
    let upper = ours.to_uppercase();
    let nonce = Some("0000000000000001");
    for forged in ["1", "", "looped", "true", cut, &upper] {
        assert_eq!(
            chain_of(a.arrival(Some(forged), nonce)),
            Chain::default(),
            "{forged:?}"
        );
    }
    // A marker without its nonce is still a marker: ours comes back, and
    // another's goes on with a nonce of zeros.
    for nonce in [None, Some(""), Some("1"), Some("000000000000000G")] {
        assert!(
            matches!(a.arrival(Some(ours), nonce), Arrival::Back(_)),
            "{nonce:?}"
        );
        let theirs = Hop::of(B);
        let kept = chain_of(a.arrival(Some(theirs.marker()), nonce));
        assert_eq!(kept.markers, theirs.marker());
        assert_eq!(kept.nonces, "0000000000000000");
    }
}

#[test]
fn the_signal_is_none_of_the_values_sent() {
    let a = Hop::of(A);
    let sent = a.onward(&Chain::default(), 42);
    let signal = signal_of(back_at(&a, &sent));
    assert_ne!(signal, sent.markers);
    // An origin reflecting what we sent proves nothing.
    let chained = a.onward(&Hop::of(B).onward(&Chain::default(), 1), 42);
    for reflected in [
        &sent.markers,
        &sent.nonces,
        &chained.markers,
        &chained.nonces,
    ] {
        assert_eq!(a.answered(&chained.nonces, reflected, 500), Answered::Not);
    }
}

#[test]
fn markers_accumulate_and_a_cycle_ends_at_its_second_pass() {
    let (a, b) = (Hop::of(A), Hop::of(B));
    // A sends to B, B to A: A finds its own marker.
    let from_a = sent(&a, &Chain::default(), 1);
    let from_b = sent(&b, &from_a, 2);
    assert_eq!(from_b.markers, format!("{},{}", a.marker(), b.marker()));
    assert_eq!(from_b.nonces, "0000000000000001,0000000000000002");
    let signal = signal_of(back_at(&a, &from_b));
    // B passes A's signal on without a record; A's first pass writes it.
    assert_eq!(b.answered(&from_b.nonces, &signal, 500), Answered::Theirs);
    assert_eq!(a.answered(&from_a.nonces, &signal, 500), Answered::Ours);
    // B's own signal is B's, never A's.
    let b_signal = signal_of(back_at(&b, &from_b));
    assert_eq!(a.answered(&from_a.nonces, &b_signal, 500), Answered::Not);
    assert_eq!(b.answered(&from_b.nonces, &b_signal, 500), Answered::Ours);
}

#[test]
fn a_foreign_signal_is_a_loop_only_where_it_can_be_one() {
    let (a, b) = (Hop::of(A), Hop::of(B));
    let alone = a.onward(&Chain::default(), 3);
    let chained = sent(&a, &b.onward(&Chain::default(), 4), 3);
    let signal = "0123456789abcdef0123456789abcdef";
    // First hop: nobody before us could have looped.
    assert_eq!(a.answered(&alone.nonces, signal, 500), Answered::Not);
    assert_eq!(a.answered(&chained.nonces, signal, 500), Answered::Theirs);
    // A loop's answer is the uniform 500 and a signal's shape.
    assert_eq!(a.answered(&chained.nonces, signal, 200), Answered::Not);
    assert_eq!(a.answered(&chained.nonces, "1", 500), Answered::Not);
    assert_eq!(
        a.answered(&chained.nonces, &signal.to_uppercase(), 500),
        Answered::Not
    );
    assert_eq!(a.answered("", signal, 500), Answered::Not);
}

#[test]
fn a_chain_is_bounded_and_a_longer_one_is_a_loop() {
    let mut chain = Chain::default();
    for i in 0..MAX_MARKERS - 1 {
        chain = sent(&Hop::of(&format!("deployment-{i}")), &chain, i as u64);
    }
    let a = Hop::of(A);
    let onward = sent(&a, &chain, 9);
    assert_eq!(onward.markers.split(',').count(), MAX_MARKERS);
    assert_eq!(onward.nonces.split(',').count(), MAX_MARKERS);
    assert!(matches!(
        back_at(&Hop::of("one-more"), &onward),
        Arrival::Back(_)
    ));
    // Garbage does not count toward the bound, nor stays.
    let padded = Chain {
        markers: format!("x,{},y", chain.markers),
        nonces: format!("1,{},2", chain.nonces),
    };
    assert_eq!(chain_of(back_at(&a, &padded)), chain);
}

#[test]
fn a_loop_is_a_config_error_naming_origin_url() {
    let f = loop_failure();
    assert_eq!(f.cause, Cause::ConfigError);
    assert_eq!(f.context, vec![("variable".into(), "ORIGIN_URL".into())]);
}
