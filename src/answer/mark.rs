//! An answer of ours, marked where it is built for the pages folder to
//! dress on its way out (`corridor::pages`): two handles, nothing more, so
//! an answer without the binding costs what it did.

use std::cell::RefCell;

use web_sys::{Request, Response};

/// An answer of ours on its way out, and its request.
pub struct Mark {
    /// The answer.
    pub response: Response,
    /// Its request.
    pub request: Request,
    /// It is the maintenance 503 (else a failure's).
    pub maintenance: bool,
}

thread_local! {
    static OURS: RefCell<Option<Mark>> = const { RefCell::new(None) };
}

/// Marks `response` as the answer of `request` (the maintenance 503 or a
/// failure's).
pub fn mark(response: &Response, request: &Request, maintenance: bool) {
    let mark = Mark {
        response: Clone::clone(response),
        request: Clone::clone(request),
        maintenance,
    };
    OURS.with(|o| *o.borrow_mut() = Some(mark));
}

/// The marked answer, taken.
pub fn take() -> Option<Mark> {
    OURS.with(|o| o.borrow_mut().take())
}
