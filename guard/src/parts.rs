//! The pieces the guard is built from, for a worker that drives it by hand
//! instead of through [`Shield::run`](crate::Shield::run): it plans its
//! own requests and calls [`respond`] and [`write`](fn@write) itself (error-shield's
//! origin proxy does). An app under `Shield::run` needs none of this.
//!
//! Only what such a worker calls is here, each item for the reason its
//! line gives; the guard's own tests reach the rest from inside the crate.

// The request and its answer.
/// The uniform answer for a status, negotiated from the request's `Accept`.
pub use crate::answer::respond;
/// Header names the worker reads and sets (`header::CF_RAY`, …).
pub use crate::incoming::header;
/// Its ids (request id, trace id), chosen once as the request enters.
pub use crate::incoming::Ids;
/// The request as the guard knows it: the worker builds one per request.
pub use crate::incoming::Incoming;
/// One `q` value of an `Accept`-style header, read as the guard reads it.
pub use crate::negotiate::parse_q;
/// `DEFAULT_FORMAT` read on its own, for a rule that overrides it.
pub use crate::page::default_format;
/// The words of an answer that is not the 500 (a 503's title and message).
pub use crate::page::Words;
/// What [`Renderer::render`] returns: status, headers, body.
pub use crate::render::Rendered;
/// One rendering of the answer, built once per isolate and served from.
pub use crate::render::Renderer;

// The record.
/// Runs work that may panic; a panic comes back as a `worker_panic` failure.
pub use crate::panic::catch;
/// The record of a trap even a fresh instance could not answer, as the
/// halves the JS entry joins around the message.
pub use crate::record::last_resort_halves;
/// The record's text without writing it, with [`RequestInfo`]: what a
/// worker checks natively that its failures show in a record.
pub use crate::record::line;
/// Writes the one record of a failure on a request.
pub use crate::record::write;
/// What the record knows of the request, for [`line`](fn@line).
pub use crate::record::RequestInfo;

/// Text measured as the record writes it (after JSON escaping).
pub mod fit {
    /// A text's length as the record writes it.
    pub use crate::fit::escaped_len;
    /// The longest start of a text that fits a budget as written.
    pub use crate::fit::within;
}

/// A failure on the request's trace (Workers tracing).
pub mod trace {
    /// The request's root span, taken as the request enters.
    pub use crate::trace::Span;
    /// The prefix of the guard's span attributes, for the worker's own.
    pub use crate::trace::PREFIX;
}

/// Pages per status and language from the worker's static assets.
pub mod pages {
    /// The largest file read.
    pub use crate::pages::MAX_FILE;
    /// What a dressed answer varies on.
    pub use crate::pages::VARY;
    /// The answer dressed in the chosen page, and a page's body alone.
    pub use crate::pages::{body, dress};
    /// What one answer needs, read from the answer and its request.
    pub use crate::pages::{wanted, Want};
    /// What was found per isolate, and the file chosen from it.
    pub use crate::pages::{Choice, Pages};
    /// The binding the folder is read through, and the origin its files
    /// are fetched under.
    pub use crate::pages::{BASE, BINDING};
}

/// The statuses an answer may carry.
pub mod status {
    /// The statuses an origin's answer may be passed on with.
    pub use crate::status::RANGE;
    /// The statuses the worker answers with.
    pub use crate::status::{INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE};
}

/// What may be shown of a URL or a configured value.
pub mod redact {
    /// A configured value (an origin URL) as a record may show it.
    pub use crate::redact::configured;
    /// A request's URL as a record may show it.
    pub use crate::redact::url;
}

/// Minting request ids.
pub mod request_id {
    /// An id from 16 random bytes (the worker brings its own randomness).
    pub use crate::request_id::from_bytes;
}

/// An absolute URL split at its authority.
pub mod url {
    /// Splits a URL; the host is read from what it returns.
    pub use crate::url::{split, Split};
}

/// State built once per isolate.
pub mod per_isolate {
    /// The isolate's value, built on first use.
    pub use crate::per_isolate::get_or_init;
}

/// Reading and validating a worker's variables, as the guard reads its own.
pub mod vars {
    /// The `config_error` failure naming a variable.
    pub use crate::vars::invalid;
    /// Where variables come from: the worker's env, or a lookup.
    pub use crate::vars::{from_env, pairs, Vars};
    /// The readers of one variable, by kind.
    pub use crate::vars::{is_http_url, keyword, number, parsed, switch, text};
}
