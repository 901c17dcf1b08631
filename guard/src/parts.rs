//! The pieces the guard is built from, for a worker that drives it by hand
//! instead of through [`Shield::run`](crate::Shield::run): it plans its
//! own requests and calls [`respond`] and [`write`](fn@write) itself (error-shield's
//! origin proxy does). An app under `Shield::run` needs none of this.

pub use crate::answer::respond;
pub use crate::failure::RESERVED;
pub use crate::html::escape_html;
pub use crate::incoming::{header, Ids, Incoming};
pub use crate::negotiate::{negotiate, parse_q};
pub use crate::page::{default_format, Words, DEFAULT_MESSAGE};
pub use crate::panic::catch;
pub use crate::record::{last_resort_halves, line, write, write_record, RequestInfo, MAX_LINE};
pub use crate::render::{Rendered, Renderer, HTML_CSP};
pub use crate::template::Template;

/// Text measured as the record writes it (after JSON escaping).
pub mod fit {
    pub use crate::fit::*;
}

/// A failure on the request's trace (Workers tracing).
pub mod trace {
    pub use crate::trace::*;
}

/// Pages per status and language from the worker's static assets.
pub mod pages {
    pub use crate::pages::*;
}

/// The statuses an answer may carry and their titles.
pub mod status {
    pub use crate::status::*;
}

/// What may be shown of a URL or a configured value.
pub mod redact {
    pub use crate::redact::*;
}

/// Choosing and minting request ids.
pub mod request_id {
    pub use crate::request_id::*;
}

/// An absolute URL split at its authority.
pub mod url {
    pub use crate::url::*;
}

/// State built once per isolate.
pub mod per_isolate {
    pub use crate::per_isolate::*;
}

/// Reading and validating a worker's variables.
pub mod vars {
    pub use crate::vars::*;
}
