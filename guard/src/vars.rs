//! Reading string variables (`[vars]`, `--var`, secrets): one helper per
//! value type, each turning a bad value into a `config_error` that names the
//! variable and the value. Pure: the lookup is a function, so every rule is
//! tested natively; the worker passes one that reads its `env`.

use crate::failure::{Cause, Failure};

/// A lookup of one variable by name; `None` when unset.
pub trait Vars {
    /// The variable's value as a string, if set.
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Vars for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// A lookup over fixed pairs: for tests and for callers that already hold
/// the values.
pub fn pairs<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// Reads a binding of a worker's `env`; numbers and booleans from `[vars]`
/// count too (as their JSON text), so `ORIGIN_RETRIES = 2` works unquoted.
pub fn from_env(env: &wasm_bindgen::JsValue, name: &str) -> Option<String> {
    let v = js_sys::Reflect::get(env, &wasm_bindgen::JsValue::from_str(name)).ok()?;
    if v.is_undefined() || v.is_null() {
        return None;
    }
    v.as_string()
        .or_else(|| js_sys::JSON::stringify(&v).ok().map(String::from))
}

/// The `config_error` for `name` holding `value`, shown redacted (no
/// userinfo, no query values: [`crate::redact::configured`]) and cut to
/// 200 characters. A secret is never passed here: its caller names it only.
pub fn invalid(name: &str, value: &str, expected: &str) -> Failure {
    let shown: String = crate::redact::configured(value).chars().take(200).collect();
    Failure::new(
        Cause::ConfigError,
        format!("invalid {name}: expected {expected}"),
    )
    .with_context("variable", name)
    .with_context("value", shown)
}

/// Free text, taken as it is.
pub fn text(vars: &impl Vars, name: &str) -> Option<String> {
    vars.get(name)
}

/// A whole number within `range`.
pub fn number(
    vars: &impl Vars,
    name: &str,
    range: std::ops::RangeInclusive<u32>,
    unit: &str,
) -> Result<Option<u32>, Failure> {
    let Some(v) = vars.get(name) else {
        return Ok(None);
    };
    v.trim()
        .parse()
        .ok()
        .filter(|n| range.contains(n))
        .map(Some)
        .ok_or_else(|| {
            let expected = format!("{unit}, {} to {}", range.start(), range.end());
            invalid(name, &v, &expected)
        })
}

/// The value `table` gives the keyword `v` (trimmed, any ASCII case).
pub fn keyword<T: Copy>(v: &str, table: &[(&str, T)]) -> Option<T> {
    let v = v.trim();
    table
        .iter()
        .find(|(word, _)| word.eq_ignore_ascii_case(v))
        .map(|(_, value)| *value)
}

/// `on`/`off` (also `true`/`false`, `1`/`0`; empty is off).
pub fn switch(vars: &impl Vars, name: &str) -> Result<Option<bool>, Failure> {
    const WORDS: [(&str, bool); 7] = [
        ("on", true),
        ("true", true),
        ("1", true),
        ("off", false),
        ("false", false),
        ("0", false),
        ("", false),
    ];
    let Some(v) = vars.get(name) else {
        return Ok(None);
    };
    keyword(&v, &WORDS)
        .map(Some)
        .ok_or_else(|| invalid(name, &v, "on or off"))
}

/// A value parsed by `parse`; blank counts as unset.
pub fn parsed<T>(
    vars: &impl Vars,
    name: &str,
    expected: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, Failure> {
    let Some(v) = vars.get(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    parse(v.trim())
        .map(Some)
        .ok_or_else(|| invalid(name, &v, expected))
}

/// An absolute `http(s)://host[:port][/path]` URL the runtime can fetch:
/// the URL rules of `url::is_http`.
pub fn is_http_url(v: &str) -> bool {
    crate::url::is_http(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &'static str, value: &'static str) -> impl Fn(&str) -> Option<String> {
        move |k| (k == name).then(|| value.to_string())
    }

    #[test]
    fn numbers_parse_within_their_range_and_name_the_variable_otherwise() {
        let table = [
            ("5", Ok(Some(5))),
            (" 0 ", Ok(Some(0))),
            ("10", Ok(Some(10))),
            ("11", Err(())),
            ("-1", Err(())),
            ("soon", Err(())),
            ("", Err(())),
        ];
        for (value, want) in table {
            let got = number(&one("N", value), "N", 0..=10, "count");
            match (got, want) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{value}"),
                (Err(f), Err(())) => {
                    assert_eq!(f.cause, Cause::ConfigError);
                    assert_eq!(f.context[0], ("variable".into(), "N".into()));
                    assert_eq!(f.context[1], ("value".into(), value.into()));
                    assert_eq!(f.message, "invalid N: expected count, 0 to 10");
                }
                (got, want) => panic!("{value}: got {got:?}, want {want:?}"),
            }
        }
        assert_eq!(number(&one("X", "1"), "N", 0..=10, "count"), Ok(None));
    }

    #[test]
    fn switches_take_on_and_off_words() {
        let table = [
            ("on", Some(true)),
            ("TRUE", Some(true)),
            ("1", Some(true)),
            ("off", Some(false)),
            ("false", Some(false)),
            ("0", Some(false)),
            ("", Some(false)),
            ("maybe", None),
        ];
        for (value, want) in table {
            assert_eq!(
                switch(&one("S", value), "S").ok().flatten(),
                want,
                "{value}"
            );
        }
    }

    #[test]
    fn keywords_match_trimmed_in_any_ascii_case_and_nothing_else() {
        let words = [("by-cause", 1), ("origin", 2)];
        for (v, want) in [
            ("by-cause", Some(1)),
            (" BY-Cause ", Some(1)),
            ("Origin", Some(2)),
            ("bycause", None),
            ("origins", None),
            ("", None),
        ] {
            assert_eq!(keyword(v, &words), want, "{v:?}");
        }
    }

    #[test]
    fn parsed_values_treat_blank_as_unset_and_redact_credentials() {
        let url = |v: &str| is_http_url(v).then(|| v.to_owned());
        assert_eq!(parsed(&one("U", "  "), "U", "a URL", url), Ok(None));
        let err = parsed(&one("U", "https://u:pw@h/ x"), "U", "a URL", url).unwrap_err();
        assert_eq!(err.context[1].1, "https://REDACTED@h/ x");
    }
}
