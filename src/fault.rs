//! `FAULT_INJECTION=on`: `X-Fault-Inject` makes the worker fail on purpose,
//! for the tests and the `make dev` demo. Off by default and free when off.

use error_shield::{Cause, Failure};

/// Fails the way `kind` asks; unknown or absent kinds do nothing.
pub fn inject(kind: Option<&str>) -> Result<(), Failure> {
    match kind {
        Some("panic") => panic!("injected panic (X-Fault-Inject: panic)"),
        Some("error") => Err(Failure::new(
            Cause::WorkerError,
            "injected error (X-Fault-Inject: error)",
        )),
        Some("abort") => std::process::abort(),
        Some("stack_overflow") => {
            let depth = recurse(std::hint::black_box(1));
            Err(Failure::new(
                Cause::WorkerError,
                format!("stack did not overflow at depth {depth}"),
            ))
        }
        _ => Ok(()),
    }
}

/// Unbounded recursion the optimiser cannot turn into a loop.
#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let buf = std::hint::black_box([n; 64]);
    recurse(buf[7] + 1) + buf[3]
}
