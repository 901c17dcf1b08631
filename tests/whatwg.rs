//! The hand rules for URL-valued settings against a WHATWG URL parser
//! (Node's `URL`, the same ada parser workerd's is): they are never
//! stricter than it (a valid origin is never refused), and the worker's
//! check with the runtime's own `URL` covers what they let through. With a
//! positive control: the rules do refuse what the parser refuses, for the
//! cases they are written for (`10.0.0.256`, bad ports, forbidden
//! characters).

use std::io::Write;
use std::process::{Command, Stdio};

use error_shield::parts::vars::is_http_url;
use error_shield_harness::{node_path, root};

const SCHEMES: [&str; 3] = ["http", "https", "HTTP"];
const USERINFO: [&str; 5] = ["", "u:p@", "u@", ":@", "a@b@"];
const LABELS: [&str; 20] = [
    "a",
    "api",
    "xn--9ca",
    "0x",
    "0",
    "09",
    "255",
    "256",
    "1",
    "0x7f",
    "ff",
    "%41",
    "%2f",
    "%",
    "|",
    "^",
    "\u{e9}",
    "",
    "4294967295",
    "0xffffffff",
];
const V6: [&str; 7] = [
    "::1",
    "1::2::3",
    "::",
    "1:2:3:4:5:6:7:8",
    "::ffff:1.2.3.4",
    "g::1",
    "1:2",
];
const PORTS: [&str; 8] = ["", ":", ":80", ":65535", ":65536", ":+1", ":0x1", ":08"];
const PATHS: [&str; 4] = ["", "/", "/v1", "/a%20b/"];

/// A small deterministic generator: the same URLs on every run.
struct XorShift(u64);

impl XorShift {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        from[(self.0 % from.len() as u64) as usize]
    }
}

fn urls(n: usize) -> Vec<String> {
    let mut g = XorShift(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|_| {
            let host = if g.pick(&["v4", "v4", "v4", "v6"]) == "v6" {
                format!("[{}]", g.pick(&V6))
            } else {
                let parts = g.pick(&["1", "2", "3", "4", "5"]).parse().unwrap_or(1);
                let labels: Vec<&str> = (0..parts).map(|_| g.pick(&LABELS)).collect();
                labels.join(".")
            };
            let (scheme, user, port, path) = (
                g.pick(&SCHEMES),
                g.pick(&USERINFO),
                g.pick(&PORTS),
                g.pick(&PATHS),
            );
            format!("{scheme}://{user}{host}{port}{path}")
        })
        .collect()
}

/// Whether Node's `URL` takes each of `urls` as an http(s) URL with a host.
fn parser_takes(urls: &[String]) -> Vec<bool> {
    const SCRIPT: &str = r#"
        const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
        const out = lines.map((l) => {
          try { const u = new URL(JSON.parse(l)); return /^https?:$/.test(u.protocol) && u.hostname !== "" ? "1" : "0"; }
          catch { return "0"; }
        });
        process.stdout.write(out.join(""));
    "#;
    let mut node = Command::new("node")
        .args(["-e", SCRIPT])
        .env("PATH", node_path())
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    let input: String = urls
        .iter()
        .map(|u| format!("{}\n", serde_json::Value::from(u.as_str())))
        .collect();
    node.stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = node.wait_with_output().expect("node answers");
    assert!(out.status.success(), "node failed");
    out.stdout.iter().map(|b| *b == b'1').collect()
}

#[test]
fn the_hand_rules_never_refuse_what_the_parser_takes() {
    let urls = urls(20_000);
    let takes = parser_takes(&urls);
    assert_eq!(takes.len(), urls.len());
    let mut left_to_the_runtime = 0;
    for (url, parser) in urls.iter().zip(takes) {
        match (is_http_url(url), parser) {
            (false, true) => panic!("the hand rules refuse {url:?}, which the parser takes"),
            (true, false) => left_to_the_runtime += 1,
            _ => {}
        }
    }
    // The generator reaches what only the runtime's check refuses too
    // (IPv6 grammar, IDNA): the worker asks it.
    assert!(left_to_the_runtime > 0);
}

#[test]
fn the_hand_rules_refuse_what_they_are_written_for() {
    // The control: these the parser refuses, and so do the rules.
    let refused: Vec<String> = [
        "http://svc:pw@10.0.0.256",
        "http://1.2.3.4.5",
        "http://a.09",
        "http://h:+80",
        "http://h:65536",
        "http://a%2fb",
        "http://a|b",
        "http://0x100000000",
    ]
    .map(String::from)
    .to_vec();
    for (url, parser) in refused.iter().zip(parser_takes(&refused)) {
        assert!(!parser, "the parser takes {url}");
        assert!(!is_http_url(url), "the rules take {url}");
    }
}
