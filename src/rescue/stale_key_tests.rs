//! The unit tests of `stale_key.rs`.

use super::*;

const URL: &str = "https://w.dev/account?x=1";

#[test]
fn a_custom_key_header_is_in_the_key_without_anyone_listing_it() {
    let anonymous = key(URL, []);
    let alice = key(URL, [("x-api-key", "alice")]);
    let bob = key(URL, [("x-api-key", "bob")]);
    assert_ne!(anonymous, alice);
    assert_ne!(alice, bob);
    assert_eq!(alice, key(URL, [("x-api-key", "alice")]), "the control");
    assert_ne!(key(URL, [("x-tenant", "a")]), key(URL, [("x-tenant", "b")]));
}

#[test]
fn headers_that_identify_nobody_leave_the_key_alone() {
    let plain = key(URL, []);
    for (name, value) in [
        ("accept", "application/json"),
        ("accept-encoding", "gzip"),
        ("accept-language", "de"),
        ("user-agent", "curl/8"),
        ("referer", "https://x/"),
        ("cache-control", "no-cache"),
        ("if-none-match", "\"v1\""),
        (
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
        ("x-request-id", "abc"),
        ("x-datadog-trace-id", "1234567890"),
        ("x-datadog-parent-id", "987"),
        ("uber-trace-id", "5b8aa5a2d2c872e8:5b8aa5a2d2c872e8:0:1"),
        ("x-forwarded-for", "1.2.3.4"),
        ("x-forwarded-proto", "https"),
        ("x-real-ip", "1.2.3.4"),
        ("true-client-ip", "1.2.3.4"),
        ("sec-fetch-mode", "cors"),
        ("cf-ray", "8abc"),
        ("cf-connecting-ip", "1.2.3.4"),
        ("host", "w.dev"),
        ("x-error-shield-hop", "0123456789abcdef0123456789abcdef"),
        ("x-error-shield-nonce", "0123456789abcdef"),
    ] {
        assert_eq!(key(URL, [(name, value)]), plain, "{name}");
    }
}

#[test]
fn headers_an_origin_may_build_links_from_or_that_name_a_client_are_in_the_key() {
    let plain = key(URL, []);
    for (name, value) in [
        ("x-forwarded-prefix", "//evil.example"),
        ("x-forwarded-port", "8443"),
        ("forwarded", "host=evil.example"),
        ("via", "1.1 evil"),
        ("baggage", "userId=alice"),
        ("uberctx-user", "alice"),
        ("x-datadog-tags", "_dd.p.usr.id=YWxpY2U="),
        ("cf-access-client-id", "svc.access"),
        ("cf-access-jwt-assertion", "eyJ"),
        ("cf-access-authenticated-user-email", "a@example.com"),
        ("cf-authorization", "eyJ"),
        ("cf-cert-verified", "SUCCESS"),
        ("cf-client-cert-sha256", "ab"),
    ] {
        assert_ne!(key(URL, [(name, value)]), plain, "{name}");
    }
}

#[test]
fn the_key_is_on_the_urls_host_and_depends_on_the_whole_url() {
    let k = key(URL, []);
    assert!(k.starts_with("https://w.dev/.error-shield/stale/"), "{k}");
    assert_eq!(k.len(), "https://w.dev/.error-shield/stale/".len() + 32);
    assert_ne!(k, key("https://w.dev/account?x=2", []));
    assert_ne!(k, key("https://w.dev/account", []));
    assert_eq!(origin_of("https://h"), "https://h");
    assert_eq!(origin_of("http://h:8787?q"), "http://h:8787");
}

#[test]
fn header_order_does_not_matter_but_names_and_values_stay_apart() {
    let a = key(URL, [("x-a", "1"), ("x-b", "2")]);
    assert_eq!(a, key(URL, [("x-b", "2"), ("x-a", "1")]));
    // No splicing of one header's name into another's value.
    assert_ne!(
        key(URL, [("x-a", "1x-b2")]),
        key(URL, [("x-a", "1"), ("x-b", "2")])
    );
}

#[test]
fn vary_names_each_header_that_must_match() {
    let with = |tenant: Option<&'static str>| {
        move |n: &str| {
            (n == "x-tenant")
                .then_some(tenant)
                .flatten()
                .map(String::from)
        }
    };
    let a = varied(Some("X-Tenant"), with(Some("a")));
    assert!(a.is_some());
    assert_eq!(
        a,
        varied(Some("x-tenant, x-tenant"), with(Some("a"))),
        "control"
    );
    assert_ne!(a, varied(Some("X-Tenant"), with(Some("b"))));
    assert_ne!(a, varied(Some("X-Tenant"), with(None)));
    assert_ne!(
        varied(Some("X-Tenant"), with(Some(""))),
        varied(Some("X-Tenant"), with(None)),
        "empty is not absent"
    );
    assert_eq!(varied(None, with(Some("a"))), varied(Some(""), with(None)));
    assert_eq!(varied(Some("accept, *"), with(None)), None);
    assert_eq!(varied(Some("*"), with(None)), None);
}

#[test]
fn a_copy_is_servable_only_with_the_same_varied_values_and_an_accepted_coding() {
    let gzip = Some("gzip");
    assert!(
        servable("h1", Some("h1"), Some("gzip"), gzip),
        "the control"
    );
    assert!(servable("h1", Some("h1"), None, None));
    assert!(!servable("h1", Some("h2"), Some("gzip"), gzip));
    assert!(!servable("h1", None, Some("gzip"), gzip));
    assert!(!servable("h1", Some("h1"), Some("br"), gzip));
    assert!(!servable("h1", Some("h1"), None, gzip));
}

#[test]
fn an_encoded_copy_goes_only_to_a_request_that_accepts_its_coding() {
    // Accept-Encoding, Content-Encoding → served
    let table = [
        (None, None, true),
        (None, Some("identity"), true),
        (None, Some("gzip"), false),
        (Some("gzip, deflate, br"), Some("gzip"), true),
        (Some("gzip, deflate, br"), Some("br"), true),
        (Some("GZIP"), Some("gzip"), true),
        (Some("br"), Some("gzip"), false),
        (Some("gzip;q=0, *"), Some("gzip"), false),
        (Some("*"), Some("br"), true),
        (Some("*;q=0"), Some("br"), false),
        (Some("gzip;q=0.5"), Some("gzip"), true),
        (Some("identity"), Some("gzip"), false),
        (Some(""), Some("gzip"), false),
        (Some("identity;q=0"), None, true),
        (Some("gzip;q=0.000"), Some("gzip"), false),
        (Some("gzip;q=0.001"), Some("gzip"), true),
        (Some("gzip;q=1.000"), Some("gzip"), true),
        (Some("gzip;q=1.5"), Some("gzip"), false),
        (Some("gzip;q=soon"), Some("gzip"), false),
        (Some("gzip;q=0.0001"), Some("gzip"), false),
    ];
    for (accept, coding, want) in table {
        assert_eq!(accepts(accept, coding), want, "{accept:?} {coding:?}");
    }
}
