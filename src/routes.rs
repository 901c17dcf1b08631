//! `ROUTES`: per-path rules. Each rule's keys override the top-level
//! variables for requests under its prefix; the longest matching prefix
//! wins. Parsed and validated once per isolate; matching allocates nothing.
//! Pure: tested natively.

use error_shield::format::Format;
use error_shield::vars::{self, Vars};
use error_shield::Failure;
use serde_json::{Map, Value};

use crate::origin;
use crate::settings::Settings;

/// At most this many rules.
pub const MAX_RULES: usize = 64;

/// A rule's keys and the variables they stand for.
const KEYS: [(&str, &str); 8] = [
    ("origin_url", "ORIGIN_URL"),
    ("timeout_ms", "ORIGIN_TIMEOUT_MS"),
    ("failure_statuses", "FAILURE_STATUSES"),
    ("default_format", "DEFAULT_FORMAT"),
    ("retries", "ORIGIN_RETRIES"),
    ("stale_if_error_seconds", "STALE_IF_ERROR_SECONDS"),
    ("response_status", "RESPONSE_STATUS"),
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

impl Routes {
    /// Parses `ROUTES` (a JSON array, given as a string or as structured
    /// `[vars]`, which arrive as JSON text) over the top-level variables.
    pub fn from_vars(v: &impl Vars) -> Result<Routes, Failure> {
        let Some(raw) = v.get("ROUTES").filter(|r| !r.trim().is_empty()) else {
            return Ok(Routes::default());
        };
        let rules = match serde_json::from_str::<Value>(&raw) {
            Ok(Value::Array(rules)) => rules,
            _ => return Err(vars::invalid("ROUTES", &raw, "a JSON array of rules")),
        };
        if rules.len() > MAX_RULES {
            let count = rules.len().to_string();
            return Err(vars::invalid("ROUTES", &count, "at most 64 rules"));
        }
        let mut routes: Vec<Route> = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let route = parse_rule(i, rule, v)?;
            if routes.iter().any(|r| r.prefix == route.prefix) {
                return Err(rule_error(
                    i,
                    "prefix",
                    &route.prefix,
                    "a prefix no other rule has",
                ));
            }
            routes.push(route);
        }
        Ok(Routes(routes))
    }

    /// The rule whose prefix is the longest byte prefix of `url`'s path,
    /// with its index.
    pub fn select(&self, url: &str) -> Option<(usize, &Route)> {
        let path = origin::path(url);
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

/// The `config_error` for key `key` of rule `i`.
fn rule_error(i: usize, key: &str, value: &str, expected: &str) -> Failure {
    vars::invalid(&format!("ROUTES[{i}].{key}"), value, expected)
}

fn parse_rule(i: usize, rule: &Value, top: &impl Vars) -> Result<Route, Failure> {
    let Some(obj) = rule.as_object() else {
        return Err(vars::invalid(
            &format!("ROUTES[{i}]"),
            &rule.to_string(),
            "an object with a prefix",
        ));
    };
    let prefix = match obj.get("prefix") {
        Some(Value::String(p)) if p.starts_with('/') => p.clone(),
        Some(other) => {
            return Err(rule_error(
                i,
                "prefix",
                &other.to_string(),
                "a path starting with /",
            ))
        }
        None => return Err(rule_error(i, "prefix", "", "a path starting with /")),
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
    let default_format = vars::parsed(
        &overlay,
        "DEFAULT_FORMAT",
        "json, html or text",
        Format::parse,
    )
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
        if !KEYS.iter().any(|(k, _)| k == key) {
            return Err(rule_error(i, key, &value.to_string(), "a known key (origin_url, timeout_ms, failure_statuses, default_format, retries, stale_if_error_seconds, response_status, maintenance)"));
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(rule_error(
                    i,
                    key,
                    &other.to_string(),
                    "a string, number or boolean",
                ))
            }
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
