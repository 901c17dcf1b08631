//! The body of an answer from what [`Pages::choose`](super::Pages::choose)
//! found: the page file with every placeholder filled in (escaped), or the
//! configured page and documents in the chosen language's words. Pure:
//! tested natively.

use super::Choice;
use crate::format::Format;
use crate::html::{escape_html, fill};
use crate::page::{Page, Words};
use crate::render::Renderer;

/// The body of the answer saying `words` (the configured ones, replaced by
/// the choice's language where it has its own) in `format`, for request
/// `id`.
pub fn body(choice: &Choice<'_>, page: &Page, words: &Words, format: Format, id: &str) -> String {
    let words = Words {
        status: words.status,
        title: choice
            .title
            .map_or_else(|| words.title.clone(), str::to_owned),
        message: choice
            .message
            .map_or_else(|| words.message.clone(), str::to_owned),
    };
    match (format, choice.page) {
        (Format::Html, Some(template)) => {
            let support = page
                .support_url
                .as_deref()
                .map(escape_html)
                .unwrap_or_default();
            fill(template, &words, &support, choice.lang.unwrap_or("")).with_id(id)
        }
        _ => {
            Renderer::with_words(page, &words)
                .render(format, id, false)
                .body
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Template, FILE_PLACEHOLDERS};

    #[test]
    fn every_placeholder_of_a_file_page_is_escaped() {
        let t = Template::parse_with(
            "<html lang=\"{{lang}}\"><h1>{{title}}</h1><p>{{message}}</p><b>{{status}}</b><a href=\"{{support_url}}\">{{request_id}}</a>",
            &FILE_PLACEHOLDERS,
        )
        .unwrap();
        let choice = Choice {
            lang: Some("de\"<"),
            page: Some(&t),
            title: Some("<T&'>"),
            message: None,
        };
        let page = Page {
            support_url: Some("https://h.example/?a=1&b=\"2\"".into()),
            ..Page::default()
        };
        let words = Words {
            status: 503,
            title: "x".into(),
            message: "<script>m</script>".into(),
        };
        let b = body(&choice, &page, &words, Format::Html, "rid");
        assert_eq!(
            b,
            "<html lang=\"de&quot;&lt;\"><h1>&lt;T&amp;&#39;&gt;</h1><p>&lt;script&gt;m&lt;/script&gt;</p><b>503</b><a href=\"https://h.example/?a=1&amp;b=&quot;2&quot;\">rid</a>"
        );
    }

    #[test]
    fn documents_take_the_languages_words() {
        let choice = Choice {
            lang: Some("de"),
            title: Some("Nicht verfügbar"),
            message: Some("Bitte später"),
            ..Choice::default()
        };
        let words = Page::default().words(503);
        let json = body(&choice, &Page::default(), &words, Format::Json, "i");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (v["title"].as_str(), v["detail"].as_str()),
            (Some("Nicht verfügbar"), Some("Bitte später"))
        );
        assert_eq!(v["status"], 503);
        let text = body(
            &Choice::default(),
            &Page::default(),
            &words,
            Format::Text,
            "i",
        );
        assert!(text.starts_with("Service Unavailable\n"));
    }
}
