//! The hop marker: how a request that comes back to this deployment is told
//! from any other. The marker belongs to one deployment — derived from its
//! version id (the `CF_VERSION_METADATA` binding), so it is the same in every
//! isolate of it and different for every other deployment — and a client
//! cannot guess it. A marker that is not ours makes an ordinary request, so
//! two error-shield deployments in a chain both serve and no client can
//! raise an alert by sending the header. Pure: tested natively.

use std::hash::{Hash, Hasher};

/// The binding that carries the deployment's version id.
pub const VERSION_BINDING: &str = "CF_VERSION_METADATA";

/// The deployment's two markers: the one sent to the origin, and the one
/// on the answer to a request that came back (so the outer hop knows the
/// 500 is ours and already recorded). Distinct, so a client who ever saw
/// the second cannot send the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Sent to the origin on every request.
    pub marker: String,
    /// On the answer to a request that came back.
    pub looped: String,
}

impl Hop {
    /// The markers of the deployment whose version id is `deployment`.
    pub fn of(deployment: &str) -> Hop {
        Hop {
            marker: derive(deployment, "hop"),
            looped: derive(deployment, "looped"),
        }
    }

    /// Whether `got` (the request's marker header) is this deployment's,
    /// compared in time independent of where the values differ.
    pub fn is_ours(&self, got: &str) -> bool {
        crate::secret::same(self.marker.as_bytes(), got.as_bytes())
    }
}

/// 128 bits of SipHash over the secret id and a label, in hex: stable for
/// one build, revealing nothing a client could turn into the other label's
/// value.
fn derive(secret: &str, label: &str) -> String {
    let mut out = String::with_capacity(32);
    for half in 0u8..2 {
        let mut h = std::hash::DefaultHasher::new();
        (secret, label, half).hash(&mut h);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_deployment_has_one_marker_in_every_isolate() {
        let id = "4f3c2b1a-0000-4000-8000-123456789abc";
        assert_eq!(Hop::of(id), Hop::of(id));
        let hop = Hop::of(id);
        assert_eq!(hop.marker.len(), 32);
        assert!(hop.marker.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(hop.is_ours(&Hop::of(id).marker));
    }

    #[test]
    fn other_deployments_and_forged_values_are_not_ours() {
        let hop = Hop::of("deployment-a");
        let other = Hop::of("deployment-b");
        assert_ne!(hop.marker, other.marker);
        assert_ne!(
            hop.marker, hop.looped,
            "the answer's marker is not the request's"
        );
        for forged in [
            "1",
            "",
            "looped",
            "true",
            &other.marker,
            &hop.looped,
            &hop.marker[..31],
        ] {
            assert!(!hop.is_ours(forged), "{forged:?}");
        }
    }
}
