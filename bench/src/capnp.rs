//! workerd configs (capnp text): one worker on one loopback port, its
//! modules embedded from the config's directory, the network open for its
//! fetches.

use crate::wrangler::{Binding, BindingValue, Wrangler};

/// A module of the worker, embedded from a file of the config's directory.
pub enum Module<'a> {
    Es(&'a str),
    Wasm(&'a str),
}

/// The config of a worker serving `modules` on `127.0.0.1:port`, with
/// wrangler.toml's compatibility date and flags.
pub fn config(port: u16, modules: &[Module], bindings: &[Binding], compat: &Wrangler) -> String {
    let modules: Vec<String> = modules
        .iter()
        .map(|m| match m {
            Module::Es(f) => format!("(name = {}, esModule = embed {})", text(f), text(f)),
            Module::Wasm(f) => format!("(name = {}, wasm = embed {})", text(f), text(f)),
        })
        .collect();
    let bindings: Vec<String> = bindings.iter().map(binding).collect();
    format!(
        r#"using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "net", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:{port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [{modules}],
  compatibilityDate = {date},
  compatibilityFlags = [{flags}],
  bindings = [{bindings}],
  globalOutbound = "net",
);
"#,
        modules = modules.join(", "),
        date = text(&compat.compatibility_date),
        flags = (compat.compatibility_flags.iter())
            .map(|f| text(f))
            .collect::<Vec<_>>()
            .join(", "),
        bindings = bindings.join(", "),
    )
}

fn binding(b: &Binding) -> String {
    match &b.value {
        BindingValue::Text(s) => format!("(name = {}, text = {})", text(&b.name), text(s)),
        BindingValue::Json(j) => format!("(name = {}, json = {})", text(&b.name), text(j)),
    }
}

/// A capnp text literal.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrangler::Wrangler;

    #[test]
    fn text_escapes_quotes_backslashes_and_controls() {
        assert_eq!(text(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(text("x\ny\u{1}"), r#""x\ny\x01""#);
    }

    #[test]
    fn a_routes_table_of_wrangler_toml_reaches_the_config() {
        let toml = "compatibility_date = \"2026-11-24\"\ncompatibility_flags = [\"a_flag\"]\n[vars]\n[[vars.ROUTES]]\nprefix = \"/api/\"\nretries = 2\n";
        let w = Wrangler::parse(toml).unwrap();
        let c = config(
            8787,
            &[Module::Es("index.js")],
            &w.bindings("http://o", &[]),
            &w,
        );
        assert!(
            c.contains(r#"(name = "ORIGIN_URL", text = "http://o")"#),
            "{c}"
        );
        assert!(
            c.contains(r#"(name = "ROUTES", json = "[{\"prefix\":\"/api/\",\"retries\":2}]")"#),
            "{c}"
        );
        assert!(c.contains(r#"compatibilityDate = "2026-11-24""#));
        assert!(c.contains(r#"compatibilityFlags = ["a_flag"]"#));
        assert!(c.contains(r#"(name = "index.js", esModule = embed "index.js")"#));
    }
}
