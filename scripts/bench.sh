#!/usr/bin/env bash
# `make bench`: error-shield's deploy bundle (what `wrangler deploy` uploads)
# against the bare origin, a minimal JavaScript pass-through worker and a
# JavaScript worker doing error-shield's job (bench/equal.js), in one run.
#
# Workers run under workerd itself (wrangler dev's proxy caps ~500 req/s),
# from generated capnp configs; the origin is nginx; load comes from wrk.
# Everything listens on 127.0.0.1 only, every server runs in its own process
# group and all of them are killed on exit, whatever the exit. Whole run
# ~3 min with the defaults; a watchdog ends it at BENCH_TIME_LIMIT.
#
# Knobs (environment): BENCH_DURATION (s per measurement, 10), BENCH_WARMUP
# (s, 3), BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_COLD_RUNS (3),
# BENCH_STREAM_RUNS (3), BENCH_PORT_BASE (28080), BENCH_TIME_LIMIT (420).
# The report also lands in bench/out/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# wrangler and `node` below run on the project's Node (node_modules/.bin/node).
export PATH="$ROOT/node_modules/.bin:$PATH"

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
COLD_RUNS=${BENCH_COLD_RUNS:-3}
STREAM_RUNS=${BENCH_STREAM_RUNS:-3}
PORT_BASE=${BENCH_PORT_BASE:-28080}
TIME_LIMIT=${BENCH_TIME_LIMIT:-420}
COMPAT_DATE=$(sed -n 's/^compatibility_date = "\(.*\)"/\1/p' wrangler.toml) # production's
WORKERD=$ROOT/node_modules/@cloudflare/workerd-linux-64/bin/workerd
WRANGLER=$ROOT/node_modules/.bin/wrangler
SMALL=/small.bin   # 4 KiB
BIG=/big.bin       # 48 MiB
FAIL=/fail         # the origin answers 500
ECHO=/echo         # the origin answers the headers a worker added
STARTED=$(date +%s)

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- preconditions and tools (installed only when missing) -----------------

[[ -x $WORKERD ]] || die "workerd missing at $WORKERD: run scripts/bootstrap.sh"
[[ -x $WRANGLER ]] || die "wrangler missing at $WRANGLER: run scripts/bootstrap.sh"
[[ -n $COMPAT_DATE ]] || die "no compatibility_date in wrangler.toml"

SUDO=
if [[ $EUID -ne 0 ]]; then command -v sudo >/dev/null && SUDO=sudo; fi
apt_install() {
  say "installing $* (apt-get)"
  local apt=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)
  "${apt[@]}" install --no-install-recommends "$@" >/dev/null 2>&1 && return 0
  "${apt[@]}" update >/dev/null 2>&1 || true
  "${apt[@]}" install --no-install-recommends "$@" >/dev/null
}
find_nginx() { command -v nginx || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; }; }
NGINX=$(find_nginx || true)
if [[ -z $NGINX ]]; then
  apt_install nginx-light || apt_install nginx || die "could not install nginx"
  NGINX=$(find_nginx) || die "nginx installed but not found"
fi
command -v wrk >/dev/null || apt_install wrk || die "could not install wrk"
command -v curl >/dev/null || apt_install curl || die "could not install curl"
for tool in gzip setsid timeout awk node; do
  command -v "$tool" >/dev/null || die "$tool missing"
done

# --- process groups, cleanup, watchdog -------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/error-shield-bench.XXXXXX")
chmod 755 "$TMP" # nginx workers may run as an unprivileged user
GROUPS_STARTED=()

# Starts "$@" as the leader of a new process group (setsid does not fork:
# a background job of this script is never a group leader), output to $LOG.
spawn() {
  setsid "$@" >"$LOG" 2>&1 </dev/null &
  SPAWNED=$!
  GROUPS_STARTED+=("$SPAWNED")
}

# Ends the process group led by $1: TERM, then KILL after 3 s.
stop_group() {
  local pg=$1 i g kept=()
  for g in "${GROUPS_STARTED[@]}"; do [[ $g == "$pg" ]] || kept+=("$g"); done
  GROUPS_STARTED=("${kept[@]}")
  kill -TERM -- "-$pg" 2>/dev/null || return 0
  for ((i = 0; i < 30; i++)); do
    kill -0 -- "-$pg" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pg" 2>/dev/null || true
}

cleanup() {
  local rc=$? pg
  trap - EXIT INT TERM
  for pg in "${GROUPS_STARTED[@]}"; do stop_group "$pg"; done # (a copy: bash expands first)
  wait 2>/dev/null || true
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated (time limit ${TIME_LIMIT}s?)"; exit 143' TERM

LOG=/dev/null spawn bash -c "sleep $TIME_LIMIT; kill -TERM $$"

# --- ports -----------------------------------------------------------------

port_busy() {
  if command -v ss >/dev/null; then
    [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}
TAKEN=" "
pick_port() { # variable base
  local p=$2
  while port_busy "$p" || [[ $TAKEN == *" $p "* ]]; do
    ((p++))
    ((p < $2 + 200)) || die "no free port in $2..$p"
  done
  TAKEN+="$p "
  printf -v "$1" %s "$p"
}
pick_port ORIGIN_PORT "$PORT_BASE"
pick_port JS_PORT $((PORT_BASE + 1))
pick_port SHIELD_PORT $((PORT_BASE + 2))
pick_port EQUAL_PORT $((PORT_BASE + 3))
pick_port STALE_PORT $((PORT_BASE + 4))
pick_port ROUTE1_PORT $((PORT_BASE + 5))
pick_port ROUTE64_PORT $((PORT_BASE + 6))
pick_port UNWATCHED_PORT $((PORT_BASE + 7))
ORIGIN=http://127.0.0.1:$ORIGIN_PORT
JS=http://127.0.0.1:$JS_PORT
SHIELD=http://127.0.0.1:$SHIELD_PORT
EQUAL=http://127.0.0.1:$EQUAL_PORT
STALE=http://127.0.0.1:$STALE_PORT
ROUTE1=http://127.0.0.1:$ROUTE1_PORT
ROUTE64=http://127.0.0.1:$ROUTE64_PORT
UNWATCHED=http://127.0.0.1:$UNWATCHED_PORT

# --- helpers ---------------------------------------------------------------

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# status of GET $1 ("000" when refused)
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" 2>/dev/null || true; }

# Waits up to $3 s for GET $1 to answer $2.
wait_for() {
  local deadline=$(($(now_ms) + $3 * 1000))
  until [[ $(status_of "$1") == "$2" ]]; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.02
  done
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# --- origin: nginx ---------------------------------------------------------

mkdir -p "$TMP/nginx/www"
head -c 4096 /dev/urandom >"$TMP/nginx/www${SMALL}"
head -c $((48 << 20)) /dev/urandom >"$TMP/nginx/www${BIG}"
chmod -R a+rX "$TMP/nginx/www"
nginx_v=$("$NGINX" -V 2>&1)
temp_paths="client_body_temp_path $TMP/nginx/client_body;"
for m in proxy fastcgi uwsgi scgi; do
  [[ $nginx_v == *"--http-$m-temp-path"* ]] && temp_paths+=" ${m}_temp_path $TMP/nginx/$m;"
done
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  $temp_paths
  server {
    listen 127.0.0.1:$ORIGIN_PORT;
    root $TMP/nginx/www;
    location = $FAIL {
      default_type text/plain;
      add_header Set-Cookie "origin-session=secret";
      return 500 "origin failure: stack trace that must not leak\n";
    }
    location = $ECHO {
      default_type text/plain;
      return 200 "\$http_x_request_id|\$http_x_forwarded_host|\$http_x_error_shield_hop";
    }
    location / { try_files \$uri =404; }
  }
}
EOF
LOG=$TMP/nginx/stderr.log spawn "$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf"
NGINX_PG=$SPAWNED
wait_for "$ORIGIN$SMALL" 200 15 || { cat "$TMP/nginx/stderr.log" "$TMP/nginx/error.log" >&2 2>/dev/null; die "nginx did not start"; }

# --- workers: generated workerd configs ------------------------------------

# The uncommented [vars] of wrangler.toml, as workerd bindings (ORIGIN_URL
# is ours). Quoted values become text bindings, others JSON ones.
capnp_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
toml_bindings() {
  awk '/^\[/ { in_vars = ($0 ~ /^\[vars\][[:space:]]*$/); next }
       in_vars && /^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=/ {
         k = $0; sub(/[[:space:]]*=.*/, "", k); gsub(/[[:space:]]/, "", k)
         v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); sub(/[[:space:]]+#.*$/, "", v); sub(/[[:space:]]+$/, "", v)
         print k "\t" v }' wrangler.toml 2>/dev/null
}
TOML_NAMES=()
declare -A TOML_BINDING
BINDINGS_SHOWN="ORIGIN_URL=$ORIGIN"
while IFS=$'\t' read -r k v; do
  [[ -n $k && $k != ORIGIN_URL ]] || continue
  if [[ $v == \"*\" ]]; then
    TOML_BINDING[$k]="(name = \"$k\", text = $(capnp_str "${v:1:${#v}-2}"))"
  else
    TOML_BINDING[$k]="(name = \"$k\", json = $(capnp_str "$v"))"
  fi
  TOML_NAMES+=("$k")
  BINDINGS_SHOWN+=" $k=$v"
done < <(toml_bindings)

# bindings [NAME=value]...: ORIGIN_URL, the [vars], then the given text
# bindings, which replace [vars] of the same name.
bindings() {
  local out kv k
  local -A given=()
  out="(name = \"ORIGIN_URL\", text = $(capnp_str "$ORIGIN"))"
  for kv in "$@"; do given[${kv%%=*}]=1; done
  for k in "${TOML_NAMES[@]}"; do [[ -n ${given[$k]:-} ]] || out+=", ${TOML_BINDING[$k]}"; done
  for kv in "$@"; do out+=", (name = \"${kv%%=*}\", text = $(capnp_str "${kv#*=}"))"; done
  printf '%s' "$out"
}

# write_config <dir> <port> <modules> <bindings>
write_config() {
  cat >"$1/config.capnp" <<EOF
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "net", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:$2", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [$3],
  compatibilityDate = "$COMPAT_DATE",
  bindings = [$4],
  globalOutbound = "net",
);
EOF
}

# error-shield as production runs it: wrangler's deploy bundle (wrangler runs
# wrangler.toml's build command first, a no-op when build/ is current). It
# lands in this run's directory, so a concurrent `make build` cannot swap
# files mid-run. index.js imports the Wasm under a content-hashed name: the
# workerd module must carry exactly that name.
say "bundling error-shield (wrangler deploy --dry-run)"
mkdir -p "$TMP/bundle"
# In its own process group, like the servers: the watchdog or ^C ends it,
# and whatever it leaves behind, at once.
LOG=$TMP/bundle.log spawn env CI=true WRANGLER_SEND_METRICS=false "$WRANGLER" deploy --dry-run --outdir "$TMP/bundle"
BUNDLER_PG=$SPAWNED
wait "$BUNDLER_PG" || { tail -n 40 "$TMP/bundle.log" >&2; die "wrangler deploy --dry-run failed"; }
stop_group "$BUNDLER_PG"
[[ -f $TMP/bundle/index.js ]] || die "the bundle has no index.js (got: $(ls "$TMP/bundle" | tr '\n' ' '))"
mapfile -t IMPORTS < <(sed -nE 's/^import [^;]* from "\.\/([^"]+)";?$/\1/p' "$TMP/bundle/index.js" | sort -u)
[[ ${#IMPORTS[@]} == 1 && ${IMPORTS[0]} == *.wasm && -f $TMP/bundle/${IMPORTS[0]} ]] ||
  die "expected index.js to import exactly one Wasm file of the bundle, got: ${IMPORTS[*]:-none}"
BUNDLE_WASM=${IMPORTS[0]}
SHIELD_MODULES="(name = \"index.js\", esModule = embed \"index.js\"), (name = \"$BUNDLE_WASM\", wasm = embed \"$BUNDLE_WASM\")"

mkdir -p "$TMP/js" "$TMP/equal" "$TMP/shield" "$TMP/stale" "$TMP/route1" "$TMP/route64" "$TMP/unwatched"
cp bench/passthrough.js "$TMP/js/"
cp bench/equal.js "$TMP/equal/"
cp "$TMP/bundle/index.js" "$TMP/bundle/$BUNDLE_WASM" "$TMP/shield/"
for d in stale route1 route64 unwatched; do cp "$TMP/bundle/index.js" "$TMP/bundle/$BUNDLE_WASM" "$TMP/$d/"; done
write_config "$TMP/js" "$JS_PORT" '(name = "passthrough.js", esModule = embed "passthrough.js")' "$(bindings)"
write_config "$TMP/equal" "$EQUAL_PORT" '(name = "equal.js", esModule = embed "equal.js")' "$(bindings)"
write_config "$TMP/shield" "$SHIELD_PORT" "$SHIELD_MODULES" "$(bindings)"
# The same bundle with both optional features on. Retries only act on an
# unreachable origin; stale-if-error tees every cacheable 200 GET (the 4 KiB
# file is one) and stores a copy off the hot path. workerd without a cache
# service rejects every Cache API put and match ("No Cache was configured")
# and error-shield swallows that, so this row pays the tee, the stored
# copy's headers and a rejected put, not real storage.
STALE_VARS=(STALE_IF_ERROR_SECONDS=60 ORIGIN_RETRIES=2)
write_config "$TMP/stale" "$STALE_PORT" "$SHIELD_MODULES" "$(bindings "${STALE_VARS[@]}")"
# ROUTES: one rule that every request matches, and 64 rules that none does
# (the whole scan, then the top level): the cost of matching.
ROUTE1_VARS=('ROUTES=[{"prefix":"/","timeout_ms":30000}]')
rules64=$(for i in $(seq 0 63); do printf '{"prefix":"/r%d/","timeout_ms":30000},' "$i"; done)
ROUTE64_VARS=("ROUTES=[${rules64%,}]")
write_config "$TMP/route1" "$ROUTE1_PORT" "$SHIELD_MODULES" "$(bindings "${ROUTE1_VARS[@]}")"
write_config "$TMP/route64" "$ROUTE64_PORT" "$SHIELD_MODULES" "$(bindings "${ROUTE64_VARS[@]}")"
# Bodies passed on unwatched: what watching them for a break costs.
write_config "$TMP/unwatched" "$UNWATCHED_PORT" "$SHIELD_MODULES" "$(bindings WATCH_BODIES=off)"

# Cold start: workerd start -> first 200 from the worker (polled with curl,
# so the resolution is a curl spawn, a few ms). The workers take turns, run
# by run, so a slow spell of the machine hits them alike; the last start of
# each keeps running. Sets COLD_ALL[name] (every run, ms) and FIRST_ALL[name]
# (the first successful request itself, ms).
declare -A COLD COLD_ALL FIRST FIRST_ALL PG
cold_start() { # name dir url
  local name=$1 dir=$2 url=$3 t0 t1 out
  [[ -n ${PG[$name]:-} ]] && stop_group "${PG[$name]}"
  port_busy "${url##*:}" && { sleep 0.3; port_busy "${url##*:}" && die "port ${url##*:} still busy"; }
  t0=$(date +%s%N)
  LOG=$dir/workerd.log spawn "$WORKERD" serve "$dir/config.capnp" --experimental
  PG[$name]=$SPAWNED
  while :; do
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "$url$SMALL" 2>/dev/null || true)
    [[ $out == 200\ * ]] && break
    if ! kill -0 "$SPAWNED" 2>/dev/null || (($(date +%s%N) - t0 > 30 * 10 ** 9)); then
      tail -n 30 "$dir/workerd.log" >&2
      die "$name: workerd did not serve 200 within 30 s (last: ${out:-none})"
    fi
  done
  t1=$(date +%s%N)
  COLD_ALL[$name]+="${COLD_ALL[$name]:+/}$(((t1 - t0) / 1000000))"
  FIRST_ALL[$name]+="${FIRST_ALL[$name]:+/}$(awk -v s="${out#* }" 'BEGIN { printf "%.1f", s * 1000 }')"
}

COLD_WORKERS=(js equal shield)
declare -A DIR=([js]=$TMP/js [equal]=$TMP/equal [shield]=$TMP/shield [stale]=$TMP/stale [route1]=$TMP/route1 [route64]=$TMP/route64 [unwatched]=$TMP/unwatched)
declare -A BASE=([js]=$JS [equal]=$EQUAL [shield]=$SHIELD [stale]=$STALE [route1]=$ROUTE1 [route64]=$ROUTE64 [unwatched]=$UNWATCHED)
say "origin $ORIGIN; JS worker $JS, equal-function JS $EQUAL, error-shield $SHIELD, stale+retries $STALE; cold starts (x$COLD_RUNS)"
for ((i = 1; i <= COLD_RUNS; i++)); do
  for w in "${COLD_WORKERS[@]}"; do cold_start "$w" "${DIR[$w]}" "${BASE[$w]}"; done
done
for w in stale route1 route64 unwatched; do cold_start "$w" "${DIR[$w]}" "${BASE[$w]}"; done # the same bundle: not timed again
for w in "${COLD_WORKERS[@]}"; do
  COLD[$w]=$(tr / '\n' <<<"${COLD_ALL[$w]}" | median)
  FIRST[$w]=$(tr / '\n' <<<"${FIRST_ALL[$w]}" | median)
done

# --- sanity: every target answers what it should ----------------------------

check() { # what url expected-status expected-size
  local got
  got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 30 "$2")
  [[ $got == "$3 $4" || ($4 == "*" && ${got% *} == "$3") ]] || die "$1: $2 answered '$got', expected '$3 $4'"
}
check origin "$ORIGIN$SMALL" 200 4096
check origin "$ORIGIN$FAIL" 500 "*"
for w in js equal shield stale route1 route64 unwatched; do check "$w" "${BASE[$w]}$SMALL" 200 4096; done
for w in equal shield stale route1 route64 unwatched; do check "$w" "${BASE[$w]}$FAIL" 500 "*"; done

# The request id (client's when valid, else cf-ray, else 32 random hex
# digits) and the headers added on the way: the origin echoes what it got.
check_forward() { # name base
  # The hop marker: the same on every request (error-shield's is its
  # deployment's 32 hex digits, the JS peer's a constant).
  local got host=${2#http://} hex='[0-9a-f]{32}'
  got=$(curl -s --max-time 10 -H 'X-Request-Id: bench-id.1' "$2$ECHO")
  [[ $got =~ ^bench-id\.1\|$host\|([0-9a-f]+)$ ]] || die "$1: with a valid X-Request-Id, the origin saw '$got'"
  local hop=${BASH_REMATCH[1]}
  got=$(curl -s --max-time 10 -H 'X-Request-Id: not valid' -H 'cf-ray: 8c3f1a2b3c4d5e6f-AMS' "$2$ECHO")
  [[ $got == "8c3f1a2b3c4d5e6f-AMS|$host|$hop" ]] || die "$1: with an invalid X-Request-Id and a cf-ray, the origin saw '$got'"
  got=$(curl -s --max-time 10 -H 'X-Request-Id: not valid' "$2$ECHO")
  [[ $got =~ ^$hex\|$host\|$hop$ ]] || die "$1: with no usable id, the origin saw '$got'"
}

# The uniform 500: problem JSON under the request id with the fixed headers,
# nothing of the origin's answer (body, cookie) passed through, and one JSON
# log record for it.
check_failure() { # name base
  local body h=$TMP/$1.fail.headers id=bench-fail-$1
  body=$(curl -s -D "$h" --max-time 10 -H "X-Request-Id: $id" "$2$FAIL")
  [[ $body != *"must not leak"* ]] && ! grep -qi '^set-cookie' "$h" ||
    die "$1: the failure path passed the origin's 500 through"
  for want in 'HTTP/1.1 500 Internal Server Error' 'content-type: application/problem+json' "x-request-id: $id" \
    'cache-control: no-store' 'x-content-type-options: nosniff' 'vary: Accept'; do
    tr -d '\r' <"$h" | grep -qix -- "$want" || die "$1: the 500 lacks '$want' (got: $(tr -d '\r' <"$h" | tr '\n' ';'))"
  done
  node -e 'const b = JSON.parse(process.argv[1]);
    process.exit(b.type === "about:blank" && b.title === "Internal Server Error" && b.status === 500 &&
      typeof b.detail === "string" && b.detail !== "" && b.request_id === process.argv[2] ? 0 : 1)' "$body" "$id" ||
    die "$1: the 500 is not the problem JSON: $body"
  sleep 0.2 # the log line may trail the response
  grep -F "\"request_id\":\"$id\"" "${DIR[$1]}/workerd.log" | grep -qF '"cause":"origin_error_status"' ||
    die "$1: no log record for $id (log: $(tail -n 5 "${DIR[$1]}/workerd.log"))"
}
for w in equal shield; do
  check_forward "$w" "${BASE[$w]}"
  check_failure "$w" "${BASE[$w]}"
done
check_forward stale "$STALE"
check_forward route1 "$ROUTE1"
check_forward route64 "$ROUTE64"
check_forward unwatched "$UNWATCHED"

# --- 48 MiB streamed -------------------------------------------------------

declare -A STREAM_BEST STREAM_MED
stream() { # name url
  local i speeds=() s
  for ((i = 0; i < STREAM_RUNS; i++)); do
    s=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{speed_download}' --max-time 60 "$2$BIG")
    [[ $s == "200 $((48 << 20)) "* ]] || die "$1: $BIG answered '$s'"
    speeds+=("${s##* }")
  done
  STREAM_BEST[$1]=$(printf '%s\n' "${speeds[@]}" | sort -g | tail -n1 | awk '{ printf "%.0f", $1 / 1e6 }')
  STREAM_MED[$1]=$(printf '%s\n' "${speeds[@]}" | median | awk '{ printf "%.0f", $1 / 1e6 }')
}
say "48 MiB streaming (x$STREAM_RUNS each)"
stream origin "$ORIGIN"
for w in "${COLD_WORKERS[@]}" unwatched; do stream "$w" "${BASE[$w]}"; done

# --- load: warm, then A B A B ----------------------------------------------

TARGETS=(origin js equal shield unwatched stale route1 route64 fail equalfail)
PASS_TARGETS=" origin js equal shield unwatched stale route1 route64 " # the others: every answer a 500
declare -A URL=(
  [origin]="$ORIGIN$SMALL" [js]="$JS$SMALL" [equal]="$EQUAL$SMALL" [shield]="$SHIELD$SMALL"
  [stale]="$STALE$SMALL" [fail]="$SHIELD$FAIL" [equalfail]="$EQUAL$FAIL"
  [route1]="$ROUTE1$SMALL" [route64]="$ROUTE64$SMALL" [unwatched]="$UNWATCHED$SMALL"
)
declare -A LABEL=(
  [origin]="origin direct (nginx, 4 KiB)"
  [js]="JS pass-through worker (minimal)"
  [equal]="JS equal-function worker"
  [shield]="error-shield pass-through"
  [stale]="error-shield, stale-if-error + retries on, pass-through (tee + rejected cache put: no cache service)"
  [route1]="error-shield, ROUTES with 1 rule (matching), pass-through"
  [route64]="error-shield, ROUTES with 64 rules (none matching), pass-through"
  [unwatched]="error-shield, WATCH_BODIES=off, pass-through"
  [fail]="error-shield failure path (origin 500)"
  [equalfail]="JS equal-function worker, failure path (origin 500)"
)
declare -A GROUP=(
  [origin]=$NGINX_PG [js]=${PG[js]} [equal]=${PG[equal]} [shield]=${PG[shield]}
  [stale]=${PG[stale]} [fail]=${PG[shield]} [equalfail]=${PG[equal]}
  [route1]=${PG[route1]} [route64]=${PG[route64]} [unwatched]=${PG[unwatched]}
)
# The like-for-like equal-function row for "vs equal JS".
declare -A PEER=([origin]=equal [js]=equal [equal]=equal [shield]=equal [stale]=equal [route1]=equal [route64]=equal [unwatched]=equal [fail]=equalfail [equalfail]=equalfail)
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# CPU time (user + system, clock ticks) of every process in group $1: the
# server's own cost per request, much less sensitive than req/s to whatever
# else the machine is running.
group_ticks() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | # processes come and go
    awk -v g="$1" '{ sub(/^.*\) /, ""); if ($3 == g) t += $12 + $13 } END { print t + 0 }'
}

declare -A RES
load() { # target seconds -> "rps p50 p99 sockerr non2xx requests cpu-us/req"
  local out t0 t1
  t0=$(group_ticks "${GROUP[$1]}")
  out=$(timeout $(($2 + 30)) wrk -t"$THREADS" -c"$CONNS" -d"$2s" --timeout 5s \
    -s bench/report.lua "${URL[$1]}" 2>&1) || die "wrk on $1 failed: $out"
  t1=$(group_ticks "${GROUP[$1]}")
  awk -v cpu=$((t1 - t0)) -v hz="$CLK_TCK" '/^RESULT / {
      print $2, $3, $4, $5, $6, $7, ($7 > 0 ? sprintf("%.0f", cpu * 1e6 / hz / $7) : "-"); found = 1
    } END { exit !found }' <<<"$out" ||
    die "wrk on $1 printed no result: $out"
}

LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
say "warming each target ${WARMUP}s"
for t in "${TARGETS[@]}"; do load "$t" "$WARMUP" >/dev/null; done
for run in 1 2; do
  for t in "${TARGETS[@]}"; do
    say "run $run: ${LABEL[$t]} (${DURATION}s)"
    RES[$t,$run]=$(load "$t" "$DURATION")
  done
done
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)

# --- report ----------------------------------------------------------------

field() { awk -v i="$2" '{ print $i }' <<<"${RES[$1]}"; }
sum2() { echo $(($(field "$1,1" "$2") + $(field "$1,2" "$2"))); }
mean2() { awk -v a="$(field "$1,1" "$2")" -v b="$(field "$1,2" "$2")" 'BEGIN { printf "%.1f", (a + b) / 2 }'; }
mean_rps() { mean2 "$1" 1; }
mean_cpu() { mean2 "$1" 7; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# verdict <a> <b> <op> <bound>: whether a/b (unrounded) <op> bound, as
# "holds" or "missed".
verdict() {
  awk -v a="$1" -v b="$2" -v op="$3" -v k="$4" 'BEGIN {
    r = (b > 0 ? a / b : 0); ok = (op == ">=" ? r >= k : r <= k); print (ok ? "holds" : "missed") }'
}
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

# Every pass-through answer a 2xx, every failure-path answer a 500, and no
# socket errors: otherwise the row measures something else.
ROW_PROBLEMS=()
for t in "${TARGETS[@]}"; do
  for run in 1 2; do
    read -r _ _ _ sockerr non2xx requests _ <<<"${RES[$t,$run]}"
    if [[ $PASS_TARGETS == *" $t "* ]]; then
      ((non2xx == 0)) || ROW_PROBLEMS+=("${LABEL[$t]}, run $run: $non2xx non-2xx of $requests")
    else
      ((non2xx == requests)) || ROW_PROBLEMS+=("${LABEL[$t]}, run $run: $non2xx non-2xx of $requests (all expected)")
    fi
    ((sockerr == 0)) || ROW_PROBLEMS+=("${LABEL[$t]}, run $run: $sockerr socket errors")
  done
done

wasm_raw=$(wc -c <"$TMP/bundle/$BUNDLE_WASM")
wasm_gz=$(gzip -9c "$TMP/bundle/$BUNDLE_WASM" | wc -c)
js_raw=$(wc -c <"$TMP/bundle/index.js")
js_gz=$(gzip -9c "$TMP/bundle/index.js" | wc -c)
WASM_LIMIT=150000 # 150 KB

mkdir -p bench/out
{
  echo "## error-shield benchmark — $(date -u +'%Y-%m-%d %H:%M UTC')"
  echo
  echo "workerd $("$WORKERD" --version 2>/dev/null | awk '{ print $2 }'), compat $COMPAT_DATE; $(nproc) CPUs, load $LOAD_START → $LOAD_END;" \
    "wrk -t$THREADS -c$CONNS, ${DURATION}s per run after ${WARMUP}s warm-up, runs interleaved A B A B over all targets; nginx 1 worker;" \
    "error-shield = the \`wrangler deploy --dry-run\` bundle; vars: $BINDINGS_SHOWN (stale+retries row adds ${STALE_VARS[*]})"
  echo
  echo "| target | req/s run 1 | req/s run 2 | req/s mean | vs JS worker | vs equal JS | p50 ms (1/2) | p99 ms (1/2) | server CPU µs/req (1/2) | requests | non-2xx | socket errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  js_mean=$(mean_rps js)
  for t in "${TARGETS[@]}"; do
    m=$(mean_rps "$t")
    printf '| %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s | %s | %s |\n' "${LABEL[$t]}" \
      "$(field "$t,1" 1)" "$(field "$t,2" 1)" "$m" "$(ratio "$m" "$js_mean")" "$(ratio "$m" "$(mean_rps "${PEER[$t]}")")" \
      "$(field "$t,1" 2)" "$(field "$t,2" 2)" "$(field "$t,1" 3)" "$(field "$t,2" 3)" \
      "$(field "$t,1" 7)" "$(field "$t,2" 7)" "$(sum2 "$t" 6)" "$(sum2 "$t" 5)" "$(sum2 "$t" 4)"
  done
  echo
  echo "vs JS worker: against the minimal JS pass-through; vs equal JS: against the equal-function worker's row of the same kind (failure rows against its failure path)." \
    "Server CPU = user+system time of the serving process group (workerd, or nginx for the origin) per request, from /proc: steadier than req/s on a busy machine."
  echo
  if ((${#ROW_PROBLEMS[@]})); then
    printf -- '- **row check failed:** %s\n' "${ROW_PROBLEMS[@]}"
  else
    echo "Row check: pass-through rows all 2xx, failure rows all 500, no socket errors."
  fi
  echo
  echo "| 48 MiB streamed | best MB/s | median MB/s (of $STREAM_RUNS) |"
  echo "|---|---:|---:|"
  printf '| %s | %s | %s |\n' "origin direct" "${STREAM_BEST[origin]}" "${STREAM_MED[origin]}" \
    "JS pass-through worker (minimal)" "${STREAM_BEST[js]}" "${STREAM_MED[js]}" \
    "JS equal-function worker" "${STREAM_BEST[equal]}" "${STREAM_MED[equal]}" \
    "error-shield" "${STREAM_BEST[shield]}" "${STREAM_MED[shield]}" \
    "error-shield, WATCH_BODIES=off" "${STREAM_BEST[unwatched]}" "${STREAM_MED[unwatched]}"
  echo
  echo "| cold start (workerd start → first 200) | median ms | runs ms | first request ms (median) |"
  echo "|---|---:|---:|---:|"
  printf '| %s | %s | %s | %s |\n' "JS pass-through worker (minimal)" "${COLD[js]}" "${COLD_ALL[js]}" "${FIRST[js]}" \
    "JS equal-function worker" "${COLD[equal]}" "${COLD_ALL[equal]}" "${FIRST[equal]}" \
    "error-shield" "${COLD[shield]}" "${COLD_ALL[shield]}" "${FIRST[shield]}"
  echo
  echo "| size (deploy bundle) | raw | gzip -9 |"
  echo "|---|---:|---:|"
  printf '| %s | %s | %s |\n' "$BUNDLE_WASM" "$wasm_raw B ($(kib "$wasm_raw"))" "$wasm_gz B ($(kib "$wasm_gz"))" \
    "index.js" "$js_raw B ($(kib "$js_raw"))" "$js_gz B ($(kib "$js_gz"))"
  echo

  r_eq=$(ratio "$(mean_rps shield)" "$(mean_rps equal)")
  r_js=$(ratio "$(mean_rps shield)" "$js_mean")
  r_fail=$(ratio "$(mean_rps fail)" "$(mean_rps equalfail)")
  r_stale=$(ratio "$(mean_rps stale)" "$(mean_rps shield)")
  r_r64=$(ratio "$(mean_rps route64)" "$(mean_rps shield)")
  r_stream=$(ratio "${STREAM_MED[shield]}" "${STREAM_MED[js]}")
  r_cold=$(ratio "${COLD[shield]}" "${COLD[js]}")
  echo "| target | measured | holds/missed |"
  echo "|---|---|---|"
  printf '| %s | %s | %s |\n' \
    "error-shield pass-through ≥ 1.00× the equal-function JS worker (req/s)" "${r_eq}× ($(mean_rps shield) / $(mean_rps equal))" "$(verdict "$(mean_rps shield)" "$(mean_rps equal)" '>=' 1.00)" \
    "error-shield pass-through ≥ 0.90× the minimal JS worker (req/s)" "${r_js}× ($(mean_rps shield) / $js_mean)" "$(verdict "$(mean_rps shield)" "$js_mean" '>=' 0.90)" \
    "error-shield failure path ≥ 1.00× the equal-function JS failure path (req/s)" "${r_fail}× ($(mean_rps fail) / $(mean_rps equalfail))" "$(verdict "$(mean_rps fail)" "$(mean_rps equalfail)" '>=' 1.00)" \
    "stale+retries pass-through ≥ 0.95× error-shield default pass-through (req/s)" "${r_stale}× ($(mean_rps stale) / $(mean_rps shield))" "$(verdict "$(mean_rps stale)" "$(mean_rps shield)" '>=' 0.95)" \
    "64 rules pass-through ≥ 0.97× no rules (req/s)" "${r_r64}× ($(mean_rps route64) / $(mean_rps shield))" "$(verdict "$(mean_rps route64)" "$(mean_rps shield)" '>=' 0.97)" \
    "Wasm ≤ 150 KB gzip -9 (150 000 B)" "$wasm_gz B ($(kib "$wasm_gz"))" "$(verdict "$wasm_gz" 1 '<=' "$WASM_LIMIT")" \
    "48 MiB streamed ≥ 0.95× the minimal JS worker (median MB/s)" "${r_stream}× (${STREAM_MED[shield]} / ${STREAM_MED[js]})" "$(verdict "${STREAM_MED[shield]}" "${STREAM_MED[js]}" '>=' 0.95)" \
    "48 MiB streamed, watched ≥ 0.95× WATCH_BODIES=off (median MB/s)" "$(ratio "${STREAM_MED[shield]}" "${STREAM_MED[unwatched]}")× (${STREAM_MED[shield]} / ${STREAM_MED[unwatched]})" "$(verdict "${STREAM_MED[shield]}" "${STREAM_MED[unwatched]}" '>=' 0.95)" \
    "cold start ≤ 1.2× the minimal JS worker (median ms)" "${r_cold}× (${COLD[shield]} / ${COLD[js]})" "$(verdict "${COLD[shield]}" "${COLD[js]}" '<=' 1.2)"
  echo
  # The same pairs by server CPU per request (lower = cheaper): a req/s
  # target of k× corresponds to a CPU ratio of at most 1/k.
  echo "| same pairs, server CPU µs/req | measured | bound (1/target) | holds/missed |"
  echo "|---|---|---:|---|"
  cpu_line() { # label a b target
    local a b
    a=$(mean_cpu "$2") b=$(mean_cpu "$3")
    printf '| %s | %s× (%s / %s) | ≤ %s | %s |\n' "$1" "$(ratio "$a" "$b")" "$a" "$b" \
      "$(awk -v k="$4" 'BEGIN { printf "%.2f", 1 / k }')" "$(verdict "$a" "$b" '<=' "$(awk -v k="$4" 'BEGIN { print 1 / k }')")"
  }
  cpu_line "error-shield pass-through / equal-function JS" shield equal 1.00
  cpu_line "error-shield pass-through / minimal JS" shield js 0.90
  cpu_line "error-shield failure path / equal-function JS failure path" fail equalfail 1.00
  cpu_line "stale+retries pass-through / error-shield pass-through" stale shield 0.95
  cpu_line "watched bodies (the default) / WATCH_BODIES=off, pass-through" shield unwatched 0.97
  cpu_line "1 rule pass-through / no rules" route1 shield 0.97
  cpu_line "64 rules pass-through / no rules" route64 shield 0.97
  echo
  echo "Run wall time: $(($(date +%s) - STARTED)) s (watchdog ${TIME_LIMIT} s)."
} | tee bench/out/latest.md
