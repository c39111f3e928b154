#!/usr/bin/env bash
# Slow-client benchmark: how much legitimate throughput Tollgate keeps while
# hostile slow and fat clients hold connections open. wrk measures GET /
# through Tollgate with no attack (baseline) and under each attack in turn
# (benches/slow_clients.py holding ATTACKERS connections), interleaved: a
# round is baseline, attack 1, baseline, attack 2, ..., baseline, and every
# attack is reported as a ratio of the two baselines around it (same run).
#
#   benches/slow_clients.sh [--help]
#
# Attacks (benches/slow_clients.py; each reconnects whatever Tollgate closes):
#   head-trickle  request line + Host, then one header byte per second,
#                 never the end of the head (slowloris)
#   body-trickle  complete POST head, Content-Length: 10000, then one body
#                 byte per second
#   fat-head      a legal-size head (FAT_BYTES, under the 32 KiB per line,
#                 128 KiB total and 128 header limits) sent at once and never
#                 finished; the socket stays open
#
# Environment (defaults in brackets):
#   ATTACKS [head-trickle body-trickle fat-head]   attacks, in round order
#   ATTACKERS [2000]  attacker connections held open per attack
#   ROUNDS [1]        rounds (each: baselines around every attack); medians
#   DURATION [10]     seconds per wrk run
#   CONNS [32]        wrk connections (legitimate clients)
#   THREADS [1]       wrk threads
#   WARMUP [2]        seconds of wrk warm-up before round 1 (0: none)
#   RAMP_TIMEOUT [30] seconds to wait for ATTACKERS connections to be open
#                     before wrk starts (it starts anyway, with a warning)
#   SETTLE [2]        seconds between the ramp and wrk
#   DRAIN_TIMEOUT [30] seconds to wait, after stopping an attacker, for
#                     Tollgate's client connections to drain
#   BATCH [200]       attacker connects in flight at once (ramp-up speed)
#   FAT_BYTES [126000] fat-head: bytes of the whole head; PAD_BYTES [4000]
#                     value bytes per X-Pad-N line (Host + 32 lines by default)
#   BODY_LENGTH [10000] body-trickle: the announced Content-Length
#   BODY_TIMEOUT_MS [3000]  Tollgate's settings.body_timeout_ms
#   TOLLGATE_SETTINGS ['']  extra [settings] lines for Tollgate, separated by
#                     newlines or `;`, e.g. 'header_timeout_ms = 2000;
#                     body_min_rate_bytes_per_s = 1000' (written verbatim into
#                     the generated config, kept as tollgate.toml)
#   PIN [auto]        `0` disables taskset pinning
#   SUT_CPUS [0]      Tollgate's cores; BACKEND_CPUS [1] nginx's;
#   WRK_CPUS [1, 2 with 3+ cores], ATTACKER_CPUS [same as WRK_CPUS]
#   RESULTS_DIR       [target/slow-clients/<date>]
#   READY_TIMEOUT [10] seconds to wait for each port to accept connections
#   TOLLGATE_BIN [target/release/tollgate]  (not built by this script)
#
# Ports: backend nginx 127.0.0.1:18080 (config generated into the run
# directory: worker_processes 1, worker_connections 1024, `return 200 "ok\n"`
# for every method and path), Tollgate 127.0.0.1:18083 (config generated:
# one worker, default_api_rate_limit 1e9, body_timeout_ms BODY_TIMEOUT_MS,
# `ANY /` prefix proxied to the backend). The script refuses to start if
# either port is taken.
#
# Reported per attack, sampled when its wrk run ends: legit req/s (2xx
# answers only) and its ratio to the baseline of the same round, wrk p99 and
# errors (non-2xx + socket errors), Tollgate's VmRSS (and the highest of the
# per-second samples during the attack), established connections Tollgate
# holds towards the backend (ss, dport 18080) and from clients (sport
# 18083), attacker connections open, and how many the server closed during
# the attack; `after` is the baseline following the attack as a ratio of the
# one preceding it (did Tollgate recover once the attacker left?). Goal: every
# legit ratio >= 0.95 with the backend at 1,024 connections, and RSS under
# fat-head bounded by Tollgate's head budget.
set -euo pipefail

SCRIPT=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$SCRIPT")/.."

# ---------------------------------------------------------------- settings
ATTACKS=${ATTACKS:-head-trickle body-trickle fat-head}
ATTACKERS=${ATTACKERS:-2000}
ROUNDS=${ROUNDS:-1}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-2}
RAMP_TIMEOUT=${RAMP_TIMEOUT:-30}
SETTLE=${SETTLE:-2}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-30}
BATCH=${BATCH:-200}
FAT_BYTES=${FAT_BYTES:-126000}
PAD_BYTES=${PAD_BYTES:-4000}
BODY_LENGTH=${BODY_LENGTH:-10000}
BODY_TIMEOUT_MS=${BODY_TIMEOUT_MS:-3000}
TOLLGATE_SETTINGS=${TOLLGATE_SETTINGS:-}
PIN=${PIN:-auto}
READY_TIMEOUT=${READY_TIMEOUT:-10}

HOST=127.0.0.1
BACKEND_PORT=18080
TOLLGATE_PORT=18083
TOLLGATE_BIN=${TOLLGATE_BIN:-target/release/tollgate}
ATTACKER=benches/slow_clients.py

# Core assignment as in load.sh: Tollgate owns core 0; on the 2-core box
# wrk, the backend and the attacker share core 1 (the attacker's steady
# state is a few thousand 1-byte writes a second; its CPU share during each
# wrk run is reported as atk_cpu in the results).
NCPU=$(nproc 2>/dev/null || echo 1)
SUT_CPUS=${SUT_CPUS:-0}
BACKEND_CPUS=${BACKEND_CPUS:-1}
if ((NCPU >= 3)); then WRK_CPUS=${WRK_CPUS:-2}; else WRK_CPUS=${WRK_CPUS:-1}; fi
ATTACKER_CPUS=${ATTACKER_CPUS:-$WRK_CPUS}

# The header comment, from line 2 to the first line that is not a comment.
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$SCRIPT"; }

for arg in "$@"; do
    case "$arg" in
        -h | --help) usage; exit 0 ;;
        *) echo "slow_clients.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

for a in $ATTACKS; do
    case "$a" in
        head-trickle | body-trickle | fat-head) ;;
        *) echo "slow_clients.sh: unknown attack '$a' (known: head-trickle body-trickle fat-head)" >&2; exit 2 ;;
    esac
done

log() {
    printf '==> %s\n' "$*" >&2
    if [[ "$*" == WARNING* && -n "${RESULTS_DIR:-}" && -d "${RESULTS_DIR:-}" ]]; then printf '%s\n' "$*" >>"$RESULTS_DIR/warnings.txt"; fi
}
die() { printf 'slow_clients.sh: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=benches/common.sh
source benches/common.sh

# ---------------------------------------------------------------- tools
SUDO=""
if ((EUID != 0)); then SUDO=sudo; fi


install_tools() {
    local missing=()
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    [[ -n "$(find_nginx)" ]] || missing+=(nginx)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    command -v ss >/dev/null 2>&1 || missing+=(iproute2)
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get; install them by hand"
    log "installing ${missing[*]} with apt-get"
    local pkg
    for pkg in "${missing[@]}"; do
        if ! apt-cache show "$pkg" >/dev/null 2>&1; then
            log "package lists lack $pkg: apt-get update"
            $SUDO apt-get update
            break
        fi
    done
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

install_tools
NGINX_BIN=$(find_nginx)
[[ -n "$NGINX_BIN" ]] || die "nginx not found after install"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "python3 >= 3.11 needed for $ATTACKER"
[[ -x "$TOLLGATE_BIN" ]] || die "$TOLLGATE_BIN missing (cargo build --release, or set TOLLGATE_BIN)"

if [[ "$PIN" == 0 ]] || ((NCPU < 2)) || ! command -v taskset >/dev/null 2>&1; then
    PIN=0
    log "no CPU pinning (cores: $NCPU, taskset: $(command -v taskset || echo missing))"
else
    PIN=1
    log "pinning: tollgate -> cpu $SUT_CPUS, backend -> cpu $BACKEND_CPUS, wrk -> cpu $WRK_CPUS, attacker -> cpu $ATTACKER_CPUS"
fi

PREFIX=()

# 2000 attackers + 2000 backend connections need more than the usual 1024
# descriptors: Tollgate and the attacker inherit the hard limit.
ulimit -n "$(ulimit -Hn)" || die "could not raise ulimit -n to $(ulimit -Hn)"
(($(ulimit -n) >= 2 * ATTACKERS + 256)) \
    || log "WARNING: ulimit -n is $(ulimit -n), less than 2 x ATTACKERS + 256: Tollgate may run out of descriptors"

# ---------------------------------------------------------------- processes
RESULTS_DIR=${RESULTS_DIR:-target/slow-clients/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RESULTS_DIR"
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-slow.XXXXXX")
# nginx workers drop to `nobody` when started as root; let them in.
chmod 755 "$RUN_DIR"
PIDS=()
ATTACKER_PID=''
MONITOR_PID=''
WRK_PID=''

# stop_pid PID: TERM, up to 5 s, then KILL.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$? pid
    trap - EXIT INT TERM
    for pid in $WRK_PID $MONITOR_PID $ATTACKER_PID; do stop_pid "$pid"; done
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    [[ -f "$RUN_DIR/error.log" ]] && cp "$RUN_DIR/error.log" "$RESULTS_DIR/nginx-error.log"
    rm -rf "$RUN_DIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM



# start NAME PORT CPUS CMD...: start CMD in the background, wait for PORT,
# check that GET / answers 200. Sets STARTED_PID.
STARTED_PID=''
start() {
    local name=$1 port=$2 cpus=$3
    shift 3
    port_open "$port" && die "port $port is already in use; stop whatever listens there first"
    pin_prefix "$cpus"
    ${PREFIX[@]+"${PREFIX[@]}"} "$@" >"$RESULTS_DIR/$name.log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    wait_port "$port" "$name" "$STARTED_PID" "$RESULTS_DIR/$name.log"
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 5 "http://$HOST:$port/" \
            || die "$name is listening on $port but GET / failed"
    fi
    log "$name ready on $HOST:$port (pid $STARTED_PID)"
}

# Both ports are checked before anything starts.
for port in $BACKEND_PORT $TOLLGATE_PORT; do
    port_open "$port" && die "port $port is already in use; stop whatever listens there first"
done

# ---------------------------------------------------------------- backend
cat >"$RUN_DIR/nginx.conf" <<EOF
# Backend for benches/slow_clients.sh: nginx with its default-sized worker
# (1 process, 1024 connections), answering every request itself.
worker_processes 1;
daemon off;
pid $RUN_DIR/nginx.pid;
error_log $RUN_DIR/error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    default_type text/plain;
    client_body_temp_path $RUN_DIR/client_body;
    proxy_temp_path $RUN_DIR/proxy;
    fastcgi_temp_path $RUN_DIR/fastcgi;
    uwsgi_temp_path $RUN_DIR/uwsgi;
    scgi_temp_path $RUN_DIR/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 65s;

    server {
        listen $HOST:$BACKEND_PORT backlog=4096;
        # Any method; for \`return\` nginx reads and discards a request body.
        location / {
            return 200 "ok\n";
        }
    }
}
EOF
cp "$RUN_DIR/nginx.conf" "$RESULTS_DIR/nginx.conf"
"$NGINX_BIN" -t -q -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log" \
    || die "nginx rejected the generated config ($RESULTS_DIR/nginx.conf)"
start backend "$BACKEND_PORT" "$BACKEND_CPUS" "$NGINX_BIN" -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log"

# ---------------------------------------------------------------- tollgate
{
    cat <<EOF
# Generated by benches/slow_clients.sh: one worker proxying everything to
# the nginx backend (the shape of config/bench.toml's plain API).
[server]
workers = 1
driver = "auto"

[settings]
default_api_rate_limit = 1000000000
body_timeout_ms = $BODY_TIMEOUT_MS
EOF
    if [[ -n "$TOLLGATE_SETTINGS" ]]; then
        echo "# TOLLGATE_SETTINGS"
        printf '%s\n' "$TOLLGATE_SETTINGS" | tr ';' '\n' | sed 's/^[[:space:]]*//; /^$/d'
    fi
    cat <<EOF

[[listener]]
address = "$HOST:$TOLLGATE_PORT"

[[group]]
name = "DEFAULT"

[[group.api]]
name = "proxy"
method = "ANY"
path = "/"
match = "prefix"
[group.api.backend]
type = "http"
address = "$HOST:$BACKEND_PORT"
path = "/"
EOF
} >"$RUN_DIR/tollgate.toml"
cp "$RUN_DIR/tollgate.toml" "$RESULTS_DIR/tollgate.toml"
"$TOLLGATE_BIN" check -c "$RUN_DIR/tollgate.toml" >"$RESULTS_DIR/tollgate-check.log" 2>&1 \
    || { cat "$RESULTS_DIR/tollgate-check.log" >&2; die "Tollgate rejected the generated config ($RESULTS_DIR/tollgate.toml)"; }
start tollgate "$TOLLGATE_PORT" "$SUT_CPUS" "$TOLLGATE_BIN" run -c "$RUN_DIR/tollgate.toml"
TOLLGATE_PID=$STARTED_PID

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "tollgate: $TOLLGATE_BIN ($(stat -c %y "$TOLLGATE_BIN" 2>/dev/null || echo '?'))"
    echo "kernel: $(uname -r)"
    echo "cpus: $NCPU ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'))"
    echo "pinning: $( ((PIN)) && echo "tollgate=$SUT_CPUS backend=$BACKEND_CPUS wrk=$WRK_CPUS attacker=$ATTACKER_CPUS" || echo off)"
    echo "wrk: $(wrk -v 2>&1 | head -n1)"
    echo "nginx: $("$NGINX_BIN" -v 2>&1)"
    echo "python: $(python3 --version 2>&1)"
    echo "ulimit -n: $(ulimit -n)"
    echo "attacks=[$ATTACKS] attackers=$ATTACKERS rounds=$ROUNDS duration=${DURATION}s conns=$CONNS threads=$THREADS"
    echo "fat_bytes=$FAT_BYTES pad_bytes=$PAD_BYTES body_length=$BODY_LENGTH body_timeout_ms=$BODY_TIMEOUT_MS"
    echo "tollgate_settings: ${TOLLGATE_SETTINGS:-(none)}"
} >"$RESULTS_DIR/env.txt"

# ---------------------------------------------------------------- probes
backend_conns() { ss -tnH state established "( dport = :$BACKEND_PORT )" 2>/dev/null | wc -l; }
client_conns() { ss -tnH state established "( sport = :$TOLLGATE_PORT )" 2>/dev/null | wc -l; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$TOLLGATE_PID/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Last status line of the attacker: "<time> open=N connects=N closes=N ...".
atk_field() { tail -n 1 "$1" 2>/dev/null | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }

# monitor FILE: one line per second, "<time> rss_kib backend clients", until killed.
start_monitor() {
    (
        while :; do
            echo "$(date +%s) $(rss_kib) $(backend_conns) $(client_conns)"
            sleep 1
        done
    ) >"$1" 2>/dev/null &
    MONITOR_PID=$!
}
stop_monitor() { [[ -n "$MONITOR_PID" ]] && stop_pid "$MONITOR_PID"; MONITOR_PID=''; }

# ---------------------------------------------------------------- attacker
# start_attacker MODE STATUSFILE: start, wait for the ramp (or the deadline).
start_attacker() {
    local mode=$1 status=$2 open=0
    : >"$status"
    pin_prefix "$ATTACKER_CPUS"
    ${PREFIX[@]+"${PREFIX[@]}"} python3 "$ATTACKER" --mode "$mode" --host "$HOST" --port "$TOLLGATE_PORT" \
        --conns "$ATTACKERS" --batch "$BATCH" --body-length "$BODY_LENGTH" \
        --fat-bytes "$FAT_BYTES" --pad-bytes "$PAD_BYTES" --status "$status" \
        >"${status%.status}.log" 2>&1 &
    ATTACKER_PID=$!
    local start=$SECONDS
    while :; do
        sleep 0.5
        kill -0 "$ATTACKER_PID" 2>/dev/null || { cat "${status%.status}.log" >&2; die "attacker $mode exited"; }
        open=$(atk_field "$status" open)
        ((${open:-0} >= ATTACKERS)) && break
        if ((SECONDS - start >= RAMP_TIMEOUT)); then
            log "WARNING: $mode: only ${open:-0} of $ATTACKERS attacker connections open after ${RAMP_TIMEOUT}s"
            break
        fi
    done
    log "$mode: ${open:-0} attacker connections open after $((SECONDS - start))s; tollgate rss $(($(rss_kib) / 1024)) MiB, backend conns $(backend_conns)"
    sleep "$SETTLE"
}

# stop_attacker: SIGTERM, then wait for Tollgate's client connections to
# drain (wrk has finished: none should remain).
stop_attacker() {
    [[ -n "$ATTACKER_PID" ]] || return 0
    stop_pid "$ATTACKER_PID"
    ATTACKER_PID=''
    local start=$SECONDS n
    while n=$(client_conns); ((n > 0)); do
        if ((SECONDS - start >= DRAIN_TIMEOUT)); then
            log "WARNING: $n client connections still established ${DRAIN_TIMEOUT}s after the attacker stopped"
            break
        fi
        sleep 0.5
    done
    log "drained in $((SECONDS - start))s: client conns $(client_conns) (close-wait $(ss -tnH state close-wait "( sport = :$TOLLGATE_PORT )" 2>/dev/null | wc -l)), backend conns $(backend_conns), rss $(($(rss_kib) / 1024)) MiB"
}

# ---------------------------------------------------------------- runs

# run_wrk SECONDS OUTFILE: wrk against Tollgate; appends the steal share.
run_wrk() {
    local steal0 steal
    steal0=$(steal_ticks)
    pin_prefix "$WRK_CPUS"
    # In the background: a signal's trap runs at once during `wait`, but only
    # after a foreground command ends.
    ${PREFIX[@]+"${PREFIX[@]}"} wrk -t"$THREADS" -c"$CONNS" -d"$1"s --latency "http://$HOST:$TOLLGATE_PORT/" >"$2" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || die "wrk failed (output: $2)"
    WRK_PID=
    echo "# loadavg after run: $(cat /proc/loadavg 2>/dev/null || echo n/a)" >>"$2"
    steal=$(echo "$steal0 $(steal_ticks)" | awk '{ all = $4 - $2; printf "%.1f\n", all ? 100 * ($3 - $1) / all : 0 }')
    echo "# cpu steal during run: $steal%" >>"$2"
    if awk -v s="$steal" 'BEGIN { exit !(s > 2) }'; then log "WARNING: $steal% cpu steal during $2 (hypervisor): noisy"; fi
}

# parse_wrk FILE: "<2xx req/s> <p99 us> <errors>": requests minus non-2xx
# over the run's seconds; errors = non-2xx + socket errors.
parse_wrk() {
    awk '
        function us(v) {
            if (v ~ /us$/) return v + 0
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) * 1000
            if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000000
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000000
            return v + 0
        }
        / requests in / { n = $1; t = $4; sub(/,$/, "", t); secs = us(t) / 1000000 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        /Socket errors:/ {
            for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) { v = $i; sub(/,/, "", v); serr += v }
        }
        $1 == "99%" { p99 = us($2) }
        END {
            if (n == "" || !secs) exit 1
            printf "%.0f %.0f %d\n", (n - bad) / secs, p99 + 0, bad + serr
        }' "$1"
}

# One result line per run, in $RESULTS_DIR/results.txt:
# seq round phase rps p99 errors rss_end_kib rss_max_kib backend clients atk_open atk_closes atk_cpu%
RESULTS=$RESULTS_DIR/results.txt
echo "seq round phase rps p99_us errors rss_kib rss_max_kib backend_conns client_conns atk_open atk_closes atk_cpu_pct" >"$RESULTS"
HZ=$(getconf CLK_TCK)
SEQ=0

# measure ROUND PHASE: one wrk run (under the attack already running, if
# any), then the probes, appended to results.txt. Files of the run:
# $RESULTS_DIR/<seq>-<phase>-r<round>.*
measure() {
    local round=$1 phase=$2 status="$RESULTS_DIR/$ATTACK_TAG.status"
    SEQ=$((SEQ + 1))
    local tag
    tag=$(printf '%02d-%s-r%s' "$SEQ" "$phase" "$round")
    local out="$RESULTS_DIR/$tag.txt"
    local closes0=0 cpu0=0 t0 parsed
    if [[ -n "$ATTACKER_PID" ]]; then
        closes0=$(atk_field "$status" closes)
        cpu0=$(cpu_ticks "$ATTACKER_PID")
    fi
    t0=$(date +%s.%N)
    start_monitor "$RESULTS_DIR/$tag.monitor"
    log "round $round/$ROUNDS: $phase (${DURATION}s, $CONNS conns)"
    run_wrk "$DURATION" "$out"
    local rss backend clients open=- closes=- cpu=-
    rss=$(rss_kib); backend=$(backend_conns); clients=$(client_conns)
    if [[ -n "$ATTACKER_PID" ]]; then
        open=$(atk_field "$status" open)
        closes=$(($(atk_field "$status" closes) - ${closes0:-0}))
        cpu=$(awk -v a="$cpu0" -v b="$(cpu_ticks "$ATTACKER_PID")" -v hz="$HZ" -v t0="$t0" -v t1="$(date +%s.%N)" \
            'BEGIN { printf "%.0f", 100 * (b - a) / hz / (t1 - t0) }')
    fi
    stop_monitor
    local rss_max
    rss_max=$(awk -v r="$rss" '$2 > r { r = $2 } END { print r }' "$RESULTS_DIR/$tag.monitor")
    parsed=$(parse_wrk "$out") || die "could not parse $out"
    echo "$SEQ $round $phase $parsed $rss $rss_max $backend $clients $open $closes $cpu" >>"$RESULTS"
    log "$phase: $(echo "$parsed" | awk '{ printf "%s req/s 2xx, p99 %s us, %s errors", $1, $2, $3 }'), rss $((rss / 1024)) MiB, backend $backend, clients $clients, attacker open $open"
}

# Share of all cores busy over one second, from /proc/stat: other people's
# builds on the shared box skew every number, so say so before measuring.
if [[ -r /proc/stat ]]; then
    BUSY=$(cpu_busy_pct)
    echo "cpu busy before runs: ${BUSY}%" >>"$RESULTS_DIR/env.txt"
    ((BUSY <= 10)) || log "WARNING: the machine is ${BUSY}% busy before the benchmark; results will be noisy"
fi

if ((WARMUP > 0)); then
    log "warm-up (${WARMUP}s)"
    run_wrk "$WARMUP" "$RESULTS_DIR/warmup.txt"
fi

ATTACK_TAG=''
for ((r = 1; r <= ROUNDS; r++)); do
    measure "$r" baseline
    for a in $ATTACKS; do
        # The attacker's status file is named after the attack's own run.
        ATTACK_TAG=$(printf '%02d-%s-r%s' "$((SEQ + 1))" "$a" "$r")
        start_attacker "$a" "$RESULTS_DIR/$ATTACK_TAG.status"
        measure "$r" "$a"
        stop_attacker
        measure "$r" baseline
    done
done

# ---------------------------------------------------------------- report
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) exit; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Per attack run: "<round> <attack> <ratio> <after>": its req/s over the
# mean of the baselines just before and after it, and the baseline after
# over the baseline before.
awk 'NR > 1 { rps[$1] = $4; ph[$1] = $3; rd[$1] = $2; n = $1 }
    END {
        for (i = 2; i < n; i++) {
            if (ph[i] == "baseline" || ph[i - 1] != "baseline" || ph[i + 1] != "baseline") continue
            b = (rps[i - 1] + rps[i + 1]) / 2
            printf "%s %s %.3f %.3f\n", rd[i], ph[i], b ? rps[i] / b : 0, rps[i - 1] ? rps[i + 1] / rps[i - 1] : 0
        }
    }' "$RESULTS" >"$RESULTS_DIR/ratios.txt"

col() { awk -v p="$1" -v c="$2" 'NR > 1 && $3 == p && $c != "-" { print $c }' "$RESULTS" | median; }

{
    echo
    echo "Slow clients: wrk -t$THREADS -c$CONNS -d${DURATION}s GET / through Tollgate, $ATTACKERS attacker connections per attack,"
    echo "backend nginx worker_connections 1024; median of $ROUNDS round(s); $(date -u +%Y-%m-%d) git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    [[ -n "$TOLLGATE_SETTINGS" ]] && echo "TOLLGATE_SETTINGS: $TOLLGATE_SETTINGS"
    printf '%-13s %9s %7s %6s %9s %7s %8s %8s %8s %8s %8s %8s %7s\n' \
        phase 'req/s' ratio after 'p99(ms)' errors 'rss(MiB)' 'rssmax' backend clients 'atk open' 'atk cls' 'atk cpu'
    for p in baseline $ATTACKS; do
        ratio=$(awk -v p="$p" '$2 == p { print $3 }' "$RESULTS_DIR/ratios.txt" | median)
        after=$(awk -v p="$p" '$2 == p { print $4 }' "$RESULTS_DIR/ratios.txt" | median)
        open=$(col "$p" 11); closes=$(col "$p" 12); cpu=$(col "$p" 13)
        printf '%-13s %9.0f %7s %6s %9.1f %7.0f %8.1f %8.1f %8.0f %8.0f %8s %8s %7s\n' \
            "$p" "$(col "$p" 4)" "${ratio:--}" "${after:--}" "$(col "$p" 5 | awk '{ print $1 / 1000 }')" "$(col "$p" 6)" \
            "$(col "$p" 7 | awk '{ print $1 / 1024 }')" "$(col "$p" 8 | awk '{ print $1 / 1024 }')" \
            "$(col "$p" 9)" "$(col "$p" 10)" "${open:--}" "${closes:--}" "$([[ "${cpu:--}" == - ]] && echo - || echo "$cpu%")"
    done
    echo "baselines in run order (req/s): $(awk 'NR > 1 && $3 == "baseline" { printf "%s ", $4 }' "$RESULTS")"
    echo
    awk -v atk="$ATTACKS" 'BEGIN { n = split(atk, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
        want[$2] { r[$2] = r[$2] " " $3; if ($3 < 0.95) bad[$2] = 1 }
        END { for (i = 1; i <= n; i++) printf "%s: per-round ratios%s -> %s\n", a[i], r[a[i]], (a[i] in bad) ? "BELOW the 0.95 goal" : "meets the 0.95 goal" }' \
        "$RESULTS_DIR/ratios.txt"
    if grep -q 'WARNING' "$RESULTS_DIR/warnings.txt" 2>/dev/null; then
        echo "warnings (noisy box?):"; sed 's/^/  /' "$RESULTS_DIR/warnings.txt"
    fi
    echo "(req/s: 2xx answers only; ratio: attack / mean of the baselines around it; after: baseline after / before;"
    echo " errors: non-2xx + wrk socket errors; rss, backend (Tollgate->:$BACKEND_PORT), clients"
    echo " (->:$TOLLGATE_PORT, wrk + attacker) and atk open sampled as wrk ends; rssmax: highest 1 s sample in the run;"
    echo " atk cls: attacker connections the server closed during the run)"
    echo "raw output: $RESULTS_DIR"
} | tee "$RESULTS_DIR/summary.txt"
