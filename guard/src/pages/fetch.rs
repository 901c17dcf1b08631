//! Library mode: [`Shield::run`](crate::Shield::run) reads the app's pages
//! folder (its `ERROR_PAGES` assets binding) itself, with the proxy's
//! choice and limits, each file at most once per isolate.

use std::cell::RefCell;

use web_sys::Response;

use super::{dress, wanted, Pages, BASE, BINDING, MAX_FILE};
use crate::incoming::Incoming;
use crate::page::Page;

thread_local! {
    static FOUND: RefCell<Pages> = RefCell::new(Pages::default());
}

/// The guard's answer `response` to `incoming`, dressed from the pages
/// folder the app binds as `ERROR_PAGES` (unchanged without one).
pub(crate) async fn dressed(
    env: &worker::Env,
    page: &Page,
    incoming: &Incoming,
    response: Response,
) -> Response {
    let Ok(binding) = env.assets(BINDING) else {
        return response;
    };
    let binding = &binding;
    let (want, tags) = wanted(&response, &incoming.request, false);
    let unknown = FOUND.with(|f| f.borrow().unknown(&want, &tags));
    for name in unknown {
        // `None`: the binding failed; not remembered, tried again next time.
        let Some(bytes) = one(binding, &name).await else {
            continue;
        };
        let warn = FOUND.with(|f| f.borrow_mut().store(&name, bytes.as_deref()));
        if let Some(line) = warn {
            web_sys::console::warn_1(&line.into());
        }
    }
    let words = page.words(response.status());
    FOUND.with(|f| {
        dress(
            &f.borrow(),
            page,
            &words,
            &response,
            &incoming.request,
            false,
        )
    })
}

/// One file: `Some(None)` when the folder has none, its bytes (a stand-in
/// past the limit when it is too big to read), `None` when the fetch failed.
async fn one(binding: &worker::Fetcher, name: &str) -> Option<Option<Vec<u8>>> {
    let mut res = binding.fetch(format!("{BASE}{name}"), None).await.ok()?;
    match res.status_code() {
        404 => Some(None),
        200..=299 => {
            let size = res.headers().get("content-length").ok().flatten();
            if size.and_then(|s| s.parse::<usize>().ok()).unwrap_or(0) > MAX_FILE {
                return Some(Some(vec![0; MAX_FILE + 1]));
            }
            res.bytes().await.ok().map(Some)
        }
        _ => None,
    }
}
