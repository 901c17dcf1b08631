//! The fake origin's protocol routes (tests/protocols.rs): a WebSocket
//! echo, Server-Sent Events flushed one by one, and a route that drops a
//! request arriving on a reused connection (a pooled connection the origin
//! had closed). The compressed bodies, ranges and ETags are in
//! `content.rs`.
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
//! - `/drop-reused?key=K&how=fin|rst`: the first request for K that comes on
//!   a connection that already served one is read and left unanswered: the
//!   connection is closed (FIN) or reset (RST). Every other is answered.
//!
//! [`Origin::log`]: super::Origin::log
//! [`Origin::sent_at`]: super::Origin::sent_at

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocket};
use tungstenite::Message;

use super::conn::Ctx;
use super::http::{reset, respond};
use super::{fnv, State, FNV_START};

/// Adds `entry` to the events logged under `key`.
fn log(state: &Mutex<State>, key: &str, entry: String) {
    let mut s = state.lock().unwrap();
    s.log.entry(key.to_owned()).or_default().push(entry);
}

/// `/drop-reused`: drops the request (the connection ends, the body
/// unread) the first time one for its key comes on a reused connection;
/// answers every other.
pub fn drop_reused(ctx: &mut Ctx<'_>) -> io::Result<()> {
    let key = ctx.key().unwrap_or("");
    let first = {
        let s = ctx.state.lock().unwrap();
        !(s.log.get(key)).is_some_and(|l| l.iter().any(|e| e == "dropped"))
    };
    if ctx.conn.served > 0 && first {
        log(ctx.state, key, "dropped".into());
        if ctx.req.query("how") == Some("rst") {
            reset(ctx.w);
        }
        return Ok(());
    }
    ctx.read_body()?;
    let served = [("x-origin-conn-served", ctx.conn.served.to_string())];
    respond(ctx.w, 200, &served, b"answered")
}

/// `/sse`: the events, each flushed alone.
pub fn sse(ctx: &mut Ctx<'_>) -> io::Result<()> {
    ctx.read_body()?;
    let req = &ctx.req;
    let (n, first_ms, gap_ms) = (
        req.num("n").unwrap_or(4),
        req.num("first_ms").unwrap_or(2000),
        req.num("gap_ms").unwrap_or(700),
    );
    let chunked = req.query("framing") != Some("close");
    let key = req.query("key").unwrap_or("").to_owned();
    let w = &mut *ctx.w;
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
        let mut s = ctx.state.lock().unwrap();
        let sent = s.sent_at.entry(key.clone()).or_default();
        sent.push(Instant::now());
    }
    if chunked {
        w.write_all(b"0\r\n\r\n")?;
    }
    w.flush()
}

/// `/ws`: the upgrade, then the echo until either side closes.
pub fn websocket(ctx: &mut Ctx<'_>) -> io::Result<()> {
    let key = ctx.key().unwrap_or("").to_owned();
    let Some(ws) = upgrade(ctx)? else {
        return Ok(());
    };
    echo_messages(ws, ctx.state, &key);
    Ok(())
}

/// The 101 and the server side of the WebSocket, or `None` when the
/// request asked for no upgrade (then it got a 426).
fn upgrade(ctx: &mut Ctx<'_>) -> io::Result<Option<WebSocket<TcpStream>>> {
    let (req, w) = (&ctx.req, &mut *ctx.w);
    let upgrade = (req.header("upgrade")).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(accept) = req.header("sec-websocket-key").filter(|_| upgrade) else {
        let headers = [("upgrade", "websocket".into())];
        respond(w, 426, &headers, b"upgrade to websocket")?;
        return Ok(None);
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
    // What the reader already took past the head is the first frames.
    let early = ctx.reader.buffer().to_vec();
    let ws = WebSocket::from_partially_read(stream, early, Role::Server, None);
    Ok(Some(ws))
}

/// Echoes text and binary messages (a text `close:CODE:REASON` closes)
/// and logs every message under `key`, until the connection ends.
fn echo_messages(mut ws: WebSocket<TcpStream>, state: &Mutex<State>, key: &str) {
    loop {
        let sent = match ws.read() {
            Ok(Message::Text(text)) => {
                log(state, key, format!("text:{}", text.as_str()));
                match text.as_str().strip_prefix("close:") {
                    Some(rest) => {
                        let (code, why) = rest.split_once(':').unwrap_or((rest, ""));
                        let frame = CloseFrame {
                            code: CloseCode::from(code.parse::<u16>().unwrap_or(1000)),
                            reason: why.to_owned().into(),
                        };
                        ws.close(Some(frame))
                    }
                    None => ws.send(Message::Text(text)),
                }
            }
            Ok(Message::Binary(bytes)) => {
                let entry = format!("binary:{}:{:016x}", bytes.len(), fnv(FNV_START, &bytes));
                log(state, key, entry);
                ws.send(Message::Binary(bytes))
            }
            Ok(Message::Close(frame)) => {
                let entry = match frame {
                    Some(f) => format!("close:{}:{}", u16::from(f.code), f.reason.as_str()),
                    None => "close:none".to_owned(),
                };
                log(state, key, entry);
                // The reply tungstenite queued goes out with the next flush;
                // if it cannot, the next read says how the connection ended.
                let _ = ws.flush();
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                log(state, key, "ended".into());
                return;
            }
            Err(e) => {
                log(state, key, format!("error:{e}"));
                return;
            }
        };
        // A failed send or close ends the echo, as an I/O error ends a route.
        if sent.is_err() {
            return;
        }
    }
}
