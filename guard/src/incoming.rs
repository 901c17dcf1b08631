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
    /// The client's preferred formats.
    pub const ACCEPT: &str = "accept";
}

/// A request under the guard.
pub struct Incoming {
    /// The incoming request.
    pub request: Request,
    /// The request id.
    pub id: String,
    /// The incoming URL.
    pub url: String,
    /// `Date.now()` at arrival; `None` while still in the request's first
    /// synchronous turn, where workerd's clock stands still (so 0 ms).
    pub started: Option<f64>,
}

impl Incoming {
    /// Reads the URL and picks the request id from the request's headers.
    pub fn new(request: Request) -> Incoming {
        let headers = request.headers();
        let client = headers.get(header::REQUEST_ID).ok().flatten();
        let cf_ray = headers.get(header::CF_RAY).ok().flatten();
        Incoming {
            url: request.url(),
            id: request_id::choose(client.as_deref(), cf_ray.as_deref(), request_id::mint),
            request,
            started: Some(js_sys::Date::now()),
        }
    }

    /// A request whose URL and id are already known (read by the caller).
    pub fn known(request: Request, url: String, id: String, started: Option<f64>) -> Incoming {
        Incoming {
            request,
            id,
            url,
            started,
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
