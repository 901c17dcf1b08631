//! What the bench takes from `wrangler.toml`: the compatibility date and the
//! `[vars]`, read with a TOML parser, so structured vars (`[[vars.ROUTES]]`
//! tables, numbers, arrays) reach workerd as JSON bindings the way wrangler
//! passes them, and strings as text bindings.

use serde_json::Value as Json;
use toml::Value;

/// One workerd binding of the worker's `env`.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub name: String,
    pub value: BindingValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BindingValue {
    /// A string var: `env.NAME` is the string.
    Text(String),
    /// Any other var, as JSON text: `env.NAME` is the parsed value.
    Json(String),
}

impl Binding {
    pub fn text(name: &str, value: &str) -> Binding {
        Binding {
            name: name.to_string(),
            value: BindingValue::Text(value.to_string()),
        }
    }

    /// `NAME=value` for the report's header line.
    pub fn shown(&self) -> String {
        match &self.value {
            BindingValue::Text(s) => format!("{}={s}", self.name),
            BindingValue::Json(j) => format!("{}={j}", self.name),
        }
    }
}

/// The parts of `wrangler.toml` the bench uses.
#[derive(Debug)]
pub struct Wrangler {
    pub compatibility_date: String,
    /// `compatibility_flags`, none when absent.
    pub compatibility_flags: Vec<String>,
    /// `[vars]` in file order.
    pub vars: Vec<Binding>,
}

impl Wrangler {
    pub fn parse(text: &str) -> Result<Wrangler, String> {
        let doc: toml::Table = text.parse().map_err(|e| format!("wrangler.toml: {e}"))?;
        let compatibility_date = match doc.get("compatibility_date") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err("wrangler.toml: no compatibility_date".into()),
        };
        let compatibility_flags = match doc.get("compatibility_flags") {
            None => Vec::new(),
            Some(Value::Array(a)) => (a.iter())
                .map(|f| f.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or("wrangler.toml: a compatibility flag is not a string")?,
            Some(_) => return Err("wrangler.toml: compatibility_flags is not an array".into()),
        };
        let vars = match doc.get("vars") {
            None => Vec::new(),
            Some(Value::Table(t)) => t
                .iter()
                .map(|(k, v)| binding(k, v))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("wrangler.toml: [vars] is not a table".into()),
        };
        Ok(Wrangler {
            compatibility_date,
            compatibility_flags,
            vars,
        })
    }

    /// `ORIGIN_URL` (always `origin`), then the `[vars]`, then `extra`; an
    /// entry of `extra` replaces the var of the same name.
    pub fn bindings(&self, origin: &str, extra: &[Binding]) -> Vec<Binding> {
        let mut out = vec![Binding::text("ORIGIN_URL", origin)];
        let given = |name: &str| name == "ORIGIN_URL" || extra.iter().any(|b| b.name == name);
        out.extend(self.vars.iter().filter(|b| !given(&b.name)).cloned());
        out.extend(extra.iter().cloned());
        out
    }
}

fn binding(name: &str, value: &Value) -> Result<Binding, String> {
    let value = match value {
        Value::String(s) => BindingValue::Text(s.clone()),
        other => BindingValue::Json(to_json(other)?.to_string()),
    };
    Ok(Binding {
        name: name.to_string(),
        value,
    })
}

fn to_json(value: &Value) -> Result<Json, String> {
    Ok(match value {
        Value::String(s) => Json::from(s.as_str()),
        Value::Integer(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .ok_or_else(|| format!("wrangler.toml: {f} has no JSON form"))?,
        Value::Boolean(b) => Json::from(*b),
        Value::Datetime(d) => Json::from(d.to_string()),
        Value::Array(a) => Json::Array(a.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Table(t) => Json::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
name = "error-shield"
compatibility_date = "2026-11-24"

[vars]
ERROR_TITLE = "Oops"   # a comment
ORIGIN_TIMEOUT_MS = 5000
ORIGIN_URL = "https://api.example.com"

[[vars.ROUTES]]
prefix = "/api/"
timeout_ms = 5000

[[vars.ROUTES]]
prefix = "/"
default_format = "html"

[observability]
enabled = true
"#;

    #[test]
    fn routes_tables_and_structured_vars_become_json_bindings() {
        let w = Wrangler::parse(TOML).unwrap();
        assert_eq!(w.compatibility_date, "2026-11-24");
        let b = w.bindings("http://127.0.0.1:1", &[]);
        let names: Vec<_> = b.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            ["ORIGIN_URL", "ERROR_TITLE", "ORIGIN_TIMEOUT_MS", "ROUTES"]
        );
        assert_eq!(b[0], Binding::text("ORIGIN_URL", "http://127.0.0.1:1"));
        assert_eq!(b[1], Binding::text("ERROR_TITLE", "Oops"));
        assert_eq!(b[2].value, BindingValue::Json("5000".into()));
        // (JSON objects with their keys sorted: order means nothing there.)
        let routes =
            r#"[{"prefix":"/api/","timeout_ms":5000},{"default_format":"html","prefix":"/"}]"#;
        assert_eq!(b[3].value, BindingValue::Json(routes.into()));
    }

    #[test]
    fn given_bindings_replace_vars_of_the_same_name() {
        let w = Wrangler::parse(TOML).unwrap();
        let b = w.bindings("o", &[Binding::text("ROUTES", "[]")]);
        assert_eq!(b.iter().filter(|b| b.name == "ROUTES").count(), 1);
        assert_eq!(b.last().unwrap(), &Binding::text("ROUTES", "[]"));
    }

    #[test]
    fn the_projects_wrangler_toml_parses() {
        let text = include_str!("../../wrangler.toml");
        let w = Wrangler::parse(text).unwrap();
        assert!(!w.compatibility_date.is_empty());
    }

    #[test]
    fn a_missing_date_is_an_error() {
        assert!(Wrangler::parse("[vars]\nA = 1\n").is_err());
    }
}
