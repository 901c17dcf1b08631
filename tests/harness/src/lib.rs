//! The end-to-end harness of error-shield: the real worker under `wrangler
//! dev --local` (real workerd) in front of a fake origin on loopback.
//!
//! - [`process`]: child processes in their own process group, killed as a
//!   group when dropped or when the test process exits; free ports; polling.

pub mod process;
