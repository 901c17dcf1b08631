//! One file of the pages folder, read once: a page (a template with the
//! file placeholders) or a language's messages; or why it cannot be used.
//! Pure: tested natively.

use std::collections::HashMap;

use crate::template::{Template, FILE_PLACEHOLDERS};

/// The largest file used; a bigger one is skipped.
pub const MAX_FILE: usize = 64 * 1024;

/// What a language says for some answers: by key (`"503"`, `"default"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Messages(HashMap<String, Said>);

/// The title and message for one key, either may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Said {
    /// The title.
    #[serde(default)]
    pub title: Option<String>,
    /// The human sentence.
    #[serde(default)]
    pub message: Option<String>,
}

impl Messages {
    /// The title and message under the first of `keys` that sets each.
    pub fn said(&self, keys: &[String]) -> (Option<&str>, Option<&str>) {
        let find = |f: fn(&Said) -> Option<&String>| {
            keys.iter()
                .find_map(|k| self.0.get(k).and_then(f))
                .map(String::as_str)
        };
        (find(|s| s.title.as_ref()), find(|s| s.message.as_ref()))
    }
}

/// A page file's text as a template; `Err`: why it cannot be used.
pub fn page(bytes: &[u8]) -> Result<Template, String> {
    let text = text(bytes)?;
    Template::parse_with(text, &FILE_PLACEHOLDERS)
        .map_err(|bad| format!("unknown placeholder {bad}"))
}

/// A `messages.<tag>.json`; `Err`: why it cannot be used.
pub fn messages(bytes: &[u8]) -> Result<Messages, String> {
    let text = text(bytes)?;
    serde_json::from_str::<HashMap<String, Said>>(text)
        .map(Messages)
        .map_err(|e| format!("not a messages document: {e}"))
}

fn text(bytes: &[u8]) -> Result<&str, String> {
    if bytes.len() > MAX_FILE {
        return Err(format!("over {MAX_FILE} bytes"));
    }
    std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_take_the_file_placeholders_and_nothing_else() {
        assert!(page(b"<p>{{status}} {{ lang }} {{title}} {{request_id}}</p>").is_ok());
        assert_eq!(
            page(b"{{title}} {{secret}}").unwrap_err(),
            "unknown placeholder {{secret}}"
        );
    }

    #[test]
    fn too_big_or_not_utf8_is_unusable() {
        assert_eq!(page(b"\xff\xfe").unwrap_err(), "not UTF-8");
        assert!(page(&vec![b'a'; MAX_FILE]).is_ok());
        assert!(page(&vec![b'a'; MAX_FILE + 1]).is_err());
        assert!(messages(&vec![b' '; MAX_FILE + 1]).is_err());
    }

    #[test]
    fn messages_give_each_field_from_the_first_key_setting_it() {
        let m = messages(
            br#"{"503": {"title": "Nicht da"}, "default": {"title": "Fehler", "message": "Sorry"}}"#,
        )
        .unwrap();
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            m.said(&keys(&["503", "default"])),
            (Some("Nicht da"), Some("Sorry"))
        );
        assert_eq!(m.said(&keys(&["502"])), (None, None));
        assert!(messages(br#"{"503": "x"}"#).is_err());
        assert!(messages(br#"{"503": {"titel": "x"}}"#).is_err());
        assert!(messages(b"[]").is_err());
    }
}
