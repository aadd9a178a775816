#!/usr/bin/env bash
# Makes examples/sample-capture.txt: a real redis-server on a free loopback port, its MONITOR
# stream captured by redis-cli while examples/workload.rs plays a small web shop against it.
#
# Usage: examples/capture-sample.sh [OPERATIONS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
ops=${1:-2000}
conns=${2:-8}
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
cargo build --quiet --release --example workload
redis-cli -p "$port" monitor > examples/sample-capture.txt &
monitor=$!
sleep 0.3
target/release/examples/workload "$port" "$ops" "$conns"
redis-cli -p "$port" get capture:end >/dev/null
sleep 0.3
kill $monitor
wc -l examples/sample-capture.txt
