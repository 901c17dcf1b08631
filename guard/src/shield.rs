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
use crate::render::{Renderer, Words};
use crate::vars::Vars;

/// The status of the uniform error.
pub const STATUS: u16 = 500;

/// The guard for one isolate: what the page says (or why its variables are
/// invalid) and the prebuilt answers, the 500 first.
pub struct Shield {
    page: Result<Page, Failure>,
    answers: Vec<Answer>,
}

/// A prebuilt answer: its bodies and the headers it adds to the fixed set.
struct Answer {
    renderer: Renderer,
    headers: Vec<(&'static str, String)>,
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
        let mut shield = Shield {
            page,
            answers: Vec::new(),
        };
        shield.answers.push(Answer {
            renderer: Renderer::new(shield.page()),
            headers: Vec::new(),
        });
        shield
    }

    /// Adds (or replaces) the answer with `words.status`, shaped by the page
    /// (formats, template, support link), with `headers` besides the fixed
    /// set. Call before the first request: answers are prebuilt.
    pub fn answering(mut self, words: Words, headers: Vec<(&'static str, String)>) -> Shield {
        let answer = Answer {
            renderer: Renderer::with_words(self.page(), &words),
            headers,
        };
        // Replaced in place: the 500 stays first, the fallback of `answer`.
        match self
            .answers
            .iter_mut()
            .find(|a| a.renderer.status() == words.status)
        {
            Some(slot) => *slot = answer,
            None => self.answers.push(answer),
        }
        self
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
        self.page().default_format
    }

    /// Records `failure` and returns the uniform 500 for `incoming`.
    pub fn fail(&self, incoming: &Incoming, failure: &Failure) -> Response {
        self.fail_with(incoming, failure, STATUS, self.default_format())
    }

    /// Records `failure` and returns the uniform error with `status` (the
    /// 500 when no answer was prepared for it), `default` deciding the
    /// format when `Accept` does not.
    pub fn fail_with(
        &self,
        incoming: &Incoming,
        failure: &Failure,
        status: u16,
        default: Format,
    ) -> Response {
        let answer = self.answer(status);
        answer::record(incoming, failure, answer.renderer.status(), false);
        answer::respond(&answer.renderer, &answer.headers, default, incoming)
    }

    /// The uniform error with `status`, without a record (not a failure).
    pub fn respond(&self, incoming: &Incoming, status: u16, default: Format) -> Response {
        let answer = self.answer(status);
        answer::respond(&answer.renderer, &answer.headers, default, incoming)
    }

    fn answer(&self, status: u16) -> &Answer {
        self.answers
            .iter()
            .find(|a| a.renderer.status() == status)
            .unwrap_or(&self.answers[0])
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

#[cfg(test)]
mod tests {
    use super::*;

    fn words(status: u16, title: &str) -> Words {
        Words {
            status,
            title: title.into(),
            message: "m".into(),
        }
    }

    #[test]
    fn an_unprepared_status_falls_back_to_the_500_even_after_it_is_replaced() {
        let shield = Shield::new(Ok(Page::default()))
            .answering(words(503, "Back soon"), vec![("retry-after", "1".into())])
            .answering(words(500, "Replaced"), Vec::new());
        let body = |status| {
            let a = shield.answer(status);
            let r = a.renderer.render(Format::Text, "i", false).body;
            (a.renderer.status(), r, a.headers.len())
        };
        assert!(body(503).1.starts_with("Back soon"));
        assert_eq!((body(503).0, body(503).2), (503, 1));
        assert!(body(500).1.starts_with("Replaced"));
        let (status, text, _) = body(502);
        assert_eq!(status, 500);
        assert!(text.starts_with("Replaced"), "{text}");
    }
}
