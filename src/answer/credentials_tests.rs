//! The unit tests of `credentials.rs`.

use super::*;

fn secrets(headers: &[(&str, &str)], token: Option<&str>) -> Secrets {
    Secrets::of(
        |name| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        },
        token,
    )
}

#[test]
fn a_dump_of_the_request_headers_loses_every_credential_and_keeps_the_rest() {
    let s = secrets(
        &[
            ("authorization", "Bearer tok-123456"),
            ("proxy-authorization", "Basic cHJveHk6cHc="),
            ("cookie", "sid=abc987; theme=dark; x=1"),
            ("x-plain", "visible-value"),
        ],
        Some("bypass-42"),
    );
    let page = "Authorization: Bearer tok-123456\nProxy-Authorization: Basic cHJveHk6cHc=\n\
                Cookie: sid=abc987; theme=dark; x=1\nX-Plain: visible-value\n\
                token alone: tok-123456, sid alone: abc987, bypass: bypass-42";
    let out = s.cut(page, false);
    for gone in ["tok-123456", "cHJveHk6cHc=", "abc987", "dark", "bypass-42"] {
        assert!(!out.contains(gone), "{gone} in {out}");
    }
    assert_eq!(
        out,
        "Authorization: REDACTED\nProxy-Authorization: REDACTED\nCookie: REDACTED\n\
         X-Plain: visible-value\ntoken alone: REDACTED, sid alone: REDACTED, bypass: REDACTED"
    );
}

#[test]
fn basics_password_is_cut_decoded_too() {
    // "user:pa55word" and "Aladdin:open sesame".
    let s = secrets(&[("authorization", "Basic dXNlcjpwYTU1d29yZA==")], None);
    assert_eq!(s.cut("PHP_AUTH_PW pa55word", false), "PHP_AUTH_PW REDACTED");
    let s = secrets(
        &[("proxy-authorization", "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ")],
        None,
    );
    assert_eq!(s.cut("[open sesame] Aladdin", false), "[REDACTED] Aladdin");
    assert_eq!(base64("not base64!"), None);
    // The control: a Bearer token is not decoded.
    let s = secrets(&[("authorization", "Bearer dXNlcjpwYTU1d29yZA==")], None);
    assert_eq!(s.cut("pa55word", false), "pa55word");
}

#[test]
fn a_client_with_too_many_values_gets_its_excerpt_withheld_whole() {
    let many: Vec<String> = (0..MAX_VALUES + 1)
        .map(|i| format!("c{i}=value-{i:04}"))
        .collect();
    let cookie = many.join("; ");
    let s = secrets(&[("cookie", &cookie)], None);
    assert_eq!(
        s.cut("page shows value-0001 and plain text", false),
        "REDACTED"
    );
    // The control: a few values are cut one by one.
    let few = many[..3].join("; ");
    let s = secrets(&[("cookie", &few)], None);
    assert_eq!(
        s.cut("page shows value-0001 and plain text", false),
        "page shows REDACTED and plain text"
    );
}

#[test]
fn a_cookie_shown_decoded_or_in_plain_json_is_cut_too() {
    let s = secrets(
        &[("cookie", "sid=a%2Fb%3Dc%22d-secret; t=x/y\\z-secret")],
        None,
    );
    assert_eq!(
        s.cut("decoded: a/b=c\"d-secret.", false),
        "decoded: REDACTED."
    );
    assert_eq!(
        s.cut(r#"json: "x/y\\z-secret""#, false),
        r#"json: "REDACTED""#
    );
    assert_eq!(
        s.cut(r#"php: "x\/y\\z-secret""#, false),
        r#"php: "REDACTED""#
    );
    assert_eq!(s.cut("plain text", false), "plain text", "the control");
}

#[test]
fn values_shorter_than_the_minimum_are_left_alone() {
    let s = secrets(&[("cookie", "a=1; b=xyz; c=long-enough")], Some("tok"));
    assert_eq!(
        s.cut("a=1 b=xyz c=long-enough tok", false),
        "a=1 b=xyz c=REDACTED tok"
    );
    assert!(secrets(&[("authorization", "abc")], None).is_empty());
}

#[test]
fn escaped_forms_are_cut_too() {
    let s = secrets(&[("authorization", r#"Basic a/b+c"d<e"#)], None);
    let out = s.cut(
        r#"{"h":"Basic a\/b+c\"d<e"} <td>a/b+c&quot;d&lt;e</td>"#,
        false,
    );
    assert_eq!(out, r#"{"h":"REDACTED"} <td>REDACTED</td>"#);
}

#[test]
fn a_credential_cut_short_at_the_end_is_cut_when_the_excerpt_was() {
    let s = secrets(&[("authorization", "Bearer sk_live_0123456789")], None);
    let table = [
        ("auth: Bearer sk_live_01", true, "auth: REDACTED"),
        ("auth: sk_live_01", true, "auth: REDACTED"),
        ("auth: sk_l", true, "auth: REDACTED"),
        // Under the minimum: left.
        ("auth: sk_", true, "auth: sk_"),
        // The body really ended there: not a credential.
        ("auth: sk_live_01", false, "auth: sk_live_01"),
        ("auth: Bearer sk_live_0\u{fffd}", true, "auth: REDACTED"),
    ];
    for (excerpt, cut, want) in table {
        assert_eq!(s.cut(excerpt, cut), want, "{excerpt:?} {cut}");
    }
}

#[test]
fn overlapping_and_repeated_credentials_make_one_mark() {
    let s = secrets(&[("cookie", "a=abcdef; b=defghi")], None);
    assert_eq!(s.cut("xabcdefghiy abcdef", false), "xREDACTEDy REDACTED");
    assert_eq!(Secrets::default().cut("abc", true), "abc");
}
