//! The one place a failure of the proxy becomes an answer ([`fail`]) and
//! the one place it becomes a record ([`record`]): the guard's answer and
//! record, with what the proxy adds (the rule's status policy and default
//! format, a kept or circuit `Retry-After`, the rule's prefix).

use error_shield::parts::{respond, write, Incoming};
use error_shield::{Failure, Format};
use web_sys::Response;

use crate::constants::HOP;
use crate::context::Context;
use crate::isolate::{Isolate, Selected};
use crate::settings::StatusPolicy;
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
/// origin's `Retry-After` kept with its status when the policy says so).
pub fn fail(
    isolate: &Isolate,
    selected: &Result<Selected<'_>, Failure>,
    incoming: &Incoming,
    failure: &Failure,
    ctx: Option<&Context>,
) -> Response {
    let shield = &isolate.shield;
    let Ok(chosen) = selected else {
        let response = shield.fail(incoming, failure);
        crate::pages::mark(&response, &incoming.request, false);
        return response;
    };
    let policy = chosen.settings.response_status;
    let open_for = ctx.map_or(0, Context::open_for);
    let (status, retry_after) = if open_for > 0 {
        (verdict::open_status(policy), Some(open_for.to_string()))
    } else {
        // A carried failure's own Retry-After, not a later attempt's.
        let origin = match (policy, ctx) {
            (StatusPolicy::Origin, Some(ctx)) => {
                ctx.kept_retry_after().or_else(|| ctx.retry_after())
            }
            _ => None,
        };
        let kept = retry_after::kept(policy, failure, origin.as_deref()).map(str::to_owned);
        (verdict::status_for(policy, failure), kept)
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
