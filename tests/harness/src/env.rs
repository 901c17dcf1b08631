//! The fixture every end-to-end test file shares: a fake origin, the
//! workers in front of it (or of nothing) by name, and what they need held
//! for the run. A test file keeps one in a `static OnceLock<Env>`.

use std::thread::JoinHandle;

use crate::origin::Origin;
use crate::worker::{Launch, Worker};
use error_shield_rig::{free_port, DeadPort};

/// A fake origin (when the workers need one), other origins by name (a
/// fallback, say), and named workers.
pub struct Env {
    origin: Option<Origin>,
    others: Vec<(String, Origin)>,
    workers: Vec<(String, Worker)>,
    /// Ports that refuse connections, held until the run ends.
    _dead: Vec<DeadPort>,
}

/// What an [`Env`] starts; see [`Env::build`].
pub struct EnvBuilder {
    origin: Option<Origin>,
    others: Vec<(String, Origin)>,
    dead: Vec<DeadPort>,
    launches: Vec<(String, Launch)>,
}

impl Env {
    /// The fake origin and the proxy in front of it with `vars`, named
    /// `main`: what most test files need.
    pub fn proxy(vars: &[(&str, &str)]) -> Env {
        Env::build()
            .origin(Origin::start())
            .fronting("main", Launch::proxy().vars(vars))
            .start()
    }

    /// An environment to fill: [`EnvBuilder::origin`],
    /// [`EnvBuilder::worker`], [`EnvBuilder::fronting`], then
    /// [`EnvBuilder::start`].
    pub fn build() -> EnvBuilder {
        EnvBuilder {
            origin: None,
            others: Vec::new(),
            dead: Vec::new(),
            launches: Vec::new(),
        }
    }

    /// The fake origin; panics when this environment has none.
    pub fn origin(&self) -> &Origin {
        self.origin.as_ref().expect("this Env has no origin")
    }

    /// The other origin given as `name`; panics when there is none.
    pub fn other_origin(&self, name: &str) -> &Origin {
        let found = self.others.iter().find(|(n, _)| n == name);
        found
            .map(|(_, o)| o)
            .unwrap_or_else(|| panic!("no origin {name:?} in this Env"))
    }

    /// The worker started as `name`; panics naming the ones there are.
    pub fn worker(&self, name: &str) -> &Worker {
        match self.workers.iter().find(|(n, _)| n == name) {
            Some((_, w)) => w,
            None => {
                let names: Vec<&str> = self.workers.iter().map(|(n, _)| n.as_str()).collect();
                panic!("no worker {name:?} in this Env, only {names:?}")
            }
        }
    }

    /// `origin` and workers whose launches name their own ports (one whose
    /// fallback is itself, two that are each other's origin): `make` gets a
    /// free port per name and returns the launches in that order. When a
    /// port was taken before wrangler bound it, all start again on new ones.
    pub fn addressed(
        origin: Option<Origin>,
        names: &[&str],
        make: impl Fn(&[u16]) -> Vec<Launch>,
    ) -> Env {
        for _ in 0..3 {
            let ports: Vec<u16> = names.iter().map(|_| free_port()).collect();
            let launches = make(&ports);
            let spawned: Vec<Worker> = (launches.iter().zip(&ports))
                .map(|(l, port)| l.clone().port(*port).spawn_on(*port))
                .collect();
            if spawned.iter().all(Worker::wait_ready) {
                let workers = names.iter().map(|n| n.to_string()).zip(spawned);
                return Env {
                    origin,
                    others: Vec::new(),
                    workers: workers.collect(),
                    _dead: Vec::new(),
                };
            }
        }
        panic!("wrangler dev found its ports taken three times");
    }

    /// Starts one more worker as `name`, after the others are up (e.g. one
    /// whose `ORIGIN_URL` is another worker's address).
    pub fn add(&mut self, name: &str, launch: Launch) {
        self.workers.push((name.into(), launch.start()));
    }
}

impl EnvBuilder {
    /// The workers' fake origin.
    pub fn origin(mut self, origin: Origin) -> EnvBuilder {
        self.origin = Some(origin);
        self
    }

    /// Another origin, named `name`, that workers reach by a URL of their
    /// own (e.g. `FALLBACK_ORIGIN_URL`); [`EnvBuilder::fronting`] uses the
    /// first.
    pub fn other_origin(mut self, name: &str, origin: Origin) -> EnvBuilder {
        self.others.push((name.into(), origin));
        self
    }

    /// Holds `dead` for the run (the origin of a rule that must be down).
    pub fn hold(mut self, dead: DeadPort) -> EnvBuilder {
        self.dead.push(dead);
        self
    }

    /// A worker started as `launch` says, named `name`.
    pub fn worker(mut self, name: &str, launch: Launch) -> EnvBuilder {
        self.launches.push((name.into(), launch));
        self
    }

    /// A worker in front of the origin: `ORIGIN_URL` set to it before the
    /// vars of `launch`. Call [`EnvBuilder::origin`] first.
    pub fn fronting(self, name: &str, launch: Launch) -> EnvBuilder {
        let origin = self
            .origin
            .as_ref()
            .expect("fronting needs an origin first");
        let launch = launch.first_var("ORIGIN_URL", &origin.url());
        self.worker(name, launch)
    }

    /// Starts every worker at once (wrangler's start-up dominates) and
    /// waits until all answer.
    pub fn start(self) -> Env {
        let started: Vec<(String, JoinHandle<Worker>)> = (self.launches.into_iter())
            .map(|(name, launch)| (name, launch.spawn()))
            .collect();
        let workers = started
            .into_iter()
            .map(|(name, handle)| {
                let worker = (handle.join()).unwrap_or_else(|_| panic!("worker {name:?}"));
                (name, worker)
            })
            .collect();
        Env {
            origin: self.origin,
            others: self.others,
            workers,
            _dead: self.dead,
        }
    }
}
