//! Pages per status and language from a folder the worker reads through a
//! binding that cannot list its files: which files to try, in which order,
//! and what was found, remembered per isolate. The binding's I/O is the
//! worker's; everything decided here is pure and tested natively.

mod answer;
mod dress;
#[cfg(feature = "workers-rs")]
pub(crate) mod fetch;
mod files;
pub mod lang;

use std::collections::HashMap;

pub use answer::body;
pub use dress::{dress, wanted, VARY};
pub use files::{Messages, MAX_FILE};

use crate::template::Template;

/// The binding a worker's pages folder is read through.
pub const BINDING: &str = "ERROR_PAGES";
/// The origin the binding's files are fetched under (any will do).
pub const BASE: &str = "https://assets.local/";

/// At most this many languages are remembered per isolate: a client's
/// tags beyond them are not tried, so they cannot grow the cache.
pub const MAX_TAGS: usize = 16;

/// What one answer needs: its status, whether it is the maintenance 503,
/// whether it is a page (HTML) or only words (JSON, text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    /// The status being answered.
    pub status: u16,
    /// The maintenance 503 (`maintenance.html` first).
    pub maintenance: bool,
    /// An HTML answer: a page file may serve it.
    pub html: bool,
}

/// What was chosen for one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Choice<'a> {
    /// The language of the files used (`Content-Language`); `None`:
    /// unlocalised.
    pub lang: Option<&'a str>,
    /// The page file, for an HTML answer; `None`: the configured page.
    pub page: Option<&'a Template>,
    /// The title and message of the language's messages, when it has them.
    pub title: Option<&'a str>,
    /// The message.
    pub message: Option<&'a str>,
}

#[derive(Debug)]
enum Entry {
    Missing,
    Unusable,
    Page(Template),
    Messages(Messages),
}

/// The files fetched in this isolate, found, missing or unusable.
#[derive(Debug, Default)]
pub struct Pages {
    entries: HashMap<String, Entry>,
    tags: Vec<String>,
}

impl Want {
    /// The page files for `tag` (`None`: unlocalised), most specific first.
    pub fn pages(&self, tag: Option<&str>) -> Vec<String> {
        let suffix = tag.map_or(".html".to_owned(), |t| format!(".{t}.html"));
        let mut bases = Vec::with_capacity(4);
        if self.maintenance {
            bases.push("maintenance".to_owned());
        }
        bases.push(self.status.to_string());
        bases.push(format!("{}xx", self.status / 100));
        bases.push("default".to_owned());
        bases.into_iter().map(|b| b + &suffix).collect()
    }

    /// The keys of a messages document that speak for this answer.
    pub fn keys(&self) -> Vec<String> {
        let mut keys = Vec::with_capacity(3);
        if self.maintenance {
            keys.push("maintenance".to_owned());
        }
        keys.push(self.status.to_string());
        keys.push("default".to_owned());
        keys
    }
}

/// The messages file of `tag`.
pub fn messages_file(tag: &str) -> String {
    format!("messages.{tag}.json")
}

impl Pages {
    /// The files this answer may use that were never fetched in this
    /// isolate: fetch them all, [`store`](Pages::store) each, then
    /// [`choose`](Pages::choose).
    pub fn unknown(&self, want: &Want, tags: &[String]) -> Vec<String> {
        let mut names = Vec::new();
        for tag in self.tried(tags) {
            if want.html {
                names.extend(want.pages(Some(tag)));
            }
            names.push(messages_file(tag));
        }
        if want.html {
            names.extend(want.pages(None));
        }
        names.retain(|n| !self.entries.contains_key(n));
        names
    }

    /// The choice for this answer from what is known; a file never
    /// fetched counts as missing.
    pub fn choose<'a>(&'a self, want: &Want, tags: &[String]) -> Choice<'a> {
        let keys = want.keys();
        for tag in self.tried(tags) {
            let said = match self.entries.get(&messages_file(tag)) {
                Some(Entry::Messages(m)) => m.said(&keys),
                _ => (None, None),
            };
            let page = if want.html {
                self.first_page(&want.pages(Some(tag)))
            } else {
                None
            };
            if page.is_some() || said.0.is_some() || said.1.is_some() {
                // The language as this isolate keeps it (it has a file).
                let lang = self.tags.iter().find(|k| *k == tag).map(String::as_str);
                return Choice {
                    lang,
                    page: page.or_else(|| self.html_page(want, None)),
                    title: said.0,
                    message: said.1,
                };
            }
        }
        Choice {
            page: self.html_page(want, None),
            ..Choice::default()
        }
    }

    /// Remembers what the binding had under `name` (`None`: no such file).
    /// Returns the one warn line when the file cannot be used; a file of a
    /// language beyond the first `MAX_TAGS` (16) is not remembered.
    pub fn store(&mut self, name: &str, bytes: Option<&[u8]>) -> Option<String> {
        if self.entries.contains_key(name) || !self.admit(name) {
            return None;
        }
        let parsed = match bytes {
            None => Ok(Entry::Missing),
            Some(b) if name.ends_with(".json") => files::messages(b).map(Entry::Messages),
            Some(b) => files::page(b).map(Entry::Page),
        };
        let (entry, warn) = match parsed {
            Ok(e) => (e, None),
            Err(reason) => (Entry::Unusable, Some(unusable(name, &reason))),
        };
        self.entries.insert(name.to_owned(), entry);
        warn
    }

    /// The client's tags this isolate tries: those it knows, and new ones
    /// while there is room.
    fn tried<'t>(&self, tags: &'t [String]) -> Vec<&'t str> {
        let mut room = MAX_TAGS.saturating_sub(self.tags.len());
        let mut tried = Vec::with_capacity(tags.len());
        for t in tags {
            if self.tags.contains(t) {
                tried.push(t.as_str());
            } else if room > 0 {
                room -= 1;
                tried.push(t.as_str());
            }
        }
        tried
    }

    fn admit(&mut self, name: &str) -> bool {
        let Some(tag) = tag_of(name) else {
            return true;
        };
        if self.tags.iter().any(|t| t == tag) {
            return true;
        }
        if self.tags.len() >= MAX_TAGS {
            return false;
        }
        self.tags.push(tag.to_owned());
        true
    }

    fn html_page(&self, want: &Want, tag: Option<&str>) -> Option<&Template> {
        want.html.then(|| self.first_page(&want.pages(tag)))?
    }

    fn first_page(&self, names: &[String]) -> Option<&Template> {
        names.iter().find_map(|n| match self.entries.get(n) {
            Some(Entry::Page(t)) => Some(t),
            _ => None,
        })
    }
}

/// The language of a file name of ours (`503.de.html`, `messages.de.json`).
fn tag_of(name: &str) -> Option<&str> {
    let stem = name
        .strip_suffix(".html")
        .or_else(|| name.strip_suffix(".json"))?;
    stem.split_once('.').map(|(_, tag)| tag)
}

/// `{"level":"warn","event":"page_unusable","file":…,"reason":…}`.
fn unusable(file: &str, reason: &str) -> String {
    #[derive(serde::Serialize)]
    struct Warn<'a> {
        level: &'static str,
        event: &'static str,
        file: &'a str,
        reason: &'a str,
    }
    let w = Warn {
        level: "warn",
        event: "page_unusable",
        file,
        reason,
    };
    serde_json::to_string(&w).unwrap_or_default()
}

#[cfg(test)]
mod tests;
