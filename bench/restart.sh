#!/usr/bin/env bash
# restart.sh - how long charruad takes to serve again with many leases in its journal
#
# Usage: bench/restart.sh [--leases N] [--runs K] [--no-build] [--keep]
#
#   --leases N   leases in the journal (default 1000000)
#   --runs K     restarts measured (default 3)
#   --no-build   use target/release/{charruad,charrua} and the load_million example as built
#   --keep       keep the work directory (journal, logs) afterwards
#
# Writes a journal of N leases in 10.0.0.0/8 (the `load_million` example of charrua-store),
# then, K times: starts charruad on a copy of it inside a network namespace of its own,
# with `charrua perf` already sending relayed DISCOVERs from 198.18.0.2 to 198.18.0.1 on
# the namespace's loopback, and measures the time from starting charruad to the first
# DHCPACK it logs. Needs root (for the namespace). Prints a Markdown report and saves it
# in bench/results/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LEASES=1000000
RUNS=3
BUILD=1
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --leases) LEASES=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "restart.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$LEASES$RUNS" in
    *[!0-9]*) echo "restart.sh: --leases and --runs take numbers" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "restart.sh: needs root for a network namespace" >&2; exit 1; }

CHARRUAD="$ROOT/target/release/charruad"
CHARRUA="$ROOT/target/release/charrua"
EXAMPLE="$ROOT/target/release/examples/load_million"
if [ $BUILD = 1 ]; then
    (cd "$ROOT" && cargo build --release --locked -q -p charrua-unix --bins \
        && cargo build --release --locked -q -p charrua-store --example load_million)
fi

NS="charrua-restart-$$"
WORK="/var/tmp/charrua-restart.$$"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    ip netns delete "$NS" 2>/dev/null || true
    [ $KEEP = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add 198.18.0.1/15 dev lo
ip -n "$NS" addr add 198.18.0.2/15 dev lo

cat > "$WORK/dhcpd.conf" <<'EOF'
authoritative;
default-lease-time 3600;
max-lease-time 7200;
subnet 10.0.0.0 netmask 255.0.0.0 {
  range 10.0.0.1 10.255.255.254;
}
subnet 198.18.0.0 netmask 255.254.0.0 {
  range 198.18.1.0 198.19.255.254;
}
EOF

"$EXAMPLE" "$LEASES" "$WORK/journal" > "$WORK/load_million.txt"
BYTES=$(stat -c %s "$WORK/journal")

# Seconds (with fractions) of an RFC 3339 timestamp at the start of a log line.
stamp() {
    python3 -c 'import sys, datetime
t = sys.argv[1].rstrip("Z")
print(datetime.datetime.fromisoformat(t).replace(tzinfo=datetime.timezone.utc).timestamp())' "$1"
}

results=()
for run in $(seq 1 "$RUNS"); do
    cp "$WORK/journal" "$WORK/dhcpd.leases"
    rm -f "$WORK/dhcpd.leases~" "$WORK/dhcpd.leases.tmp"
    ip netns exec "$NS" "$CHARRUA" perf --bind 198.18.0.2:67 --server 198.18.0.1:67 \
        -r 200 -R 100000 -p 30 --json > "$WORK/perf-$run.json" 2>&1 &
    PERF=$!
    PIDS+=("$PERF")
    sync
    began=$(date +%s.%N)
    ip netns exec "$NS" env RUST_LOG=info "$CHARRUAD" -f --no-raw --udp 198.18.0.1:67 \
        -cf "$WORK/dhcpd.conf" -lf "$WORK/dhcpd.leases" 2> "$WORK/charruad-$run.log" &
    DAEMON=$!
    PIDS+=("$DAEMON")
    first=""
    for _ in $(seq 1 600); do
        first=$(grep -m 1 -- '-> DHCPACK' "$WORK/charruad-$run.log" || true)
        [ -n "$first" ] && break
        sleep 0.05
    done
    loaded=$(grep -m 1 'loaded .* leases' "$WORK/charruad-$run.log" || true)
    # Let the compaction started at load finish before measuring memory and stopping.
    for _ in $(seq 1 600); do
        [ -e "$WORK/dhcpd.leases.tmp" ] || break
        sleep 0.1
    done
    sleep 1
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON/status" 2>/dev/null || echo 0)
    kill "$DAEMON" "$PERF" 2>/dev/null || true
    wait "$DAEMON" 2>/dev/null || true
    wait "$PERF" 2>/dev/null || true
    if [ -z "$first" ]; then
        echo "restart.sh: run $run: no DHCPACK within 30 s; log in $WORK/charruad-$run.log" >&2
        KEEP=1
        exit 1
    fi
    serve=$(python3 -c "print(f'{$(stamp "${first%% *}") - $began:.3f}')")
    load=$(python3 -c "print(f'{$(stamp "${loaded%% *}") - $began:.3f}')")
    results+=("| $run | $load | $serve | $((hwm / 1024)) |")
done

report="$ROOT/bench/results/restart-$(date -u +%Y%m%d-%H%M%S).md"
{
    echo "# charruad restart with $LEASES leases in its journal"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- command: \`bench/restart.sh --leases $LEASES --runs $RUNS\`"
    echo "- machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
    echo "- load average before the last run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- charruad: $("$CHARRUAD" --version 2>/dev/null | head -n 1) ($(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown))"
    echo "- journal: $LEASES leases, $((BYTES / 1000000)) MB ($(sed -n 1p "$WORK/load_million.txt"))"
    echo "- seconds from starting charruad: to its \"loaded\" log line, and to the first"
    echo "  DHCPACK it logs to a relayed client that was sending 200 DISCOVERs/s throughout"
    echo
    echo "| run | leases loaded, s | serving, s | peak memory, MiB |"
    echo "|---:|---:|---:|---:|"
    printf '%s\n' "${results[@]}"
} | tee "$report"
echo "saved to ${report#"$ROOT"/}"
