//! What the guard knows of a request: the request itself (read further only
//! on failure), its id, its URL and when it arrived.

use web_sys::Request;

use crate::request_id;

/// Header names the guard reads and writes.
pub mod header {
    /// The request id, from the client and to the origin and the client.
    pub const REQUEST_ID: &str = "x-request-id";
    /// Cloudflare's ray id.
    pub const CF_RAY: &str = "cf-ray";
    /// W3C Trace Context.
    pub const TRACEPARENT: &str = "traceparent";
    /// The client's preferred formats.
    pub const ACCEPT: &str = "accept";
}

/// A request's id and, when it joined a distributed trace, its trace-id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    /// The request id.
    pub id: String,
    /// The trace-id of a valid `traceparent`.
    pub trace_id: Option<String>,
}

impl Ids {
    /// The ids from the client's `X-Request-Id`, `traceparent` and `cf-ray`.
    pub fn choose(
        client: Option<String>,
        traceparent: Option<String>,
        cf_ray: Option<String>,
    ) -> Ids {
        let trace_id = traceparent
            .as_deref()
            .and_then(request_id::trace_id)
            .map(str::to_owned);
        let id = request_id::choose(
            client.as_deref(),
            trace_id.as_deref(),
            cf_ray.as_deref(),
            request_id::mint,
        );
        Ids { id, trace_id }
    }
}

/// A request under the guard.
pub struct Incoming {
    /// The incoming request.
    pub request: Request,
    /// The request id.
    pub id: String,
    /// The trace-id of a valid `traceparent`.
    pub trace_id: Option<String>,
    /// The incoming URL.
    pub url: String,
    /// `Date.now()` at arrival; `None` while still in the request's first
    /// synchronous turn, where workerd's clock stands still (so 0 ms).
    pub started: Option<f64>,
    /// The request's root span, as taken when it entered (none: `undefined`).
    pub span: crate::trace::Span,
}

impl Incoming {
    /// Reads the URL and picks the request id from the request's headers.
    pub fn new(request: Request) -> Incoming {
        let headers = request.headers();
        let get = |name| headers.get(name).ok().flatten();
        let ids = Ids::choose(
            get(header::REQUEST_ID),
            get(header::TRACEPARENT),
            get(header::CF_RAY),
        );
        Incoming {
            url: request.url(),
            request,
            id: ids.id,
            trace_id: ids.trace_id,
            started: Some(js_sys::Date::now()),
            span: crate::trace::Span::default(),
        }
    }

    /// A request whose URL and ids are already known (read by the caller).
    pub fn known(request: Request, url: String, ids: Ids, started: Option<f64>) -> Incoming {
        Incoming {
            request,
            id: ids.id,
            trace_id: ids.trace_id,
            url,
            started,
            span: crate::trace::Span::default(),
        }
    }

    /// A request header.
    pub fn header(&self, name: &str) -> Option<String> {
        self.request.headers().get(name).ok().flatten()
    }

    /// Milliseconds since arrival.
    pub fn elapsed_ms(&self) -> u64 {
        self.started
            .map_or(0, |t| (js_sys::Date::now() - t).max(0.0) as u64)
    }
}
