//! What the client and the operator get when a request fails: the status,
//! the uniform error and its one record (on the guard's `Shield`), the
//! origin's `Retry-After` kept, a failing body's excerpt without the
//! client's credentials, an upload's warn line. Imports only `config`.

pub mod coding;
pub mod credentials;
pub mod excerpt;
pub mod mark;
pub mod retry_after;
pub mod status_of;
pub mod uniform;
pub mod upload;
