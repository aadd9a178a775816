#!/usr/bin/env bash
# Packet captures against MONITOR, measured in one run on one machine:
#
# 1. What the server pays: redis-benchmark (SET and GET, 20 clients) against a redis-server on
#    loopback alone, with `redis-cli monitor` attached, and with tcpdump capturing its port;
#    requests per second and the server's own CPU time per request (INFO cpu), each as a ratio
#    to the server alone.
# 2. What the filter pays: the same traffic captured both ways at once (MONITOR's text and a
#    pcap), each read by faina-filter (the report): MB/s of input and commands per second.
#
# Usage: benches/capture.sh     (as root, for tcpdump; N=requests per test, default 200000)
# Files go to $BENCH_DIR (default /tmp/faina-capture-bench); the server, redis-cli and tcpdump
# it starts are stopped when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-/tmp/faina-capture-bench}
n=${N:-200000}
mkdir -p "$dir"
for tool in redis-server redis-cli redis-benchmark tcpdump python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "benches/capture.sh needs $tool" >&2; exit 1; }
done
nice cargo build --release --quiet
bin=target/release/faina-filter
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
}
trap cleanup EXIT
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" --daemonize yes --pidfile "$dir/redis.pid"
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done

# The server's CPU seconds so far (user and system, all its threads).
server_cpu() {
    redis-cli -p "$port" info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.6f", s }'
}

# One test: "requests/s cpu-µs/request", for 2n requests (n SETs, n GETs).
measure() {
    local before after rps
    before=$(server_cpu)
    rps=$(redis-benchmark -p "$port" -t set,get -n "$n" -c 20 -r 100000 -q --csv |
        tr -d '"' | awk -F, '$1 == "SET" || $1 == "GET" { s += $2; k++ } END { printf "%.0f", s / k }')
    after=$(server_cpu)
    echo "$rps $(python3 -c "print(round(($after - $before) * 1e6 / (2 * $n), 3))")"
}

# Started in the background; returns once it is running.
start_monitor() {
    redis-cli -p "$port" monitor >"$1" &
    pids+=($!)
    until [ -s "$1" ]; do sleep 0.05; done
}
start_tcpdump() {
    tcpdump --immediate-mode -U -B 65536 -s 0 -i lo -w "$1" tcp port "$port" 2>"$1.err" &
    pids+=($!)
    until grep -q 'listening on' "$1.err"; do sleep 0.05; done
}
stop_all() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
    pids=()
}

measure >/dev/null # warm up
read -r alone_rps alone_cpu < <(measure)
start_monitor "$dir/monitor-only.txt"
read -r monitor_rps monitor_cpu < <(measure)
stop_all
start_tcpdump "$dir/tcpdump-only.pcap"
read -r tcpdump_rps tcpdump_cpu < <(measure)
stop_all

# The same traffic both ways at once, for the filter.
start_monitor "$dir/monitor.txt"
start_tcpdump "$dir/capture.pcap"
measure >/dev/null
sleep 0.5
stop_all
grep -qx '0 packets dropped by kernel' "$dir/capture.pcap.err" ||
    echo "warning: tcpdump dropped packets: $(tr '\n' ' ' <"$dir/capture.pcap.err")" >&2

# Best of three: "seconds MB/s commands/s commands".
read_time() {
    local best=999999 size commands
    for _ in 1 2 3; do
        local t
        t=$( { /usr/bin/time -f '%e' "$bin" --port "$port" --format json "$1" >"$dir/report.json"; } 2>&1 | tail -1)
        best=$(python3 -c "print(min($best, $t))")
    done
    size=$(stat -c %s "$1")
    commands=$(python3 -c "import json; print(json.load(open('$dir/report.json'))['commands'])")
    python3 -c "b = max($best, 0.01); print($best, round($size / b / 1e6, 1), round($commands / b), $commands)"
}
read -r mon_s mon_mbs mon_cps mon_commands < <(read_time "$dir/monitor.txt")
read -r cap_s cap_mbs cap_cps cap_commands < <(read_time "$dir/capture.pcap")

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "cores: $(nproc), shared by the server, redis-benchmark and the capture; $(date -u +%F)"
echo
echo "| server | requests/s | × alone | server CPU µs/request | × alone |"
echo "|---|---|---|---|---|"
echo "| alone | $alone_rps | 1 | $alone_cpu | 1 |"
echo "| with redis-cli monitor | $monitor_rps | $(ratio "$monitor_rps" "$alone_rps") | $monitor_cpu | $(ratio "$monitor_cpu" "$alone_cpu") |"
echo "| with tcpdump -i lo | $tcpdump_rps | $(ratio "$tcpdump_rps" "$alone_rps") | $tcpdump_cpu | $(ratio "$tcpdump_cpu" "$alone_cpu") |"
echo
echo "| faina-filter reads | size | time | MB/s | commands | commands/s |"
echo "|---|---|---|---|---|---|"
echo "| MONITOR text | $(stat -c %s "$dir/monitor.txt") B | $mon_s s | $mon_mbs | $mon_commands | $mon_cps |"
echo "| pcap | $(stat -c %s "$dir/capture.pcap") B | $cap_s s | $cap_mbs | $cap_commands | $cap_cps |"
