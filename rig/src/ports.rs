//! Loopback ports: a free one, whether one is taken, and one that refuses
//! every connection.

use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A free loopback port (bound then released: another process may take it
/// before the caller binds it, so a caller retries on "address in use").
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A loopback port that refuses every connection and that no one else can
/// take while this lives: a socket bound to it (without `SO_REUSEADDR`,
/// which a second bind would need) that never listens. A port that was
/// bound and released may be taken by a worker later; a listening socket
/// would have the kernel accept connections that then hang (a timeout,
/// not a refusal).
pub struct DeadPort {
    _socket: OwnedFd,
    pub port: u16,
}

impl DeadPort {
    pub fn bind() -> DeadPort {
        let os = io::Error::last_os_error;
        // SAFETY: a fresh socket owned at once; `addr` and `len` outlive the calls.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket: {}", os());
            let socket = OwnedFd::from_raw_fd(fd);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let at = &mut addr as *mut libc::sockaddr_in as *mut libc::sockaddr;
            assert_eq!(libc::bind(socket.as_raw_fd(), at, len), 0, "bind: {}", os());
            let named = libc::getsockname(socket.as_raw_fd(), at, &mut len);
            assert_eq!(named, 0, "getsockname: {}", os());
            DeadPort {
                _socket: socket,
                port: u16::from_be(addr.sin_port),
            }
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Whether some program holds `port` of 127.0.0.1 (we cannot bind it).
pub fn busy(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_err()
}
