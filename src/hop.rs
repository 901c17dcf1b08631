//! The hop marker: how a request that comes back to this deployment is
//! told from any other, and how the hop that sent it learns so.
//!
//! Each request goes to the origin with the markers of the deployments it
//! came through (a comma list, bounded by [`MAX_MARKERS`]) and one of ours
//! at the end: a fresh nonce and a tag only this deployment can compute for
//! it (its version id, the `CF_VERSION_METADATA` binding, is the secret:
//! the same in every isolate, different for every deployment). A request
//! that arrives holding one of our markers is answered at once with the
//! uniform 500 and, on the answer, the *signal* for that marker's nonce,
//! writing nothing: it may be a client replaying a marker an echoing origin
//! showed it. Only the hop that sent the request and gets back the signal
//! of the nonce it just drew knows it was a loop, and writes the record. A
//! hop between them passes the signal on. Pure: tested natively.

use std::hash::{Hash, Hasher};

/// The binding that carries the deployment's version id.
pub const VERSION_BINDING: &str = "CF_VERSION_METADATA";

/// The longest chain of markers passed on; one that arrives this long is
/// a loop too (a cycle through more deployments than this).
pub const MAX_MARKERS: usize = 8;

/// A nonce's length in hex digits, and a tag's or signal's.
const NONCE: usize = 16;
const TAG: usize = 32;

/// One deployment's secret, from which its markers and signals come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    secret: String,
}

/// What a request's markers say on arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// No marker of ours: an ordinary request. The markers to pass on
    /// before ours ("" when none).
    Ordinary(String),
    /// One of our markers came back, or the chain is too long: the answer
    /// carries this signal, and nothing is written.
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
        }
    }

    /// Reads the marker header of an arriving request.
    pub fn arrival(&self, header: Option<&str>) -> Arrival {
        let Some(header) = header else {
            return Arrival::Ordinary(String::new());
        };
        let mut kept: Vec<&str> = Vec::new();
        // A client's garbage is dropped, never passed on.
        for entry in header.split(',').map(str::trim).filter(|e| shaped(e)) {
            let nonce = &entry[..NONCE];
            if crate::secret::same(self.tag(nonce).as_bytes(), entry[NONCE + 1..].as_bytes()) {
                return Arrival::Back(self.signal(nonce));
            }
            if kept.len() == MAX_MARKERS - 1 {
                return Arrival::Back(self.signal(""));
            }
            kept.push(entry);
        }
        Arrival::Ordinary(kept.join(","))
    }

    /// The marker header to send: `before`, then ours for `nonce`.
    pub fn onward(&self, before: &str, nonce: u64) -> String {
        let nonce = format!("{nonce:016x}");
        let ours = format!("{nonce}.{}", self.tag(&nonce));
        if before.is_empty() {
            ours
        } else {
            format!("{before},{ours}")
        }
    }

    /// What `signal`, on an answer of `status` to the request we sent with
    /// the marker header `sent`, says.
    pub fn answered(&self, sent: &str, signal: &str, status: u16) -> Answered {
        let mut entries = sent.rsplit(',');
        let Some(nonce) = entries.next().and_then(|e| e.get(..NONCE)) else {
            return Answered::Not;
        };
        if crate::secret::same(self.signal(nonce).as_bytes(), signal.as_bytes()) {
            return Answered::Ours;
        }
        // Only a deployment before us in the chain can have sent a signal
        // on: with none, an origin's header is just a header.
        let upstream = entries.next().is_some();
        if upstream && status == 500 && is_hex(signal, TAG) {
            Answered::Theirs
        } else {
            Answered::Not
        }
    }

    /// Our tag for `nonce`: proves the marker is ours.
    fn tag(&self, nonce: &str) -> String {
        derive(&self.secret, "hop", nonce)
    }

    /// The signal for `nonce`: proves to the sender its marker came back.
    /// Another label than the tag's, so a marker reveals nothing of it.
    fn signal(&self, nonce: &str) -> String {
        derive(&self.secret, "looped", nonce)
    }
}

/// `nonce.tag`, in lowercase hex.
fn shaped(entry: &str) -> bool {
    entry.len() == NONCE + 1 + TAG
        && entry.as_bytes()[NONCE] == b'.'
        && is_hex(&entry[..NONCE], NONCE)
        && is_hex(&entry[NONCE + 1..], TAG)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// 128 bits of SipHash over the secret id, a label and a nonce, in hex:
/// stable for one build, revealing nothing a client could turn into
/// another label's or nonce's value.
fn derive(secret: &str, label: &str, nonce: &str) -> String {
    let mut out = String::with_capacity(TAG);
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
