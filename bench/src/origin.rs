//! The origin: nginx with one worker process on loopback, serving a 4 KiB
//! and a 48 MiB file of random bytes and a 500 with a body and a cookie
//! that the workers must not pass on.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use error_shield_rig::{fetch, poll_every, Group};

use crate::exit::{die, tail};
use crate::EVERY;

pub const SMALL: &str = "/small.bin";
pub const SMALL_BYTES: u64 = 4096;
pub const BIG: &str = "/big.bin";
pub const BIG_BYTES: u64 = 48 << 20;
pub const FAIL: &str = "/fail";
/// Part of the origin's 500 body: a worker's failure answer never has it.
pub const FAIL_SECRET: &str = "must not leak";

/// Starts nginx on `port` with its files under `dir`; returns once it serves.
pub fn start(nginx: &Path, dir: &Path, port: u16) -> Group {
    let www = dir.join("www");
    fs::create_dir_all(&www).unwrap_or_else(|e| die(&format!("{}: {e}", www.display())));
    write_random(&www.join(&SMALL[1..]), SMALL_BYTES);
    write_random(&www.join(&BIG[1..]), BIG_BYTES);
    // Readable by nginx's workers, which may run as an unprivileged user.
    for (p, mode) in [(dir, 0o755), (&www, 0o755)] {
        let _ = fs::set_permissions(p, fs::Permissions::from_mode(mode));
    }
    let conf = dir.join("nginx.conf");
    fs::write(&conf, config(nginx, dir, port)).unwrap_or_else(|e| die(&format!("nginx.conf: {e}")));
    let mut cmd = Command::new(nginx);
    cmd.arg("-p").arg(dir).arg("-e").arg(dir.join("error.log"));
    cmd.arg("-c").arg(&conf);
    let group = Group::spawn(&cmd).unwrap_or_else(|e| die(&format!("nginx: {e}")));
    let url = format!("http://127.0.0.1:{port}{SMALL}");
    let served = || {
        let got = fetch("GET", &url, &[], None, Duration::from_secs(5));
        got.is_ok_and(|g| g.status == 200).then_some(())
    };
    if poll_every(EVERY, Duration::from_secs(15), served).is_none() {
        let log = fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        die(&format!(
            "nginx did not start:\n{}\n{}",
            group.output(),
            tail(&log, 20)
        ));
    }
    group
}

fn write_random(path: &Path, len: u64) {
    let copied = fs::File::open("/dev/urandom").and_then(|r| {
        let mut w = fs::File::create(path)?;
        std::io::copy(&mut std::io::Read::take(r, len), &mut w)
    });
    let readable = fs::set_permissions(path, fs::Permissions::from_mode(0o644));
    if !copied.is_ok_and(|n| n == len) || readable.is_err() {
        die(&format!(
            "{}: could not write {len} random bytes",
            path.display()
        ));
    }
}

fn config(nginx: &Path, dir: &Path, port: u16) -> String {
    let d = dir.display();
    // Temp paths inside the run's directory, for the modules this nginx has.
    let built = Command::new(nginx)
        .arg("-V")
        .output()
        .map_or(String::new(), |o| {
            String::from_utf8_lossy(&o.stderr).into_owned()
        });
    let mut temp = format!("client_body_temp_path {d}/client_body;");
    for m in ["proxy", "fastcgi", "uwsgi", "scgi"] {
        if built.contains(&format!("--http-{m}-temp-path")) {
            temp.push_str(&format!(" {m}_temp_path {d}/{m};"));
        }
    }
    format!(
        r#"daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  {temp}
  server {{
    listen 127.0.0.1:{port};
    root {d}/www;
    location = {FAIL} {{
      default_type text/plain;
      add_header Set-Cookie "origin-session=secret";
      return 500 "origin failure: stack trace that {FAIL_SECRET}\n";
    }}
    location / {{ try_files $uri =404; }}
  }}
}}
"#
    )
}
