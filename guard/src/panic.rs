//! Panics: the hook that tells a panic the guard will catch from one that
//! escapes it, and `catch_unwind` around the guarded work.
//!
//! The hook is chained, never a replacement: it runs, then the hook that was
//! installed before it (workers-rs's own, or the application's), so their
//! recovery and reporting keep working. A panic inside a guarded scope is
//! remembered for the failure's record; one outside (a `ctx.wait_until`
//! future, a `Drop` after the response) gets its own structured record with
//! cause `worker_panic`, followed by `console_error_panic_hook`'s message
//! and JS stack.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

use crate::failure::{Cause, Failure};

thread_local! {
    /// How many guarded scopes are running right now (nested scopes count).
    static GUARDED: Cell<u32> = const { Cell::new(0) };
    /// The last panic caught inside a guarded scope.
    static CAUGHT: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

/// Installs the chained hook, once per isolate.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let failure = describe(info);
            if GUARDED.get() > 0 {
                CAUGHT.set(Some(failure));
            } else {
                crate::record::write_record(&failure, None);
                console_error_panic_hook::hook(info);
            }
            previous(info);
        }));
    });
}

/// The `worker_panic` failure of a panic: its message and `file:line:col`.
pub fn describe(info: &PanicHookInfo<'_>) -> Failure {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into());
    let failure = Failure::new(Cause::WorkerPanic, message);
    match info.location() {
        Some(l) => failure.with_location(format!("{}:{}:{}", l.file(), l.line(), l.column())),
        None => failure,
    }
}

/// Marks a guarded scope for as long as it lives, also while unwinding.
struct Scope;

impl Scope {
    fn enter() -> Scope {
        GUARDED.set(GUARDED.get() + 1);
        Scope
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        GUARDED.set(GUARDED.get().saturating_sub(1));
    }
}

/// The failure of the panic just caught (a bare one if the hook was not ours).
fn caught() -> Failure {
    CAUGHT
        .take()
        .unwrap_or_else(|| Failure::new(Cause::WorkerPanic, "panic"))
}

/// Runs `work`; a panic becomes its `worker_panic` failure.
pub fn catch<T>(work: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    let _scope = Scope::enter();
    std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| Err(caught()))
}

#[cfg(any(feature = "workers-rs", test))]
/// A future whose every poll is a guarded scope: a panic while polling
/// becomes its `worker_panic` failure. Scopes are entered per poll, never
/// across an `.await`, so a panic in another request's task between two
/// polls is not mistaken for this one's.
pub struct Caught<F>(pub F);

#[cfg(any(feature = "workers-rs", test))]
impl<T, F: std::future::Future<Output = Result<T, Failure>>> std::future::Future for Caught<F> {
    type Output = Result<T, Failure>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        // SAFETY: structural pinning of the only field; it is never moved.
        let inner = unsafe { self.map_unchecked_mut(|s| &mut s.0) };
        let _scope = Scope::enter();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(poll) => poll,
            Err(_) => std::task::Poll::Ready(Err(caught())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicU32, Ordering};

    /// Panics seen by the hook that was there before ours.
    static BEFORE_OURS: AtomicU32 = AtomicU32::new(0);

    /// An application's hook first, then ours on top, whatever test runs
    /// first: our hook must call it for every panic.
    fn install_for_tests() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let default = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                BEFORE_OURS.fetch_add(1, Ordering::SeqCst);
                default(info);
            }));
            install();
        });
    }

    #[test]
    fn a_panic_inside_catch_becomes_a_worker_panic_with_its_location() {
        install_for_tests();
        let out: Result<(), Failure> = catch(|| {
            let v: Vec<u8> = Vec::new();
            let _ = v[std::hint::black_box(3)];
            Ok(())
        });
        let f = out.unwrap_err();
        assert_eq!(f.cause, Cause::WorkerPanic);
        assert!(f.message.contains("index out of bounds"), "{}", f.message);
        assert!(
            f.location
                .as_deref()
                .unwrap()
                .starts_with("guard/src/panic.rs:"),
            "{f:?}"
        );
        assert_eq!(GUARDED.get(), 0, "the scope ends after unwinding");
    }

    #[test]
    fn results_and_errors_pass_through_catch_untouched() {
        install_for_tests();
        assert_eq!(catch(|| Ok::<_, Failure>(7)), Ok(7));
        let e = Failure::new(Cause::WorkerError, "no");
        assert_eq!(catch(|| Err::<(), _>(e.clone())), Err(e));
    }

    #[test]
    fn a_panic_while_polling_becomes_a_worker_panic() {
        install_for_tests();
        let fut = Caught(async {
            let fail = std::hint::black_box(true);
            if fail {
                panic!("polled {}", 1);
            }
            Ok::<(), Failure>(())
        });
        let out = futures_util::FutureExt::now_or_never(fut).expect("ready");
        let f = out.unwrap_err();
        assert_eq!(
            (f.cause, f.message.as_str()),
            (Cause::WorkerPanic, "polled 1")
        );
        assert_eq!(GUARDED.get(), 0);
    }

    #[test]
    fn the_previous_hook_still_runs_for_a_caught_panic() {
        install_for_tests();
        let before = BEFORE_OURS.load(Ordering::SeqCst);
        let out = catch(|| -> Result<(), Failure> { panic!("chained") });
        assert_eq!(out.unwrap_err().message, "chained");
        assert!(BEFORE_OURS.load(Ordering::SeqCst) > before);
    }
}
