//! Rescue: what may be done for a request whose origin failed, decided in
//! one place ([`next`]) from where the request is ([`journey`]).

pub mod journey;
pub mod next;
