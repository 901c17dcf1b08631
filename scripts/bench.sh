#!/usr/bin/env bash
# `make bench` (issue 7, CONTRACT §7): error-shield against the bare origin
# and a minimal JavaScript pass-through worker, side by side in one run.
#
# Workers run under workerd itself (wrangler dev's proxy caps ~500 req/s),
# from a generated capnp config; the origin is nginx; load comes from wrk.
# Everything listens on 127.0.0.1 only, every server runs in its own process
# group and all of them are killed on exit, whatever the exit. Whole run
# ~2.5 min with the defaults; a watchdog ends it at BENCH_TIME_LIMIT.
#
# Knobs (environment): BENCH_DURATION (s per measurement, 10), BENCH_WARMUP
# (s, 3), BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_COLD_RUNS (3),
# BENCH_STREAM_RUNS (3), BENCH_PORT_BASE (28080), BENCH_TIME_LIMIT (290).
# The report also lands in bench/out/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
COLD_RUNS=${BENCH_COLD_RUNS:-3}
STREAM_RUNS=${BENCH_STREAM_RUNS:-3}
PORT_BASE=${BENCH_PORT_BASE:-28080}
TIME_LIMIT=${BENCH_TIME_LIMIT:-290}
COMPAT_DATE=2026-04-01
WORKERD=$ROOT/node_modules/@cloudflare/workerd-linux-64/bin/workerd
SMALL=/small.bin   # 4 KiB
BIG=/big.bin       # 48 MiB
FAIL=/fail         # the origin answers 500

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- preconditions and tools (installed only when missing) -----------------

for f in build/index.js build/shield.js build/index_bg.wasm; do
  [[ -f $f ]] || die "$f missing: run \`make build\` first"
done
[[ -x $WORKERD ]] || die "workerd missing at $WORKERD: run scripts/bootstrap.sh"

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
for tool in gzip setsid timeout awk; do
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
ORIGIN=http://127.0.0.1:$ORIGIN_PORT
JS=http://127.0.0.1:$JS_PORT
SHIELD=http://127.0.0.1:$SHIELD_PORT

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
BINDINGS="(name = \"ORIGIN_URL\", text = $(capnp_str "$ORIGIN"))"
BINDINGS_SHOWN="ORIGIN_URL=$ORIGIN"
while IFS=$'\t' read -r k v; do
  [[ -n $k && $k != ORIGIN_URL ]] || continue
  if [[ $v == \"*\" ]]; then
    BINDINGS+=", (name = \"$k\", text = $(capnp_str "${v:1:${#v}-2}"))"
  else
    BINDINGS+=", (name = \"$k\", json = $(capnp_str "$v"))"
  fi
  BINDINGS_SHOWN+=" $k=$v"
done < <(toml_bindings)

# write_config <dir> <port> <modules>
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
  bindings = [$BINDINGS],
  globalOutbound = "net",
);
EOF
}

# A snapshot of the build: a concurrent `make build` cannot swap files mid-run.
mkdir -p "$TMP/shield" "$TMP/js"
cp build/index.js build/shield.js build/index_bg.wasm "$TMP/shield/"
cp bench/passthrough.js "$TMP/js/"
write_config "$TMP/shield" "$SHIELD_PORT" '
    (name = "index.js", esModule = embed "index.js"),
    (name = "shield.js", esModule = embed "shield.js"),
    (name = "index_bg.wasm", wasm = embed "index_bg.wasm"),
  '
write_config "$TMP/js" "$JS_PORT" '(name = "passthrough.js", esModule = embed "passthrough.js")'

# Cold start: workerd start -> first 200 from the worker (polled with curl,
# so the resolution is a curl spawn, a few ms). Leaves the last one running.
# Sets COLD[name] (median ms), COLD_ALL[name] (every run) and FIRST[name]
# (median ms of the first successful request itself).
declare -A COLD COLD_ALL FIRST PG
start_worker() { # name dir url
  local name=$1 dir=$2 url=$3 i t0 t1 out runs=() firsts=()
  for ((i = 1; i <= COLD_RUNS; i++)); do
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
    runs+=($(((t1 - t0) / 1000000)))
    firsts+=("$(awk -v s="${out#* }" 'BEGIN { printf "%.1f", s * 1000 }')")
  done
  COLD[$name]=$(printf '%s\n' "${runs[@]}" | median)
  COLD_ALL[$name]=$(
    IFS=/
    echo "${runs[*]}"
  )
  FIRST[$name]=$(printf '%s\n' "${firsts[@]}" | median)
}

say "origin $ORIGIN, JS worker $JS, error-shield $SHIELD; cold starts (x$COLD_RUNS)"
start_worker js "$TMP/js" "$JS"
start_worker shield "$TMP/shield" "$SHIELD"

# --- sanity: every target answers what it should ----------------------------

check() { # what url expected-status expected-size
  local got
  got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 30 "$2")
  [[ $got == "$3 $4" || ($4 == "*" && ${got% *} == "$3") ]] || die "$1: $2 answered '$got', expected '$3 $4'"
}
check origin "$ORIGIN$SMALL" 200 4096
check origin "$ORIGIN$FAIL" 500 "*"
check "JS worker" "$JS$SMALL" 200 4096
check error-shield "$SHIELD$SMALL" 200 4096
check error-shield "$SHIELD$FAIL" 500 "*"
fail_body=$(curl -s -D "$TMP/fail.headers" --max-time 10 "$SHIELD$FAIL")
[[ $fail_body != *"must not leak"* ]] && ! grep -qi '^set-cookie' "$TMP/fail.headers" ||
  die "error-shield's failure path passed the origin's 500 through"
grep -qi '^x-request-id' "$TMP/fail.headers" || die "error-shield's 500 has no X-Request-Id"

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
stream js "$JS"
stream shield "$SHIELD"

# --- load: warm, then A B A B ----------------------------------------------

TARGETS=(origin js shield fail)
declare -A URL=([origin]="$ORIGIN$SMALL" [js]="$JS$SMALL" [shield]="$SHIELD$SMALL" [fail]="$SHIELD$FAIL")
declare -A LABEL=(
  [origin]="origin direct (nginx, 4 KiB)"
  [js]="JS pass-through worker"
  [shield]="error-shield pass-through"
  [fail]="error-shield failure path (origin 500)"
)
declare -A GROUP=([origin]=$NGINX_PG [js]=${PG[js]} [shield]=${PG[shield]} [fail]=${PG[shield]})
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
mean_rps() { awk -v a="$(field "$1,1" 1)" -v b="$(field "$1,2" 1)" 'BEGIN { printf "%.1f", (a + b) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

wasm_raw=$(wc -c <"$TMP/shield/index_bg.wasm")
wasm_gz=$(gzip -9c "$TMP/shield/index_bg.wasm" | wc -c)
js_raw=$(cat "$TMP/shield/index.js" "$TMP/shield/shield.js" | wc -c)
js_gz=$(cat "$TMP/shield/index.js" "$TMP/shield/shield.js" | gzip -9c | wc -c)
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }

mkdir -p bench/out
{
  echo "## error-shield benchmark — $(date -u +'%Y-%m-%d %H:%M UTC')"
  echo
  echo "workerd $("$WORKERD" --version 2>/dev/null | awk '{ print $2 }'), compat $COMPAT_DATE; $(nproc) CPUs, load $LOAD_START → $LOAD_END;" \
    "wrk -t$THREADS -c$CONNS, ${DURATION}s per run after ${WARMUP}s warm-up, runs interleaved A B A B; nginx 1 worker; vars: $BINDINGS_SHOWN"
  echo
  echo "| target | req/s run 1 | req/s run 2 | req/s mean | vs JS worker | p50 ms (1/2) | p99 ms (1/2) | server CPU µs/req (1/2) | non-2xx | socket errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  js_mean=$(mean_rps js)
  for t in "${TARGETS[@]}"; do
    m=$(mean_rps "$t")
    printf '| %s | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s | %s |\n' "${LABEL[$t]}" \
      "$(field "$t,1" 1)" "$(field "$t,2" 1)" "$m" "$(ratio "$m" "$js_mean")" \
      "$(field "$t,1" 2)" "$(field "$t,2" 2)" "$(field "$t,1" 3)" "$(field "$t,2" 3)" \
      "$(field "$t,1" 7)" "$(field "$t,2" 7)" \
      "$(($(field "$t,1" 5) + $(field "$t,2" 5)))" "$(($(field "$t,1" 4) + $(field "$t,2" 4)))"
  done
  echo
  echo "Server CPU = user+system time of the serving process group (workerd, or nginx for the origin) per request, from /proc: steadier than req/s on a busy machine."
  echo
  echo "| 48 MiB streamed | best MB/s | median MB/s (of $STREAM_RUNS) |"
  echo "|---|---:|---:|"
  printf '| %s | %s | %s |\n' "origin direct" "${STREAM_BEST[origin]}" "${STREAM_MED[origin]}" \
    "JS pass-through worker" "${STREAM_BEST[js]}" "${STREAM_MED[js]}" \
    "error-shield" "${STREAM_BEST[shield]}" "${STREAM_MED[shield]}"
  echo
  echo "| cold start (workerd start → first 200) | median ms | runs ms | first request ms (median) |"
  echo "|---|---:|---:|---:|"
  printf '| %s | %s | %s | %s |\n' "JS pass-through worker" "${COLD[js]}" "${COLD_ALL[js]}" "${FIRST[js]}" \
    "error-shield" "${COLD[shield]}" "${COLD_ALL[shield]}" "${FIRST[shield]}"
  echo
  echo "| size | raw | gzip -9 |"
  echo "|---|---:|---:|"
  printf '| %s | %s | %s |\n' "index_bg.wasm" "$wasm_raw B ($(kib "$wasm_raw"))" "$wasm_gz B ($(kib "$wasm_gz"))" \
    "JS (index.js + shield.js)" "$js_raw B ($(kib "$js_raw"))" "$js_gz B ($(kib "$js_gz"))"
  echo
  mean_cpu() { awk -v a="$(field "$1,1" 7)" -v b="$(field "$1,2" 7)" 'BEGIN { printf "%.1f", (a + b) / 2 }'; }
  echo "server CPU per request, error-shield vs JS worker: pass-through $(ratio "$(mean_cpu shield)" "$(mean_cpu js)"), failure path $(ratio "$(mean_cpu fail)" "$(mean_cpu js)")"
  echo "failure path vs JS pass-through: $(ratio "$(mean_rps fail)" "$js_mean")"
  echo "pass-through throughput vs js: $(ratio "$(mean_rps shield)" "$js_mean")"
} | tee bench/out/latest.md
