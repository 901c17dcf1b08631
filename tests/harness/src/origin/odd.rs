//! The fake origin's odd answers (tests/odd.rs), written byte by byte on
//! the socket because each must be malformed in its own way:
//!
//! - `/odd/stray-length?cl=N`: a 200 framed `Transfer-Encoding: chunked`
//!   (`hel`, `lo`, the last chunk) that also carries `Content-Length: N`.
//! - `/odd/status?code=600`: a status outside 100–599, with a 5-byte body
//!   (a 200 with the flag `odd-status`'s value as its body once it is set).
//! - `/odd/stall?key=K&status=500&cl=100&ms=30000`: `status` with
//!   `Content-Length: cl`, the first 5 bytes of the body (`stall`), then
//!   silence for `ms` while the connection is watched (`late_ms=N`: but
//!   `+late` N ms after the head); how it ended is [`Origin::ended`] of K,
//!   as for `/hold`.
//! - `/odd/control…?status=500&n=65536` (any path below it too): `status`
//!   with a body of `n` bytes `0x01`, each six characters once escaped in
//!   JSON.
//! - `/odd/encoded?coding=GZIP&layers=1&raw=0`: a 500 whose body is
//!   [`ENCODED_TEXT`] compressed with gzip `layers` times (`raw=1`: raw
//!   deflate, `raw=z`: zlib deflate, `raw=plain`: not at all), sent with
//!   `Content-Encoding: coding`.
//! - `/odd/ws-accept`: a `101` to a WebSocket upgrade whose
//!   `Sec-WebSocket-Accept` is not the one the key asks for, so the
//!   handshake fails in the runtime (a 426 when no upgrade was asked).
//!
//! [`Origin::ended`]: super::Origin::ended

use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::conn::Ctx;
use super::http::{reason, respond, unescape};

/// The text `/odd/encoded` compresses: what a decoded excerpt shows.
pub const ENCODED_TEXT: &str = "ORIGIN-SECRET-BODY decoded: the database is down";

/// `/odd/…`: one of the odd answers above.
pub fn serve(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let status: u16 = ctx.req.num("status").unwrap_or(500);
    match ctx.path.as_str() {
        "/odd/stray-length" => {
            let cl: u64 = ctx.req.num("cl").unwrap_or(2);
            let head = format!(
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nContent-Length: {cl}\r\n\r\n"
            );
            write_all(ctx, &[head.as_bytes(), b"3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"])
        }
        "/odd/status" if ctx.flag("odd-status").is_some() => {
            let body = ctx.flag("odd-status").unwrap_or_default();
            respond(ctx.w, 200, &[], body.as_bytes())
        }
        "/odd/status" => {
            let code: u32 = ctx.req.num("code").unwrap_or(600);
            let head = format!(
                "HTTP/1.1 {code} Odd\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"
            );
            write_all(ctx, &[head.as_bytes()])
        }
        "/odd/stall" => stall(ctx, status),
        p if p.starts_with("/odd/control") => {
            let n: usize = ctx.req.num("n").unwrap_or(65_536);
            respond(ctx.w, status, &[], &vec![1u8; n])
        }
        "/odd/encoded" => {
            let coding = unescape(ctx.req.query("coding").unwrap_or("gzip"));
            let layers: usize = ctx.req.num("layers").unwrap_or(1);
            let body = match ctx.req.query("raw") {
                Some("1") => deflate(ENCODED_TEXT.as_bytes(), false),
                Some("z") => deflate(ENCODED_TEXT.as_bytes(), true),
                Some("plain") => ENCODED_TEXT.as_bytes().to_vec(),
                _ => (0..layers).fold(ENCODED_TEXT.as_bytes().to_vec(), |b, _| gzip(&b)),
            };
            respond(ctx.w, status, &[("content-encoding", coding)], &body)
        }
        "/odd/ws-accept" => wrong_accept(ctx),
        _ => super::routes::not_found(ctx),
    }
}

fn write_all(ctx: &mut Ctx<'_>, parts: &[&[u8]]) -> io::Result<()> {
    for p in parts {
        ctx.w.write_all(p)?;
    }
    ctx.w.flush()
}

/// The head and 5 bytes of a longer body, then silence until `ms` passed
/// or the worker let the connection go.
fn stall(ctx: &mut Ctx<'_>, status: u16) -> io::Result<()> {
    let key = ctx.key().unwrap_or("stall").to_owned();
    let cl: u64 = ctx.req.num("cl").unwrap_or(100);
    let ms: u64 = ctx.req.num("ms").unwrap_or(30_000);
    let head = format!(
        "HTTP/1.1 {status} {}\r\nConnection: close\r\nContent-Length: {cl}\r\n\r\nstall",
        reason(status)
    );
    write_all(ctx, &[head.as_bytes()])?;
    let start = Instant::now();
    let end = start + Duration::from_millis(ms);
    let mut late = (ctx.req.num::<u64>("late_ms")).map(|l| start + Duration::from_millis(l));
    while let Some(left) = end
        .checked_duration_since(Instant::now())
        .filter(|l| !l.is_zero())
    {
        if late.is_some_and(|at| at <= Instant::now()) {
            late = None;
            write_all(ctx, &[b"+late"])?;
        }
        let wait = late.map_or(left, |at| {
            at.saturating_duration_since(Instant::now()).min(left)
        });
        if let Some(how) = super::routes::let_go(ctx.reader.get_ref(), start, wait)? {
            return ctx.end(&key, Err(io::Error::other(how)));
        }
    }
    ctx.end(&key, Ok(()))
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b).expect("gzip");
    gz.finish().expect("gzip")
}

fn deflate(b: &[u8], zlib: bool) -> Vec<u8> {
    let level = flate2::Compression::default();
    if zlib {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), level);
        z.write_all(b).expect("zlib");
        return z.finish().expect("zlib");
    }
    let mut d = flate2::write::DeflateEncoder::new(Vec::new(), level);
    d.write_all(b).expect("deflate");
    d.finish().expect("deflate")
}

/// A `101` whose `Sec-WebSocket-Accept` answers another key.
fn wrong_accept(ctx: &mut Ctx<'_>) -> io::Result<()> {
    if ctx.req.header("sec-websocket-key").is_none() {
        return respond(ctx.w, 426, &[("upgrade", "websocket".into())], b"upgrade");
    }
    let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSBhY2NlcHQ=\r\n\r\n";
    write_all(ctx, &[head.as_bytes()])
}
