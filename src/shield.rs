//! The guard around a handler: per-isolate state (config parsed once, the
//! 500 prebuilt), the request id, `catch_unwind`, and the one place where a
//! `Failure` becomes the response and the log record.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::AssertUnwindSafe;
#[cfg(feature = "proxy")]
use std::rc::Rc;

use futures_util::FutureExt;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, Request, Response, ResponseInit};

use crate::config::Config;
use crate::failure::{Cause, Failure};
use crate::negotiate::negotiate;
use crate::record::{log_line, RequestInfo};
use crate::render::Renderer;
use crate::request_id;

/// The guard, built once per isolate: the configuration (or why it is
/// invalid) and the prebuilt 500s.
pub struct Shield {
    pub(crate) config: Result<Config, Failure>,
    renderer: Renderer,
}

thread_local! {
    static SHIELD: Cell<Option<&'static Shield>> = const { Cell::new(None) };
    static LAST_PANIC: RefCell<Option<(String, Option<String>)>> = const { RefCell::new(None) };
}

impl Shield {
    /// The isolate's shield, built from `env` on first use.
    pub(crate) fn get(env: &JsValue) -> &'static Shield {
        SHIELD.with(|cell| {
            cell.get().unwrap_or_else(|| {
                install_panic_hook();
                let config = Config::from_vars(|name| env_var(env, name));
                let renderer = Renderer::new(config.as_ref().unwrap_or(&Config::default()));
                // Leaked once per isolate: the state lives as long as the instance.
                let shield: &'static Shield = Box::leak(Box::new(Shield { config, renderer }));
                #[cfg(feature = "proxy")]
                if let Ok(config) = &shield.config {
                    crate::proxy::install(config);
                }
                cell.set(Some(shield));
                shield
            })
        })
    }
}

/// Reads a string binding; numbers and booleans from `[vars]` count too.
fn env_var(env: &JsValue, name: &str) -> Option<String> {
    let v = js_sys::Reflect::get(env, &JsValue::from_str(name)).ok()?;
    if v.is_undefined() || v.is_null() {
        return None;
    }
    v.as_string()
        .or_else(|| js_sys::JSON::stringify(&v).ok().map(String::from))
}

/// Records the message and location of a panic for the log record, instead
/// of printing it: the record is the one place failures are reported.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_owned(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "panic".into()),
        };
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        LAST_PANIC.with(|p| *p.borrow_mut() = Some((message, location)));
    }));
}

/// What the guard knows about the request before the handler runs.
pub(crate) struct Incoming {
    /// The incoming request (read further only on failure).
    pub(crate) request: Request,
    /// The request id (§4).
    pub(crate) id: String,
    /// The incoming URL.
    pub(crate) url: String,
    /// `Date.now()` at the start; `None` while still in the request's first
    /// synchronous turn, where the clock of workerd stands still.
    started: Option<f64>,
}

impl Incoming {
    /// Reads the URL and picks the request id.
    pub(crate) fn new(request: Request) -> Incoming {
        let headers = request.headers();
        let client = headers.get("x-request-id").ok().flatten();
        let cf_ray = headers.get("cf-ray").ok().flatten();
        let id = request_id::choose(client.as_deref(), cf_ray.as_deref(), request_id::mint);
        Incoming {
            url: request.url(),
            id,
            request,
            started: Some(js_sys::Date::now()),
        }
    }

    /// The hot path's request, with what the JS entry already read of it.
    #[cfg(feature = "proxy")]
    pub(crate) fn read(
        request: Request,
        url: String,
        client_id: Option<String>,
        cf_ray: Option<String>,
    ) -> Incoming {
        Incoming {
            url,
            id: request_id::choose(client_id.as_deref(), cf_ray.as_deref(), request_id::mint),
            request,
            started: None,
        }
    }

    /// The request of a failure that began on the hot path ([`start`]).
    #[cfg(feature = "proxy")]
    pub(crate) fn resume(request: Request, id: String, started: f64) -> Incoming {
        Incoming {
            url: request.url(),
            id,
            request,
            started: Some(started),
        }
    }

    /// A request header (for the failure path and opt-in features).
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.request.headers().get(name).ok().flatten()
    }
}

/// Runs `handler` under the guard: an `Err` or a panic becomes the uniform
/// 500 and one log record. The origin proxy's entry point.
#[cfg(feature = "proxy")]
pub(crate) async fn run<F, Fut>(request: Request, env: &JsValue, handler: F) -> Response
where
    F: FnOnce(&'static Shield, Rc<Incoming>) -> Fut,
    Fut: Future<Output = Result<Response, Failure>>,
{
    let shield = Shield::get(env);
    let incoming = Rc::new(Incoming::new(request));
    let work = handler(shield, Rc::clone(&incoming));
    shield.guard(&incoming, work).await
}

/// The hot path's synchronous start: the uniform 500 for a failure found
/// before the fetch, else the promise of `proxy::proxied`; `undefined` when
/// the configuration needs the async path ([`run`]).
#[cfg(feature = "proxy")]
pub(crate) fn start(
    request: Request,
    env: &JsValue,
    url: String,
    client_id: Option<String>,
    cf_ray: Option<String>,
    hop: bool,
) -> JsValue {
    let shield = Shield::get(env);
    if shield.config.as_ref().is_ok_and(crate::proxy::needs_async) {
        return JsValue::UNDEFINED;
    }
    let incoming = Incoming::read(request, url, client_id, cf_ray);
    match shield.guard_now(|config| crate::proxy::start(config, &incoming, hop)) {
        Ok(promise) => promise.into(),
        Err(failure) => shield.fail(&incoming, &failure).into(),
    }
}

/// The uniform 500 and the record of a hot-path fetch that failed.
#[cfg(feature = "proxy")]
pub(crate) fn failed(
    request: Request,
    env: &JsValue,
    origin: &crate::proxy::OriginFailure,
) -> Response {
    let shield = Shield::get(env);
    let incoming = Incoming::resume(request, origin.id(), origin.started());
    let (Ok(failure) | Err(failure)) =
        shield.guard_now(|config| Ok(crate::proxy::failure_of(config, origin)));
    shield.fail(&incoming, &failure)
}

impl Shield {
    /// The isolate's shield, configured from the worker's variables (parsed
    /// once per isolate; an invalid one makes every request a `config_error`).
    pub fn from_env(env: &worker::Env) -> &'static Shield {
        Shield::get(env)
    }

    /// Runs a workers-rs `handler` under the guard: its `Err` (a
    /// [`worker::Error`], a [`Failure`] with context, or anything that
    /// converts into one) or its panic becomes the uniform 500 in the
    /// negotiated format and one log record. Never returns `Err`.
    pub async fn run<F, Fut, E>(
        &'static self,
        req: worker::Request,
        env: worker::Env,
        ctx: worker::Context,
        handler: F,
    ) -> worker::Result<worker::Response>
    where
        F: FnOnce(worker::Request, worker::Env, worker::Context) -> Fut,
        Fut: Future<Output = Result<worker::Response, E>>,
        E: Into<Failure>,
    {
        // `Clone::clone` copies the handle; `Request::clone` would tee the body.
        let incoming = Incoming::new(Clone::clone(req.inner()));
        // Created inside the guarded future, so a panic while building it is caught too.
        let work = async move {
            handler(req, env, ctx)
                .await
                .map(Response::from)
                .map_err(Into::into)
        };
        Ok(self.guard(&incoming, work).await.into())
    }

    /// The one guard: polls `work` inside `catch_unwind` and turns an `Err`
    /// or a panic into the response and the log record.
    async fn guard<Fut>(&'static self, incoming: &Incoming, work: Fut) -> Response
    where
        Fut: Future<Output = Result<Response, Failure>>,
    {
        let outcome = match &self.config {
            Err(e) => Err(e.clone()),
            Ok(_) => AssertUnwindSafe(work)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(panic_failure())),
        };
        match outcome {
            Ok(response) => response,
            Err(failure) => self.fail(incoming, &failure),
        }
    }
}

#[cfg(feature = "proxy")]
impl Shield {
    /// The synchronous guard: runs `work` inside `catch_unwind`; a panic
    /// becomes a `worker_panic` failure.
    fn guard_now<T>(&self, work: impl FnOnce(&Config) -> Result<T, Failure>) -> Result<T, Failure> {
        let config = self.config.as_ref().map_err(Clone::clone)?;
        std::panic::catch_unwind(AssertUnwindSafe(|| work(config)))
            .unwrap_or_else(|_| Err(panic_failure()))
    }
}

/// The failure of the panic that was just caught.
fn panic_failure() -> Failure {
    let (message, location) = LAST_PANIC
        .with(|p| p.borrow_mut().take())
        .unwrap_or_else(|| ("panic".into(), None));
    let mut f = Failure::new(Cause::WorkerPanic, message);
    f.location = location;
    f
}

impl Shield {
    /// Logs `failure` and returns the uniform 500 for `incoming`.
    pub(crate) fn fail(&self, incoming: &Incoming, failure: &Failure) -> Response {
        log(incoming, failure, false);
        self.respond(incoming)
    }

    /// The uniform 500 in the format the request's `Accept` asks for. The
    /// only place a failure becomes a response.
    fn respond(&self, incoming: &Incoming) -> Response {
        let default = self
            .config
            .as_ref()
            .map_or(Config::default().default_format, |c| c.default_format);
        let format = negotiate(incoming.header("accept").as_deref(), default);
        let head = incoming.request.method() == "HEAD";
        let rendered = self.renderer.render(format, &incoming.id, head);
        let headers = Headers::new().unwrap_or_else(|_| unreachable_headers());
        for (name, value) in &rendered.headers {
            let _ = headers.set(name, value);
        }
        let init = ResponseInit::new();
        init.set_status(500);
        init.set_headers(&headers);
        let body = (!head).then_some(rendered.body.as_str());
        Response::new_with_opt_str_and_init(body, &init).unwrap_or_else(|_| Response::error())
    }
}

/// `new Headers()` cannot fail; this keeps the type checker honest without
/// an `unwrap`.
fn unreachable_headers() -> Headers {
    JsValue::from(js_sys::Object::new()).unchecked_into()
}

/// Writes the one log record of `failure`. The only place a failure is logged.
pub(crate) fn log(incoming: &Incoming, failure: &Failure, served_stale: bool) {
    let method = incoming.request.method();
    let cf_ray = incoming.header("cf-ray");
    let info = RequestInfo {
        request_id: &incoming.id,
        cf_ray: cf_ray.as_deref(),
        method: &method,
        url: &incoming.url,
        duration_ms: incoming
            .started
            .map_or(0, |t| (js_sys::Date::now() - t).max(0.0) as u64),
        served_stale,
    };
    web_sys::console::error_1(&JsValue::from_str(&log_line(failure, &info)));
}

/// The uniform 500 and the record for a request whose instance trapped.
#[cfg(feature = "proxy")]
pub(crate) fn trap(request: Request, env: &JsValue, message: String) -> Response {
    let shield = Shield::get(env);
    shield.fail(
        &Incoming::new(request),
        &Failure::new(Cause::WorkerTrap, message),
    )
}
