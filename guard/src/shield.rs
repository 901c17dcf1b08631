//! The guard: built once per isolate from the page's variables, it runs a
//! handler under `catch_unwind` and turns its `Err` or panic into the
//! uniform error and one record.

use std::cell::Cell;
use std::future::Future;

use web_sys::Response;

use crate::answer;
use crate::failure::Failure;
use crate::incoming::Incoming;
use crate::negotiate::Format;
use crate::page::Page;
use crate::panic::{self, Caught};
use crate::render::Renderer;
use crate::vars::Vars;

/// The status of the uniform error.
pub const STATUS: u16 = 500;

/// The guard for one isolate: what the page says (or why its variables are
/// invalid) and the prebuilt bodies.
pub struct Shield {
    page: Result<Page, Failure>,
    renderer: Renderer,
}

thread_local! {
    static ISOLATE: Cell<Option<&'static Shield>> = const { Cell::new(None) };
}

impl Shield {
    /// A guard for `page`; an invalid page still renders (with the
    /// defaults) while every request fails with its `config_error`.
    /// Installs the chained panic hook.
    pub fn new(page: Result<Page, Failure>) -> Shield {
        panic::install();
        let renderer = Renderer::new(page.as_ref().unwrap_or(&Page::default()));
        Shield { page, renderer }
    }

    /// A guard from the page's variables (`ERROR_TITLE`, `ERROR_MESSAGE`,
    /// `SUPPORT_URL`, `PROBLEM_TYPE`, `ERROR_PAGE_HTML`, `DEFAULT_FORMAT`).
    pub fn from_vars(vars: &impl Vars) -> Shield {
        Shield::new(Page::from_vars(vars))
    }

    /// The isolate's guard, built from `env` on first use and kept for the
    /// life of the instance.
    pub fn from_env(env: &worker::Env) -> &'static Shield {
        ISOLATE.with(|cell| {
            cell.get().unwrap_or_else(|| {
                let vars = |name: &str| crate::vars::from_env(env, name);
                let shield: &'static Shield = Box::leak(Box::new(Shield::from_vars(&vars)));
                cell.set(Some(shield));
                shield
            })
        })
    }

    /// The `config_error` of an invalid page, if any.
    pub fn config_error(&self) -> Option<&Failure> {
        self.page.as_ref().err()
    }

    /// The format when `Accept` does not decide.
    pub fn default_format(&self) -> Format {
        self.page
            .as_ref()
            .map_or(Page::default().default_format, |p| p.default_format)
    }

    /// Records `failure` and returns the uniform 500 for `incoming`.
    pub fn fail(&self, incoming: &Incoming, failure: &Failure) -> Response {
        answer::record(incoming, failure, STATUS, false);
        self.respond(incoming, STATUS)
    }

    /// The uniform error with `status`, without a record.
    pub fn respond(&self, incoming: &Incoming, status: u16) -> Response {
        answer::respond(&self.renderer, self.default_format(), incoming, status)
    }

    /// Runs a workers-rs `handler` under the guard: its `Err` (a
    /// [`worker::Error`], a [`Failure`], or anything that converts into one)
    /// or its panic becomes the uniform 500 in the negotiated format and one
    /// record. Never returns `Err`.
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
        if let Some(failure) = self.config_error() {
            return Ok(self.fail(&incoming, failure).into());
        }
        // Built inside the guarded future, so a panic while building it is caught too.
        let work = Caught(async move {
            handler(req, env, ctx)
                .await
                .map(Response::from)
                .map_err(Into::into)
        });
        Ok(match work.await {
            Ok(response) => response.into(),
            Err(failure) => self.fail(&incoming, &failure).into(),
        })
    }
}
