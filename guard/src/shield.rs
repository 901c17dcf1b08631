//! The guard: built once per isolate from the page's variables, it runs a
//! handler under `catch_unwind` and turns its `Err` or panic into the
//! uniform error and one record.

use std::cell::OnceCell;
#[cfg(feature = "workers-rs")]
use std::{cell::Cell, future::Future, rc::Rc};

use web_sys::Response;

use crate::answer;
use crate::failure::Failure;
use crate::format::Format;
use crate::incoming::Incoming;
use crate::page::Page;
use crate::panic;
use crate::record;
use crate::render::Renderer;
use crate::status;
use crate::vars::Vars;
#[cfg(feature = "workers-rs")]
use crate::{
    panic::Caught,
    per_isolate,
    served::{Served, Serving},
};

/// The guard for one isolate: what the page says (or why its variables are
/// invalid), and the answer for each status, built on its first use.
///
/// An app needs three functions: [`Shield::from_env`], [`Shield::run`] and
/// [`Shield::wait_until`]. The others, hidden from these docs, are for a
/// worker that drives the guard by hand with [`parts`](crate::parts).
pub struct Shield {
    page: Result<Page, Failure>,
    answers: [OnceCell<Renderer>; ANSWERS],
}

/// One slot per status in [`status::RANGE`].
const ANSWERS: usize = (*status::RANGE.end() - *status::RANGE.start()) as usize + 1;

#[cfg(feature = "workers-rs")]
thread_local! {
    static ISOLATE: Cell<Option<&'static Shield>> = const { Cell::new(None) };
}

impl Shield {
    /// A guard for `page`; an invalid page still renders (with the
    /// defaults) while every request fails with its `config_error`.
    /// Installs the chained panic hook.
    #[doc(hidden)] // for a worker that drives the guard by hand (the proxy)
    pub fn new(page: Result<Page, Failure>) -> Shield {
        panic::install();
        Shield {
            page,
            answers: std::array::from_fn(|_| OnceCell::new()),
        }
    }

    /// The page's settings (the defaults when its variables are invalid).
    #[doc(hidden)] // for a worker that drives the guard by hand (the proxy)
    pub fn page(&self) -> &Page {
        static DEFAULT: std::sync::OnceLock<Page> = std::sync::OnceLock::new();
        self.page
            .as_ref()
            .unwrap_or_else(|_| DEFAULT.get_or_init(Page::default))
    }

    /// A guard from the page's variables (`ERROR_TITLE`, `ERROR_MESSAGE`,
    /// `SUPPORT_URL`, `PROBLEM_TYPE`, `ERROR_PAGE_HTML`, `DEFAULT_FORMAT`).
    #[doc(hidden)] // for a worker that drives the guard by hand (the proxy)
    pub fn from_vars(vars: &impl Vars) -> Shield {
        Shield::new(Page::from_vars(vars))
    }

    /// The isolate's guard, built from `env` on first use and kept for the
    /// life of the instance.
    #[cfg(feature = "workers-rs")]
    pub fn from_env(env: &worker::Env) -> &'static Shield {
        per_isolate::get_or_init(&ISOLATE, || {
            let shield = Shield::from_vars(&|name: &str| crate::vars::from_env(env, name));
            let last = shield.answer(status::INTERNAL_SERVER_ERROR);
            crate::trap::install(last.status(), &last.render(Format::Text, "-", false).body);
            shield
        })
    }

    /// The `config_error` of an invalid page, if any.
    #[doc(hidden)] // for a worker that drives the guard by hand (the proxy)
    pub fn config_error(&self) -> Option<&Failure> {
        self.page.as_ref().err()
    }

    /// The format when `Accept` does not decide.
    #[doc(hidden)] // for a worker that drives the guard by hand (the proxy)
    pub fn default_format(&self) -> Format {
        self.page().default_format
    }

    /// Records `failure` and returns the uniform 500 for `incoming`.
    #[doc(hidden)] // for a worker that drives the guard by hand (the proxy)
    pub fn fail(&self, incoming: &Incoming, failure: &Failure) -> Response {
        self.fail_with(
            incoming,
            failure,
            status::INTERNAL_SERVER_ERROR,
            self.default_format(),
            &[],
        )
    }

    /// Records `failure` and returns the uniform error with `status` (the
    /// 500 when it is no client or server error) and `extra` headers,
    /// `default` deciding the format when `Accept` does not.
    #[doc(hidden)] // for a worker that drives the guard by hand (the proxy)
    pub fn fail_with(
        &self,
        incoming: &Incoming,
        failure: &Failure,
        status: u16,
        default: Format,
        extra: &[(&str, String)],
    ) -> Response {
        let renderer = self.answer(status);
        record::write(incoming, failure, renderer.status());
        answer::respond(renderer, extra, default, incoming)
    }

    /// The uniform error with `status`, without a record (not a failure, or
    /// one already recorded).
    #[doc(hidden)] // for a worker that drives the guard by hand (the proxy)
    pub fn respond(&self, incoming: &Incoming, status: u16, default: Format) -> Response {
        answer::respond(self.answer(status), &[], default, incoming)
    }

    /// The bodies of the answer with `status`: titled by it unless the page
    /// sets a title, built once.
    #[doc(hidden)] // for a worker that drives the guard by hand (the proxy)
    pub fn answer(&self, status: u16) -> &Renderer {
        let status = status::answerable(status);
        let slot = &self.answers[usize::from(status - status::RANGE.start())];
        slot.get_or_init(|| Renderer::with_words(self.page(), &self.page().words(status)))
    }

    /// `ctx.wait_until(future)` under the guard: a panic in `future` is its
    /// one `worker_panic` record, without the runtime's own `Uncaught
    /// PanicError` lines after it. Scheduled while `Shield::run` serves a
    /// request, the record carries that request's id, URL and the status
    /// its client got.
    #[cfg(feature = "workers-rs")]
    pub fn wait_until(ctx: &worker::Context, future: impl Future<Output = ()> + 'static) {
        crate::served::wait_until(ctx, future)
    }

    /// Runs a workers-rs `handler` under the guard: its `Err` (a
    /// [`worker::Error`](https://docs.rs/worker/0.8/worker/enum.Error.html),
    /// a [`Failure`], or anything that converts into one), its panic or its
    /// trap becomes the uniform 500 in the negotiated format and one
    /// record, its facts also on the request's root span (Workers tracing)
    /// as the guard's JS half took it when the request entered. Never
    /// returns `Err`.
    #[cfg(feature = "workers-rs")]
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
        let mut incoming = Incoming::new(Clone::clone(req.inner()));
        // Taken by the JS half as the request entered: a failure goes on it.
        incoming.span = crate::trap::span(&incoming.request);
        // A handle: the app's pages folder is looked up only on a failure.
        let app_env = Clone::clone(&env);
        let page = self.page();
        use crate::pages::fetch::dressed as dress;
        // Back after its instance trapped: answered, the handler not run again.
        if let Some(failure) = crate::trap::pending(&incoming.request) {
            return Ok(
                dress(&app_env, page, &incoming, self.fail(&incoming, &failure))
                    .await
                    .into(),
            );
        }
        if let Some(failure) = self.config_error() {
            return Ok(
                dress(&app_env, page, &incoming, self.fail(&incoming, failure))
                    .await
                    .into(),
            );
        }
        let served = Rc::new(Served {
            incoming,
            status: Cell::new(0),
        });
        // Built inside the guarded future, so a panic while building it is caught too.
        let work = Caught(async move {
            handler(req, env, ctx)
                .await
                .map(Response::from)
                .map_err(Into::into)
        });
        let work = Serving {
            served: served.clone(),
            inner: work,
        };
        let response = match work.await {
            Ok(response) => response,
            Err(failure) => {
                let answer = self.fail(&served.incoming, &failure);
                dress(&app_env, page, &served.incoming, answer).await
            }
        };
        served.status.set(response.status());
        Ok(response.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_gets_its_own_answer_and_a_non_error_gets_the_500() {
        let shield = Shield::new(Ok(Page::default()));
        let text = |status| shield.answer(status).render(Format::Text, "i", false).body;
        for (asked, sent, title) in [
            (500, 500, "Internal Server Error"),
            (503, 503, "Service Unavailable"),
            (504, 504, "Gateway Timeout"),
            (200, 500, "Internal Server Error"),
            (600, 500, "Internal Server Error"),
        ] {
            assert_eq!(shield.answer(asked).status(), sent, "{asked}");
            assert!(text(asked).starts_with(title), "{asked}: {}", text(asked));
        }
        let titled = Page {
            title: Some("Oops".into()),
            ..Page::default()
        };
        let shield = Shield::new(Ok(titled));
        assert!(shield
            .answer(502)
            .render(Format::Text, "i", false)
            .body
            .starts_with("Oops"));
    }
}
