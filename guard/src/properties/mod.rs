//! Property tests of the guard's pure parts, by subject. They live inside
//! the crate, so they reach what `parts` does not export.
//!
//! Every property runs `PROPTEST_CASES` cases (default 100 000, the roads
//! of `records` 20 000, `languages` 2 000). `make fuzz` runs them in
//! release mode with a million.

mod answers;
mod html;
mod languages;
mod negotiation;
mod records;
mod redaction;
mod request_ids;

use error_shield_props::input;
use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::failure::Failure;
use crate::format::Format;
use crate::page::Page;
use crate::record::RequestInfo;
use crate::template::Template;

/// The runner: `PROPTEST_CASES` cases, else 100 000.
fn config() -> Config {
    error_shield_props::config_of(100_000)
}

const FORMATS: [Format; 3] = [Format::Json, Format::Html, Format::Text];

/// The configurable texts of the error representations.
#[derive(Debug, Clone)]
struct Texts {
    title: String,
    message: String,
    support_url: Option<String>,
    problem_type: String,
}

fn texts() -> impl Strategy<Value = Texts> {
    (input(40), input(40), prop::option::of(input(24)), input(12)).prop_map(
        |(title, message, support_url, problem_type)| Texts {
            title,
            message,
            support_url,
            problem_type,
        },
    )
}

fn config_with(t: &Texts, template: Option<Template>) -> Page {
    Page {
        title: Some(t.title.clone()),
        message: t.message.clone(),
        support_url: t.support_url.clone(),
        problem_type: t.problem_type.clone(),
        template,
        ..Page::default()
    }
}

/// The log line of `failure` on `info`.
fn log_line(failure: &Failure, info: &RequestInfo<'_>) -> String {
    crate::record::line(failure, Some(info))
}
