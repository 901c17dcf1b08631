//! An answer of the guard's dressed from what the pages folder had: the
//! same status and headers (`Vary` for the languages, `Content-Language`
//! when a localised file was used), its body from the chosen file and
//! words. Shared by the proxy (whose JS fetches the files) and by
//! [`Shield::run`](crate::Shield::run) (which fetches them itself).

use web_sys::{Request, Response, ResponseInit};

use super::{body, lang, Pages, Want};
use crate::format::Format;
use crate::incoming::header;
use crate::page::{Page, Words};

/// `Vary` of every answer while a pages binding exists: it cannot list
/// its files, so any language may have one.
pub const VARY: &str = "Accept, Accept-Language";

/// What an answer of ours (`response`, to `request`) wants of the folder,
/// and the client's languages.
pub fn wanted(response: &Response, request: &Request, maintenance: bool) -> (Want, Vec<String>) {
    let want = Want {
        status: response.status(),
        maintenance,
        html: format_of(response) == Format::Html,
    };
    let header = request.headers().get("accept-language").ok().flatten();
    (want, lang::tags(header.as_deref()))
}

/// `response` dressed from what `found` knows: itself (with the pages'
/// `Vary`) when the folder has nothing for it, else its body rebuilt under
/// the same status and headers.
pub fn dress(
    found: &Pages,
    page: &Page,
    words: &Words,
    response: &Response,
    request: &Request,
    maintenance: bool,
) -> Response {
    let headers = response.headers();
    let _ = headers.set("vary", VARY);
    let (want, tags) = wanted(response, request, maintenance);
    let choice = found.choose(&want, &tags);
    if choice.lang.is_none() && choice.page.is_none() {
        return Clone::clone(response);
    }
    let id = headers
        .get(header::REQUEST_ID)
        .ok()
        .flatten()
        .unwrap_or_default();
    let text = body(&choice, page, words, format_of(response), &id);
    if let Some(lang) = choice.lang {
        let _ = headers.set("content-language", lang);
    }
    let init = ResponseInit::new();
    init.set_status(response.status());
    init.set_headers(&headers);
    let head = request.method() == "HEAD";
    Response::new_with_opt_str_and_init((!head).then_some(text.as_str()), &init)
        .unwrap_or_else(|_| Clone::clone(response))
}

/// The format of an answer of ours, by the one content type it was given.
fn format_of(response: &Response) -> Format {
    let ct = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    Format::ALL
        .into_iter()
        .find(|f| f.content_type() == ct)
        .unwrap_or(Format::Json)
}
