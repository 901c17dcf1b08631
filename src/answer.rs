//! The one place a failure of the proxy becomes an answer ([`fail`]) and
//! the one place it becomes a record ([`record`]): the guard's answer and
//! record, with what the proxy adds (the rule's status policy and default
//! format, a kept or circuit `Retry-After`, the rule's prefix).

use error_shield::parts::status::INTERNAL_SERVER_ERROR;
use error_shield::parts::{respond, write, Incoming};
use error_shield::{Failure, Format};
use web_sys::Response;

use crate::constants::HOP;
use crate::isolate::{Isolate, Selected};
use crate::rescue::journey::{Failed, RetryAfter};
use crate::{plan, retry_after, verdict};

/// The one record of a failure of the proxy: the guard's record, with the
/// prefix of the rule the request matched (`chosen` is `None` when the
/// settings could not be read: no rule either).
pub fn record(chosen: Option<&Selected<'_>>, incoming: &Incoming, failure: &Failure, status: u16) {
    match chosen.and_then(|c| c.route) {
        Some(r) => write(
            incoming,
            &failure.clone().with_field("route", r.prefix.as_str()),
            status,
        ),
        None => write(incoming, failure, status),
    }
}

/// The one answer to a failure: records it and answers with the status its
/// cause gets under the rule's policy, in the rule's default format (an
/// origin's `Retry-After` kept with its status when the policy says so; an
/// open circuit's with its 503).
pub fn fail(
    isolate: &Isolate,
    selected: &Result<Selected<'_>, Failure>,
    incoming: &Incoming,
    failed: &Failed,
) -> Response {
    let shield = &isolate.shield;
    let failure = &failed.failure;
    let Ok(chosen) = selected else {
        let response = shield.fail(incoming, failure);
        crate::pages::mark(&response, &incoming.request, false);
        return response;
    };
    let policy = chosen.settings.response_status;
    let (status, retry_after) = match &failed.retry_after {
        Some(RetryAfter::Circuit(open_for)) => {
            (verdict::open_status(policy), Some(open_for.to_string()))
        }
        origin => {
            let origin = match origin {
                Some(RetryAfter::Origin(v)) => Some(v.as_str()),
                _ => None,
            };
            let kept = retry_after::kept(policy, failure, origin).map(str::to_owned);
            (verdict::status_for(policy, failure), kept)
        }
    };
    let renderer = shield.answer(status);
    record(Some(chosen), incoming, failure, renderer.status());
    let extra: Vec<(&str, String)> = retry_after
        .map(|v| ("retry-after", v))
        .into_iter()
        .collect();
    let response = respond(renderer, &extra, default_format(isolate, chosen), incoming);
    crate::pages::mark(&response, &incoming.request, false);
    response
}

/// The uniform 500 with no record: a client's upload ended the request
/// (the operator gets a warn line instead).
pub fn quiet(isolate: &Isolate, chosen: &Selected<'_>, incoming: &Incoming) -> Response {
    let format = default_format(isolate, chosen);
    isolate
        .shield
        .respond(incoming, INTERNAL_SERVER_ERROR, format)
}

/// The format an answer takes when `Accept` names none: the rule's, else
/// the top level's.
pub fn default_format(isolate: &Isolate, chosen: &Selected<'_>) -> Format {
    chosen
        .route
        .and_then(|r| r.default_format)
        .unwrap_or_else(|| isolate.shield.default_format())
}

/// The answer to a request that came back to this deployment (or passes
/// back another's loop): the uniform error with the loop's `signal` for
/// the hop that sent it, and no record (the sender writes it).
pub fn looped(
    isolate: &Isolate,
    chosen: Option<&Selected<'_>>,
    incoming: &Incoming,
    signal: &str,
) -> Response {
    let (status, format) = match chosen {
        Some(c) => (
            verdict::status_for(c.settings.response_status, &plan::loop_failure()),
            default_format(isolate, c),
        ),
        None => (500, isolate.shield.default_format()),
    };
    let response = isolate.shield.respond(incoming, status, format);
    let _ = response.headers().set(HOP, signal);
    response
}
