//! Whose copy a request gets (README § Stale-if-error, "Whose copy"): a
//! stored copy never crosses from one client to another. It is keyed by
//! every request header that may identify a client, matched on every header
//! its response varies on, served only to a request that accepts its
//! coding, exactly as the origin sent it; and what must be revalidated, or
//! answered a request with a body, is never served stale. Every "never"
//! runs next to its positive control: the same request gets the copy.

use std::io::Read;
use std::sync::OnceLock;

use error_shield_harness::origin::content::{gzip_body, plain_body, BR_BODY};
use error_shield_harness::{get, is_stale, send, unique_id, until_stale, Env, Resp};

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        Env::proxy(&[
            ("STALE_IF_ERROR_SECONDS", "60"),
            ("ORIGIN_TIMEOUT_MS", "1500"),
        ])
    })
}

/// The cacheable route for `key` with `extra` query (`Cache-Control:
/// max-age=60` unless `extra` has a `cc=` of its own).
fn url(key: &str, extra: &str) -> String {
    let cc = if extra.contains("&cc=") {
        ""
    } else {
        "&cc=max-age%3D60"
    };
    env()
        .worker("main")
        .url(&format!("/cacheable?key={key}{cc}{extra}"))
}

/// One good answer while the origin is healthy, then the origin fails
/// `key` (a 503) from now on.
fn prime_then_fail(key: &str, url: &str, headers: &[(&str, &str)]) -> Resp {
    let r = get(url, headers);
    assert_eq!(r.status, 200, "{url}: {r:?}");
    assert!(r.header("x-served-stale").is_none());
    env().origin().set_flag(&format!("fail:{key}"), "503");
    r
}

/// `url` with `headers` gets the uniform error, not a copy; its record
/// says so.
fn assert_no_copy(url: &str, headers: &[(&str, &str)]) {
    let id = unique_id("no-copy");
    let mut with_id = headers.to_vec();
    with_id.push(("x-request-id", &id));
    let r = get(url, &with_id);
    assert_eq!(r.status, 500, "{headers:?} got a copy: {}", r.text());
    assert!(r.header("x-served-stale").is_none(), "{headers:?}");
    let record = env().worker("main").record_for(&id);
    assert_eq!(record["cause"], "origin_error_status", "{record}");
    assert!(record.get("served_stale").is_none(), "{record}");
}

#[test]
fn a_copy_keyed_by_a_custom_api_key_never_reaches_another_key_or_none() {
    let u = url("account", "&echo=x-api-key");
    let alice = [("x-api-key", "alice-secret")];
    let fresh = prime_then_fail("account", &u, &alice);
    assert_eq!(fresh.text(), "fresh account x-api-key=alice-secret");
    // The control: the same key gets its copy, whatever else differs in
    // headers that identify nobody.
    let served = until_stale(&u, &alice);
    assert_eq!(served.text(), fresh.text());
    let browsing = [
        ("x-api-key", "alice-secret"),
        ("user-agent", "another-agent/2"),
        ("accept-language", "de-CH"),
        ("x-forwarded-for", "192.0.2.7"),
        (
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
    ];
    assert_eq!(until_stale(&u, &browsing).text(), fresh.text());
    for other in [
        &[][..],
        &[("x-api-key", "bob-secret")][..],
        &[("x-api-key", "alice-secret"), ("x-tenant", "t2")][..],
        &[
            ("x-api-key", "alice-secret"),
            ("cf-access-client-id", "svc-2"),
        ][..],
        &[("x-api-key", "alice-secret"), ("baggage", "userId=bob")][..],
    ] {
        assert_no_copy(&u, other);
    }
}

#[test]
fn a_copy_built_from_a_forwarding_header_never_reaches_clients_without_it() {
    // An origin that builds links from X-Forwarded-Prefix, primed by a
    // client that sent a poisoned one: nobody else gets that copy.
    let u = url("poisoned", "&echo=x-forwarded-prefix");
    let poison = [("x-forwarded-prefix", "//evil.example")];
    let fresh = prime_then_fail("poisoned", &u, &poison);
    assert_eq!(
        fresh.text(),
        "fresh poisoned x-forwarded-prefix=//evil.example"
    );
    // The control: the same request gets it.
    assert_eq!(until_stale(&u, &poison).text(), fresh.text());
    assert_no_copy(&u, &[]);
    assert_no_copy(&u, &[("x-forwarded-prefix", "/app")]);
}

#[test]
fn a_copy_goes_only_to_requests_that_match_every_header_it_varies_on() {
    // Accept-Language identifies nobody, so only Vary keeps copies apart;
    // X-Tenant is in the key anyway and must hold too.
    let cases = [
        (
            "vary-lang",
            "Accept-Language",
            "accept-language",
            ["de", "fr"],
        ),
        ("vary-tenant", "X-Tenant", "x-tenant", ["t1", "t2"]),
    ];
    for (key, vary, header, [mine, theirs]) in cases {
        let u = url(key, &format!("&vary={vary}&echo={header}"));
        let fresh = prime_then_fail(key, &u, &[(header, mine)]);
        assert_eq!(fresh.header("vary"), Some(vary), "the origin's Vary");
        let served = until_stale(&u, &[(header, mine)]);
        assert_eq!(served.text(), format!("fresh {key} {header}={mine}"));
        assert_eq!(served.header("vary"), Some(vary), "restored");
        assert_no_copy(&u, &[(header, theirs)]);
        assert_no_copy(&u, &[]);
    }
}

#[test]
fn vary_star_and_revalidation_directives_are_never_served_stale() {
    // (key, Cache-Control, extra query)
    let never = [
        ("vary-star", "max-age%3D60", "&vary=*"),
        ("no-cache", "no-cache", ""),
        ("must-revalidate", "max-age%3D60%2C%20must-revalidate", ""),
        ("proxy-revalidate", "max-age%3D60%2C%20proxy-revalidate", ""),
        ("s-maxage", "s-maxage%3D60", ""),
    ];
    for (key, cc, extra) in never {
        prime_then_fail(key, &url(key, &format!("&cc={cc}{extra}")), &[]);
    }
    // The controls, primed last: a plain max-age, and a revalidation
    // directive with the origin's own permission (RFC 5861).
    let controls = [
        ("plain", "max-age%3D60"),
        ("permitted", "no-cache%2C%20stale-if-error%3D60"),
    ];
    for (key, cc) in controls {
        let u = url(key, &format!("&cc={cc}"));
        prime_then_fail(key, &u, &[]);
        until_stale(&u, &[]);
    }
    for (key, cc, extra) in never {
        assert_no_copy(&url(key, &format!("&cc={cc}{extra}")), &[]);
    }
}

#[test]
fn the_answer_to_a_get_with_a_body_is_never_stored_nor_a_copy_served_to_one() {
    let bodied = url("search", "");
    let r = send("GET", &bodied, &[], Some(b"{\"q\":\"secret query\"}"));
    assert_eq!((r.status, r.text()), (200, "fresh search body=20".into()));
    env().origin().set_flag("fail:search", "503");
    // The control, primed after: the same route without a body is stored.
    let plain = url("searchless", "");
    prime_then_fail("searchless", &plain, &[]);
    until_stale(&plain, &[]);
    assert_no_copy(&bodied, &[]);
    let r = send("GET", &plain, &[], Some(b"{\"q\":\"x\"}"));
    assert_eq!(r.status, 500, "a bodied GET got a copy: {}", r.text());
}

#[test]
fn an_encoded_copy_comes_back_whole_and_only_to_a_client_that_accepts_it() {
    for (coding, bytes) in [("gzip", gzip_body()), ("br", BR_BODY.to_vec())] {
        let key = format!("enc-{coding}");
        let u = url(&key, &format!("&enc={coding}"));
        let accepts = [("accept-encoding", coding)];
        let fresh = prime_then_fail(&key, &u, &accepts);
        assert_eq!(fresh.body, bytes, "{coding}: the pass-through");
        let served = until_stale(&u, &accepts);
        assert_eq!(served.header("content-encoding"), Some(coding));
        assert_eq!(served.body, bytes, "{coding}: the copy, byte for byte");
        let length = bytes.len().to_string();
        assert_eq!(served.header("content-length"), Some(length.as_str()));
        if coding == "gzip" {
            let mut plain = String::new();
            let mut gz = flate2::read::GzDecoder::new(&served.body[..]);
            gz.read_to_string(&mut plain).expect("a whole gzip body");
            assert_eq!(plain, plain_body());
        }
        // A client that cannot decode it never gets the encoded bytes. The
        // worker never sees such a client's own Accept-Encoding here: the
        // front (wrangler dev's proxy, like Cloudflare's edge) asks the
        // worker with `br, gzip` and re-encodes for the client.
        let r = get(&u, &[("accept-encoding", "identity")]);
        assert_eq!(r.header("content-encoding"), None, "{coding} to identity");
        assert_eq!(r.text(), plain_body(), "{coding} to identity: {r:?}");
        let other = if coding == "gzip" { "br" } else { "gzip" };
        let r = get(&u, &[("accept-encoding", other)]);
        assert_ne!(
            r.header("content-encoding"),
            Some(coding),
            "{coding} to {other}"
        );
    }
}

#[test]
fn the_refresh_throttle_counts_per_key() {
    // Two clients of one URL, one after the other: each key's first good
    // answer is stored, though the URL's was stored a moment ago.
    let u = url("per-key", "&echo=x-api-key");
    for who in ["carol", "dave"] {
        let r = get(&u, &[("x-api-key", who)]);
        assert_eq!(r.status, 200);
    }
    env().origin().set_flag("fail:per-key", "503");
    for who in ["carol", "dave"] {
        let served = until_stale(&u, &[("x-api-key", who)]);
        assert_eq!(served.text(), format!("fresh per-key x-api-key={who}"));
    }
    assert!(!is_stale(&get(&u, &[("x-api-key", "erin")])));
}
