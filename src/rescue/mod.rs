//! Rescue: the plan of a request, what may be done when its origin fails,
//! and the one decision of what comes next ([`next`]) from where it is
//! ([`journey`]): retries, the fallback origin, a stored copy (stale-if-
//! error), the breaker's admission, fail-open. Pure: tested natively.
//! Imports `config` and `answer`, nothing above.

pub mod breaker;
pub mod classify;
pub mod fail_open;
pub mod journey;
pub mod next;
pub mod plan;
pub mod stale;
pub mod stale_key;
pub mod stored;
