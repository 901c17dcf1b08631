#!/usr/bin/env bash
# `make dev`: the demo origin on 127.0.0.1:8790 and the worker under
# `wrangler dev` on 127.0.0.1:8787 in front of it. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
# wrangler runs on the project's Node (node_modules/.bin/node), not the machine's.
export PATH="$PWD/node_modules/.bin:$PATH"
ORIGIN_PORT=${ORIGIN_PORT:-8790}
PORT=${PORT:-8787}
W="http://127.0.0.1:$PORT"
# Three more workers on the same demo origin: status by cause, maintenance,
# and resilience (fallback, breaker, fail-open, the origin's status kept).
BY_CAUSE_PORT=$((PORT + 1))
MAINT_PORT=$((PORT + 2))
RESILIENT_PORT=$((PORT + 4)) # PORT + 3 is the demo origin's with the defaults
PAGES_PORT=$((PORT + 5))
B2="http://127.0.0.1:$BY_CAUSE_PORT"
M="http://127.0.0.1:$MAINT_PORT"
RES="http://127.0.0.1:$RESILIENT_PORT"
PG="http://127.0.0.1:$PAGES_PORT"

for p in "$ORIGIN_PORT" "$PORT" "$BY_CAUSE_PORT" "$MAINT_PORT" "$RESILIENT_PORT" "$PAGES_PORT"; do
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

  ${R}route /pages/${N}       curl -i '$W/pages/sleep?ms=5000'     ${D}# its own rule: HTML by default, 1 s timeout, "route" in the record${N}
  ${G}trace context${N}       curl -i -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' '$W/status/502'
                      ${D}# the id on the 500 and in the record is the trace-id${N}

${B}Status by cause${N} (RESPONSE_STATUS=by-cause) on $B2:
  ${R}origin 503 → 502${N}    curl -i '$B2/status/503'
  ${R}reset → 502${N}         curl -i '$B2/reset'
  ${R}slow → 504${N}          curl -i '$B2/sleep?ms=5000'
  ${R}worker → 500${N}        curl -i -H 'X-Fault-Inject: panic' '$B2/'

${B}Maintenance${N} (MAINTENANCE=on) on $M: 503 with Retry-After, the origin is not contacted
  ${R}503${N}                 curl -i '$M/echo'
  ${G}bypassed path${N}       curl -i '$M/status/200'
  ${G}bypass token${N}        curl -i -H 'X-Maintenance-Bypass: demo-token' '$M/echo'   ${D}# the token never reaches the origin${N}

${B}Resilience${N} on $RES (RESPONSE_STATUS=origin, CIRCUIT_FAILURES=3, CIRCUIT_OPEN_SECONDS=15,
ON_WORKER_FAILURE=fail-open; rule /dr/: a dead primary with the demo origin as its fallback):
  ${G}fallback${N}            curl -i '$RES/dr/echo'                 ${D}# served by the fallback: "fallback":"served" in the record${N}
  ${R}503 kept${N}            curl -i '$RES/status/503?retry_after=120'   ${D}# 503, Service Unavailable, Retry-After: 120${N}
  ${R}breaker trips${N}       for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{http_code} %{time_total}s\n' '$RES/sleep?ms=800&status=500'; done
                      ${D}# slow 500s until three failures in a row, then "circuit_open" and 503s at once with Retry-After; one probe after 15 s${N}
  ${G}fail-open${N}           curl -i -H 'X-Fault-Inject: panic' '$RES/echo'   ${D}# the origin answers; "failed_open":true in the record${N}

${B}Pages${N} from error-pages/ (the ERROR_PAGES assets binding) on $PG (RESPONSE_STATUS=origin,
maintenance on for every path but /status/):
  ${R}503.html${N}            curl -i -H 'Accept: text/html' '$PG/status/503'
  ${R}503.de.html${N}         curl -i -H 'Accept: text/html' -H 'Accept-Language: de-CH' '$PG/status/503'
  ${R}5xx.html${N}            curl -i -H 'Accept: text/html' '$PG/status/502'
  ${R}German JSON${N}         curl -i -H 'Accept-Language: de' '$PG/status/504'   ${D}# messages.de.json${N}
  ${R}maintenance.html${N}    curl -i -H 'Accept: text/html' '$PG/echo'

Open $W/status/500 in a browser for the HTML page.
After ${B}wrangler deploy${N}: ${B}npx wrangler tail --format json${N} shows the records live.

MSG

ORIGIN="ORIGIN_URL:http://127.0.0.1:$ORIGIN_PORT"
wrangler() { # port inspector-port vars...
  local port=$1 inspector=$2
  shift 2
  WRANGLER_SEND_METRICS=false node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port "$port" \
    --inspector-port "$inspector" --var "$ORIGIN" --var ORIGIN_TIMEOUT_MS:3000 "$@" </dev/null &
  PIDS+=($!)
}
# One demo rule: under /pages/ failures are HTML pages and slow answers time out after 1 s.
wrangler "$PORT" 9229 --var FAULT_INJECTION:on --var SUPPORT_URL:https://example.com/support \
  --var 'ROUTES:[{"prefix":"/pages/","default_format":"html","timeout_ms":1000}]' 
wrangler "$BY_CAUSE_PORT" 9230 --var FAULT_INJECTION:on --var RESPONSE_STATUS:by-cause
wrangler "$MAINT_PORT" 9231 --var MAINTENANCE:on --var MAINTENANCE_BYPASS_PATHS:/status/ \
  --var MAINTENANCE_BYPASS_TOKEN:demo-token --var MAINTENANCE_RETRY_AFTER:120
# Port 9 (discard) on loopback: nothing listens, the primary of /dr/ is dead.
wrangler "$RESILIENT_PORT" 9232 --var FAULT_INJECTION:on --var RESPONSE_STATUS:origin \
  --var CIRCUIT_FAILURES:3 --var CIRCUIT_OPEN_SECONDS:15 --var ON_WORKER_FAILURE:fail-open \
  --var "ROUTES:[{\"prefix\":\"/dr/\",\"origin_url\":\"http://127.0.0.1:9\",\"fallback_origin_url\":\"http://127.0.0.1:$ORIGIN_PORT\"}]"
wrangler "$PAGES_PORT" 9233 --config scripts/pages.toml --var RESPONSE_STATUS:origin \
  --var MAINTENANCE:on --var MAINTENANCE_BYPASS_PATHS:/status/
wait "${PIDS[1]}"
