//! The request `Shield::run` is serving right now, so that work it
//! schedules with `Shield::wait_until` is recorded under that request: its
//! id, URL and the status its client got.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::failure::Failure;
use crate::incoming::Incoming;
use crate::panic::Caught;
use crate::record;

/// A request under `Shield::run`, and the status its client got (0 until
/// it is answered).
pub struct Served {
    pub incoming: Incoming,
    status: Cell<u16>,
    /// Failures of its `wait_until` work that came before its answer: their
    /// records wait for the status the client gets.
    early: RefCell<Vec<Failure>>,
}

impl Served {
    pub fn new(incoming: Incoming) -> Served {
        Served {
            incoming,
            status: Cell::new(0),
            early: RefCell::new(Vec::new()),
        }
    }

    /// The request was answered with `status`: the records that waited
    /// for it are written.
    pub fn answered(&self, status: u16) {
        self.status.set(status);
        for failure in self.early.take() {
            record::write(&self.incoming, &failure, status);
        }
    }

    /// The record of `failure`, now or, before the answer, once it is known.
    fn record(&self, failure: Failure) {
        match self.status.get() {
            0 => self.early.borrow_mut().push(failure),
            status => record::write(&self.incoming, &failure, status),
        }
    }
}

impl Drop for Served {
    /// Never answered (the runtime dropped the request): the records that
    /// waited are written all the same, with no status to give (0).
    fn drop(&mut self) {
        for failure in self.early.take() {
            record::write(&self.incoming, &failure, 0);
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Served>>> = const { RefCell::new(None) };
}

/// `inner`, with `served` as the current request during each of its polls
/// (never across an `.await`, so another request's task is not mistaken
/// for this one).
pub struct Serving<F> {
    pub served: Rc<Served>,
    pub inner: F,
}

impl<F: Future> Future for Serving<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `inner`; it is never moved.
        let this = unsafe { self.get_unchecked_mut() };
        let before = CURRENT.replace(Some(this.served.clone()));
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        let poll = inner.poll(cx);
        CURRENT.set(before);
        poll
    }
}

/// `ctx.wait_until(future)`, a panic in it recorded under the request being
/// served when it was scheduled (none: a record without request fields).
pub fn wait_until(ctx: &worker::Context, future: impl Future<Output = ()> + 'static) {
    let served = CURRENT.with_borrow(Option::clone);
    ctx.wait_until(async move {
        let caught = Caught(async move {
            future.await;
            Ok::<(), Failure>(())
        });
        if let Err(failure) = caught.await {
            match served {
                Some(s) => s.record(failure),
                None => record::write_record(&failure, None),
            }
        }
    });
}
