//! The fake origin's routes: the table, and the routes that answer at
//! once (the echo, statuses, cookies, redirects) or break the exchange
//! (garbage, resets, a head that never ends). The streamed bodies are in
//! `bodies.rs`, the protocols in `protocols.rs`.
//!
//! A route reads the request body ([`Ctx::read_body`]) before it answers
//! when the connection may serve another request after it; a route that
//! breaks the exchange leaves the body unread.

use std::io::{self, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use super::conn::{bump, set_progress, Ctx};
use super::http::{json, reset, respond, unescape};
use super::protocols;
use super::{bodies, content, odd};
use super::{SECRET_BODY, SECRET_HEADERS};

/// What answers a request.
pub type Serve = fn(&mut Ctx<'_>) -> io::Result<()>;

/// Which paths a route serves.
enum At {
    /// This path.
    Exact(&'static str),
    /// Every path under this prefix.
    Under(&'static str),
}

/// One row of the table.
pub struct Route {
    at: At,
    pub serve: Serve,
}

const fn exact(path: &'static str, serve: Serve) -> Route {
    Route {
        at: At::Exact(path),
        serve,
    }
}

const fn under(prefix: &'static str, serve: Serve) -> Route {
    Route {
        at: At::Under(prefix),
        serve,
    }
}

/// Every route. No two serve the same path.
const ROUTES: &[Route] = &[
    exact("/", echo),
    exact("/echo", echo),
    exact("/dump", dump),
    // The echo under any path, to see a target byte for byte.
    under("/any/", echo),
    exact("/upload", upload),
    under("/status/", status),
    exact("/sleep", sleep),
    exact("/hold", hold),
    exact("/garbage", garbage),
    exact("/reset", reset_now),
    exact("/flaky", flaky),
    exact("/slowloris", slowloris),
    exact("/cookies", cookies),
    exact("/redirect", redirect),
    exact("/loop", redirect_loop),
    exact("/reset-after-headers", reset_after_headers),
    exact("/bad-header", bad_header),
    exact("/stream", bodies::stream),
    exact("/bytes", bodies::bytes),
    exact("/truncated", bodies::truncated),
    exact("/cacheable", bodies::cacheable),
    exact("/ws", protocols::websocket),
    exact("/sse", protocols::sse),
    exact("/gzip", content::gzip),
    exact("/br", content::br),
    exact("/file", content::file),
    exact("/response-headers", content::response_headers),
    exact("/drop-reused", protocols::drop_reused),
    under("/odd/", odd::serve),
];

/// The route that serves `path`, if one does.
pub fn find(path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| match r.at {
        At::Exact(p) => path == p,
        At::Under(prefix) => path.starts_with(prefix),
    })
}

/// The failing answer's headers, none of which may reach a client.
pub fn secret_headers() -> Vec<(&'static str, String)> {
    SECRET_HEADERS
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect()
}

/// Any path no route serves.
pub fn not_found(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let text = [("content-type", "text/plain".into())];
    respond(ctx.w, 404, &text, b"no such route")
}

/// The request as JSON: method, target, headers, the body's length and
/// checksum, and the path's hit count (also in `x-origin-hit`).
fn echo(ctx: &mut Ctx<'_>) -> io::Result<()> {
    let (len, sum) = ctx.read_body()?;
    answer_echo(ctx, len, sum)
}

/// `/upload?key=K`: the echo, reporting each read so a test sees a body
/// arrive ([`super::Origin::progress`], [`super::Origin::ended`]).
fn upload(ctx: &mut Ctx<'_>) -> io::Result<()> {
    let stream = format!("upload:{}", ctx.key().unwrap_or(""));
    let state = ctx.state;
    let read = ctx.read_body_reporting(&mut |n| set_progress(state, &stream, n));
    let (len, sum) = ctx.end(&stream, read)?;
    answer_echo(ctx, len, sum)
}

fn answer_echo(ctx: &mut Ctx<'_>, len: u64, sum: u64) -> io::Result<()> {
    let req = &ctx.req;
    let headers: Vec<String> = (req.headers.iter())
        .map(|(k, v)| format!("[{},{}]", json(k), json(v)))
        .collect();
    let body = format!(
        r#"{{"method":{},"target":{},"headers":[{}],"body_len":{len},"body_sum":"{sum:016x}","hit":{}}}"#,
        json(&req.method),
        json(&req.target),
        headers.join(","),
        ctx.hit
    );
    let headers = [
        ("content-type", "application/json".into()),
        ("x-origin-hit", ctx.hit.to_string()),
    ];
    respond(ctx.w, 200, &headers, body.as_bytes())
}

/// `/dump`: a 500 whose body shows the request line and every header as
/// it came, one per line, as a framework's debug page does.
fn dump(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let req = &ctx.req;
    let mut body = format!("{} {}\n", req.method, req.target);
    for (k, v) in &req.headers {
        body.push_str(&format!("{k}: {v}\n"));
    }
    let text = [("content-type", "text/plain".into())];
    respond(ctx.w, 500, &text, body.as_bytes())
}

/// `/status/N`: status N with the secrets (no body for 204 and 304);
/// `retry_after=V`: with `Retry-After: V` too.
fn status(ctx: &mut Ctx<'_>) -> io::Result<()> {
    let Some(code) = (ctx.path.strip_prefix("/status/")).and_then(|c| c.parse::<u16>().ok()) else {
        return not_found(ctx);
    };
    ctx.read_body()?;
    let body: &[u8] = match code {
        204 | 304 => b"",
        _ => SECRET_BODY.as_bytes(),
    };
    let mut headers = secret_headers();
    if let Some(v) = ctx.req.query("retry_after").filter(|v| !v.is_empty()) {
        headers.push(("retry-after", unescape(v)));
    }
    respond(ctx.w, code, &headers, body)
}

/// `/sleep?ms=1000`: the answer after `ms`; `status=N`: then answer N (a
/// failing one with the secrets).
fn sleep(ctx: &mut Ctx<'_>) -> io::Result<()> {
    thread::sleep(Duration::from_millis(ctx.req.num("ms").unwrap_or(1000)));
    match ctx.req.num("status") {
        Some(code) => respond(ctx.w, code, &secret_headers(), SECRET_BODY.as_bytes()),
        None => respond(ctx.w, 200, &[], b"slept"),
    }
}

/// Watches `stream` for up to `wait`: `Some("closed after T ms")` (T since
/// `start`) when the worker let the request go (closed or reset), `None`
/// when the wait ran out or bytes of another request came (not expected).
pub(super) fn let_go(
    stream: &TcpStream,
    start: Instant,
    wait: Duration,
) -> io::Result<Option<String>> {
    stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
    match stream.peek(&mut [0u8; 1]) {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Ok(None)
        }
        Ok(0) | Err(_) => Ok(Some(format!(
            "closed after {} ms",
            start.elapsed().as_millis()
        ))),
        Ok(_) => {
            thread::sleep(Duration::from_millis(10));
            Ok(None)
        }
    }
}

/// `/hold?key=K&ms=N`: no answer for `ms`, watching the connection. How
/// the hold ended is [`super::Origin::ended`] of `K`: `error: closed after
/// T ms` when the worker let the request go first, else `complete` (it
/// was answered, a 200).
fn hold(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let key = ctx.key().unwrap_or("hold").to_owned();
    let start = Instant::now();
    let end = start + Duration::from_millis(ctx.req.num("ms").unwrap_or(5000));
    let stream = ctx.reader.get_ref();
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        if let Some(how) = let_go(stream, start, left)? {
            return ctx.end(&key, Err(io::Error::other(how)));
        }
    }
    stream.set_read_timeout(None)?;
    let answered = respond(ctx.w, 200, &[], b"held");
    ctx.end(&key, answered)
}

/// Not HTTP at all.
fn garbage(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.w
        .write_all(b"THIS IS NOT HTTP AT ALL\r\n\r\n\x00\x01\x02")
}

/// No answer: the connection is reset.
fn reset_now(ctx: &mut Ctx<'_>) -> io::Result<()> {
    reset(ctx.w);
    Ok(())
}

/// `/flaky?key=K`: resets the first connection of each key, answers the
/// next ones.
fn flaky(ctx: &mut Ctx<'_>) -> io::Result<()> {
    let n = bump(ctx.state, format!("flaky:{}", ctx.key().unwrap_or("")));
    if n == 1 {
        reset(ctx.w);
        return Ok(());
    }
    respond(
        ctx.w,
        200,
        &[],
        format!("ok after {n} connections").as_bytes(),
    )
}

/// A header that never ends: a byte every 200 ms for 20 s.
fn slowloris(ctx: &mut Ctx<'_>) -> io::Result<()> {
    let w = &mut *ctx.w;
    w.write_all(b"HTTP/1.1 200 OK\r\nX-Slow: ")?;
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        w.write_all(b"a")?;
        w.flush()?;
        thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// `/cookies?n=3`: a 200 with `n` Set-Cookie headers.
fn cookies(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let n: usize = ctx.req.num("n").unwrap_or(3);
    let cookies: Vec<(&str, String)> = (0..n)
        .map(|i| ("set-cookie", format!("c{i}=v{i}; Path=/; HttpOnly")))
        .collect();
    respond(ctx.w, 200, &cookies, b"cookies")
}

/// A 302 to the echo, with a cookie.
fn redirect(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let headers = [
        ("location", "/echo?from=redirect".into()),
        ("set-cookie", "r=1".into()),
    ];
    respond(ctx.w, 302, &headers, b"")
}

/// A 302 to itself.
fn redirect_loop(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    respond(ctx.w, 302, &[("location", "/loop".into())], b"")
}

/// A failing head that promises 100000 bytes, a few of them, then a reset.
fn reset_after_headers(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let w = &mut *ctx.w;
    w.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000\r\nServer: SecretOrigin/1.0\r\n\r\nORIGIN-SECRET-BODY partial")?;
    w.flush()?;
    thread::sleep(Duration::from_millis(100));
    reset(w);
    Ok(())
}

/// A 200 with control bytes in a header value.
fn bad_header(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let w = &mut *ctx.w;
    w.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nX-Bad: a\x01b\x7fc\r\nContent-Length: 2\r\n\r\nok")?;
    w.flush()
}
