//! `ROUTES`: per-path rules. Each rule's keys override the top-level
//! variables for requests under its prefix; the longest prefix of the
//! normalised path wins. Parsed and validated once per isolate; matching
//! allocates nothing unless the path needs normalising.
//! Pure: tested natively.

use error_shield::parts::vars::{self, Vars};
use error_shield::Failure;
use error_shield::Format;
use serde_json::{Map, Value};

use crate::config::settings::Settings;
use crate::config::{origin, path};

/// At most this many rules.
pub const MAX_RULES: usize = 64;

/// A rule's keys and the variables they stand for.
const KEYS: [(&str, &str); 10] = [
    ("origin_url", "ORIGIN_URL"),
    ("timeout_ms", "ORIGIN_TIMEOUT_MS"),
    ("failure_statuses", "FAILURE_STATUSES"),
    ("default_format", "DEFAULT_FORMAT"),
    ("retries", "ORIGIN_RETRIES"),
    ("stale_if_error_seconds", "STALE_IF_ERROR_SECONDS"),
    ("response_status", "RESPONSE_STATUS"),
    ("fallback_origin_url", "FALLBACK_ORIGIN_URL"),
    ("on_worker_failure", "ON_WORKER_FAILURE"),
    ("maintenance", "MAINTENANCE"),
];

/// One rule, resolved: the top-level settings with its keys applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The path prefix it applies to.
    pub prefix: String,
    /// The settings for requests under it.
    pub settings: Settings,
    /// Its `default_format`, when it has one.
    pub default_format: Option<Format>,
}

/// The rules of `ROUTES`, in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Routes(pub Vec<Route>);

/// The rule a request goes by: the top level's settings (number 0), or
/// those of the route it matched (number `i + 1` for `ROUTES[i]`). The
/// journey carries its number; the executor picks the failing statuses by
/// it.
#[derive(Clone, Copy)]
pub struct Rule<'a> {
    /// The settings that apply.
    pub settings: &'a Settings,
    /// The route matched, if any.
    pub route: Option<&'a Route>,
    /// Its number.
    pub number: u32,
}

impl Routes {
    /// Parses `ROUTES` (a JSON array, given as a string or as structured
    /// `[vars]`, which arrive as JSON text) over the top-level variables.
    pub fn from_vars(v: &impl Vars) -> Result<Routes, Failure> {
        let Some(raw) = v.get("ROUTES").filter(|r| !r.trim().is_empty()) else {
            return Ok(Routes::default());
        };
        // ROUTES may be a secret holding credentials: a bad one is described
        // by the parse error's kind and position, or by its JSON type.
        let rules = match serde_json::from_str::<Value>(&raw) {
            Ok(Value::Array(rules)) => rules,
            Ok(other) => return Err(not_shown("ROUTES", &other, "a JSON array of rules")),
            Err(e) => {
                return Err(vars::invalid(
                    "ROUTES",
                    &parse_error(&e),
                    "a JSON array of rules",
                ))
            }
        };
        if rules.len() > MAX_RULES {
            let count = rules.len().to_string();
            let expected = format!("at most {MAX_RULES} rules");
            return Err(vars::invalid("ROUTES", &count, &expected));
        }
        let mut routes: Vec<Route> = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let route = parse_rule(i, rule, v)?;
            if routes.iter().any(|r| r.prefix == route.prefix) {
                return Err(rule_error(
                    i,
                    "prefix",
                    &route.prefix,
                    "a prefix no other rule has (after normalising)",
                ));
            }
            routes.push(route);
        }
        Ok(Routes(routes))
    }

    /// The rule whose prefix is the longest byte prefix of `url`'s
    /// normalised path ([`path::normalise`]), with its index.
    pub fn select(&self, url: &str) -> Option<(usize, &Route)> {
        if self.0.is_empty() {
            return None;
        }
        let path = path::normalise(origin::path(url));
        let mut best: Option<(usize, &Route)> = None;
        for (i, r) in self.0.iter().enumerate() {
            let longer = best.is_none_or(|(_, b)| r.prefix.len() > b.prefix.len());
            if longer && path.as_bytes().starts_with(r.prefix.as_bytes()) {
                best = Some((i, r));
            }
        }
        best
    }
}

/// A JSON parse error by its kind and position: serde_json's syntax
/// messages name what was expected, never the text that was found.
fn parse_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => e.to_string(),
        Category::Data | Category::Io => {
            format!("invalid JSON at line {} column {}", e.line(), e.column())
        }
    }
}

/// The JSON type of a value, which is all a record shows of a bad one.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "(null)",
        Value::Bool(_) => "(a boolean)",
        Value::Number(_) => "(a number)",
        Value::String(_) => "(a string)",
        Value::Array(_) => "(an array)",
        Value::Object(_) => "(an object)",
    }
}

/// The `config_error` for `name` holding `value`, showing only its type.
fn not_shown(name: &str, value: &Value, expected: &str) -> Failure {
    vars::invalid(name, kind(value), expected)
}

/// The `config_error` for key `key` of rule `i`.
fn rule_error(i: usize, key: &str, value: &str, expected: &str) -> Failure {
    vars::invalid(&format!("ROUTES[{i}].{key}"), value, expected)
}

fn parse_rule(i: usize, rule: &Value, top: &impl Vars) -> Result<Route, Failure> {
    let Some(obj) = rule.as_object() else {
        return Err(not_shown(
            &format!("ROUTES[{i}]"),
            rule,
            "an object with a prefix",
        ));
    };
    const PREFIX: &str = "a path starting with / (no ?, #, \\ or control characters)";
    let spelled = |p: &str| path::spelled(p).map(|p| path::normalise(&p).into_owned());
    let prefix = match obj.get("prefix") {
        // Spelled as the runtime spells paths, or it would never match.
        Some(Value::String(p)) if p.starts_with('/') => match spelled(p) {
            Some(p) => p,
            None => return Err(rule_error(i, "prefix", p, PREFIX)),
        },
        Some(Value::String(p)) => return Err(rule_error(i, "prefix", p, PREFIX)),
        Some(other) => return Err(not_shown(&format!("ROUTES[{i}].prefix"), other, PREFIX)),
        None => return Err(rule_error(i, "prefix", "", PREFIX)),
    };
    let values = values(i, obj)?;
    let overlay = |name: &str| {
        let key = KEYS
            .iter()
            .find(|(_, var)| *var == name)
            .map(|(key, _)| *key);
        key.and_then(|k| values.iter().find(|(vk, _)| vk == k))
            .map(|(_, value)| value.clone())
            .or_else(|| top.get(name))
    };
    // The top level is valid already, so any error names one of the rule's keys.
    let settings = Settings::from_vars(&overlay).map_err(|f| renamed(i, f))?;
    let default_format = error_shield::parts::default_format(&overlay)
        .map_err(|f| renamed(i, f))?
        .filter(|_| values.iter().any(|(k, _)| k == "default_format"));
    Ok(Route {
        prefix,
        settings,
        default_format,
    })
}

/// The rule's keys other than `prefix`, each value as the text its variable
/// would hold (numbers and booleans as JSON text).
fn values(i: usize, obj: &Map<String, Value>) -> Result<Vec<(String, String)>, Failure> {
    let mut out = Vec::new();
    for (key, value) in obj.iter().filter(|(k, _)| *k != "prefix") {
        // A key is operator text too: shown redacted and cut.
        let shown: String = error_shield::parts::redact::configured(key)
            .chars()
            .take(64)
            .collect();
        let name = || format!("ROUTES[{i}].{shown}");
        if !KEYS.iter().any(|(k, _)| k == key) {
            let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            let expected = format!("a known key ({})", known.join(", "));
            return Err(not_shown(&name(), value, &expected));
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => return Err(not_shown(&name(), other, "a string, number or boolean")),
        };
        out.push((key.clone(), text));
    }
    Ok(out)
}

/// A failure of the overlay, renamed from the variable to the rule's key.
fn renamed(i: usize, mut f: Failure) -> Failure {
    let Some(var) = f.context.first().map(|(_, v)| v.clone()) else {
        return f;
    };
    if let Some((key, _)) = KEYS.iter().find(|(_, v)| *v == var) {
        let name = format!("ROUTES[{i}].{key}");
        f.message = f.message.replacen(&var, &name, 1);
        f.context[0].1 = name;
    }
    f
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
