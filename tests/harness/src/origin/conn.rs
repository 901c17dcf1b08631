//! One connection of the fake origin: its requests one after another
//! (with keep-alive), what each tells the origin's state, and which route
//! answers it.

use std::io::{self, BufReader};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::Duration;

use super::http::{read_body, read_head, Out, Req};
use super::routes::{self, Serve};
use super::{Options, State};

/// The connection the request came on: its number and how many requests
/// it served before this one.
#[derive(Clone, Copy)]
pub struct Conn {
    pub id: u64,
    pub served: u32,
}

/// What a route gets: the request, the connection both ways, the origin's
/// state.
pub struct Ctx<'a> {
    pub req: Req,
    /// The path the route is served as (the request's, without a mount).
    pub path: String,
    /// Requests so far to the path as requested, this one included.
    pub hit: u32,
    pub w: &'a mut Out,
    pub reader: &'a mut BufReader<TcpStream>,
    pub(crate) state: &'a Mutex<State>,
    pub conn: Conn,
    /// The connection may serve another request once the body is read.
    keep: bool,
}

impl Ctx<'_> {
    /// The request's `key=`, which keys the origin's per-test counters.
    pub fn key(&self) -> Option<&str> {
        self.req.query("key")
    }

    /// Reads the request body: its length and checksum. From then on the
    /// answer may keep the connection.
    pub fn read_body(&mut self) -> io::Result<(u64, u64)> {
        self.read_body_reporting(&mut |_| {})
    }

    /// [`Ctx::read_body`], telling `progress` the running length.
    pub fn read_body_reporting(&mut self, progress: &mut dyn FnMut(u64)) -> io::Result<(u64, u64)> {
        let read = read_body(self.reader, &self.req, progress)?;
        self.w.may_keep = self.keep;
        Ok(read)
    }

    /// The flag `name` a test set ([`super::Origin::set_flag`]).
    pub fn flag(&self, name: &str) -> Option<String> {
        self.state.lock().unwrap().flags.get(name).cloned()
    }

    /// Records how far the keyed stream `stream` got.
    pub fn set_progress(&self, stream: &str, n: u64) {
        set_progress(self.state, stream, n);
    }

    /// Records how the keyed stream `stream` ended, and passes `result` on.
    pub fn end<T>(&self, stream: &str, result: io::Result<T>) -> io::Result<T> {
        let how = match &result {
            Ok(_) => "complete".to_owned(),
            Err(e) => format!("error: {e}"),
        };
        let mut state = self.state.lock().unwrap();
        state.ended.insert(stream.to_owned(), how);
        result
    }
}

/// Records how far the keyed stream `stream` got.
pub fn set_progress(state: &Mutex<State>, stream: &str, n: u64) {
    let mut state = state.lock().unwrap();
    state.progress.insert(stream.to_owned(), n);
}

/// Counts one more hit on `key` and returns the count.
pub fn bump(state: &Mutex<State>, key: String) -> u32 {
    let mut state = state.lock().unwrap();
    let n = state.hits.entry(key).or_insert(0);
    *n += 1;
    *n
}

/// Serves the requests of one connection: one, or with keep-alive as many
/// as come until the client closes, an answer ends it, or it idles out.
pub fn serve(stream: TcpStream, state: &Mutex<State>, id: u64, options: Options) -> io::Result<()> {
    let mut w = Out {
        stream: stream.try_clone()?,
        may_keep: false,
        kept: false,
    };
    let mut reader = BufReader::new(stream);
    let mut conn = Conn { id, served: 0 };
    let mut idle = None;
    loop {
        // Waiting for a next request: at most `idle`, then a FIN.
        reader.get_ref().set_read_timeout(idle)?;
        let req = match read_head(&mut reader) {
            Ok(Some(req)) => req,
            Ok(None) => return Ok(()),
            Err(e) if conn.served > 0 && is_timeout(&e) => {
                state.lock().unwrap().idle_closed.insert(conn.id);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        reader.get_ref().set_read_timeout(None)?;
        let close = req.query("close").is_some()
            || (req.header("connection")).is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let keep = options.keep_alive && !close;
        idle = Some(Duration::from_millis(
            req.num("idle_ms").unwrap_or(30_000).max(1),
        ));
        w.may_keep = false;
        w.kept = false;
        let path = mounted(req.path(), options.mounts);
        let hit = note(state, &req, conn);
        let mut ctx = Ctx {
            req,
            path,
            hit,
            w: &mut w,
            reader: &mut reader,
            state,
            conn,
            keep,
        };
        let route = routes::find(&ctx.path).map_or(routes::not_found as Serve, |r| r.serve);
        route(&mut ctx)?;
        if !w.kept {
            return Ok(());
        }
        conn.served += 1;
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Notes the request in the origin's state: its line, its connection, its
/// hits (per path as requested, and per `key=`). The path's hit count.
fn note(state: &Mutex<State>, req: &Req, conn: Conn) -> u32 {
    {
        let mut s = state.lock().unwrap();
        s.seen.push((req.method.clone(), req.target.clone()));
        if let Some(k) = req.query("key") {
            let ids = s.connections_by_key.entry(k.to_owned()).or_default();
            ids.insert(conn.id);
        }
    }
    let path = req.path();
    let hit = bump(state, path.to_owned());
    if let Some(k) = req.query("key") {
        bump(state, format!("{path}?key={k}"));
    }
    hit
}

/// The path a request is served as: under one of `mounts`, the first of
/// its later segments that starts a route's path starts the path served
/// (see [`Options::mounts`]); else the path itself.
fn mounted(path: &str, mounts: &[&str]) -> String {
    let bare = path.trim_start_matches('/');
    for mount in mounts {
        let Some(rest) = bare.strip_prefix(mount.trim_start_matches('/')) else {
            continue;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        for start in 0..segments.len() {
            let served = format!("/{}", segments[start..].join("/"));
            if !segments[start].is_empty() && routes::find(&served).is_some() {
                return served;
            }
        }
    }
    path.to_owned()
}
