# Helpers shared by benches/load.sh and benches/slow_clients.sh (sourced;
# they read the caller's HOST, PIN and READY_TIMEOUT and call its `die`).

find_nginx() { command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true; }

pin_prefix() {
    PREFIX=()
    if ((PIN)); then PREFIX=(taskset -c "$1"); fi
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

wait_port() {
    local port=$1 name=$2 pid=$3 logfile=$4
    local deadline=$((SECONDS + READY_TIMEOUT))
    until port_open "$port"; do
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$logfile" >&2 || true; die "$name exited before listening on $port (log: $logfile)"; }
        ((SECONDS < deadline)) || die "$name not listening on $port after ${READY_TIMEOUT}s (log: $logfile)"
        sleep 0.05
    done
}

steal_ticks() { awk '/^cpu / { print $9 + 0, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat 2>/dev/null || echo "0 0"; }

cpu_busy_pct() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
    echo "$a $b" | awk '{ busy = $3 - $1; all = busy + $4 - $2; printf "%.0f\n", all ? 100 * busy / all : 0 }'
}
