//! The demo origin of `make dev`: the fake origin of the end-to-end tests,
//! on a fixed loopback port, so every failure class can be tried by hand.

#[path = "../tests/common/origin.rs"]
mod origin;

fn main() {
    let port = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8790);
    let o = origin::Origin::start_on(port);
    eprintln!("demo origin on {}", o.url());
    loop {
        std::thread::park();
    }
}
