//! What the operator set: the variables and rules, read once per isolate,
//! and the pure rules that read them (paths, origins, the hop markers, the
//! maintenance bypass). Imports nothing else of the proxy.

pub mod failure_statuses;
pub mod hop;
pub mod maintenance;
pub mod origin;
pub mod path;
pub mod routes;
pub mod secret;
pub mod settings;
