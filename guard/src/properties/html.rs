//! The HTML answer: every input escaped, operator templates filled in
//! with escaped values only, template parsing total.

use error_shield_props::{input, over, request_id};
use proptest::prelude::*;
use proptest::sample::select;

use super::{config_with, texts, Texts};
use crate::format::Format;
use crate::html::escape_html;
use crate::page::Page;
use crate::render::Renderer;
use crate::template::Template;

/// One piece of a generated `ERROR_PAGE_HTML`.
#[derive(Debug, Clone)]
enum Piece {
    /// Literal operator HTML (no braces, so it never forms a placeholder; no
    /// `&`, so it never runs into an escaped value as one entity).
    Text(String),
    /// `{{ name }}` with the given padding inside the braces.
    Slot(&'static str, &'static str),
}

fn template_pieces() -> impl Strategy<Value = Vec<Piece>> {
    let piece = prop_oneof![
        over(b"abcxyz <>/=\"'!;-", 0..=12).prop_map(Piece::Text),
        (
            select(&["title", "message", "request_id", "support_url"][..]),
            select(&["", " ", "  "][..]),
        )
            .prop_map(|(name, pad)| Piece::Slot(name, pad)),
    ];
    prop::collection::vec(piece, 0..8)
}

fn template_source(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.clone(),
            Piece::Slot(name, pad) => format!("{{{{{pad}{name}{pad}}}}}"),
        })
        .collect()
}

/// `&` (which would be an unescaped ampersand).
fn unescape_html(s: &str) -> Option<String> {
    const ENTITIES: [(&str, char); 5] = [
        ("&amp;", '&'),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&quot;", '"'),
        ("&#39;", '\''),
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (entity, ch) = ENTITIES.iter().find(|(e, _)| rest.starts_with(e))?;
        out.push(*ch);
        rest = &rest[entity.len()..];
    }
    out.push_str(rest);
    Some(out)
}

/// What HTML escaping should preserve: the text, with control characters
/// other than newline and tab shown as spaces.
fn html_visible(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Replaces every occurrence of the tokens in `s` in a single left-to-right
/// pass, so a substituted value is never itself searched for tokens.
fn substitute(s: &str, subs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let next = subs
            .iter()
            .filter_map(|(token, value)| rest.find(token).map(|i| (i, *token, *value)))
            .min_by_key(|(i, _, _)| *i);
        match next {
            Some((i, token, value)) => {
                out.push_str(&rest[..i]);
                out.push_str(value);
                rest = &rest[i + token.len()..];
            }
            None => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// Placeholder texts for the "neutral" config: private-use brackets that
/// appear in no template and survive escaping unchanged.
const TOK_TITLE: &str = "\u{e000}TITLE\u{e001}";
const TOK_MESSAGE: &str = "\u{e000}MESSAGE\u{e001}";
const TOK_SUPPORT: &str = "\u{e000}SUPPORT\u{e001}";
const TOK_ID: &str = "\u{e000}ID\u{e001}";

fn count(s: &str, c: char) -> usize {
    s.matches(c).count()
}

/// `&`s that do not start one of the entities `escape_html` produces.
fn bare_ampersands(s: &str) -> usize {
    s.match_indices('&')
        .filter(|(i, _)| {
            let rest = &s[*i..];
            !["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                .iter()
                .any(|e| rest.starts_with(e))
        })
        .count()
}

/// Checks the HTML body for `t` and `id` against the neutral rendering.
fn check_html(t: &Texts, template: Option<Template>, id: &str) -> Result<String, TestCaseError> {
    let body = Renderer::new(&config_with(t, template.clone()))
        .render(Format::Html, id, false)
        .body;
    let neutral_texts = Texts {
        title: TOK_TITLE.into(),
        message: TOK_MESSAGE.into(),
        // An empty support URL renders no link at all.
        support_url: t.support_url.as_ref().map(|s| {
            if s.is_empty() {
                String::new()
            } else {
                TOK_SUPPORT.into()
            }
        }),
        problem_type: "about:blank".into(),
    };
    let neutral = Renderer::new(&config_with(&neutral_texts, template))
        .render(Format::Html, TOK_ID, false)
        .body;
    // The fixed parts carry the specials they need; the inputs add none.
    for special in ['<', '>', '"', '\''] {
        prop_assert_eq!(
            count(&body, special),
            count(&neutral, special),
            "HTML gained a raw {:?} from the inputs\nbody:    {:?}\nneutral: {:?}",
            special,
            body,
            neutral
        );
    }
    prop_assert_eq!(
        bare_ampersands(&body),
        bare_ampersands(&neutral),
        "HTML gained a bare '&' from the inputs\nbody:    {:?}\nneutral: {:?}",
        body,
        neutral
    );
    let (title, message) = (escape_html(&t.title), escape_html(&t.message));
    let support = t
        .support_url
        .as_deref()
        .map(escape_html)
        .unwrap_or_default();
    let expected = substitute(
        &neutral,
        &[
            (TOK_TITLE, &title),
            (TOK_MESSAGE, &message),
            (TOK_SUPPORT, &support),
            (TOK_ID, id),
        ],
    );
    prop_assert_eq!(
        &body,
        &expected,
        "HTML is not the fixed page with the escaped inputs slotted in"
    );
    Ok(body)
}

proptest! {
    #![proptest_config(super::config())]

    #[test]
    fn escape_html_leaves_no_raw_special_characters(s in input(64)) {
        let out = escape_html(&s);
        prop_assert!(!out.contains(['<', '>', '"', '\'']), "escape_html({:?}) = {:?}", s, out);
        prop_assert!(
            !out.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "escape_html({:?}) kept a control character: {:?}",
            s,
            out
        );
        let decoded = unescape_html(&out);
        prop_assert!(decoded.is_some(), "escape_html({:?}) = {:?} has a bare '&'", s, out);
        prop_assert_eq!(decoded.unwrap(), html_visible(&s), "escape_html({:?}) is lossy beyond controls", s);
    }

    #[test]
    fn html_has_only_escaped_inputs(t in texts(), id in request_id()) {
        let body = check_html(&t, None, &id)?;
        let needle = format!("<code>{id}</code>");
        prop_assert!(body.contains(&needle), "HTML lacks {:?}", needle);
    }

    #[test]
    fn html_templates_have_only_escaped_inputs(
        t in texts(),
        id in request_id(),
        pieces in template_pieces(),
    ) {
        let src = template_source(&pieces);
        let template = match Template::parse(&src) {
            Ok(template) => template,
            Err(e) => return Err(TestCaseError::fail(format!("Template::parse({src:?}) failed: {e}"))),
        };
        let body = check_html(&t, Some(template), &id)?;
        let (title, message) = (escape_html(&t.title), escape_html(&t.message));
        let support = t.support_url.as_deref().map(escape_html).unwrap_or_default();
        let expected: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(text) => text.as_str(),
                Piece::Slot("title", _) => &title,
                Piece::Slot("message", _) => &message,
                Piece::Slot("request_id", _) => &id,
                Piece::Slot(_, _) => &support,
            })
            .collect();
        prop_assert_eq!(&body, &expected, "template {:?}", src);
    }

    #[test]
    fn template_parse_is_total(
        src in prop_oneof![
            prop::collection::vec(
                select(&["{{", "}}", "{", "}", " ", "title", "message", "request_id", "support_url", "x", "é", "<p>"][..]),
                0..16,
            )
            .prop_map(|v| v.concat()),
            input(64),
        ],
        id in request_id(),
    ) {
        match Template::parse(&src) {
            Ok(template) => {
                let c = Page { template: Some(template), ..Page::default() };
                let body = Renderer::new(&c).render(Format::Html, &id, false).body;
                if !src.contains("{{") {
                    prop_assert_eq!(&body, &src, "a template without placeholders must be served as is");
                }
            }
            Err(e) => prop_assert!(e.starts_with("{{") && e.ends_with("}}"), "error {:?} for {:?}", e, src),
        }
    }

}
