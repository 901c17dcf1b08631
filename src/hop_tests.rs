use super::*;

const A: &str = "4f3c2b1a-0000-4000-8000-123456789abc";
const B: &str = "9e8d7c6b-0000-4000-8000-cba987654321";

fn signal_of(back: Arrival) -> String {
    match back {
        Arrival::Back(s) => s,
        other => panic!("not back: {other:?}"),
    }
}

fn onward_of(arrival: Arrival) -> String {
    match arrival {
        Arrival::Ordinary(s) => s,
        other => panic!("not ordinary: {other:?}"),
    }
}

#[test]
fn one_deployment_knows_its_markers_in_every_isolate() {
    let sent = Hop::of(A).onward("", 7);
    assert_eq!(sent.len(), 16 + 1 + 32, "{sent}");
    assert!(shaped(&sent));
    // Another isolate of the same deployment knows it.
    let back = signal_of(Hop::of(A).arrival(Some(&sent)));
    assert_eq!(Hop::of(A).answered(&sent, &back, 500), Answered::Ours);
    // Every nonce has its own marker and signal.
    let other = Hop::of(A).onward("", 8);
    assert_ne!(sent, other);
    let other_back = signal_of(Hop::of(A).arrival(Some(&other)));
    assert_ne!(back, other_back);
    assert_eq!(Hop::of(A).answered(&sent, &other_back, 500), Answered::Not);
}

#[test]
fn other_deployments_and_forged_values_are_ordinary() {
    let a = Hop::of(A);
    let theirs = Hop::of(B).onward("", 7);
    assert_eq!(onward_of(a.arrival(Some(&theirs))), theirs);
    assert_eq!(onward_of(a.arrival(None)), "");
    let ours = a.onward("", 7);
    let forged_tag = format!("{}{}", &ours[..17], "0".repeat(32));
    let cut = &ours[..ours.len() - 1];
    let upper = ours.to_uppercase();
    for forged in ["1", "", "looped", "true", cut, &upper, &forged_tag] {
        // Garbage is dropped; a well-shaped forgery is passed on.
        let kept = onward_of(a.arrival(Some(forged)));
        assert!(kept.is_empty() || kept == forged_tag, "{forged:?}");
    }
}

#[test]
fn the_signal_is_none_of_the_markers_sent() {
    let a = Hop::of(A);
    let sent = a.onward("", 42);
    let back = signal_of(a.arrival(Some(&sent)));
    assert!(!sent.contains(&back));
    // An origin reflecting what we sent proves nothing.
    assert_eq!(a.answered(&sent, &sent, 500), Answered::Not);
    assert_eq!(a.answered(&sent, &sent[17..], 500), Answered::Not);
}

#[test]
fn markers_accumulate_and_a_cycle_ends_at_its_second_pass() {
    let (a, b) = (Hop::of(A), Hop::of(B));
    // A sends to B, B to A: A finds its own marker.
    let from_a = a.onward(&onward_of(a.arrival(None)), 1);
    let from_b = b.onward(&onward_of(b.arrival(Some(&from_a))), 2);
    assert_eq!(from_b.split(',').count(), 2);
    assert!(from_b.starts_with(&from_a));
    let signal = signal_of(a.arrival(Some(&from_b)));
    // B passes A's signal on without a record; A's first pass writes it.
    assert_eq!(b.answered(&from_b, &signal, 500), Answered::Theirs);
    assert_eq!(a.answered(&from_a, &signal, 500), Answered::Ours);
    // B's own signal would be B's, never A's.
    assert_eq!(a.answered(&from_a, &signal_of(b.arrival(Some(&from_b))), 500), Answered::Not);
}

#[test]
fn a_foreign_signal_is_a_loop_only_where_it_can_be_one() {
    let (a, b) = (Hop::of(A), Hop::of(B));
    let alone = a.onward("", 3);
    let chained = a.onward(&b.onward("", 4), 3);
    let signal = "0123456789abcdef0123456789abcdef";
    // First hop: nobody before us could have looped.
    assert_eq!(a.answered(&alone, signal, 500), Answered::Not);
    assert_eq!(a.answered(&chained, signal, 500), Answered::Theirs);
    // A loop's answer is the uniform 500 and a signal's shape.
    assert_eq!(a.answered(&chained, signal, 200), Answered::Not);
    assert_eq!(a.answered(&chained, "1", 500), Answered::Not);
    assert_eq!(a.answered(&chained, &signal.to_uppercase(), 500), Answered::Not);
    assert_eq!(a.answered("", signal, 500), Answered::Not);
}

#[test]
fn a_chain_is_bounded_and_a_longer_one_is_a_loop() {
    let mut header = String::new();
    for (i, id) in (0..MAX_MARKERS - 1).map(|i| (i, format!("deployment-{i}"))) {
        header = Hop::of(&id).onward(&header, i as u64);
    }
    let a = Hop::of(A);
    let onward = onward_of(a.arrival(Some(&header)));
    assert_eq!(a.onward(&onward, 9).split(',').count(), MAX_MARKERS);
    let longer = Hop::of("one-more").onward(&header, 9);
    assert!(matches!(a.arrival(Some(&longer)), Arrival::Back(_)));
    // Garbage does not count towards the bound.
    let padded = format!("x,,{header},y");
    assert_eq!(onward_of(a.arrival(Some(&padded))), header);
}
