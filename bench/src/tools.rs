//! The programs the bench drives, installed from Debian only when missing:
//! nginx (the origin), wrk (the load), gzip (the size figure); workerd and
//! wrangler come from the project's node_modules (scripts/bootstrap.sh).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::exit::die;

pub struct Tools {
    pub workerd: PathBuf,
    pub wrangler: PathBuf,
    pub nginx: PathBuf,
    pub wrk: PathBuf,
    pub gzip: PathBuf,
}

impl Tools {
    pub fn find(root: &Path) -> Tools {
        let workerd = root.join("node_modules/@cloudflare/workerd-linux-64/bin/workerd");
        let wrangler = root.join("node_modules/.bin/wrangler");
        for (what, p) in [("workerd", &workerd), ("wrangler", &wrangler)] {
            if !p.exists() {
                die(&format!(
                    "{what} missing at {}: run scripts/bootstrap.sh",
                    p.display()
                ));
            }
        }
        let sbin = ["/usr/sbin", "/usr/local/sbin"];
        let nginx = which("nginx", &sbin)
            .or_else(|| installed(&["nginx-light"], "nginx", &sbin))
            .or_else(|| installed(&["nginx"], "nginx", &sbin))
            .unwrap_or_else(|| die("could not install nginx"));
        let wrk = which("wrk", &[])
            .or_else(|| installed(&["wrk"], "wrk", &[]))
            .unwrap_or_else(|| die("could not install wrk"));
        let gzip = which("gzip", &[]).unwrap_or_else(|| die("gzip missing"));
        Tools {
            workerd,
            wrangler,
            nginx,
            wrk,
            gzip,
        }
    }

    /// `workerd --version`'s version ("2026-11-17").
    pub fn workerd_version(&self) -> String {
        Command::new(&self.workerd)
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| {
                let out = String::from_utf8_lossy(&o.stdout).into_owned();
                out.split_whitespace().nth(1).map(str::to_string)
            })
            .unwrap_or_else(|| "?".into())
    }
}

/// Installs `packages` with apt-get (through sudo when not root), then
/// looks for `program` again.
fn installed(packages: &[&str], program: &str, also: &[&str]) -> Option<PathBuf> {
    crate::say!("installing {} (apt-get)", packages.join(" "));
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let apt = |args: &[&str]| {
        let mut c = if root || which("sudo", &[]).is_none() {
            Command::new("env")
        } else {
            let mut c = Command::new("sudo");
            c.arg("env");
            c
        };
        c.args(["DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-q"])
            .args(["-o", "Dpkg::Use-Pty=0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let install = [&["install", "--no-install-recommends"], packages].concat();
    if !apt(&install) {
        apt(&["update"]);
        apt(&install);
    }
    which(program, also)
}

/// gzip -9's size of `file` (the figure Cloudflare's limit is about).
pub fn gzip_size(gzip: &Path, file: &Path) -> u64 {
    let out = Command::new(gzip)
        .arg("-9c")
        .arg(file)
        .output()
        .unwrap_or_else(|e| die(&format!("gzip: {e}")));
    if !out.status.success() {
        die(&format!("gzip -9c {} failed", file.display()));
    }
    out.stdout.len() as u64
}

/// The program `name` on PATH, or in one of `also`.
pub fn which(name: &str, also: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(also.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
