//! The fake origin's representations (tests/protocols.rs): gzip and br
//! bodies, and a file with byte ranges and an ETag.
//!
//! - `/gzip`, `/br` (`chunked=1`: chunked, else with a length):
//!   [`plain_body`] compressed, with `Content-Encoding`.
//! - `/file`: [`FILE_LEN`] bytes of [`pattern`], `ETag: FILE_ETAG`; one
//!   `Range: bytes=…` gets its 206 (416 when unsatisfiable), a matching
//!   `If-None-Match` a 304 without a body.
//! - `/response-headers` (httpbin's): headers of the client's choosing.

use std::io::{self, Write};

use super::conn::Ctx;
use super::http::{head, respond, unescape, Out};
use super::pattern;

/// What `/gzip` and `/br` compress: 3510 bytes of JSON lines.
pub fn plain_body() -> String {
    (0..64)
        .map(|i| format!("{{\"event\":{i},\"payload\":\"compressed by the fake origin\"}}\n"))
        .collect()
}

/// [`plain_body`] as gzip: with a file name and a time in its header and
/// level 3, which a decoder that re-encoded could not reproduce.
pub fn gzip_body() -> Vec<u8> {
    let mut gz = flate2::GzBuilder::new()
        .filename("origin.json")
        .mtime(1_234_567_890)
        .write(Vec::new(), flate2::Compression::new(3));
    gz.write_all(plain_body().as_bytes()).expect("gzip");
    gz.finish().expect("gzip")
}

/// [`plain_body`] as brotli (quality 5, window 16), made by Node's zlib:
/// `node -e 'const z=require("zlib");let s="";for(let i=0;i<64;i++)
/// s+=`{"event":${i},"payload":"compressed by the fake origin"}\n`;
/// console.log(z.brotliCompressSync(Buffer.from(s),{params:{
/// [z.constants.BROTLI_PARAM_QUALITY]:5,[z.constants.BROTLI_PARAM_LGWIN]:16}})
/// .toString("hex"))'` (it decompresses to `plain_body()`).
pub const BR_BODY: &[u8] = &hex(concat!(
    "a2b601805832a7af51cdebd151c9b92158a4224f00bb75c878402a5e7cad7a11",
    "379616ea8f08d23ddf4affa86935abd7fa7d7bae7735d5f6791ff7ddefda1f4f",
    "9fc3faba6f77bcf56f9a3d7af6eadda7effabe1ffa71810379c100063080010c",
    "6000031800202020202020202020201010101010101010101030303030303030",
    "30303008080808080808080808e84007baae03",
));

const BR_LEN: usize = 147;

const fn hex(s: &str) -> [u8; BR_LEN] {
    let s = s.as_bytes();
    assert!(s.len() == 2 * BR_LEN);
    let mut out = [0u8; BR_LEN];
    let mut i = 0;
    while i < BR_LEN {
        out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not hex"),
    }
}

/// The length of `/file`.
pub const FILE_LEN: usize = 1000;
/// The ETag of `/file`.
pub const FILE_ETAG: &str = "\"file-v1\"";

/// `/gzip`: [`gzip_body`].
pub(super) fn gzip(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let chunked = ctx.req.query("chunked").is_some();
    compressed(ctx.w, chunked, "gzip", &gzip_body())
}

/// [`plain_body`] encoded as `coding` (`gzip`, else br).
pub fn encoded(coding: &str) -> Vec<u8> {
    match coding {
        "gzip" => gzip_body(),
        _ => BR_BODY.to_vec(),
    }
}

/// `/br`: [`BR_BODY`].
pub(super) fn br(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let chunked = ctx.req.query("chunked").is_some();
    compressed(ctx.w, chunked, "br", BR_BODY)
}

/// `body` as `encoding`; `chunked`: in three chunks, else with a length.
fn compressed(w: &mut Out, chunked: bool, encoding: &str, body: &[u8]) -> io::Result<()> {
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("content-encoding", encoding.to_owned()),
        ("vary", "Accept-Encoding".to_owned()),
    ];
    if !chunked {
        return respond(w, 200, &headers, body);
    }
    let mut framed = vec![("Transfer-Encoding", "chunked".to_owned())];
    framed.extend(headers);
    w.write_all(head(200, &framed).as_bytes())?;
    for chunk in body.chunks(body.len().div_ceil(3)) {
        write!(w, "{:x}\r\n", chunk.len())?;
        w.write_all(chunk)?;
        w.write_all(b"\r\n")?;
    }
    w.write_all(b"0\r\n\r\n")?;
    w.flush()
}

/// The satisfiable byte range of one `bytes=` range, or `Err(())` when
/// unsatisfiable; `None` for anything this origin ignores (several ranges,
/// another unit), answered with the whole file.
fn range(spec: &str) -> Option<Result<(usize, usize), ()>> {
    let spec = spec.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.trim().split_once('-')?;
    let last = FILE_LEN - 1;
    let (start, end) = match (a.parse::<usize>().ok(), b.parse::<usize>().ok()) {
        (Some(a), Some(b)) if a <= b => (a, b.min(last)),
        (Some(a), None) if b.is_empty() => (a, last),
        (None, Some(n)) if a.is_empty() && n > 0 => (FILE_LEN.saturating_sub(n), last),
        _ => return None,
    };
    Some(if start > last {
        Err(())
    } else {
        Ok((start, end))
    })
}

/// `/file`: the whole file, a range of it, or a 304.
pub(super) fn file(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let (req, w) = (&ctx.req, &mut *ctx.w);
    let body: Vec<u8> = (0..FILE_LEN).map(pattern).collect();
    let mut headers = vec![
        ("etag", FILE_ETAG.to_owned()),
        ("accept-ranges", "bytes".to_owned()),
        ("content-type", "application/octet-stream".to_owned()),
        ("cache-control", "max-age=60".to_owned()),
    ];
    let matches = req.header("if-none-match").is_some_and(|v| {
        v.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == FILE_ETAG || t == "*")
    });
    if matches {
        // No body, and no Content-Length (that of the 200 is not sent).
        w.kept = w.may_keep;
        let connection = if w.kept { "keep-alive" } else { "close" };
        let mut head = format!("HTTP/1.1 304 Not Modified\r\nConnection: {connection}\r\n");
        for (k, v) in &headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        w.write_all(head.as_bytes())?;
        return w.flush();
    }
    match req.header("range").and_then(range) {
        None => respond(w, 200, &headers, &body),
        Some(Ok((start, end))) => {
            headers.push(("content-range", format!("bytes {start}-{end}/{FILE_LEN}")));
            respond(w, 206, &headers, &body[start..=end])
        }
        Some(Err(())) => {
            headers.push(("content-range", format!("bytes */{FILE_LEN}")));
            respond(w, 416, &headers, b"")
        }
    }
}

/// `/response-headers?status=N&name=value…`, as httpbin's: each query item
/// but `status` becomes a header of the answer (status 200 unless given),
/// so a client chooses what the origin's answer carries.
pub fn response_headers(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let query = ctx
        .req
        .target
        .split_once('?')
        .map_or("", |(_, q)| q)
        .to_owned();
    let mut status = 200;
    let mut headers = Vec::new();
    for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
        match k {
            "status" => status = v.parse().unwrap_or(200),
            _ => headers.push((k, unescape(v))),
        }
    }
    respond(ctx.w, status, &headers, b"{}")
}
