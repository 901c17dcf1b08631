//! Before measuring: that each row measures what it says. Pass-through
//! rows get the origin's own 4 KiB through the worker, failure rows get the
//! worker's failure answer, not the origin's 500 passed on. (The contract
//! itself is the e2e tests' business.)

use std::time::Duration;

use error_shield_rig::{fetch, Answer};

use crate::exit::die;
use crate::origin::{FAIL, FAIL_SECRET, SMALL};

const LIMIT: Duration = Duration::from_secs(30);

fn get(url: &str, limit: Duration) -> Result<Answer, String> {
    fetch("GET", url, &[], None, limit)
}

/// `small` is the origin's 4 KiB file; `passes` the servers of pass-through
/// rows (the origin first), `fails` those of failure rows.
pub fn sanity(small: &[u8], origin: &str, passes: &[(&str, String)], fails: &[(&str, String)]) {
    let url = format!("{origin}{FAIL}");
    if !get(&url, LIMIT).is_ok_and(|g| g.status == 500 && contains(&g.body, FAIL_SECRET)) {
        die(&format!("origin: {url} is not the origin's 500"));
    }
    for (what, base) in passes {
        let url = format!("{base}{SMALL}");
        match get(&url, LIMIT) {
            Ok(g) if g.status == 200 && g.body == small => {}
            Ok(g) => die(&format!(
                "{what}: {url} answered {} with {} bytes, not the origin's {} bytes",
                g.status,
                g.body.len(),
                small.len()
            )),
            Err(e) => die(&format!("{what}: {url}: {e}")),
        }
    }
    for (what, base) in fails {
        let url = format!("{base}{FAIL}");
        match get(&url, LIMIT) {
            Ok(g) if g.status == 500 && !contains(&g.body, FAIL_SECRET) => {}
            Ok(g) if g.status == 500 => die(&format!(
                "{what}: {url} passed the origin's 500 through ({})",
                g.header("content-type").unwrap_or_default()
            )),
            Ok(g) => die(&format!(
                "{what}: {url} answered {}, expected 500",
                g.status
            )),
            Err(e) => die(&format!("{what}: {url}: {e}")),
        }
    }
}

fn contains(body: &[u8], needle: &str) -> bool {
    body.windows(needle.len()).any(|w| w == needle.as_bytes())
}
