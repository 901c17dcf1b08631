//! Hand-written HTTP/1.1 exchanges: requests as bytes (what an ordinary
//! client refuses to send or would normalise), pipelined on one
//! connection, and responses read off the wire framed by their own headers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::client::Resp;
use crate::worker::wrangler_tail;

/// One request as bytes: nothing normalises the target or refuses a header.
pub struct RawReq<'a> {
    pub method: &'a str,
    pub target: &'a [u8],
    pub header_lines: Vec<&'a [u8]>,
    pub body: &'a [u8],
}

impl<'a> RawReq<'a> {
    /// A body-less request without extra headers.
    pub fn new(method: &'a str, target: &'a str) -> RawReq<'a> {
        RawReq {
            method,
            target: target.as_bytes(),
            header_lines: Vec::new(),
            body: b"",
        }
    }

    /// With these header lines (e.g. from [`header_lines`]).
    pub fn lines(mut self, lines: &'a [Vec<u8>]) -> RawReq<'a> {
        self.header_lines = lines.iter().map(Vec::as_slice).collect();
        self
    }

    /// The request's bytes; `last` asks the server to close after it.
    fn wire(&self, host: &str, last: bool) -> Vec<u8> {
        let mut w = format!("{} ", self.method).into_bytes();
        w.extend_from_slice(self.target);
        w.extend_from_slice(format!(" HTTP/1.1\r\nHost: {host}\r\n").as_bytes());
        if last {
            w.extend_from_slice(b"Connection: close\r\n");
        }
        for line in &self.header_lines {
            w.extend_from_slice(line);
            w.extend_from_slice(b"\r\n");
        }
        // A body is framed by its length unless a header line frames it
        // (`Transfer-Encoding: chunked`: then `body` is already chunked).
        let framed = self.header_lines.iter().any(|l| {
            l.get(..18)
                .is_some_and(|n| n.eq_ignore_ascii_case(b"transfer-encoding:"))
        });
        if !self.body.is_empty() && !framed {
            w.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        w.extend_from_slice(b"\r\n");
        w.extend_from_slice(self.body);
        w
    }
}

/// Sends `requests` pipelined on one connection and reads their responses
/// in order, each framed by its headers (Content-Length, chunked, or none
/// for HEAD, 1xx, 204, 304). Each response must begin exactly where the
/// previous one ended: a body after a HEAD's head would stand where the
/// next status line belongs, and fail the read.
pub fn raw_exchange(base: &str, requests: &[RawReq]) -> Vec<Resp> {
    let addr = base.trim_start_matches("http://");
    let stream = TcpStream::connect(addr)
        .unwrap_or_else(|e| panic!("connect {addr}: {e}{}", wrangler_tail(base)));
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut wire = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        wire.extend(r.wire(addr, i + 1 == requests.len()));
    }
    (&stream).write_all(&wire).expect("write");
    let mut reader = Wire {
        stream,
        buf: Vec::new(),
    };
    requests
        .iter()
        .map(|r| reader.response(r.method == "HEAD"))
        .collect()
}

/// One request on its own connection; see [`raw_exchange`].
pub fn raw_request(
    base: &str,
    method: &str,
    target: &[u8],
    header_lines: &[&[u8]],
    body: &[u8],
) -> Resp {
    let req = RawReq {
        method,
        target,
        header_lines: header_lines.to_vec(),
        body,
    };
    raw_exchange(base, &[req]).remove(0)
}

/// `name: value` pairs as raw header lines.
pub fn header_lines(headers: &[(&str, &str)]) -> Vec<Vec<u8>> {
    headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}").into_bytes())
        .collect()
}

/// [`raw_request`] with `name: value` header pairs and no body.
pub fn raw_send(base: &str, method: &str, target: &str, headers: &[(&str, &str)]) -> Resp {
    let lines = header_lines(headers);
    let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    raw_request(base, method, target.as_bytes(), &lines, b"")
}

/// Sends a GET with raw header bytes (values a normal client refuses to
/// send: non-ASCII, control bytes).
pub fn raw_get(base: &str, path: &str, header_lines: &[&[u8]]) -> Resp {
    raw_request(base, "GET", path.as_bytes(), header_lines, b"")
}

/// What a client read of a response before the connection ended: the
/// head, lower-cased, and the body bytes after it (raw, chunk framing
/// included). For answers cut short, which no framing can read.
pub fn read_until_closed(base: &str, target: &str, id: &str) -> (String, Vec<u8>) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nX-Request-Id: {id}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&all[..split]).to_lowercase();
    (head, all[split + 4..].to_vec())
}

/// The read side of a raw connection.
struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    /// Reads more; false at the end of the stream.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk).expect("read");
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// The bytes up to `delimiter`, consumed with it.
    fn until(&mut self, delimiter: &[u8]) -> Vec<u8> {
        loop {
            let found = self
                .buf
                .windows(delimiter.len())
                .position(|w| w == delimiter);
            if let Some(i) = found {
                let out = self.buf[..i].to_vec();
                self.buf.drain(..i + delimiter.len());
                return out;
            }
            let seen = String::from_utf8_lossy(&self.buf).into_owned();
            assert!(
                self.fill(),
                "connection closed before {delimiter:?} in {seen:?}"
            );
        }
    }

    /// Exactly `n` bytes, consumed.
    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            let short = n - self.buf.len();
            assert!(self.fill(), "connection closed {short} bytes short");
        }
        self.buf.drain(..n).collect()
    }

    /// The next response; `head_only`: it answers a HEAD (no body follows).
    fn response(&mut self, head_only: bool) -> Resp {
        let head = self.until(b"\r\n\r\n");
        let head = String::from_utf8_lossy(&head).into_owned();
        assert!(
            head.starts_with("HTTP/1."),
            "no status line where a response must begin: {head:?}"
        );
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut resp = Resp {
            status,
            headers,
            body: Vec::new(),
        };
        let no_body = head_only || status < 200 || status == 204 || status == 304;
        if no_body {
            return resp;
        }
        let chunked = (resp.header("transfer-encoding")).is_some_and(|v| v.contains("chunked"));
        resp.body = if chunked {
            self.chunked_body()
        } else if let Some(len) = resp.header("content-length") {
            self.take(len.parse().expect("content-length"))
        } else {
            while self.fill() {}
            std::mem::take(&mut self.buf)
        };
        resp
    }

    /// A chunked body, de-chunked, its trailers read and dropped.
    fn chunked_body(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let line = String::from_utf8_lossy(&self.until(b"\r\n")).into_owned();
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16)
                .unwrap_or_else(|_| panic!("bad chunk size line {line:?}"));
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.until(b"\r\n").is_empty() {}
                return body;
            }
            body.extend(self.take(size));
            self.take(2);
        }
    }
}

/// The payload of a whole chunked body (framing and last chunk dropped).
pub fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = (raw.windows(2).position(|w| w == b"\r\n")).expect("a chunk size line");
        let size = std::str::from_utf8(&raw[..eol]).expect("ASCII size");
        let size = usize::from_str_radix(size.split(';').next().unwrap_or(""), 16).expect("hex");
        raw = &raw[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}
