//! State built on first use and kept for the life of the isolate: a
//! Workers isolate runs one thread, so a thread-local slot holding a leaked
//! `&'static` is the whole mechanism, written once here.

use std::cell::Cell;
use std::thread::LocalKey;

/// A thread-local slot for one per-isolate value.
pub type Slot<T> = LocalKey<Cell<Option<&'static T>>>;

/// The value in `slot`, built by `init` on first use.
pub fn get_or_init<T>(slot: &'static Slot<T>, init: impl FnOnce() -> T) -> &'static T {
    slot.with(|cell| {
        cell.get().unwrap_or_else(|| {
            let value: &'static T = Box::leak(Box::new(init()));
            cell.set(Some(value));
            value
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static SLOT: Cell<Option<&'static u32>> = const { Cell::new(None) };
    }

    #[test]
    fn the_value_is_built_once() {
        let mut built = 0;
        let a = get_or_init(&SLOT, || {
            built += 1;
            7
        });
        let b = get_or_init(&SLOT, || unreachable!("built once"));
        assert_eq!((*a, *b, built), (7, 7, 1));
        assert!(std::ptr::eq(a, b));
    }
}
