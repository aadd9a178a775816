#!/usr/bin/env bash
# The rate faina-filter sustains reading MONITOR from a socket itself (--connect), under
# redis-benchmark load, as a ratio to `redis-cli monitor > /dev/null` under the same load.
#
# Usage: benches/connect.sh [REQUESTS]      (default 2000000: SET and GET, 50 clients, pipelines of 16)
#
# Part 1, a real server: a loopback redis-server on a free port is started and stopped here. For each consumer the same
# redis-benchmark run is made while it monitors; the rate is the MONITOR lines the consumer took
# in (the server's commands processed, less what the filter said it dropped) divided by the time
# from the start of the load until the server's output buffer for the consumer was empty (a
# consumer that cannot keep up leaves the server buffering for it, and finishes later).
#
# Part 2, a socket at full speed: a stand-in server (python3) answers MONITOR with +OK and then
# sends a generated capture (3 million lines, as the server writes them: + before, CRLF after)
# as fast as the consumer takes it; the rate is what the consumer took in over the time the
# sending took. The filter drops (and counts) what it cannot parse in time; redis-cli cannot drop.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-2000000}
cargo build --quiet --release --bin faina-filter --example gencapture
bin=$PWD/target/release/faina-filter
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize no > /dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
until redis-cli -p "$port" ping > /dev/null 2>&1; do sleep 0.05; done

processed() { redis-cli -p "$port" info stats | awk -F: '/^total_commands_processed/ {print $2 + 0}'; }
# The largest output buffer the server holds for a MONITOR client, and whether one is there.
monitor_omem() { redis-cli -p "$port" client list | awk '/flags=O/ {for (i = 1; i <= NF; i++) if ($i ~ /^omem=/) {split($i, v, "="); if (v[2] > m) m = v[2]}; n++} END {print (n ? m + 0 : -1)}'; }
wait_monitor() { while [ "$(monitor_omem)" = -1 ]; do sleep 0.05; done; }
now() { date +%s.%N; }

# Runs the load with a consumer attached; prints "lines seconds peak_omem load_ops_per_s".
load() {
    local before start peak=0 omem ops
    before=$(processed)
    start=$(now)
    redis-benchmark -p "$port" -t set,get -n "$((requests / 2))" -c 50 -P 16 -r 100000 -q > "$dir/bench.txt" &
    local bench=$!
    while kill -0 "$bench" 2>/dev/null; do
        omem=$(monitor_omem)
        [ "$omem" -gt "$peak" ] && peak=$omem
        sleep 0.2
    done
    wait "$bench"
    # Until the server has handed the consumer everything.
    while omem=$(monitor_omem) && [ "$omem" -gt 0 ]; do
        [ "$omem" -gt "$peak" ] && peak=$omem
        sleep 0.05
    done
    local end lines
    end=$(now)
    lines=$(($(processed) - before))
    ops=$(tr '\r' '\n' < "$dir/bench.txt" | awk '/^[A-Z]+: [0-9.]+ requests per second/ {s += $2; n++} END {printf "%.0f", n ? s / n : 0}')
    echo "$lines $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}') $peak $ops"
}

echo "load: redis-benchmark -t set,get -n $((requests / 2)) each -c 50 -P 16 on $(redis-server --version | cut -d' ' -f3)"

# Each consumer three times, alternating (the machine's load varies): the best rate of each.
best() { # lines seconds: keeps the pair with the higher rate in $1_best
    awk -v l="$2" -v s="$3" -v bl="$4" -v bs="$5" 'BEGIN {print (bs == 0 || l / s > bl / bs) ? l " " s : bl " " bs}'
}
cli_best="0 0"
f_best="0 0"
for round in 1 2 3; do
    redis-cli -p "$port" monitor > /dev/null &
    cli=$!
    wait_monitor
    read -r lines secs peak ops < <(load)
    kill "$cli"; wait "$cli" 2>/dev/null || true
    awk -v l="$lines" -v s="$secs" -v p="$peak" -v o="$ops" \
        'BEGIN {printf "redis-cli monitor > /dev/null  %9d lines in %7.3f s  %9.0f lines/s  server buffer peak %6.1f MiB  load %8.0f req/s\n", l, s, l / s, p / 1048576, o}'
    cli_best=$(best x "$lines" "$secs" $cli_best)

    "$bin" --connect "127.0.0.1:$port" --format json > "$dir/report.json" 2> "$dir/err.txt" &
    filter=$!
    wait_monitor
    read -r lines secs peak ops < <(load)
    kill -INT "$filter"; wait "$filter" || true
    dropped=$(awk '/lines dropped in all/ {for (i = 1; i <= NF; i++) if ($i == "lines") print $(i - 1)}' "$dir/err.txt")
    dropped=${dropped:-0}
    counted=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["commands"])' "$dir/report.json")
    awk -v l="$lines" -v d="$dropped" -v r="$counted" -v s="$secs" -v p="$peak" -v o="$ops" \
        'BEGIN {printf "faina-filter --connect         %9d lines in %7.3f s  %9.0f lines/s  server buffer peak %6.1f MiB  load %8.0f req/s  (%d commands counted, %d lines dropped)\n", l - d, s, (l - d) / s, p / 1048576, o, r, d}'
    f_best=$(best x "$((lines - dropped))" "$secs" $f_best)
done
read -r fl fs <<< "$f_best"
read -r cl cs <<< "$cli_best"
awk -v a="$fl" -v as="$fs" -v b="$cl" -v bs="$cs" \
    'BEGIN {printf "best rates: faina-filter --connect %.0f lines/s, redis-cli monitor > /dev/null %.0f lines/s: ratio %.2f\n", a / as, b / bs, (a / as) / (b / bs)}'

# Part 2: a socket at full speed.
gen=$PWD/target/release/examples/gencapture
$gen --lines 3000000 --keys 250000 --zipf 1.0 | awk '{printf "+%s\r\n", $0}' > "$dir/stream.txt"
stream_lines=3000000
serve() { # prints the port, then the seconds the sending took
    python3 - "$dir/stream.txt" <<'PY'
import socket, sys, time
data = open(sys.argv[1], "rb").read()
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
s.close()
asked = b""
while b"MONITOR" not in asked.upper():
    asked += c.recv(4096)
start = time.time()
c.sendall(b"+OK\r\n")
c.sendall(data)
took = time.time() - start
c.shutdown(socket.SHUT_WR)
print("%.3f" % took, flush=True)
c.recv(1)
PY
}
for consumer in redis-cli faina-filter redis-cli faina-filter redis-cli faina-filter; do
    coproc SERVE { serve; }
    read -r sport <&"${SERVE[0]}"
    if [ "$consumer" = redis-cli ]; then
        redis-cli -p "$sport" monitor > /dev/null 2>&1 &
    else
        "$bin" --connect "127.0.0.1:$sport" > /dev/null 2> "$dir/err2.txt" &
    fi
    pid=$!
    read -r took <&"${SERVE[0]}"
    if [ "$consumer" = redis-cli ]; then
        wait "$pid" || true
        took_in=$stream_lines
    else
        sleep 0.5
        kill -INT "$pid"; wait "$pid" || true
        dropped=$(awk '/lines dropped in all/ {for (i = 1; i <= NF; i++) if ($i == "lines") print $(i - 1)}' "$dir/err2.txt")
        took_in=$((stream_lines - ${dropped:-0}))
    fi
    if [ -n "${SERVE_PID:-}" ]; then wait "$SERVE_PID" 2>/dev/null || true; fi
    awk -v c="$consumer" -v l="$took_in" -v s="$took" -v b="$(stat -c %s "$dir/stream.txt")" \
        'BEGIN {printf "full speed: %-13s took in %8d of 3000000 lines in %6.3f s: %9.0f lines/s (%.0f MB/s sent)\n", c, l, s, l / s, b / s / 1e6}'
done
