//! A workers-rs app guarded by error-shield: every route's `Err` or panic
//! becomes the uniform 500 with a request id, and one log record; the
//! failure also goes on the request's root span (`wrangler.toml` turns
//! traces on), and the record's `trace_id` names that trace.

use error_shield::{Cause, Failure, Shield};
use worker::{event, Context, Env, Request, Response, Result, Router};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Shield::from_env(&env).run(req, env, ctx, routes).await
}

async fn routes(req: Request, env: Env, ctx: Context) -> Result<Response> {
    if let Some(tag) = req.path().strip_prefix("/later/") {
        let tag = tag.to_owned();
        // Work after the response: its panic gets its one `worker_panic`
        // record either way; through the guard, it is the only line.
        if tag.starts_with("plain-") {
            ctx.wait_until(async move { panic!("later panic {tag}") });
        } else {
            Shield::wait_until(&ctx, async move { panic!("later panic {tag}") });
        }
        return Response::ok("accepted");
    }
    Router::new()
        .get("/hello", |_, _| Response::ok("hello from a guarded app"))
        // An `Err` from workers-rs: a `worker_error` with its message in the log.
        .get("/items/:id", |_, ctx| {
            let id = ctx.param("id").map(String::as_str).unwrap_or_default();
            let id: u32 = id
                .parse()
                .map_err(|e| worker::Error::RustError(format!("bad item id {id:?}: {e}")))?;
            Response::ok(format!("item {id}"))
        })
        // Our own failure with context for the log record only.
        .get("/orders/:id", |_, ctx| {
            let id = ctx.param("id").cloned().unwrap_or_default();
            Err(Failure::new(Cause::WorkerError, "order store unavailable")
                .with_context("order_id", id)
                .with_context("store", "orders-eu")
                .into())
        })
        // An error that quotes the request's URL: the record and the span
        // show its query values as `REDACTED`.
        .get("/report", |req, _| {
            // The URL as a string (`req.url()` would link the `url` crate).
            let url = req.inner().url();
            Err(worker::Error::RustError(format!("no report for {url}")))
        })
        // A failure with every field set travels through `worker::Error`.
        .get("/upstream", |_, _| {
            let failure = Failure::new(Cause::OriginErrorStatus, "inventory answered 503")
                .with_context("upstream", "inventory")
                .with_origin_status(503)
                .with_origin_body("maintenance")
                .with_field("attempts", 2);
            Err(failure.into())
        })
        .get("/panic/:tag", |_, ctx| {
            let tag = ctx.param("tag").cloned().unwrap_or_default();
            panic!("tagged panic {tag}")
        })
        // A Wasm trap: the instance dies; the guard answers from a fresh one.
        .get("/abort", |_, _| std::process::abort())
        .get("/overflow", |_, _| Response::ok(format!("{}", recurse(1))))
        // Held in flight (up to 10 s) while another request traps the instance.
        .get_async("/hold/:tag", |_, ctx| async move {
            let tag = ctx.param("tag").cloned().unwrap_or_default();
            // A warning: `wrangler dev --log-level info` shows it, not a log line.
            worker::console_warn!("holding {tag}");
            worker::Delay::from(std::time::Duration::from_secs(10)).await;
            Response::ok(format!("held {tag}"))
        })
        .get_async("/panic", |_, _| async move {
            let empty: Vec<u32> = Vec::new();
            // An out-of-bounds index: a real panic, not an explicit one.
            Response::ok(format!("{}", empty[std::hint::black_box(3)]))
        })
        .run(req, env)
        .await
}

/// Unbounded recursion the optimiser cannot turn into a loop: a stack
/// overflow, another trap.
#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let buf = std::hint::black_box([n; 64]);
    recurse(buf[7] + 1) + buf[3]
}
