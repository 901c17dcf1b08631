//! The fake origin's HTTP/1.1 by hand: reading a request's head and body,
//! writing an answer (framed, or broken on purpose), resetting a
//! connection. Hand-written so that routes can misbehave byte by byte.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};

use super::{fnv, FNV_START};

/// A request's head.
pub struct Req {
    pub method: String,
    pub target: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Req {
    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The raw value of `name=` in the query.
    pub fn query(&self, name: &str) -> Option<&str> {
        let q = self.target.split_once('?')?.1;
        q.split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    }

    /// `name=` in the query as a number (or anything `FromStr`).
    pub fn num<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.query(name).and_then(|v| v.parse().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The write side of a connection, and whether it may serve another
/// request after this one.
pub struct Out {
    pub stream: TcpStream,
    /// `respond` may answer with keep-alive (set once the body was read).
    pub may_keep: bool,
    /// `respond` did: the connection waits for another request.
    pub kept: bool,
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl AsRawFd for Out {
    fn as_raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }
}

/// The next request's head; `None` when the client closed first.
pub fn read_head(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Req>> {
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
pub fn read_body(
    reader: &mut BufReader<TcpStream>,
    req: &Req,
    progress: &mut dyn FnMut(u64),
) -> io::Result<(u64, u64)> {
    let mut body = Sum {
        len: 0,
        sum: FNV_START,
        progress,
        buf: vec![0u8; 64 * 1024],
    };
    let chunked =
        (req.header("transfer-encoding")).is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
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
            if !body.read(reader, size)? {
                return Ok((body.len, body.sum));
            }
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(length) = req.header("content-length").and_then(|v| v.parse().ok()) {
        body.read(reader, length)?;
    }
    Ok((body.len, body.sum))
}

/// A body's running length and checksum.
struct Sum<'a> {
    len: u64,
    sum: u64,
    progress: &'a mut dyn FnMut(u64),
    buf: Vec<u8>,
}

impl Sum<'_> {
    /// Reads `n` bytes into the sum; false when the stream ended first.
    fn read(&mut self, reader: &mut BufReader<TcpStream>, n: u64) -> io::Result<bool> {
        let mut left = n;
        while left > 0 {
            let got = reader.read(&mut self.buf[..left.min(64 * 1024) as usize])?;
            if got == 0 {
                return Ok(false);
            }
            self.sum = fnv(self.sum, &self.buf[..got]);
            self.len += got as u64;
            left -= got as u64;
            (self.progress)(self.len);
        }
        Ok(true)
    }
}

/// Makes the connection end with RST instead of FIN when it closes.
pub fn reset(stream: &impl AsRawFd) {
    // SO_LINGER 0: close() sends RST instead of FIN.
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `linger` outlives the call, and its size is the one given.
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
pub fn write_chunk(w: &mut Out, data: &[u8]) -> io::Result<()> {
    w.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
    w.write_all(data)?;
    w.write_all(b"\r\n")
}

/// An answer framed by its length; with keep-alive when the connection
/// may serve another request (see [`Out::may_keep`]).
pub fn respond(
    w: &mut Out,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> io::Result<()> {
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

/// A head for a body the route writes itself: the status line,
/// `Connection: close`, then `headers` (framing among them) and the empty
/// line.
pub fn head(status: u16, headers: &[(&str, String)]) -> String {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nConnection: close\r\n",
        reason(status)
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    head
}

pub fn reason(status: u16) -> &'static str {
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

/// `s` as a JSON string.
pub fn json(s: &str) -> String {
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

/// The few escapes the routes' query values use (`%20`, `%2C`, `%2F`,
/// `%3B`, `%3D`).
pub fn unescape(v: &str) -> String {
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
