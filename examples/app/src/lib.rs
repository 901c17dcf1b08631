//! A workers-rs app guarded by error-shield: every route's `Err` or panic
//! becomes the uniform 500 with a request id, and one log record.

use error_shield::{Cause, Failure, Shield};
use worker::{event, Context, Env, Request, Response, Result, Router};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Shield::from_env(&env).run(req, env, ctx, routes).await
}

async fn routes(req: Request, env: Env, ctx: Context) -> Result<Response> {
    if req.path() == "/later" {
        // Work after the response, outside the guard: its panic still gets
        // a `worker_panic` record from the chained hook.
        ctx.wait_until(async {
            let empty: Vec<u32> = Vec::new();
            let _ = empty[std::hint::black_box(5)];
        });
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
        .get_async("/panic", |_, _| async move {
            let empty: Vec<u32> = Vec::new();
            // An out-of-bounds index: a real panic, not an explicit one.
            Response::ok(format!("{}", empty[std::hint::black_box(3)]))
        })
        .run(req, env)
        .await
}
