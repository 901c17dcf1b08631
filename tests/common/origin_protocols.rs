//! The fake origin's protocol routes (tests/protocols.rs): a WebSocket echo,
//! Server-Sent Events flushed one by one, gzip and br bodies, a file with
//! byte ranges and an ETag, and a route that drops a request arriving on a
//! reused connection (a pooled connection the origin had closed).
//!
//! - `/ws?key=K`: the upgrade (101, the first offered subprotocol chosen);
//!   then every text and binary message is echoed, except the text
//!   `close:CODE:REASON`, which makes the origin close with that code and
//!   reason. Every message received is logged under K ([`Origin::log`]),
//!   then `ended` (the closing handshake done) or `error:…`.
//! - `/sse?key=K&n=4&first_ms=2000&gap_ms=700&framing=chunked|close`: a
//!   `text/event-stream` of `n` events, the first at once, the second
//!   `first_ms` later, the next ones `gap_ms` apart, each written and flushed
//!   alone; when each was flushed is kept ([`Origin::sent_at`]).
//! - `/gzip`, `/br` (`chunked=1`: chunked, else with a length):
//!   [`plain_body`] compressed, with `Content-Encoding`.
//! - `/file`: [`FILE_LEN`] bytes of [`pattern`], `ETag: FILE_ETAG`; one
//!   `Range: bytes=…` gets its 206 (416 when unsatisfiable), a matching
//!   `If-None-Match` a 304 without a body.
//! - `/drop-reused?key=K&how=fin|rst`: the first request for K that comes on
//!   a connection that already served one is read and left unanswered: the
//!   connection is closed (FIN) or reset (RST). Every other is answered.
//!
//! [`Origin::log`]: super::Origin::log
//! [`Origin::sent_at`]: super::Origin::sent_at

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocket};
use tungstenite::Message;

use super::{fnv, pattern, reset, respond, Conn, Out, Req, State, FNV_START};
use std::sync::Mutex;

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

fn log(state: &Mutex<State>, key: &str, entry: String) {
    let mut s = state.lock().unwrap();
    s.log.entry(key.to_owned()).or_default().push(entry);
}

/// `/drop-reused`: true when it dropped the request (the connection ends).
pub(super) fn drop_reused(w: &mut Out, req: &Req, state: &Mutex<State>, conn: Conn) -> bool {
    let key = req.query("key").unwrap_or("");
    let first = {
        let s = state.lock().unwrap();
        !s.log
            .get(key)
            .is_some_and(|l| l.iter().any(|e| e == "dropped"))
    };
    if conn.served == 0 || !first {
        return false;
    }
    log(state, key, "dropped".into());
    if req.query("how") == Some("rst") {
        reset(w);
    }
    true
}

/// The routes served after the request body was read; `None`: not one.
pub(super) fn serve(
    path: &str,
    req: &Req,
    w: &mut Out,
    state: &Mutex<State>,
    conn: Conn,
) -> Option<std::io::Result<()>> {
    Some(match path {
        "/drop-reused" => respond(
            w,
            200,
            &[("x-origin-conn-served", conn.served.to_string())],
            b"answered",
        ),
        "/sse" => sse(w, req, state),
        "/gzip" => compressed(w, req, "gzip", &gzip_body()),
        "/br" => compressed(w, req, "br", BR_BODY),
        "/file" => file(w, req),
        _ => return None,
    })
}

fn sse(w: &mut Out, req: &Req, state: &Mutex<State>) -> std::io::Result<()> {
    let num = |name, default| {
        req.query(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (n, first_ms, gap_ms) = (num("n", 4), num("first_ms", 2000), num("gap_ms", 700));
    let chunked = req.query("framing") != Some("close");
    let key = req.query("key").unwrap_or("").to_owned();
    w.stream.set_nodelay(true)?;
    let framing = if chunked {
        "Transfer-Encoding: chunked\r\n"
    } else {
        ""
    };
    write!(
        w,
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n{framing}\r\n"
    )?;
    w.flush()?;
    for i in 1..=n {
        match i {
            1 => {}
            2 => thread::sleep(Duration::from_millis(first_ms)),
            _ => thread::sleep(Duration::from_millis(gap_ms)),
        }
        let event = format!("id: {i}\nevent: tick\ndata: event {i}\n\n");
        if chunked {
            write!(w, "{:x}\r\n{event}\r\n", event.len())?;
        } else {
            w.write_all(event.as_bytes())?;
        }
        w.flush()?;
        let mut s = state.lock().unwrap();
        s.sent_at
            .entry(key.clone())
            .or_default()
            .push(Instant::now());
    }
    if chunked {
        w.write_all(b"0\r\n\r\n")?;
    }
    w.flush()
}

fn compressed(w: &mut Out, req: &Req, encoding: &str, body: &[u8]) -> std::io::Result<()> {
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("content-encoding", encoding.to_owned()),
        ("vary", "Accept-Encoding".to_owned()),
    ];
    if req.query("chunked").is_none() {
        return respond(w, 200, &headers, body);
    }
    let mut head =
        "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n".to_owned();
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
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

fn file(w: &mut Out, req: &Req) -> std::io::Result<()> {
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

/// `/ws`: the upgrade, then the echo until either side closes.
pub(super) fn websocket(
    reader: &mut BufReader<TcpStream>,
    w: &mut Out,
    req: &Req,
    state: &Mutex<State>,
) -> std::io::Result<()> {
    let key = req.query("key").unwrap_or("").to_owned();
    let upgrade = req
        .header("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(accept) = req.header("sec-websocket-key").filter(|_| upgrade) else {
        return respond(
            w,
            426,
            &[("upgrade", "websocket".into())],
            b"upgrade to websocket",
        );
    };
    let mut head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nX-Origin-Upgrade: ws\r\n",
        tungstenite::handshake::derive_accept_key(accept.as_bytes())
    );
    if let Some(offered) = req.header("sec-websocket-protocol") {
        let chosen = offered.split(',').next().unwrap_or("").trim();
        head.push_str(&format!("Sec-WebSocket-Protocol: {chosen}\r\n"));
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
    w.flush()?;
    let stream = w.stream.try_clone()?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let early = reader.buffer().to_vec();
    let mut ws = WebSocket::from_partially_read(stream, early, Role::Server, None);
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => {
                log(state, &key, format!("text:{}", text.as_str()));
                if let Some(rest) = text.as_str().strip_prefix("close:") {
                    let (code, why) = rest.split_once(':').unwrap_or((rest, ""));
                    let frame = CloseFrame {
                        code: CloseCode::from(code.parse::<u16>().unwrap_or(1000)),
                        reason: why.to_owned().into(),
                    };
                    ws.close(Some(frame)).map_err(std::io::Error::other)?;
                } else {
                    ws.send(Message::Text(text))
                        .map_err(std::io::Error::other)?;
                }
            }
            Ok(Message::Binary(bytes)) => {
                let entry = format!("binary:{}:{:016x}", bytes.len(), fnv(FNV_START, &bytes));
                log(state, &key, entry);
                ws.send(Message::Binary(bytes))
                    .map_err(std::io::Error::other)?;
            }
            Ok(Message::Close(frame)) => {
                let entry = match frame {
                    Some(f) => format!("close:{}:{}", u16::from(f.code), f.reason.as_str()),
                    None => "close:none".to_owned(),
                };
                log(state, &key, entry);
                // The reply tungstenite queued goes out with the next flush.
                let _ = ws.flush();
            }
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                log(state, &key, "ended".into());
                return Ok(());
            }
            Err(e) => {
                log(state, &key, format!("error:{e}"));
                return Ok(());
            }
        }
    }
}
