//! The end-to-end harness of error-shield: the real worker under `wrangler
//! dev --local` (real workerd) in front of a fake origin on loopback, a
//! client for both, and the log records read back from wrangler's output.
//!
//! - process groups, loopback ports and polling come from the rig
//!   (`error-shield-rig`, shared with the bench), re-exported here.
//! - [`worker`] — [`Launch`] (one builder for every way to start a worker)
//!   and [`Worker`].
//! - [`client`] — [`Resp`], the one response type, and an HTTP client.
//! - [`wire`] — hand-written HTTP/1.1 exchanges, answered as [`Resp`] too.
//! - [`records`] — the JSON log records a worker printed.
//! - [`spans`] — the spans its requests left in `wrangler dev`'s local
//!   trace store.
//! - [`origin`] — the fake origin, a table of routes.
//! - [`env`](mod@env) — [`Env`], the fixture every test file keeps: an origin and
//!   named workers.
//! - [`checks`] — assertions several test files make.
//! - [`props`] — the property-test files' configuration and strategies
//!   (the `error-shield-props` crate, shared with the guard's own).

pub mod checks;
pub mod client;
pub mod env;
pub mod origin;
pub mod records;
pub mod spans;
pub mod wire;
pub mod worker;

pub use error_shield_props as props;

pub use checks::{assert_traps_answered, is_stale, until_stale};
pub use client::{get, send, unique_id, Resp};
pub use env::{Env, EnvBuilder};
pub use error_shield_rig::{free_port, node_path, poll, root, DeadPort, Group};
pub use origin::{echo_header, Options, Origin};
pub use records::parse_record;
pub use spans::{ours, Root};
pub use wire::{
    dechunk, header_lines, raw_exchange, raw_get, raw_request, raw_send, read_until_closed, RawReq,
};
pub use worker::{ensure_built, Launch, Project, Worker};
