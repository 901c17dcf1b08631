//! The hop marker: how a request that comes back to this deployment is
//! told from any other, and how the hop that sent it learns so.
//!
//! Each request goes to the origin with the markers of the deployments it
//! came through and ours at the end (`X-Error-Shield-Hop`, a comma list
//! bounded by [`MAX_MARKERS`]), and beside them a fresh nonce of each
//! (`X-Error-Shield-Nonce`, the same order). Our marker is derived from the
//! deployment's version id (the `CF_VERSION_METADATA` binding): the same in
//! every isolate, different for every deployment, not guessable. A request
//! that arrives holding our marker is answered at once with the uniform 500
//! and, on the answer, the *signal* of the nonce beside it, writing
//! nothing: it may be a client replaying a marker an echoing origin showed
//! it. Only the hop that sent the request and gets back the signal of the
//! nonce it just drew (no client can know it in time, nor compute a signal)
//! knows it was a loop, and writes the record. A hop between them passes
//! the signal on. Pure: tested natively.

use std::hash::{Hash, Hasher};

use error_shield::{Cause, Failure};

/// Carries the hop markers to the origin, so a request that comes back to
/// the worker fails fast instead of looping, and a loop's signal back on
/// the answer.
pub const HOP: &str = "x-error-shield-hop";
/// The nonces beside the hop markers, one each.
pub const NONCE: &str = "x-error-shield-nonce";

/// The failure of a request that came back to the worker.
pub fn loop_failure() -> Failure {
    Failure::new(
        Cause::ConfigError,
        "request came back to the worker (ORIGIN_URL unset without a zone origin, or pointing at this worker)",
    )
    .with_context("variable", "ORIGIN_URL")
}

/// The binding that carries the deployment's version id.
pub const VERSION_BINDING: &str = "CF_VERSION_METADATA";

/// The longest chain of markers passed on; one that arrives this long is
/// a loop too (a cycle through more deployments than this).
pub const MAX_MARKERS: usize = 8;

/// A nonce's length in hex digits, and a marker's or signal's.
const NONCE_LEN: usize = 16;
const MARKER: usize = 32;

/// One deployment's secret, from which its marker and signals come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    secret: String,
    marker: String,
}

/// The markers and nonces a request carries, as passed on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// `X-Error-Shield-Hop`.
    pub markers: String,
    /// `X-Error-Shield-Nonce`.
    pub nonces: String,
}

/// What a request's markers say on arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// None of ours: an ordinary request, with the chain to pass on
    /// before ours.
    Ordinary(Chain),
    /// Our marker came back, or the chain is too long: the answer carries
    /// this signal, and nothing is written.
    Back(String),
}

/// What the signal on the origin's answer says of the request we sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// Our own request came back to us: the loop's one record is ours.
    Ours,
    /// A deployment we passed the request on for found its marker back:
    /// pass the signal on, record nothing.
    Theirs,
    /// No loop's answer: judge it like any other.
    Not,
}

impl Hop {
    /// The markers of the deployment whose version id is `deployment`.
    pub fn of(deployment: &str) -> Hop {
        Hop {
            secret: deployment.to_owned(),
            marker: derive(deployment, "hop", ""),
        }
    }

    /// This deployment's marker.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// Reads the marker and nonce headers of an arriving request. What is
    /// no marker (a client's garbage) is dropped with its nonce.
    pub fn arrival(&self, markers: Option<&str>, nonces: Option<&str>) -> Arrival {
        let Some(markers) = markers else {
            return Arrival::Ordinary(Chain::default());
        };
        let mut nonces = nonces.unwrap_or("").split(',').map(str::trim);
        let mut kept = (Vec::new(), Vec::new());
        for marker in markers.split(',').map(str::trim) {
            // A marker without its nonce (a client's replay of the one
            // header, an older deployment) is still a marker.
            let nonce = nonces.next().filter(|n| is_hex(n, NONCE_LEN));
            let nonce = nonce.unwrap_or("0000000000000000");
            if !is_hex(marker, MARKER) {
                continue;
            }
            if crate::config::secret::same(self.marker.as_bytes(), marker.as_bytes()) {
                return Arrival::Back(self.signal(nonce));
            }
            if kept.0.len() == MAX_MARKERS - 1 {
                return Arrival::Back(self.signal(""));
            }
            kept.0.push(marker);
            kept.1.push(nonce);
        }
        Arrival::Ordinary(Chain {
            markers: kept.0.join(","),
            nonces: kept.1.join(","),
        })
    }

    /// The chain to send: `before`, then our marker and `nonce`.
    pub fn onward(&self, before: &Chain, nonce: u64) -> Chain {
        let nonce = format!("{nonce:016x}");
        if before.markers.is_empty() {
            return Chain {
                markers: self.marker.clone(),
                nonces: nonce,
            };
        }
        Chain {
            markers: format!("{},{}", before.markers, self.marker),
            nonces: format!("{},{nonce}", before.nonces),
        }
    }

    /// What `signal`, on an answer of `status` to the request we sent
    /// with the nonces `sent`, says.
    pub fn answered(&self, sent: &str, signal: &str, status: u16) -> Answered {
        let mut nonces = sent.rsplit(',');
        let Some(nonce) = nonces.next().filter(|n| is_hex(n, NONCE_LEN)) else {
            return Answered::Not;
        };
        if crate::config::secret::same(self.signal(nonce).as_bytes(), signal.as_bytes()) {
            return Answered::Ours;
        }
        // Only a deployment before us in the chain can have sent a signal
        // on: with none, an origin's header is just a header.
        let upstream = nonces.next().is_some();
        if upstream && status == 500 && is_hex(signal, MARKER) && signal != self.marker {
            Answered::Theirs
        } else {
            Answered::Not
        }
    }

    /// The signal for `nonce`: proves to the sender its marker came back
    /// with this nonce. Another label than the marker's, so the marker
    /// reveals nothing of it.
    fn signal(&self, nonce: &str) -> String {
        derive(&self.secret, "looped", nonce)
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// 128 bits of SipHash over the secret id, a label and a nonce, in hex:
/// stable for one build, revealing nothing a client could turn into
/// another label's or nonce's value.
fn derive(secret: &str, label: &str, nonce: &str) -> String {
    let mut out = String::with_capacity(MARKER);
    for half in 0u8..2 {
        let mut h = std::hash::DefaultHasher::new();
        (secret, label, nonce, half).hash(&mut h);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

#[cfg(test)]
#[path = "hop_tests.rs"]
mod tests;
