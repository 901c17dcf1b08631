//! A fake origin on loopback: plain HTTP/1.1 on std, one thread per
//! connection, `Connection: close` unless started with keep-alive, with a
//! route for every behaviour the end-to-end tests need (echo, statuses,
//! streams, resets, garbage, sleeps; WebSocket, Server-Sent Events,
//! compression, ranges and ETags in `origin_protocols.rs`).
//! It also reports what it saw: hits per path and per `key=`, every request
//! line, accepted connections and which served a key, and how far a keyed
//! stream got (bytes written or read, and how the connection ended), so
//! tests can check what reached it and when.
//! `make dev` serves the same routes as its demo origin.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What every failing route puts in its body: must never reach a client.
pub const SECRET_BODY: &str =
    "ORIGIN-SECRET-BODY Traceback (most recent call last): db password=hunter2";
/// Headers of failing responses that must never reach a client.
pub const SECRET_HEADERS: [(&str, &str); 3] = [
    ("set-cookie", "origin_session=leaked"),
    ("server", "SecretOrigin/1.0"),
    ("x-powered-by", "SecretFramework 9"),
];

#[path = "origin_protocols.rs"]
pub mod protocols;

/// A running fake origin.
pub struct Origin {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

/// How a fake origin treats its connections.
#[derive(Clone, Copy, Default)]
pub struct Options {
    /// HTTP/1.1 persistent connections: after an answer that `respond`
    /// framed, wait for the next request on the same connection, unless the
    /// request said `Connection: close` or has `close=1` in its query; with
    /// `idle_ms=N` in its query the connection is closed (FIN) when no next
    /// request came within N ms (default 30 s). Off: every answer says
    /// `Connection: close` and the connection ends.
    pub keep_alive: bool,
}

/// What the origin saw and what tests told it.
#[derive(Default)]
struct State {
    /// Requests per path (without query), and per `path?key=K`.
    hits: HashMap<String, u32>,
    /// Switches routes read (e.g. make a cacheable route fail).
    flags: HashMap<String, String>,
    /// Every request line, in arrival order: (method, target).
    seen: Vec<(String, String)>,
    /// Bytes a keyed stream has written (`/bytes`) or read (`/upload`) so far.
    progress: HashMap<String, u64>,
    /// How a keyed stream ended: `complete`, or the I/O error that cut it.
    ended: HashMap<String, String>,
    /// TCP connections accepted so far.
    connections: u64,
    /// Which connections (numbered from 1 as accepted) served a `key=`.
    connections_by_key: HashMap<String, HashSet<u64>>,
    /// The connections closed after idling `idle_ms` without a request.
    idle_closed: HashSet<u64>,
    /// Keyed events of the protocol routes: WebSocket messages the origin
    /// received, `/drop-reused` drops.
    log: HashMap<String, Vec<String>>,
    /// When each event of a keyed `/sse` stream was written and flushed.
    sent_at: HashMap<String, Vec<Instant>>,
}

impl Origin {
    /// On a free loopback port.
    pub fn start() -> Origin {
        Origin::start_on(0)
    }

    /// On `port` (0: any free one).
    pub fn start_on(port: u16) -> Origin {
        Origin::start_with(port, Options::default())
    }

    /// On `port` (0: any free one), treating connections as `options` say.
    pub fn start_with(port: u16, options: Options) -> Origin {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind origin");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                let conn = {
                    let mut s = state.lock().unwrap();
                    s.connections += 1;
                    s.connections
                };
                thread::spawn(move || {
                    let _ = serve(stream, &state, conn, options);
                });
            }
        });
        Origin { port, state }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many requests reached `path` (without query).
    pub fn hits(&self, path: &str) -> u32 {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// How many requests reached `path` with `key=key` in the query: a
    /// counter no other test shares.
    pub fn hits_for(&self, path: &str, key: &str) -> u32 {
        self.hits(&format!("{path}?key={key}"))
    }

    /// Sets a flag routes read (e.g. make a cacheable route fail).
    pub fn set_flag(&self, key: &str, value: &str) {
        let mut state = self.state.lock().unwrap();
        state.flags.insert(key.into(), value.into());
    }

    /// Every (method, target) that reached the origin whose target
    /// contains `marker`, in arrival order.
    pub fn seen(&self, marker: &str) -> Vec<(String, String)> {
        let state = self.state.lock().unwrap();
        state
            .seen
            .iter()
            .filter(|(_, t)| t.contains(marker))
            .cloned()
            .collect()
    }

    /// Bytes the keyed stream `key` (`/bytes?key=`, `/upload?key=`) has
    /// written or read so far.
    pub fn progress(&self, key: &str) -> u64 {
        let state = self.state.lock().unwrap();
        state.progress.get(key).copied().unwrap_or(0)
    }

    /// How the keyed stream `key` ended (`complete` or the I/O error), or
    /// `None` while it runs.
    pub fn ended(&self, key: &str) -> Option<String> {
        self.state.lock().unwrap().ended.get(key).cloned()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.lock().unwrap().connections
    }

    /// How many different connections carried requests with `key=key`.
    pub fn connections_for(&self, key: &str) -> usize {
        self.connections_of(key).len()
    }

    /// The connections (numbered from 1 as accepted) that carried requests
    /// with `key=key`, in ascending order.
    pub fn connections_of(&self, key: &str) -> Vec<u64> {
        let state = self.state.lock().unwrap();
        let mut ids: Vec<u64> = state
            .connections_by_key
            .get(key)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    /// Whether the origin closed connection `id` because no request came
    /// within the `idle_ms` its last request asked for.
    pub fn closed_idle(&self, id: u64) -> bool {
        self.state.lock().unwrap().idle_closed.contains(&id)
    }

    /// The keyed events of the protocol routes for `key`, in order: each
    /// WebSocket message the origin received (`text:…`, `binary:<len>:<fnv>`,
    /// `close:<code>:<reason>`), each `/drop-reused` drop (`dropped`).
    pub fn log(&self, key: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state.log.get(key).cloned().unwrap_or_default()
    }

    /// When each event of the `/sse?key=key` stream was flushed, in order.
    pub fn sent_at(&self, key: &str) -> Vec<Instant> {
        let state = self.state.lock().unwrap();
        state.sent_at.get(key).cloned().unwrap_or_default()
    }
}

pub struct Req {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

/// The write side of a connection, and whether it may serve another
/// request after this one.
struct Out {
    stream: TcpStream,
    /// `respond` may answer with keep-alive (set once the body was read).
    may_keep: bool,
    /// `respond` did: the connection waits for another request.
    kept: bool,
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

impl AsRawFd for Out {
    fn as_raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }
}

impl Req {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    fn query(&self, name: &str) -> Option<&str> {
        let q = self.target.split_once('?')?.1;
        q.split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// FNV-1a 64: a cheap checksum to compare bodies without storing them.
pub fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}
pub const FNV_START: u64 = 0xcbf29ce484222325;

/// The deterministic byte at offset `i` of generated bodies.
pub fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(31) % 251) as u8
}

fn read_head(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Req>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    Ok(Some(Req {
        method,
        target,
        headers,
    }))
}

/// Reads the request body (content-length or chunked), returning length and
/// checksum; `progress` hears the running length after every read.
fn read_body(
    reader: &mut BufReader<TcpStream>,
    req: &Req,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<(u64, u64)> {
    let mut len = 0u64;
    let mut sum = FNV_START;
    let mut buf = vec![0u8; 64 * 1024];
    if req
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            let size = u64::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if size == 0 {
                let mut trailer = String::new();
                while reader.read_line(&mut trailer)? > 2 {
                    trailer.clear();
                }
                break;
            }
            let mut left = size;
            while left > 0 {
                let n = reader.read(&mut buf[..left.min(64 * 1024) as usize])?;
                if n == 0 {
                    return Ok((len, sum));
                }
                sum = fnv(sum, &buf[..n]);
                len += n as u64;
                left -= n as u64;
                progress(len);
            }
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(cl) = req
        .header("content-length")
        .and_then(|v| v.parse::<u64>().ok())
    {
        let mut left = cl;
        while left > 0 {
            let n = reader.read(&mut buf[..left.min(64 * 1024) as usize])?;
            if n == 0 {
                break;
            }
            sum = fnv(sum, &buf[..n]);
            len += n as u64;
            left -= n as u64;
            progress(len);
        }
    }
    Ok((len, sum))
}

fn reset(stream: &impl AsRawFd) {
    // SO_LINGER 0: close() sends RST instead of FIN.
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// One chunk of a chunked body: its size line, the bytes, the CRLF.
fn write_chunk(w: &mut Out, data: &[u8]) -> std::io::Result<()> {
    w.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
    w.write_all(data)?;
    w.write_all(b"\r\n")
}

/// The few escapes the routes' query values use (`%20`, `%2C`, `%2F`,
/// `%3B`, `%3D`).
fn unescape(v: &str) -> String {
    [
        ("%20", " "),
        ("%2C", ","),
        ("%2F", "/"),
        ("%3B", ";"),
        ("%3D", "="),
    ]
    .iter()
    .fold(v.to_owned(), |s, (from, to)| s.replace(from, to))
}

fn respond(
    w: &mut Out,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    w.kept = w.may_keep;
    let connection = if w.kept { "keep-alive" } else { "close" };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nConnection: {connection}\r\nContent-Length: {}\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // One write: a second small one would wait for the peer's delayed ACK.
    let mut wire = head.into_bytes();
    wire.extend_from_slice(body);
    w.write_all(&wire)?;
    w.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        203 => "Non-Authoritative Information",
        302 => "Found",
        404 => "Not Found",
        418 => "I'm a teapot",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn secret_headers() -> Vec<(&'static str, String)> {
    SECRET_HEADERS
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect()
}

/// Counts one more hit on `key` and returns the count.
fn bump(state: &Mutex<State>, key: String) -> u32 {
    let mut state = state.lock().unwrap();
    let n = state.hits.entry(key).or_insert(0);
    *n += 1;
    *n
}

/// Records how far the keyed stream `key` got.
fn set_progress(state: &Mutex<State>, key: &str, n: u64) {
    let mut state = state.lock().unwrap();
    state.progress.insert(key.to_owned(), n);
}

/// Records how the keyed stream `key` ended, and passes `result` on.
fn end<T>(state: &Mutex<State>, key: &str, result: std::io::Result<T>) -> std::io::Result<T> {
    let how = match &result {
        Ok(_) => "complete".to_owned(),
        Err(e) => format!("error: {e}"),
    };
    state.lock().unwrap().ended.insert(key.to_owned(), how);
    result
}

/// The connection the request came on: its number and how many requests
/// it served before this one.
#[derive(Clone, Copy)]
struct Conn {
    id: u64,
    served: u32,
}

/// Serves the requests of one connection: one, or with keep-alive as many
/// as come until the client closes, an answer ends it, or it idles out.
fn serve(
    stream: TcpStream,
    state: &Mutex<State>,
    id: u64,
    options: Options,
) -> std::io::Result<()> {
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
            || req
                .header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let keep = options.keep_alive && !close;
        idle = Some(Duration::from_millis(
            req.query("idle_ms")
                .and_then(|v| v.parse().ok())
                .unwrap_or(30_000)
                .max(1),
        ));
        w.may_keep = false;
        w.kept = false;
        serve_one(&mut reader, &mut w, req, state, conn, keep)?;
        if !w.kept {
            return Ok(());
        }
        conn.served += 1;
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Answers one request. `keep`: the answer may keep the connection open
/// (once the body was read, `respond` says keep-alive).
fn serve_one(
    reader: &mut BufReader<TcpStream>,
    w: &mut Out,
    req: Req,
    state: &Mutex<State>,
    conn: Conn,
    keep: bool,
) -> std::io::Result<()> {
    let path = req.path().to_string();
    {
        let mut s = state.lock().unwrap();
        s.seen.push((req.method.clone(), req.target.clone()));
        if let Some(k) = req.query("key") {
            let ids = s.connections_by_key.entry(k.to_owned()).or_default();
            ids.insert(conn.id);
        }
    }
    let hit = bump(state, path.clone());
    let key = req.query("key").map(str::to_owned);
    if let Some(k) = &key {
        bump(state, format!("{path}?key={k}"));
    }
    let flag = |k: &str| state.lock().unwrap().flags.get(k).cloned();
    // `/<prefix…>/<route>` (the route tests' and the demo's rule prefixes)
    // is served as `/<route>`.
    let path = {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let known = ["status", "sleep", "echo", "reset", "garbage", "cacheable"];
        match segments.iter().position(|s| known.contains(s)) {
            Some(start) if start > 0 && segments[0] != "any" => {
                format!("/{}", segments[start..].join("/"))
            }
            _ => path,
        }
    };
    match path.as_str() {
        "/garbage" => {
            w.write_all(b"THIS IS NOT HTTP AT ALL\r\n\r\n\x00\x01\x02")?;
            return Ok(());
        }
        "/reset" => {
            reset(w);
            return Ok(());
        }
        "/flaky" => {
            // Resets the first connection of each key, answers the next ones.
            let key = format!("flaky:{}", req.query("key").unwrap_or(""));
            let n = bump(state, key);
            if n == 1 {
                reset(w);
                return Ok(());
            }
            return respond(w, 200, &[], format!("ok after {n} connections").as_bytes());
        }
        "/sleep" => {
            // `status=N`: then answer N (a failing one with the secrets).
            let ms = req.query("ms").and_then(|v| v.parse().ok()).unwrap_or(1000);
            thread::sleep(Duration::from_millis(ms));
            return match req.query("status").and_then(|v| v.parse().ok()) {
                Some(code) => respond(w, code, &secret_headers(), SECRET_BODY.as_bytes()),
                None => respond(w, 200, &[], b"slept"),
            };
        }
        "/ws" => return protocols::websocket(reader, w, &req, state),
        "/drop-reused" if protocols::drop_reused(w, &req, state, conn) => return Ok(()),
        "/slowloris" => {
            w.write_all(b"HTTP/1.1 200 OK\r\nX-Slow: ")?;
            let end = Instant::now() + Duration::from_secs(20);
            while Instant::now() < end {
                w.write_all(b"a")?;
                w.flush()?;
                thread::sleep(Duration::from_millis(200));
            }
            return Ok(());
        }
        _ => {}
    }
    // `/upload?key=K` reports each read, so a test sees a body arrive.
    let upload = (path == "/upload").then(|| format!("upload:{}", key.as_deref().unwrap_or("")));
    let read = read_body(reader, &req, &mut |n| {
        if let Some(k) = &upload {
            set_progress(state, k, n);
        }
    });
    let (body_len, body_sum) = match &upload {
        Some(k) => end(state, k, read)?,
        None => read?,
    };
    // The body is read: the next request can follow on this connection.
    w.may_keep = keep;
    if let Some(answered) = protocols::serve(&path, &req, w, state, conn) {
        return answered;
    }
    if let Some(code) = path
        .strip_prefix("/status/")
        .and_then(|c| c.parse::<u16>().ok())
    {
        let body: &[u8] = if code == 204 || code == 304 {
            b""
        } else {
            SECRET_BODY.as_bytes()
        };
        // `retry_after=V`: the answer carries `Retry-After: V` too.
        let mut headers = secret_headers();
        if let Some(v) = req.query("retry_after").filter(|v| !v.is_empty()) {
            headers.push(("retry-after", unescape(v)));
        }
        return respond(w, code, &headers, body);
    }
    // `/any/…`: the echo under any path, to see a target byte for byte.
    let echo = matches!(path.as_str(), "/echo" | "/" | "/upload") || path.starts_with("/any/");
    if echo {
        let headers: Vec<String> = req
            .headers
            .iter()
            .map(|(k, v)| format!("[{},{}]", json(k), json(v)))
            .collect();
        let body = format!(
            r#"{{"method":{},"target":{},"headers":[{}],"body_len":{},"body_sum":"{:016x}","hit":{}}}"#,
            json(&req.method),
            json(&req.target),
            headers.join(","),
            body_len,
            body_sum,
            hit
        );
        return respond(
            w,
            200,
            &[
                ("content-type", "application/json".into()),
                ("x-origin-hit", hit.to_string()),
            ],
            body.as_bytes(),
        );
    }
    match path.as_str() {
        "/cookies" => {
            let n: usize = req.query("n").and_then(|v| v.parse().ok()).unwrap_or(3);
            let cookies: Vec<(&str, String)> = (0..n)
                .map(|i| ("set-cookie", format!("c{i}=v{i}; Path=/; HttpOnly")))
                .collect();
            respond(w, 200, &cookies, b"cookies")
        }
        "/redirect" => respond(
            w,
            302,
            &[
                ("location", "/echo?from=redirect".into()),
                ("set-cookie", "r=1".into()),
            ],
            b"",
        ),
        "/loop" => respond(w, 302, &[("location", "/loop".into())], b""),
        "/stream" => {
            // Headers and a first chunk now, the rest after a pause.
            w.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")?;
            w.write_all(b"c\r\nfirst-chunk\n\r\n")?;
            w.flush()?;
            thread::sleep(Duration::from_millis(
                req.query("ms").and_then(|v| v.parse().ok()).unwrap_or(1500),
            ));
            w.write_all(b"b\r\nlast-chunk\n\r\n0\r\n\r\n")?;
            w.flush()
        }
        "/bytes" => {
            let n: usize = req.query("n").and_then(|v| v.parse().ok()).unwrap_or(1024);
            let status: u16 = req
                .query("status")
                .and_then(|v| v.parse().ok())
                .unwrap_or(200);
            // With `key=K`, each write that the kernel took is counted, and
            // how the connection ended is kept (a cancelled body errors).
            let stream = key.as_ref().map(|k| format!("bytes:{k}"));
            // `chunked=1`: no length, in chunks of 64 KiB.
            let chunked = req.query("chunked") == Some("1");
            let result = (|| {
                let framing = if chunked {
                    "Transfer-Encoding: chunked".to_string()
                } else {
                    format!("Content-Length: {n}")
                };
                w.write_all(format!("HTTP/1.1 {status} {}\r\nConnection: close\r\n{framing}\r\nContent-Type: application/octet-stream\r\n\r\n", reason(status)).as_bytes())?;
                let mut buf = vec![0u8; 64 * 1024];
                let mut sent = 0;
                while sent < n {
                    let k = (n - sent).min(buf.len());
                    for (j, b) in buf[..k].iter_mut().enumerate() {
                        *b = pattern(sent + j);
                    }
                    if chunked {
                        write_chunk(w, &buf[..k])?;
                    } else {
                        w.write_all(&buf[..k])?;
                    }
                    sent += k;
                    if let Some(s) = &stream {
                        set_progress(state, s, sent as u64);
                    }
                }
                if chunked {
                    w.write_all(b"0\r\n\r\n")?;
                }
                w.flush()
            })();
            match &stream {
                Some(s) => end(state, s, result),
                None => result,
            }
        }
        // A good 200 whose body breaks: `n` bytes (pattern), then a reset;
        // `chunked=1` frames it chunked, else with a longer Content-Length.
        "/truncated" => {
            let n: usize = req.query("n").and_then(|v| v.parse().ok()).unwrap_or(5000);
            let body: Vec<u8> = (0..n).map(pattern).collect();
            if req.query("chunked") == Some("1") {
                w.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")?;
                write_chunk(w, &body)?;
            } else {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", 2 * n + 1);
                w.write_all(head.as_bytes())?;
                w.write_all(&body)?;
            }
            w.flush()?;
            thread::sleep(Duration::from_millis(150));
            reset(w);
            Ok(())
        }
        "/reset-after-headers" => {
            w.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000\r\nServer: SecretOrigin/1.0\r\n\r\nORIGIN-SECRET-BODY partial")?;
            w.flush()?;
            thread::sleep(Duration::from_millis(100));
            reset(w);
            Ok(())
        }
        "/bad-header" => {
            w.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nX-Bad: a\x01b\x7fc\r\nContent-Length: 2\r\n\r\nok")?;
            w.flush()
        }
        "/cacheable" => {
            // A good response to store (`cc=` Cache-Control, `status=`,
            // `cookie=1` for a Set-Cookie) until the flag `fail:KEY` makes
            // it fail: `503` (or any value), `reset` or `hang` (no answer
            // for 10 s).
            let key = req.query("key").unwrap_or("");
            match flag(&format!("fail:{key}")).as_deref() {
                None => {}
                Some("reset") => {
                    reset(w);
                    return Ok(());
                }
                Some("hang") => {
                    thread::sleep(Duration::from_secs(10));
                    return Ok(());
                }
                Some(_) => {
                    return respond(w, 503, &secret_headers(), SECRET_BODY.as_bytes());
                }
            }
            let cc = unescape(req.query("cc").unwrap_or("max-age=0"));
            let status = req
                .query("status")
                .and_then(|v| v.parse().ok())
                .unwrap_or(200);
            // `ct=` another Content-Type, `n=` a body of n pattern bytes,
            // `chunked=1` sent without a length, in chunks of 512 bytes
            // (`cut=1`: then reset before the end).
            let ct = unescape(req.query("ct").unwrap_or("text/plain"));
            let body: Vec<u8> = match req.query("n").and_then(|v| v.parse::<usize>().ok()) {
                Some(n) => (0..n).map(pattern).collect(),
                None => format!("fresh {key}").into_bytes(),
            };
            let mut headers = vec![("cache-control", cc), ("content-type", ct)];
            if req.query("cookie").is_some() {
                headers.push(("set-cookie", format!("session={key}")));
            }
            if req.query("chunked") == Some("1") {
                let mut head = format!(
                    "HTTP/1.1 {status} {}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n",
                    reason(status)
                );
                for (k, v) in &headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                w.write_all(head.as_bytes())?;
                w.write_all(b"\r\n")?;
                for chunk in body.chunks(512) {
                    write_chunk(w, chunk)?;
                    w.flush()?;
                }
                // `cut=1`: the body breaks before its last chunk.
                if req.query("cut") == Some("1") {
                    thread::sleep(Duration::from_millis(150));
                    reset(w);
                    return Ok(());
                }
                return w.write_all(b"0\r\n\r\n");
            }
            respond(w, status, &headers, &body)
        }
        _ => respond(
            w,
            404,
            &[("content-type", "text/plain".into())],
            b"no such route",
        ),
    }
}

fn json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
