#!/usr/bin/env bash
# Throughput and peak memory of faina-filter, against `wc -l` on the same file in the same run.
#
# Usage: benches/bench.sh [LINES]      (default 12000000 lines, about 1.1 GB)
# Needs /usr/bin/time (Debian package `time`). Files go to $BENCH_DIR (default /tmp/faina-bench).
# Where redis-faina is installed (REDIS_FAINA=/path/to/redis-faina.py, run with python2), it is
# timed on the first 500000 lines and its rate compared.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-12000000}
dir=${BENCH_DIR:-/tmp/faina-bench}
mkdir -p "$dir"
cargo build --quiet --release --bin faina-filter --example gencapture --example floor
bin=target/release/faina-filter
gen=target/release/examples/gencapture
floor=target/release/examples/floor

capture=$dir/capture-$lines.txt
[ -s "$capture" ] || $gen --lines "$lines" --keys 250000 --zipf 1.0 > "$capture"
bytes=$(stat -c %s "$capture")
echo "capture: $capture, $lines lines, $((bytes / 1000000)) MB, 250000 distinct keys (Zipf 1.0)"

# best of five (a shared machine varies by 10-30% from run to run): prints "seconds peak_rss_kib"
measure() {
    local best="" rss=0
    for _ in 1 2 3 4 5; do
        /usr/bin/time -v -o "$dir/time.txt" "$@" > /dev/null
        local s m
        s=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); t = 0; for (i = 1; i <= n; i++) t = t * 60 + p[i]; print t}' "$dir/time.txt")
        m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt")
        if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$s; fi
        [ "$m" -gt "$rss" ] && rss=$m
    done
    echo "$best $rss"
}

report() { # name seconds rss
    awk -v n="$1" -v s="$2" -v r="$3" -v b="$bytes" -v w="$wc_s" \
        'BEGIN {printf "%-34s %7.3f s  %8.0f MB/s  %5.2fx wc -l  peak RSS %6.1f MiB\n", n, s, b / s / 1e6, s / w, r / 1024}'
}

read -r wc_s wc_rss < <(measure wc -l "$capture")
report "wc -l" "$wc_s" "$wc_rss"
# The floor: lines found and the key counted exactly in a std HashMap, nothing else (examples/floor.rs).
read -r s rss < <(measure $floor --scan "$capture"); report "floor: keys found, 1 core" "$s" "$rss"
read -r s rss < <(measure $floor "$capture"); report "floor: keys counted, 1 core" "$s" "$rss"
read -r s rss < <(measure $floor --threads 2 "$capture"); report "floor: keys counted, 2 cores" "$s" "$rss"
read -r s rss < <(measure $floor --threads 2 --fast-hash "$capture"); report "floor: the same, multiply hash" "$s" "$rss"
read -r s rss < <(measure $floor --tight --threads 2 "$capture"); report "floor: the same, a flat table" "$s" "$rss"
# The report's floor: every section the report shows counted exactly in std HashMaps, nothing else;
# then in flat tables (the key's counts, bytes and slot in one cache line), lookups fetched ahead.
read -r s rss < <(measure $floor --report --threads 2 "$capture"); report "floor: report, 2 cores" "$s" "$rss"
read -r s rss < <(measure $floor --report --threads 2 --fast-hash "$capture"); report "floor: report, multiply hash" "$s" "$rss"
read -r s rss < <(measure $floor --report --tight --threads 2 "$capture"); report "floor: every section, flat tables" "$s" "$rss"
read -r s rss < <(measure $bin "$capture"); report "report" "$s" "$rss"
read -r s rss < <(measure $bin --format json "$capture"); report "report --format json" "$s" "$rss"
read -r s rss < <(measure $bin --every 10s --window 1m "$capture"); report "report --every 10s --window 1m" "$s" "$rss"
read -r s rss < <(measure $bin --emit keys "$capture"); report "--emit keys > /dev/null" "$s" "$rss"
read -r s rss < <(measure $bin --emit tsv "$capture"); report "--emit tsv > /dev/null" "$s" "$rss"
report_s=$(measure $bin "$capture" | cut -d' ' -f1)

# The same number of lines with every key distinct (the tables evict on nearly every access).
everyone=$dir/distinct-keys-$lines.txt
[ -s "$everyone" ] || $gen --lines "$lines" --keys 2000000000 --zipf 0 > "$everyone"
read -r s rss < <(measure $bin "$everyone")
bytes_zipf=$bytes bytes=$(stat -c %s "$everyone")
report "report, keys all distinct" "$s" "$rss"
awk -v a="$s" -v b="$report_s" 'BEGIN {printf "  all distinct / Zipf, per line: %.2f\n", a / b}'
bytes=$bytes_zipf

if [ -n "${REDIS_FAINA:-}" ]; then
    head -n 500000 "$capture" > "$dir/faina-sample.txt"
    sample=$(stat -c %s "$dir/faina-sample.txt")
    read -r fs _ < <(measure python2 "$REDIS_FAINA" "$dir/faina-sample.txt")
    read -r ours _ < <(measure $bin "$dir/faina-sample.txt")
    awk -v f="$fs" -v o="$ours" -v b="$sample" \
        'BEGIN {printf "redis-faina (500000 lines) %7.3f s  %8.1f MB/s; faina-filter %.3f s: %.0fx faster\n", f, b / f / 1e6, o, f / o}'
fi

# Memory under many distinct keys, and with one huge line.
many=$dir/distinct-20M.txt
[ -s "$many" ] || $gen --lines 20000000 --keys 2000000000 --zipf 0 > "$many"
read -r s rss < <(measure $bin "$many")
echo "20M lines, about 20M distinct keys:        $(awk -v s="$s" 'BEGIN {printf "%.3f s", s}')  peak RSS $((rss / 1024)) MiB"

# The whole process's memory with everything distinct (keys, commands, clients), read as 20
# inputs, and with windows of 10 and 100 periods.
worst=$dir/distinct-3M.txt
[ -s "$worst" ] || $gen --distinct --lines 3000000 > "$worst"
mkdir -p "$dir/parts"
[ -s "$dir/parts/part19" ] || split -n l/20 -d "$worst" "$dir/parts/part"
read -r s rss < <(measure $bin "$dir"/parts/part*)
echo "3M distinct lines as 20 inputs:             $(awk -v s="$s" 'BEGIN {printf "%.3f s", s}')  peak RSS $((rss / 1024)) MiB"
read -r s rss < <(measure $bin --every 10s --window 100s "$worst")
echo "3M distinct lines, a 10-period window:      $(awk -v s="$s" 'BEGIN {printf "%.3f s", s}')  peak RSS $((rss / 1024)) MiB"
read -r s rss < <(measure $bin --every 1s --window 100s "$worst")
echo "3M distinct lines, a 100-period window:     $(awk -v s="$s" 'BEGIN {printf "%.3f s", s}')  peak RSS $((rss / 1024)) MiB"

long=$dir/long-keys.txt
[ -s "$long" ] || awk 'BEGIN { pad = sprintf("%480s", ""); gsub(/ /, "x", pad)
    for (i = 0; i < 300000; i++) printf "1795636306.%06d [0 10.0.0.1:5000] \"GET\" \"key:%s:%d\"\n", i, pad, i }' > "$long"
read -r s rss < <(measure $bin "$long")
echo "300k distinct 490-byte keys:                $(awk -v s="$s" 'BEGIN {printf "%.3f s", s}')  peak RSS $((rss / 1024)) MiB"

huge=$dir/huge-line.txt
if [ ! -s "$huge" ]; then
    { printf '1795636306.000001 [0 10.0.0.1:5000] "SET" "huge:key" "'; head -c $((512 * 1024 * 1024)) /dev/zero | tr '\0' 'x'; printf '"\n1795636306.000002 [0 10.0.0.1:5000] "GET" "huge:key"\n'; } > "$huge"
fi
read -r s rss < <(measure $bin "$huge")
echo "one 512 MiB line:                           $(awk -v s="$s" 'BEGIN {printf "%.3f s", s}')  peak RSS $((rss / 1024)) MiB"
$bin --format json "$huge" | grep -o '"top_keys_by_bytes":\[{"name":"huge:key","count":[0-9]*' || true

# Inputs built to make the filter keep big names (node labels, clients), and flags past their
# limits (--top, --commands): each is run once, its peak RSS read from /usr/bin/time.
once() { # name command...: prints "name: seconds, peak RSS"
    local name=$1
    shift
    /usr/bin/time -f '%e %M' -o "$dir/time.txt" "$@" > /dev/null 2> "$dir/stderr.txt" || true
    read -r s m < <(tail -n 1 "$dir/time.txt")
    printf '%-44s %6.2f s  peak RSS %4d MiB\n' "$name:" "$s" $((m / 1024))
}
nodes=$dir/nodes-1mb.tsv
[ -s "$nodes" ] || python3 -c "import sys;w=sys.stdout.buffer
for i in range(1023): w.write(b'%05d'%i+b'N'*1000000+b'\t1796108427.%06d\t0\t1.2.3.4:5\tget\tk%d\n'%(i,i))" > "$nodes"
once "1023 records, 1 MB node labels, json" $bin --format json "$nodes"
clients=$dir/clients-1mb.tsv
[ -s "$clients" ] || python3 -c "import sys;w=sys.stdout.buffer
c=b'C'*1000000
for p in range(101):
  for j in range(11): w.write(b'%d.%06d\t0\t'%(1796108427+p,j*1000+j*j*37)+c+b'\tget\tk%d\n'%j)" > "$clients"
once "101 periods x 11 calls, 1 MB clients, window" $bin --every 1s --window 100s "$clients"
half=$dir/clients-500kb.tsv
[ -s "$half" ] || python3 -c "import sys;w=sys.stdout.buffer
c=b'C'*500000
for i in range(1000): w.write(b'%d.%06d\t0\t'%(1796108427+i//10,(i%10)*1000+i)+c+b'%d\tget\tk%d\n'%(i,i))" > "$half"
once "--top 100000, 1000 calls, 500 KB clients" $bin --top 100000 "$half"
distinct=$dir/distinct-1.2M.txt
[ -s "$distinct" ] || $gen --distinct --lines 1200000 > "$distinct"
once "--top 1000000, 1.2M distinct lines" $bin --top 1000000 "$distinct"
once "--top 10000 --every 1s --window 100s, json" $bin --top 10000 --every 1s --window 100s --format json "$distinct"
table=$dir/commands-60mb.json
spec='{"flags":["RW","ACCESS","UPDATE"],"begin_search":{"type":"index","spec":{"index":1}},"find_keys":{"type":"range","spec":{"lastkey":0,"keystep":1,"limit":0}}}'
[ -s "$table" ] || python3 -c "import sys
s=sys.argv[1]; n=int(sys.argv[2]); k=int(sys.argv[3])
print('[' + ','.join('[\"c%d\",-2,[\"write\"],1,1,1,[],[],[%s],[]]' % (i, ','.join([s]*k)) for i in range(n)) + ']')" "$spec" 16000 20 > "$table"
once "--commands, a 60 MB table (refused)" $bin --commands "$table" "$capture"
largest=$dir/commands-1mb.json
[ -s "$largest" ] || python3 -c "import sys
s=sys.argv[1]; n=int(sys.argv[2]); k=int(sys.argv[3])
print('[' + ','.join('[\"c%d\",-2,[\"write\"],1,1,1,[],[],[%s],[]]' % (i, ','.join([s]*k)) for i in range(n)) + ']')" "$spec" 300 20 > "$largest"
once "--commands, the largest table allowed" $bin --commands "$largest" "$capture"

# Instructions per line, each thread on its own: repeatable where times are not (valgrind).
if command -v valgrind > /dev/null; then
    sample=$dir/sample-200k.txt
    [ -s "$sample" ] || $gen --lines 200000 --keys 250000 --zipf 1.0 > "$sample"
    distinct200=$dir/distinct-keys-200k.txt
    [ -s "$distinct200" ] || $gen --lines 200000 --keys 2000000000 --zipf 0 > "$distinct200"
    per_line() { # name file flags...: instructions per line of each thread
        local name=$1 file=$2
        shift 2
        rm -f "$dir"/cg.out*
        valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/cg.out" \
            $bin "$@" "$file" > /dev/null 2>&1
        printf '%-34s' "$name:"
        for f in "$dir"/cg.out*; do
            awk '/^summary:/ {printf " %6.0f", $2 / 200000}' "$f"
        done
        echo " instructions per line (per thread)"
    }
    per_line "callgrind report" "$sample"
    per_line "callgrind report, all distinct" "$distinct200"
    per_line "callgrind --emit keys" "$sample" --emit keys
    per_line "callgrind --emit tsv" "$sample" --emit tsv
fi
