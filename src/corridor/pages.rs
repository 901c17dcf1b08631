//! Pages per status and language for the proxy: an answer
//! of ours is marked where it is built (`answer::mark`), and on its way out [`dress`]
//! gives it the page and words of the pages folder (the `ERROR_PAGES`
//! binding). The guard decides which files, in which order, and remembers
//! what it found; `js/pages.js` only fetches. Without the binding, or for
//! any other response, nothing happens: the pass-through pays one
//! thread-local look.

use std::cell::RefCell;

use error_shield::parts::header;
use error_shield::parts::pages::{self, Pages, BASE, BINDING, MAX_FILE};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::Response;

use crate::answer::mark::{self, Mark};
use crate::corridor::isolate::Isolate;

#[wasm_bindgen(module = "/src/js/pages.js")]
extern "C" {
    #[wasm_bindgen(js_name = fetchPages)]
    fn fetch_pages(
        binding: &JsValue,
        base: &str,
        names: &Array,
        max: u32,
        carrier: &Object,
    ) -> js_sys::Promise;
}

thread_local! {
    static FOUND: RefCell<Pages> = RefCell::new(Pages::default());
}

/// `out` as it goes to the client: the marked answer dressed from the pages
/// folder (or the promise of its files), anything else untouched.
pub fn dress(env: &JsValue, out: JsValue) -> JsValue {
    let Some(mark) = mark::take() else {
        return out;
    };
    if !Object::is(&out, &mark.response) {
        return out;
    }
    let Some(binding) = Reflect::get(env, &JsValue::from_str(BINDING))
        .ok()
        .filter(JsValue::is_object)
    else {
        return out;
    };
    let _ = mark.response.headers().set("vary", pages::VARY);
    let (want, tags) = pages::wanted(&mark.response, &mark.request, mark.maintenance);
    let unknown = FOUND.with(|f| f.borrow().unknown(&want, &tags));
    if unknown.is_empty() {
        return answer(env, &mark).into();
    }
    let names: Array = unknown.iter().map(|n| JsValue::from_str(n)).collect();
    fetch_pages(&binding, BASE, &names, MAX_FILE as u32, &carrier(&mark)).into()
}

/// The marked answer once its files came back on `carrier`: remembered
/// (one warn line for a file that cannot be used), then the answer.
pub fn dressed(env: &JsValue, carrier: &JsValue) -> JsValue {
    let get = |k: &str| Reflect::get(carrier, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    // Only ever our own carrier; should it lack its parts, what it carries
    // goes out as it is.
    let (Ok(response), Ok(request)) = (get("response").dyn_into(), get("request").dyn_into())
    else {
        return get("response");
    };
    let mark = Mark {
        response,
        request,
        maintenance: get("maintenance").is_truthy(),
    };
    let files: Array = get("pages").dyn_into().unwrap_or_default();
    FOUND.with(|f| {
        let mut found = f.borrow_mut();
        for file in files.iter() {
            let file: Array = file.dyn_into().unwrap_or_default();
            let (name, bytes) = (file.get(0).as_string().unwrap_or_default(), file.get(1));
            let warn = if bytes.is_null() {
                found.store(&name, None)
            } else if let Some(size) = bytes.as_f64() {
                // Bigger than a page may be: not read, known unusable.
                let _ = size;
                found.store(&name, Some(&vec![0; MAX_FILE + 1]))
            } else if let Ok(b) = bytes.dyn_into::<Uint8Array>() {
                found.store(&name, Some(&b.to_vec()))
            } else {
                None // the binding failed: not remembered
            };
            if let Some(line) = warn {
                web_sys::console::warn_1(&JsValue::from_str(&line));
            }
        }
    });
    answer(env, &mark).into()
}

/// The marked answer from what this isolate knows of the folder.
fn answer(env: &JsValue, mark: &Mark) -> Response {
    let isolate = Isolate::get(env);
    let page = isolate.shield.page();
    // What the marked answer says: the maintenance 503's words, or the
    // page's for its status (as `Shield::answer` built it).
    let words = if mark.maintenance {
        isolate.maintenance_answer().words.clone()
    } else {
        page.words(mark.response.status())
    };
    FOUND.with(|f| {
        pages::dress(
            &f.borrow(),
            page,
            &words,
            &mark.response,
            &mark.request,
            mark.maintenance,
        )
    })
}

/// The marked answer as plain data for the trip through the fetches.
fn carrier(mark: &Mark) -> Object {
    let o = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    };
    set("response", &mark.response);
    set("request", &mark.request);
    set("maintenance", &JsValue::from(mark.maintenance));
    if let Ok(Some(id)) = mark.response.headers().get(header::REQUEST_ID) {
        set("id", &JsValue::from_str(&id));
    }
    o
}
