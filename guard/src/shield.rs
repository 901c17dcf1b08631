//! The guard: built once per isolate from the page's variables, it runs a
//! handler under `catch_unwind` and turns its `Err` or panic into the
//! uniform error and one record.

use std::cell::OnceCell;
#[cfg(feature = "workers-rs")]
use std::{cell::Cell, future::Future};

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
use crate::{panic::Caught, per_isolate};

/// The guard for one isolate: what the page says (or why its variables are
/// invalid), and the answer for each status, built on its first use.
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
    pub fn new(page: Result<Page, Failure>) -> Shield {
        panic::install();
        Shield {
            page,
            answers: std::array::from_fn(|_| OnceCell::new()),
        }
    }

    /// The page's settings (the defaults when its variables are invalid).
    pub fn page(&self) -> &Page {
        static DEFAULT: std::sync::OnceLock<Page> = std::sync::OnceLock::new();
        self.page
            .as_ref()
            .unwrap_or_else(|_| DEFAULT.get_or_init(Page::default))
    }

    /// A guard from the page's variables (`ERROR_TITLE`, `ERROR_MESSAGE`,
    /// `SUPPORT_URL`, `PROBLEM_TYPE`, `ERROR_PAGE_HTML`, `DEFAULT_FORMAT`).
    pub fn from_vars(vars: &impl Vars) -> Shield {
        Shield::new(Page::from_vars(vars))
    }

    /// The isolate's guard, built from `env` on first use and kept for the
    /// life of the instance.
    #[cfg(feature = "workers-rs")]
    pub fn from_env(env: &worker::Env) -> &'static Shield {
        per_isolate::get_or_init(&ISOLATE, || {
            Shield::from_vars(&|name: &str| crate::vars::from_env(env, name))
        })
    }

    /// The `config_error` of an invalid page, if any.
    pub fn config_error(&self) -> Option<&Failure> {
        self.page.as_ref().err()
    }

    /// The format when `Accept` does not decide.
    pub fn default_format(&self) -> Format {
        self.page().default_format
    }

    /// Records `failure` and returns the uniform 500 for `incoming`.
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
    pub fn respond(&self, incoming: &Incoming, status: u16, default: Format) -> Response {
        answer::respond(self.answer(status), &[], default, incoming)
    }

    /// The bodies of the answer with `status`: titled by it unless the page
    /// sets a title, built once.
    pub fn answer(&self, status: u16) -> &Renderer {
        let status = status::answerable(status);
        let slot = &self.answers[usize::from(status - status::RANGE.start())];
        slot.get_or_init(|| Renderer::with_words(self.page(), &self.page().words(status)))
    }

    /// Runs a workers-rs `handler` under the guard: its `Err` (a
    /// [`worker::Error`], a [`Failure`], or anything that converts into one)
    /// or its panic becomes the uniform 500 in the negotiated format and one
    /// record. Never returns `Err`.
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
        let incoming = Incoming::new(Clone::clone(req.inner()));
        // A handle: the app's pages folder is looked up only on a failure.
        let app_env = Clone::clone(&env);
        let dress = |r| crate::pages::fetch::dressed(&app_env, self.page(), &incoming, r);
        if let Some(failure) = self.config_error() {
            return Ok(dress(self.fail(&incoming, failure)).await.into());
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
            Err(failure) => dress(self.fail(&incoming, &failure)).await.into(),
        })
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
