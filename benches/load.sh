#!/usr/bin/env bash
# Load benchmark: wrk against the bench upstream directly, through Tollgate,
# and through nginx, in interleaved rounds; prints the median of each.
#
#   benches/load.sh [--no-tollgate] [--no-build] [--help]
#
# Environment (defaults in brackets):
#   ROUNDS [3]        interleaved rounds of direct, tollgate, nginx
#   DURATION [10]     seconds per wrk run
#   CONNS [32]        wrk connections
#   THREADS [1]       wrk threads
#   WARMUP [3]        seconds of warm-up per target before round 1 (0: none)
#   MODE [plain]      what is benchmarked:
#                       plain      HTTP/1.1 GET / through the plain proxy API
#                       api-model  also the `mapped` API of config/bench.toml
#                                  (three parameters mapped, five backend
#                                  policies, behaviour.md §8-§9) on the same
#                                  Tollgate, reported as a ratio of plain;
#                                  every target then gets the same request
#                                  shape (GET /plain/v1.0/abc?test03=xyz,
#                                  test02: def) through the plain API
#                       https      GET / like plain, but wrk speaks TLS 1.3
#                                  (keep-alive) to Tollgate and nginx, which
#                                  terminate it with the same certificate
#                                  (ECDSA P-256, generated with openssl for
#                                  each run) and proxy plain HTTP to the
#                                  upstream; `direct` stays plain HTTP
#                       app-auth   also a `signed` API with app
#                                  authentication (SDK-HMAC-SHA256; an
#                                  [[app]] and the API appended to
#                                  TOLLGATE_CONFIG in the run directory)
#                                  on the same Tollgate, reported as a
#                                  ratio of the plain API and of nginx.
#                                  Before each wrk run the script signs
#                                  one GET /signed (python3, a fresh
#                                  X-Sdk-Date, Host as wrk sends it) and
#                                  wrk replays it; the other targets get
#                                  GET /public with the same headers.
#                                  DURATION <= 840 (the 15-minute window)
#                       throttle   also the `throttled` API of
#                                  config/bench.toml (GET /throttled, bound
#                                  to a classic policy with API and IP
#                                  limits that never trigger, §13) on the
#                                  same Tollgate, reported as a ratio of
#                                  the plain API (goal: within 3 %); the
#                                  other targets get GET /unthrottl (same
#                                  length) through the plain proxy API
#   PIN [auto]        `0` disables taskset pinning
#   SUT_CPUS, UPSTREAM_CPUS, WRK_CPUS   core lists for taskset (see below)
#   RESULTS_DIR       where raw wrk output goes [target/load/<date>-<mode>]
#   READY_TIMEOUT [10] seconds to wait for each port to accept connections
#   TOLLGATE_BIN [target/release/tollgate], TOLLGATE_CONFIG [config/bench.toml]
#
# Ports: upstream 127.0.0.1:18080, Tollgate 127.0.0.1:18083 (config/bench.toml),
# nginx 127.0.0.1:18084 (benches/nginx.conf.template). MODE=https instead:
# Tollgate 127.0.0.1:18443 (TOLLGATE_CONFIG with its 18083 listener turned
# into a TLS one and a [[certificate]] added, written next to the generated
# certificate in the run directory), nginx 127.0.0.1:18444
# (benches/nginx-https.conf.template). Nothing else may be listening there:
# the script refuses to start if a port is already taken, because
# SO_REUSEPORT would silently share it with a stranger's process.
# MODE=app-auth: ports as in plain mode; the Tollgate config is written to the
# run directory (and kept as tollgate.toml in the results).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# ---------------------------------------------------------------- settings
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-3}
MODE=${MODE:-plain}
PIN=${PIN:-auto}
READY_TIMEOUT=${READY_TIMEOUT:-10}

HOST=127.0.0.1
UPSTREAM_PORT=18080
TOLLGATE_PORT=18083
NGINX_PORT=18084
TOLLGATE_TLS_PORT=18443
NGINX_TLS_PORT=18444
# MODE=https: the name on the generated certificate. wrk's SNI is the URL's
# host, an IP address, which names no domain: Tollgate serves the
# certificate as the listener's default_certificate, nginx as its only
# server's certificate.
TLS_NAME=bench.example.test
TOLLGATE_BIN=${TOLLGATE_BIN:-target/release/tollgate}
TOLLGATE_CONFIG=${TOLLGATE_CONFIG:-config/bench.toml}
UPSTREAM_BIN=target/release/examples/upstream

# Core assignment. The system under test (Tollgate OR nginx, never both at
# once: only the one being measured gets traffic) owns core 0, so the proxy
# being measured never competes with the load generator. On the 2-core bench
# box wrk and the upstream share core 1: both are cheap per request next to
# the proxy, and keeping them off core 0 is what makes Tollgate and nginx
# comparable. The `direct` run (wrk -> upstream) then uses core 1 only; it is
# a ceiling for the harness, not a proxy result. With 3+ cores wrk gets its
# own core. Override with SUT_CPUS / UPSTREAM_CPUS / WRK_CPUS (taskset -c
# lists, e.g. "2" or "2,3").
NCPU=$(nproc 2>/dev/null || echo 1)
SUT_CPUS=${SUT_CPUS:-0}
UPSTREAM_CPUS=${UPSTREAM_CPUS:-1}
if ((NCPU >= 3)); then WRK_CPUS=${WRK_CPUS:-2}; else WRK_CPUS=${WRK_CPUS:-1}; fi

RUN_TOLLGATE=1
BUILD=1

# The header comment, from line 2 to the first line that is not a comment.
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

for arg in "$@"; do
    case "$arg" in
        --no-tollgate) RUN_TOLLGATE=0 ;;
        --no-build) BUILD=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "load.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

# Per-target port, scheme, request path and extra request header; `model`
# (api-model) and `signed` (app-auth) are the same Tollgate process's other
# API.
MODEL_PATH='/v1.0/abc?test03=xyz'
# MODE=app-auth: the signed API's path and the path the other targets get
# (same length; /public reaches the plain proxy API), and the bench app.
APP_SIGNED_PATH=/signed
APP_PLAIN_PATH=/public
APP_KEY=4f5b0d2a8c1e4b7f9a3d6e2c1b0a9f8e
APP_SECRET=9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a
declare -A PORT=([direct]=$UPSTREAM_PORT [tollgate]=$TOLLGATE_PORT [nginx]=$NGINX_PORT)
declare -A TSCHEME=([direct]=http [upstream]=http)
declare -A TPATH=() THEADER=()
REQ_HEADER=''
NGINX_TEMPLATE=benches/nginx.conf.template
case "$MODE" in
    plain) SCHEME=http; REQ_PATH=/ ;;
    # Every target gets the model's request shape (same bytes from wrk and
    # to the upstream, which share a core): the plain proxy API sees it
    # under /plain/, so the ratio measures the gateway's work, not the
    # harness's.
    api-model) SCHEME=http; REQ_PATH="/plain$MODEL_PATH"; REQ_HEADER='test02: def' ;;
    # The plain request over TLS to the proxies; the upstream side and the
    # `direct` reference stay plain HTTP.
    https)
        SCHEME=https; REQ_PATH=/
        PORT[tollgate]=$TOLLGATE_TLS_PORT
        PORT[nginx]=$NGINX_TLS_PORT
        NGINX_TEMPLATE=benches/nginx-https.conf.template
        ;;
    # As in api-model, every target gets the signed request's shape: a path
    # of the same length and the same two auth headers (signed afresh before
    # each wrk run, see sign_request), so the signed/plain ratio measures
    # the gateway's verification, not the harness's extra bytes.
    app-auth) SCHEME=http; REQ_PATH=$APP_PLAIN_PATH ;;
    # The throttled API's path and a plain-proxy path of the same length.
    throttle) SCHEME=http; REQ_PATH=/unthrottl ;;
    # Future modes go here, each setting SCHEME/REQ_PATH (and, if needed, a
    # wrk -s script).
    *) echo "load.sh: unknown MODE '$MODE' (known: plain, api-model, https, app-auth, throttle)" >&2; exit 2 ;;
esac

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'load.sh: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=benches/common.sh
source benches/common.sh

# ---------------------------------------------------------------- tools
SUDO=""
if ((EUID != 0)); then SUDO=sudo; fi


install_tools() {
    local missing=()
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    [[ -n "$(find_nginx)" ]] || missing+=(nginx)
    if [[ "$MODE" == https ]] && ! command -v openssl >/dev/null 2>&1; then missing+=(openssl); fi
    if [[ "$MODE" == app-auth ]] && ! command -v python3 >/dev/null 2>&1; then missing+=(python3); fi
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

if [[ "$PIN" == 0 ]] || ((NCPU < 2)) || ! command -v taskset >/dev/null 2>&1; then
    PIN=0
    log "no CPU pinning (cores: $NCPU, taskset: $(command -v taskset || echo missing))"
else
    PIN=1
    log "pinning: system under test -> cpu $SUT_CPUS, upstream -> cpu $UPSTREAM_CPUS, wrk -> cpu $WRK_CPUS"
fi

# pin_prefix CPUS: set PREFIX to the command words that run a command on
# CPUS (empty when pinning is off). An array rather than a wrapper function,
# so that `"${PREFIX[@]}" cmd &` execs cmd and $! is its real pid.
PREFIX=()

# ---------------------------------------------------------------- build
if ((BUILD)); then
    log "cargo build --release --bin tollgate --example upstream"
    cargo build --release --bin tollgate --example upstream
fi
[[ -x "$UPSTREAM_BIN" ]] || die "$UPSTREAM_BIN missing (run without --no-build)"

if ((RUN_TOLLGATE)); then
    if [[ ! -x "$TOLLGATE_BIN" ]]; then
        log "SKIPPING Tollgate: $TOLLGATE_BIN does not exist"
        RUN_TOLLGATE=0
    elif [[ ! -f "$TOLLGATE_CONFIG" ]]; then
        log "SKIPPING Tollgate: $TOLLGATE_CONFIG does not exist (it must listen on $HOST:$TOLLGATE_PORT and proxy to $HOST:$UPSTREAM_PORT)"
        RUN_TOLLGATE=0
    fi
else
    log "SKIPPING Tollgate: --no-tollgate"
fi

# ---------------------------------------------------------------- processes
RESULTS_DIR=${RESULTS_DIR:-target/load/$(date +%Y%m%d-%H%M%S)-$MODE}
mkdir -p "$RESULTS_DIR"
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-load.XXXXXX")
# nginx workers drop to `nobody` when started as root; let them in.
chmod 755 "$RUN_DIR"
PIDS=()

cleanup() {
    local status=$? pid i
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [[ -f "$RUN_DIR/error.log" ]] && cp "$RUN_DIR/error.log" "$RESULTS_DIR/nginx-error.log"
    rm -rf "$RUN_DIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# wait_port PORT NAME PID LOG: poll until PORT accepts, with a deadline.

# start NAME PORT CPUS CMD...: start CMD in the background, wait for PORT.
start() {
    local name=$1 port=$2 cpus=$3 scheme=${TSCHEME[$1]:-$SCHEME}
    shift 3
    port_open "$port" && die "port $port is already in use; stop whatever listens there first"
    pin_prefix "$cpus"
    ${PREFIX[@]+"${PREFIX[@]}"} "$@" >"$RESULTS_DIR/$name.log" 2>&1 &
    PIDS+=($!)
    wait_port "$port" "$name" "$!" "$RESULTS_DIR/$name.log"
    if command -v curl >/dev/null 2>&1; then
        # -k: like wrk, which does not verify certificates; tls_check does.
        curl -fsS -k -o /dev/null --max-time 5 "$scheme://$HOST:$port$REQ_PATH" \
            || die "$name is listening on $port but GET $REQ_PATH failed"
    fi
    log "$name ready on $HOST:$port (pid $!)"
}

# ---------------------------------------------------------------- MODE=https
# One self-signed ECDSA P-256 certificate per run, served by both proxies.
TLS_CERT=$RUN_DIR/bench.pem
TLS_KEY=$RUN_DIR/bench.key
declare -A TLS_INFO=() TLS_SUITE=()

make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=$TLS_NAME" -addext "subjectAltName=DNS:$TLS_NAME" \
        -keyout "$TLS_KEY" -out "$TLS_CERT" >"$RESULTS_DIR/openssl-req.log" 2>&1 \
        || die "openssl could not generate the certificate ($RESULTS_DIR/openssl-req.log)"
    cp "$TLS_CERT" "$RESULTS_DIR/bench.pem"
    log "certificate: $(openssl x509 -in "$TLS_CERT" -noout -subject -fingerprint -sha256)"
}

# tollgate_https_config BASE OUT: BASE (config/bench.toml) with its plain
# listener turned into the TLS listener and the run's certificate added.
# OUT lives next to the certificate: Tollgate resolves relative paths
# against the config file's directory.
tollgate_https_config() {
    local base=$1 out=$2 line="address = \"$HOST:$TOLLGATE_PORT\""
    [[ $(grep -cxF "$line" "$base") == 1 ]] \
        || die "$base needs exactly one line '$line' (its listener) for MODE=https"
    {
        sed "s|^$line\$|address = \"$HOST:$TOLLGATE_TLS_PORT\"\ntls = true\ndefault_certificate = \"bench\"|" "$base"
        printf '\n# Added by benches/load.sh for MODE=https: the certificate of this run.\n'
        printf '[[certificate]]\nname = "bench"\ncert = "%s"\nkey = "%s"\n' "${TLS_CERT##*/}" "${TLS_KEY##*/}"
    } >"$out"
    cp "$out" "$RESULTS_DIR/tollgate.toml"
}

# tls_check NAME PORT: handshake as wrk does (OpenSSL's default offer, the
# URL's host as SNI), verify that the run's certificate is served, and
# record the negotiated protocol, cipher suite, key-exchange group and
# signature type.
tls_check() {
    local name=$1 port=$2 out="$RESULTS_DIR/tls-$1.txt"
    openssl s_client -connect "$HOST:$port" -servername "$HOST" -brief -CAfile "$TLS_CERT" \
        -verify_hostname "$TLS_NAME" -verify_return_error </dev/null >"$out" 2>&1 \
        || die "TLS handshake with $name on $port failed ($out)"
    TLS_SUITE[$name]=$(awk -F': *' '/^Ciphersuite:/ { print $2 }' "$out")
    TLS_INFO[$name]="$(awk -F': *' '/^Protocol version:/ { print $2 }' "$out") ${TLS_SUITE[$name]}"
    TLS_INFO[$name]+=" $(awk -F': *' '/^Server Temp Key:/ { sub(/,.*/, "", $2); print $2 }' "$out")"
    TLS_INFO[$name]+=" $(awk -F': *' '/^Signature type:/ { print $2 }' "$out")"
    log "$name TLS: ${TLS_INFO[$name]}"
}

if [[ "$MODE" == https ]]; then
    make_cert
    if ((RUN_TOLLGATE)); then
        tollgate_https_config "$TOLLGATE_CONFIG" "$RUN_DIR/tollgate.toml"
        TOLLGATE_CONFIG=$RUN_DIR/tollgate.toml
    fi
fi

# ---------------------------------------------------------------- MODE=app-auth
# tollgate_app_config BASE OUT: BASE (config/bench.toml) with the bench app
# and the `signed` API appended (to its last [[group]], DEFAULT). The plain
# API and everything else are unchanged, so the other modes keep their
# config byte for byte. The signed API forwards to $APP_PLAIN_PATH, so the
# upstream gets the same request head from both APIs.
tollgate_app_config() {
    local base=$1 out=$2
    {
        cat "$base"
        cat <<EOF

# Added by benches/load.sh for MODE=app-auth: one app and one API with app
# authentication (behaviour.md §11, app-signing.md) to the same upstream.
[[app]]
name = "bench"
key = "$APP_KEY"
secret = "$APP_SECRET"

[[group.api]]
name = "signed"
method = "ANY"
path = "$APP_SIGNED_PATH"
match = "prefix"
[group.api.auth]
type = "app"
grants = { RELEASE = ["bench"] }
[group.api.backend]
type = "http"
address = "$HOST:$UPSTREAM_PORT"
path = "$APP_PLAIN_PATH"
EOF
    } >"$out"
    cp "$out" "$RESULTS_DIR/tollgate.toml"
}

# sign_request METHOD PATH HOST: set SIGN_DATE and SIGN_AUTH to the
# X-Sdk-Date and Authorization headers of METHOD PATH (no query, empty body)
# signed now by the bench app, with SignedHeaders host;x-sdk-date
# (app-signing.md §2-§5). HOST must be the Host header wrk sends:
# "127.0.0.1:PORT". wrk's LuaJIT has no HMAC, so wrk replays this one
# signed request for a whole run (the scheme has no nonce; X-Sdk-Date
# allows 15 minutes, and each run signs afresh).
SIGN_DATE='' SIGN_AUTH=''
sign_request() {
    local out
    out=$(python3 - "$APP_KEY" "$APP_SECRET" "$1" "$2" "$3" <<'PY'
import datetime, hashlib, hmac, sys
from urllib.parse import quote, unquote
key, secret, method, path, host = sys.argv[1:]
date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
# CanonicalURI (§2.2): decode, split on "/", re-encode each segment, end in "/".
uri = "/".join(quote(seg, safe="~") for seg in unquote(path).split("/"))
if not uri.endswith("/"):
    uri += "/"
canonical = "\n".join([method, uri, "", f"host:{host}\nx-sdk-date:{date}\n",
                       "host;x-sdk-date", hashlib.sha256(b"").hexdigest()])
to_sign = f"SDK-HMAC-SHA256\n{date}\n" + hashlib.sha256(canonical.encode()).hexdigest()
sig = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
print(date)
print(f"SDK-HMAC-SHA256 Access={key}, SignedHeaders=host;x-sdk-date, Signature={sig}")
PY
    ) || die "python3 could not sign $1 $2"
    SIGN_DATE=${out%%$'\n'*}
    SIGN_AUTH=${out#*$'\n'}
}

# app_check: the signed request must get 200 from the signed API, and the
# same request unsigned must not (else the benchmark measures no auth).
app_check() {
    local url="$SCHEME://$HOST:$TOLLGATE_PORT$APP_SIGNED_PATH" body="$RESULTS_DIR/app-check.txt" code
    sign_request GET "$APP_SIGNED_PATH" "$HOST:$TOLLGATE_PORT"
    code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 5 \
        -H "X-Sdk-Date: $SIGN_DATE" -H "Authorization: $SIGN_AUTH" "$url") \
        || die "the signed API of $RESULTS_DIR/tollgate.toml does not answer GET $APP_SIGNED_PATH"
    if [[ "$code" != 200 ]]; then
        cat "$body" >&2; echo >&2
        die "signed GET $APP_SIGNED_PATH answered $code, not 200 (body above; config $RESULTS_DIR/tollgate.toml)"
    fi
    code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 5 "$url") \
        || die "the signed API does not answer an unsigned GET $APP_SIGNED_PATH"
    [[ "$code" == 401 ]] || die "unsigned GET $APP_SIGNED_PATH answered $code, not 401: app authentication is not on"
    log "signed API: signed GET $APP_SIGNED_PATH -> 200, unsigned -> 401"
}

if [[ "$MODE" == app-auth ]]; then
    # A run replays one signature; it must stay inside the 15-minute window.
    ((DURATION <= 840)) || die "MODE=app-auth needs DURATION <= 840 s (X-Sdk-Date is valid for 15 minutes)"
    command -v curl >/dev/null 2>&1 || die "MODE=app-auth needs curl to check the signed API"
    if ((RUN_TOLLGATE)); then
        tollgate_app_config "$TOLLGATE_CONFIG" "$RUN_DIR/tollgate.toml"
        TOLLGATE_CONFIG=$RUN_DIR/tollgate.toml
    fi
fi

start upstream "$UPSTREAM_PORT" "$UPSTREAM_CPUS" "$UPSTREAM_BIN" --addr "$HOST:$UPSTREAM_PORT" --workers 1
TARGETS=(direct)

if ((RUN_TOLLGATE)); then
    start tollgate "${PORT[tollgate]}" "$SUT_CPUS" "$TOLLGATE_BIN" run -c "$TOLLGATE_CONFIG"
    if [[ "$MODE" == https ]]; then tls_check tollgate "${PORT[tollgate]}"; fi
    TARGETS+=(tollgate)
    if [[ "$MODE" == api-model ]]; then
        PORT[model]=$TOLLGATE_PORT
        TPATH[model]=$MODEL_PATH
        THEADER[model]='test02: def'
        if command -v curl >/dev/null 2>&1; then
            curl -fsS -o /dev/null --max-time 5 -H 'test02: def' "$SCHEME://$HOST:$TOLLGATE_PORT$MODEL_PATH" \
                || die "the mapped API of $TOLLGATE_CONFIG does not answer GET $MODEL_PATH"
        fi
        TARGETS+=(model)
    fi
    if [[ "$MODE" == throttle ]]; then
        PORT[throttled]=$TOLLGATE_PORT
        TPATH[throttled]=/throttled
        if command -v curl >/dev/null 2>&1; then
            curl -fsS -o /dev/null --max-time 5 "$SCHEME://$HOST:$TOLLGATE_PORT/throttled" \
                || die "the throttled API of $TOLLGATE_CONFIG does not answer GET /throttled"
        fi
        TARGETS+=(throttled)
    fi
    if [[ "$MODE" == app-auth ]]; then
        PORT[signed]=$TOLLGATE_PORT
        TPATH[signed]=$APP_SIGNED_PATH
        app_check
        TARGETS+=(signed)
    fi
fi

sed -e "s|@RUN_DIR@|$RUN_DIR|g" \
    -e "s|@LISTEN@|$HOST:${PORT[nginx]}|g" \
    -e "s|@UPSTREAM@|$HOST:$UPSTREAM_PORT|g" \
    -e "s|@CERT@|$TLS_CERT|g" \
    -e "s|@KEY@|$TLS_KEY|g" \
    "$NGINX_TEMPLATE" >"$RUN_DIR/nginx.conf"
cp "$RUN_DIR/nginx.conf" "$RESULTS_DIR/nginx.conf"
"$NGINX_BIN" -t -q -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log" \
    || die "nginx rejected the generated config ($RESULTS_DIR/nginx.conf)"
start nginx "${PORT[nginx]}" "$SUT_CPUS" "$NGINX_BIN" -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/error.log"
if [[ "$MODE" == https ]]; then tls_check nginx "${PORT[nginx]}"; fi
TARGETS+=(nginx)
if [[ "$MODE" == https && -n "${TLS_SUITE[tollgate]:-}" && "${TLS_SUITE[tollgate]}" != "${TLS_SUITE[nginx]}" ]]; then
    log "WARNING: the proxies negotiate different cipher suites (tollgate ${TLS_SUITE[tollgate]}, nginx ${TLS_SUITE[nginx]})"
fi

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "kernel: $(uname -r)"
    echo "cpus: $NCPU ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'))"
    echo "pinning: $( ((PIN)) && echo "sut=$SUT_CPUS upstream=$UPSTREAM_CPUS wrk=$WRK_CPUS" || echo off)"
    echo "wrk: $(wrk -v 2>&1 | head -n1)"
    echo "nginx: $("$NGINX_BIN" -v 2>&1)"
    echo "mode=$MODE rounds=$ROUNDS duration=${DURATION}s conns=$CONNS threads=$THREADS"
    if [[ "$MODE" == https ]]; then
        echo "openssl: $(openssl version)"
        for t in tollgate nginx; do
            if [[ -n "${TLS_INFO[$t]:-}" ]]; then echo "tls $t: ${TLS_INFO[$t]}"; fi
        done
    fi
} >"$RESULTS_DIR/env.txt"

# ---------------------------------------------------------------- runs
# "<steal> <total>" jiffies of all cores from /proc/stat: time the hypervisor
# gave to other guests. On a shared VM it comes in bursts that halve a round's
# req/s and push p99 to tens of ms, so every run records its share.

# run_wrk TARGET SECONDS OUTFILE
run_wrk() {
    local url="${TSCHEME[$1]:-$SCHEME}://$HOST:${PORT[$1]}${TPATH[$1]:-$REQ_PATH}"
    local extra=()
    local header=${THEADER[$1]:-$REQ_HEADER}
    [[ -n "$header" ]] && extra=(-H "$header")
    if [[ "$MODE" == app-auth ]]; then
        # Signed for the signed API (Tollgate's Host, as wrk sends it: the
        # URL's host:port); the other targets get the same two headers.
        sign_request GET "$APP_SIGNED_PATH" "$HOST:$TOLLGATE_PORT"
        extra+=(-H "X-Sdk-Date: $SIGN_DATE" -H "Authorization: $SIGN_AUTH")
    fi
    local steal0
    steal0=$(steal_ticks)
    pin_prefix "$WRK_CPUS"
    ${PREFIX[@]+"${PREFIX[@]}"} wrk -t"$THREADS" -c"$CONNS" -d"$2"s --latency ${extra[@]+"${extra[@]}"} "$url" >"$3" 2>&1 \
        || die "wrk failed against $1 (output: $3)"
    echo "# loadavg after run: $(cat /proc/loadavg 2>/dev/null || echo n/a)" >>"$3"
    local steal
    steal=$(echo "$steal0 $(steal_ticks)" | awk '{ all = $4 - $2; printf "%.1f\n", all ? 100 * ($3 - $1) / all : 0 }')
    echo "# cpu steal during run: $steal%" >>"$3"
    if awk -v s="$steal" 'BEGIN { exit !(s > 2) }'; then log "WARNING: $steal% cpu steal during the $1 run (hypervisor): noisy"; fi
    # A rejected signature is a cheap 401: measuring those would flatter it.
    if [[ "$1" == signed ]] && grep -qE '^ *Non-2xx' "$3"; then
        die "signed API answered non-2xx under wrk: $(grep -E '^ *Non-2xx' "$3" | tr -s ' ') (output: $3)"
    fi
    if grep -qE '^ *(Non-2xx|Socket errors)' "$3"; then
        log "WARNING: $1 had errors: $(grep -E '^ *(Non-2xx|Socket errors)' "$3" | tr -s ' ' | tr '\n' ';')"
    fi
}

# Share of all cores busy over one second, from /proc/stat: other people's
# builds on a shared box skew every number, so say so before measuring.
if [[ -r /proc/stat ]]; then
    BUSY=$(cpu_busy_pct)
    echo "cpu busy before runs: ${BUSY}%" >>"$RESULTS_DIR/env.txt"
    if ((BUSY > 10)); then
        log "WARNING: the machine is ${BUSY}% busy before the benchmark; results will be noisy"
    fi
fi

if ((WARMUP > 0)); then
    for t in "${TARGETS[@]}"; do
        log "warm-up: $t (${WARMUP}s)"
        run_wrk "$t" "$WARMUP" "$RESULTS_DIR/warmup-$t.txt"
    done
fi

for ((r = 1; r <= ROUNDS; r++)); do
    for t in "${TARGETS[@]}"; do
        log "round $r/$ROUNDS: $t (${DURATION}s, $CONNS conns)"
        run_wrk "$t" "$DURATION" "$RESULTS_DIR/$t-r$r.txt"
    done
done

# ---------------------------------------------------------------- report
# Prints "<req/s> <p50 us> <p99 us>" for one wrk output file.
parse_wrk() {
    awk '
        function us(v) {
            if (v ~ /us$/) return v + 0
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) * 1000
            if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000000
            if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000000
            return v + 0
        }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = us($2) }
        $1 == "99%" { p99 = us($2) }
        END {
            if (rps == "" || p50 == "" || p99 == "") exit 1
            printf "%s %.1f %.1f\n", rps, p50, p99
        }' "$1"
}

# median of the numbers on stdin (mean of the middle two for even counts)
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A RPS P50 P99
for t in "${TARGETS[@]}"; do
    : >"$RESULTS_DIR/$t.parsed"
    for ((r = 1; r <= ROUNDS; r++)); do
        parse_wrk "$RESULTS_DIR/$t-r$r.txt" >>"$RESULTS_DIR/$t.parsed" \
            || die "could not parse $RESULTS_DIR/$t-r$r.txt"
    done
    RPS[$t]=$(awk '{ print $1 }' "$RESULTS_DIR/$t.parsed" | median)
    P50[$t]=$(awk '{ print $2 }' "$RESULTS_DIR/$t.parsed" | median)
    P99[$t]=$(awk '{ print $3 }' "$RESULTS_DIR/$t.parsed" | median)
done

{
    echo
    echo "Median of $ROUNDS round(s): MODE=$MODE, wrk -t$THREADS -c$CONNS -d${DURATION}s, $(date -u +%Y-%m-%d)"
    printf '%-10s %12s %10s %10s\n' target 'req/s' 'p50 (us)' 'p99 (us)'
    for t in "${TARGETS[@]}"; do
        printf '%-10s %12.0f %10.0f %10.0f\n' "$t" "${RPS[$t]}" "${P50[$t]}" "${P99[$t]}"
    done
    echo
    if [[ -n "${RPS[tollgate]:-}" ]]; then
        awk -v tr="${RPS[tollgate]}" -v nr="${RPS[nginx]}" -v tp="${P99[tollgate]}" -v np="${P99[nginx]}" 'BEGIN {
            printf "tollgate/nginx req/s: %.2fx (%s)\n", tr / nr, (tr > nr ? "Tollgate faster" : "nginx faster or equal")
            printf "p99: tollgate %.0f us vs nginx %.0f us (tollgate/nginx %.2fx, %s)\n", tp, np, tp / np, (tp < np ? "Tollgate lower" : "nginx lower or equal")
        }'
        if [[ "$MODE" == https ]]; then
            # Adjacent runs share the box's state (see api-model below).
            ROUND_RATIOS=$(paste -d' ' "$RESULTS_DIR/tollgate.parsed" "$RESULTS_DIR/nginx.parsed" | awk '{ printf "%.3f\n", $1 / $4 }')
            awk -v rr="$(echo "$ROUND_RATIOS" | median)" -v all="${ROUND_RATIOS//$'\n'/ }" 'BEGIN {
                printf "tollgate/nginx req/s over TLS: median of per-round ratios %.3fx (%s)\n", rr, all
            }'
            echo "TLS (OpenSSL client): tollgate ${TLS_INFO[tollgate]}; nginx ${TLS_INFO[nginx]}"
        fi
    else
        echo "tollgate/nginx: n/a (Tollgate skipped)"
    fi
    if [[ -n "${RPS[model]:-}" ]]; then
        # Adjacent runs share the box's state, so the ratio within each
        # round is steadier than the ratio of the two medians.
        ROUND_RATIOS=$(paste -d' ' "$RESULTS_DIR/model.parsed" "$RESULTS_DIR/tollgate.parsed" | awk '{ printf "%.3f\n", $1 / $4 }')
        awk -v mr="${RPS[model]}" -v tr="${RPS[tollgate]}" -v rr="$(echo "$ROUND_RATIOS" | median)" -v all="${ROUND_RATIOS//$'\n'/ }" 'BEGIN {
            printf "api-model/plain req/s: %.3fx of the medians; median of per-round ratios %.3fx (%s); target >= 0.950x\n", mr / tr, rr, all
        }'
    fi
    if [[ -n "${RPS[throttled]:-}" ]]; then
        # A 429 is a cheap answer: measuring those would flatter the check.
        if grep -qE '^ *Non-2xx' "$RESULTS_DIR"/throttled-r*.txt; then
            echo "WARNING: the throttled API answered non-2xx: its policy triggered, the ratio is void"
        fi
        ROUND_RATIOS=$(paste -d' ' "$RESULTS_DIR/throttled.parsed" "$RESULTS_DIR/tollgate.parsed" | awk '{ printf "%.3f\n", $1 / $4 }')
        awk -v hr="${RPS[throttled]}" -v tr="${RPS[tollgate]}" -v rr="$(echo "$ROUND_RATIOS" | median)" -v all="${ROUND_RATIOS//$'\n'/ }" 'BEGIN {
            printf "throttled/plain req/s: %.3fx of the medians; median of per-round ratios %.3fx (%s); goal >= 0.970x\n", hr / tr, rr, all
        }'
    fi
    if [[ -n "${RPS[signed]:-}" ]]; then
        # Per-round ratios, as for api-model: adjacent runs share the box's state.
        ROUND_RATIOS=$(paste -d' ' "$RESULTS_DIR/signed.parsed" "$RESULTS_DIR/tollgate.parsed" | awk '{ printf "%.3f\n", $1 / $4 }')
        awk -v sr="${RPS[signed]}" -v tr="${RPS[tollgate]}" -v rr="$(echo "$ROUND_RATIOS" | median)" -v all="${ROUND_RATIOS//$'\n'/ }" 'BEGIN {
            printf "app-auth/plain req/s: %.3fx of the medians; median of per-round ratios %.3fx (%s)\n", sr / tr, rr, all
        }'
        ROUND_RATIOS=$(paste -d' ' "$RESULTS_DIR/signed.parsed" "$RESULTS_DIR/nginx.parsed" | awk '{ printf "%.3f\n", $1 / $4 }')
        awk -v sr="${RPS[signed]}" -v nr="${RPS[nginx]}" -v rr="$(echo "$ROUND_RATIOS" | median)" -v all="${ROUND_RATIOS//$'\n'/ }" 'BEGIN {
            printf "app-auth/nginx plain req/s: %.3fx of the medians; median of per-round ratios %.3fx (%s); goal >= 1.000x\n", sr / nr, rr, all
        }'
    fi
    echo "raw wrk output: $RESULTS_DIR"
} | tee "$RESULTS_DIR/summary.txt"
