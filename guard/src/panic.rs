//! Panics: the hook that tells a panic the guard will catch from one that
//! escapes it, and `catch_unwind` around the guarded work.
//!
//! The hook replaces the one it finds (workers-rs installs its own at start,
//! which prints a second `Critical Error` line): a panic then writes exactly
//! one line, the guard's record. A panic inside a guarded scope is remembered
//! for the failure's record; one outside (a `ctx.wait_until` future, a `Drop`
//! after the response) gets its own record with cause `worker_panic`. An app
//! that wants a hook of its own installs it after the guard's (after the
//! first `Shield::from_env`), taking and calling the guard's from it.

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

/// Installs the hook in place of the one it finds, once per instance.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(replace);
}

/// Puts the guard's hook in place of the one installed, dropping that one.
fn replace() {
    std::panic::set_hook(Box::new(hook));
}

/// The guard's hook: the failure for the guarded scope that will catch the
/// panic, or the record of one that escapes.
fn hook(info: &PanicHookInfo<'_>) {
    let failure = describe(info);
    if GUARDED.get() > 0 {
        CAUGHT.set(Some(failure));
    } else {
        crate::record::write_record(&failure, None);
    }
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
    use std::sync::{Mutex, MutexGuard};

    /// The hook is global: tests that panic take turns.
    fn turn() -> MutexGuard<'static, ()> {
        static TURN: Mutex<()> = Mutex::new(());
        let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        install();
        turn
    }

    #[test]
    fn a_panic_inside_catch_becomes_a_worker_panic_with_its_location() {
        let _turn = turn();
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
        let _turn = turn();
        assert_eq!(catch(|| Ok::<_, Failure>(7)), Ok(7));
        let e = Failure::new(Cause::WorkerError, "no");
        assert_eq!(catch(|| Err::<(), _>(e.clone())), Err(e));
    }

    #[test]
    fn a_panic_while_polling_becomes_a_worker_panic() {
        let _turn = turn();
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
    fn the_hook_found_is_replaced_not_chained() {
        static THEIRS: AtomicU32 = AtomicU32::new(0);
        let _turn = turn();
        // As workers-rs does at start: a hook of its own, seen to run.
        std::panic::set_hook(Box::new(|_| {
            THEIRS.fetch_add(1, Ordering::SeqCst);
        }));
        let _ = std::panic::catch_unwind(|| panic!("control"));
        let seen = THEIRS.load(Ordering::SeqCst);
        assert_eq!(seen, 1, "control: their hook runs while it is installed");
        replace();
        let out = catch(|| -> Result<(), Failure> { panic!("replaced") });
        assert_eq!(out.unwrap_err().message, "replaced");
        assert_eq!(THEIRS.load(Ordering::SeqCst), seen, "theirs ran after ours");
    }
}
