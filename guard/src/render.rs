//! The three bodies of the uniform error, built once per isolate and status
//! with a slot for the request id, plus the fixed headers. Pure: tested
//! natively.

use crate::body::Body;
use crate::html;

use crate::format::Format;
use crate::page::Page;
use crate::page::Words;

/// The `Content-Security-Policy` of the HTML page: no scripts, no loads.
pub const HTML_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The prebuilt representations of the uniform error for one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renderer {
    status: u16,
    json: Body,
    html: Body,
    text: Body,
}

/// A response ready to send: headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Header name/value pairs.
    pub headers: Vec<(&'static str, String)>,
    /// The body; empty for `HEAD`.
    pub body: String,
}

impl Renderer {
    /// The 500's three bodies; the request id is the only part left open.
    pub fn new(c: &Page) -> Renderer {
        Renderer::with_words(c, &c.words(500))
    }

    /// The three bodies of an answer saying `w`, shaped by the page `c`.
    pub fn with_words(c: &Page, w: &Words) -> Renderer {
        Renderer {
            status: w.status,
            json: json_body(c, w),
            html: html::body(c, w),
            text: text_body(c, w),
        }
    }

    /// The status these bodies were built for.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The uniform error for `format`, `id` and whether the method is `HEAD`.
    pub fn render(&self, format: Format, id: &str, head: bool) -> Rendered {
        let body = match format {
            Format::Json => &self.json,
            Format::Html => &self.html,
            Format::Text => &self.text,
        };
        let mut headers = vec![
            ("content-type", format.content_type().to_owned()),
            ("cache-control", "no-store".to_owned()),
            (crate::incoming::header::REQUEST_ID, id.to_owned()),
            ("x-content-type-options", "nosniff".to_owned()),
            ("vary", "Accept".to_owned()),
        ];
        if format == Format::Html {
            headers.push(("content-security-policy", HTML_CSP.to_owned()));
        }
        Rendered {
            headers,
            body: if head {
                String::new()
            } else {
                body.with_id(id)
            },
        }
    }
}

fn json_body(c: &Page, w: &Words) -> Body {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    let mut head = format!(
        r#"{{"type":{},"title":{},"status":{},"detail":{},"request_id":""#,
        s(&c.problem_type),
        s(&w.title),
        w.status,
        s(&w.message)
    );
    let mut tail = String::from("\"");
    if let Some(url) = &c.support_url {
        tail.push_str(&format!(r#","support_url":{}"#, s(url)));
    }
    tail.push('}');
    head.shrink_to_fit();
    Body(vec![head, tail])
}

fn text_body(c: &Page, w: &Words) -> Body {
    let mut head = format!(
        "{}\n\n{}\n\nRequest ID: ",
        plain(&w.title),
        plain(&w.message)
    );
    let mut tail = String::from("\n");
    if let Some(url) = &c.support_url {
        tail.push_str(&format!("Support: {}\n", plain(url)));
    }
    head.shrink_to_fit();
    Body(vec![head, tail])
}

/// Text for `text/plain`: control characters become spaces.
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Template;

    fn config() -> Page {
        Page {
            title: Some("Oops <b>&\"'".into()),
            message: "Try\nagain </p><script>alert(1)</script>".into(),
            support_url: Some("https://help.example.com/?a=1&b=\"2\"".into()),
            ..Page::default()
        }
    }

    #[test]
    fn json_is_rfc_9457_with_the_id() {
        let r = Renderer::new(&config()).render(Format::Json, "abc-1", false);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["type"], "about:blank");
        assert_eq!(v["title"], "Oops <b>&\"'");
        assert_eq!(v["status"], 500);
        assert_eq!(v["detail"], "Try\nagain </p><script>alert(1)</script>");
        assert_eq!(v["request_id"], "abc-1");
        assert_eq!(v["support_url"], "https://help.example.com/?a=1&b=\"2\"");
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 6);
    }

    #[test]
    fn support_url_is_omitted_when_unset() {
        let r = Renderer::new(&Page::default()).render(Format::Json, "x", false);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert!(v.get("support_url").is_none());
        assert_eq!(v["detail"], crate::page::DEFAULT_MESSAGE);
    }

    #[test]
    fn html_escapes_everything_configured() {
        let r = Renderer::new(&config()).render(Format::Html, "id-9", false);
        assert!(r.body.contains("Oops &lt;b&gt;&amp;&quot;&#39;"));
        assert!(r.body.contains("&lt;/p&gt;&lt;script&gt;"));
        assert!(!r.body.contains("<script"));
        assert!(r
            .body
            .contains("href=\"https://help.example.com/?a=1&amp;b=&quot;2&quot;\""));
        assert!(r.body.contains("<code>id-9</code>"));
        assert!(r.body.len() < 4096, "page is {} bytes", r.body.len());
    }

    #[test]
    fn text_has_title_message_id_and_no_control_characters() {
        let r = Renderer::new(&config()).render(Format::Text, "id-7", false);
        assert_eq!(
            r.body,
            "Oops <b>&\"'\n\nTry again </p><script>alert(1)</script>\n\nRequest ID: id-7\nSupport: https://help.example.com/?a=1&b=\"2\"\n"
        );
    }

    #[test]
    fn headers_are_the_fixed_set_per_format() {
        let renderer = Renderer::new(&Page::default());
        for (format, ct, csp) in [
            (Format::Json, "application/problem+json", false),
            (Format::Html, "text/html; charset=utf-8", true),
            (Format::Text, "text/plain; charset=utf-8", false),
        ] {
            let r = renderer.render(format, "rid", false);
            let get = |n: &str| {
                r.headers
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(get("content-type"), Some(ct));
            assert_eq!(get("cache-control"), Some("no-store"));
            assert_eq!(get("x-request-id"), Some("rid"));
            assert_eq!(get("x-content-type-options"), Some("nosniff"));
            assert_eq!(get("vary"), Some("Accept"));
            assert_eq!(get("content-security-policy").is_some(), csp);
        }
    }

    #[test]
    fn each_status_has_its_own_bodies_and_titles_follow_it_unless_set() {
        let page = Page::default();
        for (status, title) in [
            (500, "Internal Server Error"),
            (502, "Bad Gateway"),
            (503, "Service Unavailable"),
            (504, "Gateway Timeout"),
        ] {
            let r = Renderer::with_words(&page, &page.words(status));
            assert_eq!(r.status(), status);
            let v: serde_json::Value =
                serde_json::from_str(&r.render(Format::Json, "i", false).body).unwrap();
            assert_eq!(
                (v["status"].as_u64(), v["title"].as_str()),
                (Some(u64::from(status)), Some(title))
            );
            let html = r.render(Format::Html, "i", false).body;
            assert!(
                html.contains(&format!("<p class=\"code\">{status}</p><h1>{title}</h1>")),
                "{html}"
            );
            assert!(r.render(Format::Text, "i", false).body.starts_with(title));
        }
        let named = Page {
            title: Some("Oops".into()),
            ..Page::default()
        };
        let v: serde_json::Value = serde_json::from_str(
            &Renderer::with_words(&named, &named.words(502))
                .render(Format::Json, "i", false)
                .body,
        )
        .unwrap();
        assert_eq!(
            (v["status"].as_u64(), v["title"].as_str()),
            (Some(502), Some("Oops"))
        );
    }

    #[test]
    fn head_has_headers_and_no_body() {
        let r = Renderer::new(&Page::default()).render(Format::Html, "rid", true);
        assert!(r.body.is_empty());
        assert_eq!(r.headers.len(), 6);
    }

    #[test]
    fn bodies_differ_only_by_request_id() {
        let renderer = Renderer::new(&config());
        for format in Format::ALL {
            let a = renderer.render(format, "AAAA", false).body;
            let b = renderer.render(format, "BBBB", false).body;
            assert_eq!(a.replace("AAAA", "BBBB"), b);
        }
    }

    #[test]
    fn custom_templates_substitute_escaped_values() {
        let page = "<h1>{{title}}</h1><p>{{ message }}</p><i>{{request_id}}</i><a href=\"{{support_url}}\">{{request_id}}</a>";
        let c = Page {
            template: Some(Template::parse(page).unwrap()),
            ..config()
        };
        let r = Renderer::new(&c).render(Format::Html, "r1", false);
        assert_eq!(
            r.body,
            "<h1>Oops &lt;b&gt;&amp;&quot;&#39;</h1><p>Try\nagain &lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p><i>r1</i><a href=\"https://help.example.com/?a=1&amp;b=&quot;2&quot;\">r1</a>"
        );
    }

    #[test]
    fn a_body_is_built_in_one_allocation_of_its_exact_size() {
        let table: [(&[&str], &str, &str); 5] = [
            (&["only"], "id-1", "only"),
            (&["", ""], "", ""),
            (&["<p>", "</p>"], "abc", "<p>abc</p>"),
            (&["a", "b", "c"], "1234567", "a1234567b1234567c"),
            (&["", "-", "", "-", ""], "xy", "xy-xyxy-xy"),
        ];
        for (pieces, id, want) in table {
            let body = Body(pieces.iter().map(|p| p.to_string()).collect());
            let out = body.with_id(id);
            assert_eq!(out, want, "{pieces:?} {id:?}");
            assert_eq!(out.capacity(), out.len(), "{pieces:?} {id:?}");
        }
    }
}
