#!/usr/bin/env bash
#
# peers.sh - compare charruad with kea-dhcp4 (memfile), ISC dhcpd and dnsmasq
# under the same relayed DHCPv4 load, side by side in one run.
#
# Usage (as root):
#   bench/peers.sh [--quick] [--only SERVER] [--generator perfdhcp|charrua|both]
#                  [--step-seconds N] [--rates "R1 R2 ..."] [--pool-fit]
#                  [--kea-threads N] [--no-build] [--keep]
#
#   --quick             a smoke run: three low steps of 2 s each
#   --only SERVER       charruad, kea, iscdhcpd or dnsmasq (may be repeated)
#   --generator G       perfdhcp, charrua or both (default: both)
#   --step-seconds N    seconds per rate step (default: 5)
#   --rates "R1 R2 ..." the rate steps, in exchanges per second
#                       (default: 50 100 200 ... 102400, doubling)
#   --pool-fit          size the pool to each step (its exchanges + 25 %, at
#                       least 256 addresses) instead of the whole /15
#   --kea-threads N     run kea-dhcp4 multi-threaded with N threads (default:
#                       the package's default; kea 2.2 is single-threaded)
#   --no-build          use target/release/{charruad,charrua} as they are
#   --keep              keep the work directory (configurations, logs, leases)
#
# For every server and every load generator the rate is raised step by step
# (ISC's method); each step runs against a freshly started server with an
# empty lease file, and the ladder stops at the first step where more than
# 1 % of the exchanges did not end in a DHCPACK within 1 s.  The report goes
# to bench/results/peers-YYYYMMDD-HHMMSS.md and to standard output.  See
# bench/README.md for what is measured and how to read it.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
COMMAND_LINE="bench/peers.sh"
for a in "$@"; do COMMAND_LINE+=" $(printf '%q' "$a")"; done

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

ALL_SERVERS=(charruad kea iscdhcpd dnsmasq)
PACKAGES=(kea-dhcp4-server isc-dhcp-server dnsmasq-base kea-admin iproute2 ethtool)
VERSION_PACKAGES=(kea-dhcp4-server isc-dhcp-server dnsmasq-base kea-admin)

SRV_NS="chr-bsrv-$$"
CLI_NS="chr-bcli-$$"
SRV_IF=veth-srv
CLI_IF=veth-cli
SRV_ADDR=198.18.0.1
CLI_ADDR=198.18.0.2          # the relay: giaddr of every request
PREFIX=15
NETWORK=198.18.0.0
NETMASK=255.254.0.0
POOL_START=198.18.1.0
POOL_LAST=198.19.255.254
POOL_SIZE=130815             # addresses from POOL_START to POOL_LAST
POOL_END=$POOL_LAST          # the pool's last address in the current step
POOL_USE=120000              # at most this many leases per step
LEASE_TIME=3600
DROP_LIMIT=1                 # per cent of exchanges without an ACK in 1 s
PROBE_SEED=255               # the readiness probe's client (not a load client)
LOAD_SEED=1

declare -A SYNCED=(
    [charruad]="yes (fdatasync per batch)"
    [kea]="no (memfile, no fsync)"
    [iscdhcpd]="yes (fsync per lease)"
    [dnsmasq]="no"
)
declare -A LABEL=(
    [charruad]=charruad
    [kea]="kea-dhcp4 (memfile)"
    [iscdhcpd]="ISC dhcpd"
    [dnsmasq]=dnsmasq
)

# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

usage() {
    sed -n '3,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

QUICK=0
ONLY=()
GENERATOR=both
STEP_SECONDS=5
RATES_ARG=""
BUILD=1
KEEP=0
POOL_FIT=0
KEA_THREADS=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; shift ;;
        --only) [ $# -ge 2 ] || usage 2; ONLY+=("$2"); shift 2 ;;
        --only=*) ONLY+=("${1#--only=}"); shift ;;
        --generator) [ $# -ge 2 ] || usage 2; GENERATOR=$2; shift 2 ;;
        --generator=*) GENERATOR=${1#--generator=}; shift ;;
        --step-seconds) [ $# -ge 2 ] || usage 2; STEP_SECONDS=$2; shift 2 ;;
        --step-seconds=*) STEP_SECONDS=${1#--step-seconds=}; shift ;;
        --rates) [ $# -ge 2 ] || usage 2; RATES_ARG=$2; shift 2 ;;
        --rates=*) RATES_ARG=${1#--rates=}; shift ;;
        --pool-fit) POOL_FIT=1; shift ;;
        --kea-threads) [ $# -ge 2 ] || usage 2; KEA_THREADS=$2; shift 2 ;;
        --kea-threads=*) KEA_THREADS=${1#--kea-threads=}; shift ;;
        --no-build) BUILD=0; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "unknown argument: $1" >&2; usage 2 ;;
    esac
done

case "$GENERATOR" in
    perfdhcp) GENERATORS=(perfdhcp) ;;
    charrua) GENERATORS=(charrua) ;;
    both) GENERATORS=(perfdhcp charrua) ;;
    *) echo "--generator must be perfdhcp, charrua or both" >&2; exit 2 ;;
esac
SERVERS=()
if [ ${#ONLY[@]} -eq 0 ]; then
    SERVERS=("${ALL_SERVERS[@]}")
else
    for s in "${ONLY[@]}"; do
        case " ${ALL_SERVERS[*]} " in
            *" $s "*) SERVERS+=("$s") ;;
            *) echo "unknown server: $s (one of: ${ALL_SERVERS[*]})" >&2; exit 2 ;;
        esac
    done
fi
if [ "$QUICK" = 1 ]; then
    STEP_SECONDS=2
    RATES=(100 400 1600)
else
    RATES=(50 100 200 400 800 1600 3200 6400 12800 25600 51200 102400)
fi
if [ -n "$RATES_ARG" ]; then
    read -r -a RATES <<< "$RATES_ARG"
fi
for r in "$STEP_SECONDS" "${RATES[@]}" ${KEA_THREADS:+"$KEA_THREADS"}; do
    case "$r" in
        ''|*[!0-9]*|0) echo "rates, --step-seconds and --kea-threads must be positive integers" >&2; exit 2 ;;
    esac
done
if [ -n "$KEA_THREADS" ]; then
    LABEL[kea]="kea-dhcp4 (memfile, $KEA_THREADS threads)"
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "peers.sh must run as root (network namespaces, port 67)" >&2
    exit 1
fi

log()  { printf '[peers] %s\n' "$*" >&2; }
warn() { printf '[peers] WARNING: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# Installation and build
# ---------------------------------------------------------------------------

CREATED_POLICY_RC=0

install_packages() {
    local p missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    command -v python3 >/dev/null || missing+=(python3)
    [ ${#missing[@]} -eq 0 ] && return 0

    log "installing: ${missing[*]}"
    # The server packages ship system services; policy-rc.d answering 101
    # keeps their maintainer scripts from starting them.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        CREATED_POLICY_RC=1
    fi
    timeout 300 apt-get update -q
    DEBIAN_FRONTEND=noninteractive timeout 600 \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    if [ "$CREATED_POLICY_RC" = 1 ]; then
        rm -f /usr/sbin/policy-rc.d
        CREATED_POLICY_RC=0
    fi
}

CHARRUAD="$ROOT/target/release/charruad"
CHARRUA="$ROOT/target/release/charrua"

build() {
    if [ "$BUILD" = 1 ]; then
        log "building charruad and charrua (release)"
        timeout 1800 cargo build --release --quiet -p charrua-unix \
            --manifest-path "$ROOT/Cargo.toml"
    fi
    if [ ! -x "$CHARRUAD" ] || [ ! -x "$CHARRUA" ]; then
        echo "missing $CHARRUAD or $CHARRUA" >&2
        exit 1
    fi
}

# ---------------------------------------------------------------------------
# Process and namespace bookkeeping
# ---------------------------------------------------------------------------

WORK=""
CHILD=""     # the generator being waited for

wait_pid() {
    timeout "$2" tail --pid="$1" -f /dev/null 2>/dev/null
}

# stop_pid PID: SIGTERM, then SIGKILL if it is still there after 5 s.
stop_pid() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# spawn LOG NAMESPACE CMD...: start CMD in NAMESPACE in the background and
# record its PID ("ip netns exec" execs the command, so the PID is the
# program's own).  The PID is left in SPAWNED.
spawn() {
    local logfile=$1 ns=$2
    shift 2
    ip netns exec "$ns" "$@" >"$logfile" 2>&1 </dev/null &
    SPAWNED=$!
    echo "$SPAWNED" >> "$WORK/pids"
}

cleanup() {
    local pid ns
    if [ -n "$WORK" ] && [ -f "$WORK/pids" ]; then
        while read -r pid; do stop_pid "$pid"; done < "$WORK/pids"
    fi
    for ns in "$CLI_NS" "$SRV_NS"; do
        [ -e "/run/netns/$ns" ] || continue
        # Anything left in our own namespaces was started by this script
        # (a child of a recorded process): stop it by PID.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do stop_pid "$pid"; done
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    fi
    if [ "$CREATED_POLICY_RC" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}
on_signal() {
    trap - INT TERM
    if [ -n "$CHILD" ]; then stop_pid "$CHILD"; fi
    exit 130
}
trap cleanup EXIT
trap on_signal INT TERM

setup_namespaces() {
    ip netns add "$SRV_NS"
    ip netns add "$CLI_NS"
    # The veth pair is created directly inside the two namespaces.
    ip -n "$SRV_NS" link add "$SRV_IF" type veth peer name "$CLI_IF" netns "$CLI_NS"
    ip -n "$SRV_NS" addr add "$SRV_ADDR/$PREFIX" dev "$SRV_IF"
    ip -n "$CLI_NS" addr add "$CLI_ADDR/$PREFIX" dev "$CLI_IF"
    ip -n "$SRV_NS" link set lo up
    ip -n "$CLI_NS" link set lo up
    # Checksums computed in software, as a real wire would carry them.
    ip netns exec "$SRV_NS" ethtool -K "$SRV_IF" tx off >/dev/null
    ip netns exec "$CLI_NS" ethtool -K "$CLI_IF" tx off >/dev/null
    ip -n "$SRV_NS" link set "$SRV_IF" up
    ip -n "$CLI_NS" link set "$CLI_IF" up
}

# ---------------------------------------------------------------------------
# Servers.  Each start_* writes its configuration into DIR (on the real disk,
# so that syncs reach it), starts from an empty lease file and leaves the
# PID in SPAWNED.  Per-lease logging is off for every server.
# ---------------------------------------------------------------------------

start_charruad() {
    local d=$1
    cat > "$d/dhcpd.conf" <<EOF
authoritative;
ping-check false;
default-lease-time $LEASE_TIME;
max-lease-time $LEASE_TIME;

subnet $NETWORK netmask $NETMASK {
  range $POOL_START $POOL_END;
  option routers $SRV_ADDR;
}
EOF
    rm -f "$d/charruad.leases"
    spawn "$d/charruad.log" "$SRV_NS" env RUST_LOG=warn "$CHARRUAD" -f -q --no-raw \
        --udp "$SRV_ADDR:67" -cf "$d/dhcpd.conf" -lf "$d/charruad.leases"
}

start_kea() {
    local d=$1 mt=""
    if [ -n "$KEA_THREADS" ]; then
        mt='"multi-threading": { "enable-multi-threading": true, "thread-pool-size": '
        mt+="$KEA_THREADS"', "packet-queue-size": 64 },'
    fi
    cat > "$d/kea-dhcp4.json" <<EOF
{
  "Dhcp4": {
    $mt
    "interfaces-config": {
      "interfaces": [ "$SRV_IF/$SRV_ADDR" ],
      "dhcp-socket-type": "udp"
    },
    "lease-database": {
      "type": "memfile",
      "persist": true,
      "name": "$d/kea-leases4.csv",
      "lfc-interval": 0
    },
    "authoritative": true,
    "valid-lifetime": $LEASE_TIME,
    "subnet4": [
      {
        "id": 1,
        "subnet": "$NETWORK/$PREFIX",
        "pools": [ { "pool": "$POOL_START - $POOL_END" } ],
        "option-data": [ { "name": "routers", "data": "$SRV_ADDR" } ]
      }
    ],
    "loggers": [
      {
        "name": "kea-dhcp4",
        "output_options": [ { "output": "$d/kea-dhcp4.out" } ],
        "severity": "WARN"
      }
    ]
  }
}
EOF
    rm -f "$d"/kea-leases4.csv*
    spawn "$d/kea.log" "$SRV_NS" env KEA_PIDFILE_DIR="$d" KEA_LOCKFILE_DIR="$d" \
        kea-dhcp4 -c "$d/kea-dhcp4.json"
}

start_iscdhcpd() {
    local d=$1
    cat > "$d/dhcpd.conf" <<EOF
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time $LEASE_TIME;
max-lease-time $LEASE_TIME;

subnet $NETWORK netmask $NETMASK {
  range $POOL_START $POOL_END;
  option routers $SRV_ADDR;
}
EOF
    rm -f "$d"/dhcpd.leases*
    : > "$d/dhcpd.leases"   # dhcpd refuses to start without a lease file
    # -f without -d: dhcpd logs each lease through syslog(3), as in
    # production, rather than to its standard error.
    spawn "$d/dhcpd.log" "$SRV_NS" dhcpd -4 -f -q \
        -cf "$d/dhcpd.conf" -lf "$d/dhcpd.leases" -pf "$d/dhcpd.pid" "$SRV_IF"
}

start_dnsmasq() {
    local d=$1
    rm -f "$d/dnsmasq.leases"
    spawn "$d/dnsmasq.log" "$SRV_NS" dnsmasq \
        --no-daemon --conf-file=/dev/null --no-hosts --no-resolv \
        --port=0 --no-ping --bind-interfaces --interface="$SRV_IF" \
        --user=root --group=root --log-facility=- --quiet-dhcp \
        --dhcp-leasefile="$d/dnsmasq.leases" --pid-file="$d/dnsmasq.pid" \
        --dhcp-authoritative --dhcp-lease-max=$((POOL_SIZE + 1000)) \
        --dhcp-range="$POOL_START,$POOL_END,$NETMASK,${LEASE_TIME}s" \
        --dhcp-option=option:router,"$SRV_ADDR"
}

SERVER_PID=""

# start_server NAME DIR: start NAME and wait (bounded) until it answers one
# relayed exchange from a client that is not one of the load's clients.
start_server() {
    local server=$1 d=$2 deadline
    "start_$server" "$d"
    SERVER_PID=$SPAWNED
    deadline=$((SECONDS + 60))
    while :; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            warn "$server exited at start; its logs:"
            tail -n 20 "$d"/*.log "$d"/*.out >&2 2>/dev/null || true
            return 1
        fi
        if [ -n "$(timeout 5 ip netns exec "$SRV_NS" ss -Hlnu 'sport = :67' 2>/dev/null)" ]; then
            if timeout 5 ip netns exec "$CLI_NS" "$CHARRUA" perf --bind "$CLI_ADDR:67" \
                   --server "$SRV_ADDR:67" -R 1 -n 1 --timeout 500 --seed "$PROBE_SEED" \
                   --json 2>/dev/null | grep -q '"exchanges":1,'; then
                return 0
            fi
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            warn "$server did not answer a relayed exchange within 60 s; its logs:"
            tail -n 20 "$d"/*.log "$d"/*.out >&2 2>/dev/null || true
            return 1
        fi
        sleep 0.2
    done
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    stop_pid "$SERVER_PID"
    SERVER_PID=""
}

# cpu_ticks PID: user + system time of a process, in clock ticks.
cpu_ticks() {
    local stat rest
    read -r stat < "/proc/$1/stat" || { echo 0; return; }
    rest=${stat##*) }
    # shellcheck disable=SC2086  # split the fields
    set -- $rest
    echo $(( ${12} + ${13} ))
}

# children_ticks: user + system time of this shell's reaped children.
children_ticks() {
    local stat rest
    read -r stat < "/proc/$$/stat"
    rest=${stat##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo $(( ${14} + ${15} ))
}

vm_hwm_kb() {
    awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# ---------------------------------------------------------------------------
# Generators.  run_generator GEN RATE N SECONDS OUT: N exchanges (N unique
# clients) started at RATE per second for at most SECONDS; the summary goes to
# OUT as "sent acks p50 p90 p99 p999 max" (latencies in microseconds, "-"
# where the generator does not report them) and the raw output to OUT.raw.
# ---------------------------------------------------------------------------

run_generator() {
    local gen=$1 rate=$2 n=$3 secs=$4 out=$5 rc=0 inflight
    case "$gen" in
        perfdhcp)
            # -W: wait up to 1 s after the last DISCOVER for late answers, so
            # that an exchange still in flight is not counted as dropped.
            spawn "$out.raw" "$CLI_NS" timeout --kill-after=5 $((secs + 30)) \
                perfdhcp -4 -r "$rate" -R 10000000 -n "$n" -p "$secs" -W 1000000 \
                -l "$CLI_ADDR" "$SRV_ADDR"
            ;;
        charrua)
            # Never limited by the number in flight: at most two timeouts per
            # exchange.
            inflight=$((2 * rate + 256))
            spawn "$out.raw" "$CLI_NS" timeout --kill-after=5 $((secs + 30)) \
                "$CHARRUA" perf --bind "$CLI_ADDR:67" --server "$SRV_ADDR:67" \
                -r "$rate" -R "$n" -p "$secs" --inflight "$inflight" \
                --seed "$LOAD_SEED" --json
            ;;
    esac
    CHILD=$SPAWNED
    wait "$CHILD" || rc=$?
    CHILD=""
    # perfdhcp exits with 3 when some packets were dropped: not an error.
    if [ "$rc" -ne 0 ] && { [ "$gen" != perfdhcp ] || [ "$rc" -ne 3 ]; }; then
        warn "$gen exited with status $rc"
    fi
    case "$gen" in
        perfdhcp)
            # Two blocks: DISCOVER-OFFER, then REQUEST-ACK.
            awk '
                /Statistics for: DISCOVER-OFFER/ { block = "do" }
                /Statistics for: REQUEST-ACK/ { block = "ra" }
                /^sent packets:/ && block == "do" { sent = $3 }
                /^received packets:/ && block == "ra" { acks = $3 }
                /^avg delay:/ { avg[block] = $3 }
                /^max delay:/ { mx[block] = $3 }
                END {
                    if (sent == "") sent = 0
                    if (acks == "") acks = 0
                    # perfdhcp gives no percentiles: p50 holds the mean of
                    # DISCOVER-OFFER + REQUEST-ACK, max the sum of the maxima.
                    printf "%d %d %d - - - %d - -\n", sent, acks,
                        (avg["do"] + avg["ra"]) * 1000, (mx["do"] + mx["ra"]) * 1000
                }' "$out.raw" > "$out"
            ;;
        charrua)
            python3 - "$out.raw" > "$out" <<'EOF' || echo "0 0 - - - - - - -" > "$out"
import json, sys
text = open(sys.argv[1]).read().strip().splitlines()
j = json.loads(text[-1])
l = j["latency_us"]
print(j["sent"]["discover"], j["received"]["ack"],
      l["p50"], l["p90"], l["p99"], l["p99_9"], l["max"],
      j["offer_latency_us"]["p99"], j["ack_latency_us"]["p99"])
EOF
            ;;
    esac
}

# ---------------------------------------------------------------------------
# One step: a fresh server, one generator run.  Appends a line to STEPS:
# server gen kind rate seconds sent acks fail% acks/s server_cpu_s hwm_kb
# gen_cpu_s p50 p90 p99 p999 max offer_p99 ack_p99
# ---------------------------------------------------------------------------

STEPS=""
CLK_TCK=$(getconf CLK_TCK)

# step SERVER GEN KIND RATE: runs in this shell (the generator's CPU time is
# read from this shell's reaped children); leaves the ACKs/s achieved and the
# percentage of exchanges without an ACK in STEP_ACH and STEP_FAIL.
STEP_ACH=0
STEP_FAIL=100
step() {
    local server=$1 gen=$2 kind=$3 rate=$4
    local d="$WORK/$server" n secs t0 t1 g0 g1 hwm out
    mkdir -p "$d"
    n=$((rate * STEP_SECONDS))
    [ "$n" -le "$POOL_USE" ] || n=$POOL_USE
    secs=$(( (n + rate - 1) / rate ))
    POOL_END=$POOL_LAST
    if [ "$POOL_FIT" = 1 ]; then
        local size=$(( n + n / 4 + 2 ))   # + the readiness probe's leases
        [ "$size" -ge 256 ] || size=256
        if [ "$size" -lt "$POOL_SIZE" ]; then
            # POOL_START is 198.18.1.0: the offset carries into the third octet.
            local last=$(( (1 << 8) + size - 1 ))
            POOL_END="198.$((18 + (last >> 16))).$(( (last >> 8) & 255 )).$((last & 255))"
        fi
    fi
    out="$WORK/$server-$gen-$kind-$rate"
    start_server "$server" "$d" || return 1
    t0=$(cpu_ticks "$SERVER_PID")
    g0=$(children_ticks)
    run_generator "$gen" "$rate" "$n" "$secs" "$out"
    g1=$(children_ticks)
    t1=$(cpu_ticks "$SERVER_PID")
    hwm=$(vm_hwm_kb "$SERVER_PID")
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then warn "$server died during the step"; fi
    stop_server
    local sent acks p50 p90 p99 p999 max offer99 ack99
    read -r sent acks p50 p90 p99 p999 max offer99 ack99 < "$out"
    awk -v s="$server" -v g="$gen" -v k="$kind" -v r="$rate" -v n="$n" -v sent="$sent" \
        -v acks="$acks" -v t="$((t1 - t0))" -v gt="$((g1 - g0))" -v tck="$CLK_TCK" \
        -v hwm="${hwm:-0}" -v p50="$p50" -v p90="$p90" -v p99="$p99" -v p999="$p999" \
        -v mx="$max" -v o99="${offer99:--}" -v a99="${ack99:--}" 'BEGIN {
            secs = n / r
            fail = sent > 0 ? 100 * (sent - acks) / sent : 100
            printf "%s %s %s %d %.3f %d %d %.3f %.1f %.3f %d %.3f %s %s %s %s %s %s %s\n",
                s, g, k, r, secs, sent, acks, fail, acks / secs, t / tck, hwm,
                gt / tck, p50, p90, p99, p999, mx, o99, a99
        }' >> "$STEPS"
    read -r _ _ _ _ _ _ _ STEP_FAIL STEP_ACH _ < <(tail -n 1 "$STEPS")
}

# ladder SERVER GEN: the rate steps, then one step at half the peak rate.
ladder() {
    local server=$1 gen=$2 rate ach fail peak=0
    for rate in "${RATES[@]}"; do
        if [ $((rate)) -gt "$POOL_USE" ]; then
            log "$server/$gen: $rate/s needs more than the pool for 1 s; stopping"
            break
        fi
        if ! step "$server" "$gen" ladder "$rate"; then
            warn "$server/$gen: step at $rate/s failed"
            stop_server
            break
        fi
        ach=$STEP_ACH fail=$STEP_FAIL
        log "$(printf '%-8s %-8s %7d/s offered: %9.1f ACK/s, %6.2f %% without ACK' \
            "$server" "$gen" "$rate" "$ach" "$fail")"
        peak=$(awk -v a="$ach" -v p="$peak" 'BEGIN { print (a > p ? a : p) }')
        if awk -v f="$fail" -v l="$DROP_LIMIT" 'BEGIN { exit !(f > l) }'; then
            break
        fi
    done
    rate=$(awk -v p="$peak" 'BEGIN { r = int(p / 2 + 0.5); print (r < 1 ? 1 : r) }')
    if step "$server" "$gen" half "$rate"; then
        ach=$STEP_ACH fail=$STEP_FAIL
        log "$(printf '%-8s %-8s %7d/s (half peak): %9.1f ACK/s, %6.2f %% without ACK' \
            "$server" "$gen" "$rate" "$ach" "$fail")"
    else
        warn "$server/$gen: step at half the peak rate failed"
    fi
}

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

report() {
    local gen
    echo "# charruad and its peers under relayed DHCPv4 load"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- command: \`$COMMAND_LINE\`"
    echo "- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
    echo "- load average before the run: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- charruad: $("$CHARRUAD" --version 2>/dev/null | head -n 1) ($(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown))"
    dpkg-query -W -f='- ${Package}: ${Version}\n' "${VERSION_PACKAGES[@]}" 2>/dev/null || true
    echo "- lease files: $WORK_FS"
    echo "- workload: relayed DORA (giaddr $CLI_ADDR), unique clients, pool $POOL_START-$(if [ "$POOL_FIT" = 1 ]; then echo "(fitted to each step: its exchanges + 25 %, at least 256 addresses)"; else echo "$POOL_LAST"; fi), lease time $LEASE_TIME s, $STEP_SECONDS s per step (fewer when the pool would not hold them), rates: ${RATES[*]}"
    echo "- a step fails when more than $DROP_LIMIT % of its exchanges got no DHCPACK within 1 s"
    echo
    for gen in "${GENERATORS[@]}"; do
        awk -v gen="$gen" -v limit="$DROP_LIMIT" -v order="${SERVERS[*]}" \
            -v syn_charruad="${SYNCED[charruad]}" -v syn_kea="${SYNCED[kea]}" \
            -v syn_iscdhcpd="${SYNCED[iscdhcpd]}" -v syn_dnsmasq="${SYNCED[dnsmasq]}" \
            -v lab_charruad="${LABEL[charruad]}" -v lab_kea="${LABEL[kea]}" \
            -v lab_iscdhcpd="${LABEL[iscdhcpd]}" -v lab_dnsmasq="${LABEL[dnsmasq]}" '
        BEGIN {
            label["charruad"] = lab_charruad; label["kea"] = lab_kea
            label["iscdhcpd"] = lab_iscdhcpd; label["dnsmasq"] = lab_dnsmasq
            syn["charruad"] = syn_charruad; syn["kea"] = syn_kea
            syn["iscdhcpd"] = syn_iscdhcpd; syn["dnsmasq"] = syn_dnsmasq
        }
        function ms(us) { return us == "-" ? "-" : sprintf("%.2f", us / 1000) }
        function ratio(a, b) { return (b > 0 && a != "") ? sprintf("%.2f", a / b) : "-" }
        $2 != gen { next }
        {
            s = $1
            steps[s] = steps[s] sprintf("| %s | %d%s | %.0f | %.1f | %.2f | %.3f | %.0f %% |\n",
                label[s], $4, ($3 == "half" ? " (half peak)" : ""), $6 / $5, $9, $8,
                (($7 > 0) ? 1000 * $10 / $7 : 0), 100 * $12 / $5)
        }
        $3 == "ladder" {
            if (!(s in peak) || $9 > peak[s]) peak[s] = $9
            if ($11 > hwm[s]) hwm[s] = $11
            if (!(s in failed) && $8 <= limit) {
                sus[s] = $9; susrate[s] = $4
                cpu[s] = $7 > 0 ? 1000 * $10 / $7 : ""
            }
            if ($8 > limit) failed[s] = 1
        }
        $3 == "half" {
            s = $1
            half[s] = sprintf("%d/s: %s / %s / %s / %s / %s", $4, ms($13), ms($14), ms($15), ms($16), ms($17))
            if ($18 != "-" && $18 != "")
                half[s] = half[s] sprintf(" (p99 DISCOVER-OFFER %s, REQUEST-ACK %s)", ms($18), ms($19))
            if ($8 <= limit && $7 > 0) {
                halfcpu[s] = sprintf("%.3f (at %d/s)", 1000 * $10 / $7, $4)
                halfcpuv[s] = 1000 * $10 / $7
            }
            if ($11 > hwm[s]) hwm[s] = $11
        }
        END {
            for (s in halfcpuv) if (!(s in cpu) || cpu[s] == "") cpu[s] = halfcpuv[s]
            n = split(order, srv, " ")
            lat = gen == "charrua" ? "latency at half peak, ms: p50 / p90 / p99 / p99.9 / max" \
                                   : "latency at half peak, ms: mean / - / - / - / max"
            printf "## Load from %s\n\n", (gen == "charrua" ? "charrua perf" : "perfdhcp")
            printf "| server | leases synced before ACK | sustained leases/s (offered) | peak leases/s | server CPU s / 1,000 leases | %s | peak memory MiB |\n", lat
            printf "|---|---|---:|---:|---:|---|---:|\n"
            for (i = 1; i <= n; i++) {
                s = srv[i]
                if (!(s in peak)) continue
                printf "| %s | %s | %s | %.0f | %s | %s | %.1f |\n", label[s], syn[s],
                    (s in sus) ? sprintf("%.0f (%d/s)", sus[s], susrate[s]) : "< first step",
                    peak[s], (s in sus && cpu[s] != "") ? sprintf("%.3f", cpu[s]) : \
                        ((s in halfcpu) ? halfcpu[s] : "-"),
                    (s in half) ? half[s] : "-", hwm[s] / 1024
            }
            if ("kea" in peak) {
                printf "\nRatios to kea-dhcp4 measured in the same run (higher is better for leases/s, lower for CPU and memory):\n\n"
                printf "| server | sustained leases/s | peak leases/s | CPU per lease | peak memory |\n"
                printf "|---|---:|---:|---:|---:|\n"
                for (i = 1; i <= n; i++) {
                    s = srv[i]
                    if (!(s in peak)) continue
                    printf "| %s | %s | %s | %s | %s |\n", label[s], ratio(sus[s], sus["kea"]),
                        ratio(peak[s], peak["kea"]), ratio(cpu[s], cpu["kea"]), ratio(hwm[s], hwm["kea"])
                }
            }
            printf "\nSteps (a fresh server with an empty lease file each):\n\n"
            printf "| server | offered/s | sent/s | ACKs/s | %% without ACK in 1 s | server CPU s / 1,000 leases | generator CPU (one core) |\n"
            printf "|---|---:|---:|---:|---:|---:|---:|\n"
            for (i = 1; i <= n; i++) printf "%s", steps[srv[i]]
            printf "\n"
        }' "$STEPS"
    done
    cat <<EOF
Notes: sustained = ACKs/s achieved at the highest step with at most $DROP_LIMIT %
of exchanges without a DHCPACK within 1 s; peak = the most ACKs/s seen at any
step. CPU is the server's user + system time (/proc/PID/stat) over the step,
per 1,000 ACKs. Peak memory is the largest VmHWM of any of the server's runs.
Where no step was sustained, CPU comes from the step at half the peak rate.
perfdhcp reports no percentiles: its columns hold the mean and the largest
DISCOVER-OFFER + REQUEST-ACK delay. sent/s below offered/s means the
generator could not keep up. On a 2-core machine the generator shares the
CPUs with the server: see its CPU column.
EOF
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l >= 1.0) }'; then
    warn "load average is $LOAD_BEFORE: results will be noisy; run on a quiet machine"
fi
install_packages
build

# The lease files live on the real disk (not tmpfs), so syncs are real.
WORK=$(mktemp -d /var/tmp/charrua-peers.XXXXXX)
WORK_FS=$(df -PT "$WORK" | awk 'NR == 2 { print $2 " on " $1 }')
case "$WORK_FS" in
    tmpfs*) warn "$WORK is on tmpfs: syncs cost nothing there" ;;
esac
: > "$WORK/pids"
STEPS="$WORK/steps"
: > "$STEPS"
setup_namespaces
START=$SECONDS

for gen in "${GENERATORS[@]}"; do
    for server in "${SERVERS[@]}"; do
        ladder "$server" "$gen"
    done
done

mkdir -p "$SCRIPT_DIR/results"
RESULT="$SCRIPT_DIR/results/peers-$(date -u +%Y%m%d-%H%M%S).md"
report > "$RESULT"
log "finished in $((SECONDS - START)) s; report: ${RESULT#"$ROOT"/}"
echo
cat "$RESULT"
