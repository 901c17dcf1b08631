//! The demo origin of `make dev`: the fake origin of the end-to-end tests
//! (tests/harness), on a fixed loopback port, so every failure class can be
//! tried by hand.

use error_shield_harness::{Options, Origin};

/// Every route under any prefix too (`/pages/sleep` is served as `/sleep`):
/// the workers of scripts/dev.sh forward the paths of their rules
/// (`ROUTES`, e.g. `/pages/`, or `/dr/` to a fallback) as they came, and a
/// rule added there needs nothing here.
const MOUNTS: &[&str] = &["/"];

fn main() {
    let port = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8790);
    let options = Options {
        mounts: MOUNTS,
        ..Options::default()
    };
    let o = Origin::start_with(port, options);
    eprintln!("demo origin on {}", o.url());
    loop {
        std::thread::park();
    }
}
