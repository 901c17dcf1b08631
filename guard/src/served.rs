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
    pub status: Cell<u16>,
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
                Some(s) => record::write(&s.incoming, &failure, s.status.get()),
                None => record::write_record(&failure, None),
            }
        }
    });
}
