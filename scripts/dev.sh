#!/usr/bin/env bash
# `make dev`: the demo origin on 127.0.0.1:8790 and the worker under
# `wrangler dev` on 127.0.0.1:8787 in front of it. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
ORIGIN_PORT=${ORIGIN_PORT:-8790}
PORT=${PORT:-8787}
W="http://127.0.0.1:$PORT"

for p in "$ORIGIN_PORT" "$PORT"; do
  if (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p is busy: stop what listens there, or set ORIGIN_PORT / PORT" >&2
    exit 1
  fi
done

cargo build -q --example demo_origin
set -m # each background job gets its own process group, killed as a group
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -- "-$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
target/debug/examples/demo_origin "$ORIGIN_PORT" &
PIDS+=($!)

if [[ -t 1 ]]; then B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B= D= G= R= N=; fi
cat <<MSG

${B}error-shield demo${N}: worker on $W, demo origin on http://127.0.0.1:$ORIGIN_PORT
Failure records appear below as JSON lines. Try:

  ${G}pass-through${N}        curl -i '$W/echo?q=1'
  ${G}streamed${N}            curl -N '$W/stream'
  ${G}3xx not followed${N}    curl -i '$W/redirect'
  ${R}origin 500${N}          curl -i '$W/status/500'            ${D}# stack trace + secret stay in the log${N}
  ${R}origin 503${N}          curl -i -H 'Accept: text/html' '$W/status/503'
  ${R}origin slow${N}         curl -i '$W/sleep?ms=5000'          ${D}# origin_timeout after 3 s${N}
  ${R}connection reset${N}    curl -i '$W/reset'
  ${R}not HTTP${N}            curl -i -H 'Accept: text/plain' '$W/garbage'
  ${R}worker error${N}        curl -i -H 'X-Fault-Inject: error' '$W/'
  ${R}worker panic${N}        curl -i -H 'X-Fault-Inject: panic' '$W/'
  ${R}Wasm trap${N}           curl -i -H 'X-Fault-Inject: abort' '$W/'
  ${R}stack overflow${N}      curl -i -H 'X-Fault-Inject: stack_overflow' '$W/'

Open $W/status/500 in a browser for the HTML page.
After ${B}wrangler deploy${N}: ${B}npx wrangler tail --format json${N} shows the records live.

MSG

WRANGLER_SEND_METRICS=false node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port "$PORT" \
  --var "ORIGIN_URL:http://127.0.0.1:$ORIGIN_PORT" --var FAULT_INJECTION:on --var ORIGIN_TIMEOUT_MS:3000 \
  --var SUPPORT_URL:https://example.com/support </dev/null &
PIDS+=($!)
wait "${PIDS[1]}"
