//! The one place a failure of the proxy becomes an answer ([`fail`]) and
//! the one place it becomes a record ([`record`]): the guard's
//! `Shield::fail_with`, with what the proxy adds (the status from
//! [`super::status`], the rule's default format, a kept or circuit
//! `Retry-After`, the rule's prefix on the record).

use error_shield::parts::{write, Incoming};
use error_shield::{Failure, Format, Shield};
use web_sys::Response;

use super::mark::mark;
use super::retry_after::{self, RetryAfter};
use super::status_of::{status_of, Of};
use crate::config::hop::{loop_failure, HOP};
use crate::config::routes::Rule;

/// The failure as its record shows it: with the prefix of the rule the
/// request matched (`rule` is `None` when the settings could not be read:
/// no rule either).
fn recorded<'a>(rule: Option<&Rule<'_>>, failure: &'a Failure) -> std::borrow::Cow<'a, Failure> {
    match rule.and_then(|c| c.route) {
        Some(r) => std::borrow::Cow::Owned(failure.clone().with_field("route", r.prefix.as_str())),
        None => std::borrow::Cow::Borrowed(failure),
    }
}

/// The one record of a failure of the proxy answered otherwise (a stale
/// copy, the fallback's or a fail-open answer, a body that broke).
pub fn record(rule: Option<&Rule<'_>>, incoming: &Incoming, failure: &Failure, status: u16) {
    write(incoming, &recorded(rule, failure), status);
}

/// The one answer to a failure: records it and answers with its status
/// under the rule's policy, in the rule's default format, with the
/// `Retry-After` it may carry (an origin's kept with its status, an open
/// circuit's with its 503).
pub fn fail(
    shield: &Shield,
    found: &Result<Rule<'_>, Failure>,
    incoming: &Incoming,
    failure: &Failure,
    from: Option<&RetryAfter>,
) -> Response {
    let rule = found.as_ref().ok();
    let policy = rule.map(|c| c.settings.response_status);
    let of = match from {
        Some(RetryAfter::Circuit(_)) => Of::Held,
        _ => Of::Failure(failure),
    };
    let extra: Vec<(&str, String)> = policy
        .and_then(|p| retry_after::header(p, failure, from))
        .map(|v| ("retry-after", v))
        .into_iter()
        .collect();
    let format = default_format(shield, rule);
    let failure = recorded(rule, failure);
    let response = shield.fail_with(incoming, &failure, status_of(policy, of), format, &extra);
    mark(&response, &incoming.request, false);
    response
}

/// The uniform 500 with no record: a client's upload ended the request
/// (the operator gets a warn line instead).
pub fn quiet(shield: &Shield, rule: &Rule<'_>, incoming: &Incoming) -> Response {
    let status = status_of(Some(rule.settings.response_status), Of::UploadEnded);
    shield.respond(incoming, status, default_format(shield, Some(rule)))
}

/// The format an answer takes when `Accept` names none: the rule's, else
/// the top level's.
pub fn default_format(shield: &Shield, rule: Option<&Rule<'_>>) -> Format {
    rule.and_then(|c| c.route)
        .and_then(|r| r.default_format)
        .unwrap_or_else(|| shield.default_format())
}

/// The answer to a request that came back to this deployment (or passes
/// back another's loop): the uniform error with the loop's `signal` for
/// the hop that sent it, and no record (the sender writes it).
pub fn looped(
    shield: &Shield,
    rule: Option<&Rule<'_>>,
    incoming: &Incoming,
    signal: &str,
) -> Response {
    let policy = rule.map(|c| c.settings.response_status);
    let status = status_of(policy, Of::Failure(&loop_failure()));
    let response = shield.respond(incoming, status, default_format(shield, rule));
    let _ = response.headers().set(HOP, signal);
    response
}
