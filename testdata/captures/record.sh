#!/usr/bin/env bash
#
# record.sh - record real DHCPv4 exchanges between real clients and real
# servers, each pair isolated in its own pair of network namespaces.
#
# Usage (as root):
#   testdata/captures/record.sh [--only NAME] [OUTPUT-DIR]
#
#   OUTPUT-DIR   where the captures are written (default: this script's
#                directory)
#   --only NAME  record only one capture, e.g. "udhcpc-kea" or
#                "dhclient-iscdhcpd-nak" (see --list)
#   --list       print the capture names and exit
#
# For every client in {dhclient, udhcpc, dhcpcd} and every server in
# {dnsmasq, kea, iscdhcpd} the script
#   * creates the namespaces chr-srv-PID and chr-cli-PID joined by a veth
#     pair (veth-srv 192.0.2.1/24 <-> veth-cli); the veth pair is created
#     directly inside the namespaces and nothing touches the root
#     namespace's interfaces.  Addresses come from 192.0.2.0/24 only
#     (198.51.100.0/24 appears in option 121 and in one pre-seeded lease
#     file, and is never used as a destination);
#   * starts the server in the server namespace with a configuration written
#     to a temporary directory;
#   * runs tcpdump on veth-cli (DHCP ports only) in the client namespace;
#   * runs the client: full DORA, a renew (unicast REQUEST) and a release.
# A few extra captures hold an INIT-REBOOT answered by a NAK, a DECLINE and an
# INFORM, and one exchange is also captured in Linux cooked mode (SLL and
# SLL2); one capture is converted to pcapng.
#
# Every wait is bounded, every process is started inside one of the
# namespaces, recorded by PID and stopped by that PID; the namespaces and the
# temporary directory are removed on exit.  Clients keep their lease, pid and
# hook files in the temporary directory.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

CLIENTS=(dhclient udhcpc dhcpcd)
SERVERS=(dnsmasq kea iscdhcpd)
# Extra scenarios: name -> "client server scenario".
declare -A EXTRAS=(
    [dhclient-iscdhcpd-nak]="dhclient iscdhcpd nak"
    [udhcpc-kea-decline]="udhcpc kea decline"
    [dhcpcd-dnsmasq-inform]="dhcpcd dnsmasq inform"
)
EXTRA_ORDER=(dhclient-iscdhcpd-nak udhcpc-kea-decline dhcpcd-dnsmasq-inform)
COOKED_PAIR=udhcpc-dnsmasq   # also captured with "tcpdump -i any"
PCAPNG_PAIR=dhcpcd-kea       # also converted to pcapng

PACKAGES=(isc-dhcp-client busybox dhcpcd-base dnsmasq-base kea-dhcp4-server
          isc-dhcp-server tcpdump iproute2 ethtool)

SRV_NS="chr-srv-$$"
CLI_NS="chr-cli-$$"
SRV_IF=veth-srv
CLI_IF=veth-cli
SRV_ADDR=192.0.2.1
POOL_START=192.0.2.100
POOL_END=192.0.2.200
LEASE_TIME=120   # dnsmasq refuses leases shorter than two minutes
T1=10            # short renewal time: dhclient cannot be told to renew early
T2=20
DOMAIN=example.org
SEARCH2=lab.example.org
MTU=1400
STATIC_NET=198.51.100.0/24   # advertised through option 121 only

# Fixed, locally administered client MAC addresses (one per client program).
declare -A CLIENT_MAC=(
    [dhclient]=02:00:00:00:00:01
    [udhcpc]=02:00:00:00:00:02
    [dhcpcd]=02:00:00:00:00:03
)

# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

all_names() {
    local c s
    for c in "${CLIENTS[@]}"; do
        for s in "${SERVERS[@]}"; do echo "$c-$s"; done
    done
    printf '%s\n' "${EXTRA_ORDER[@]}"
}

usage() {
    sed -n '3,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

OUT_DIR="$SCRIPT_DIR"
ONLY=""
while [ $# -gt 0 ]; do
    case "$1" in
        --only) [ $# -ge 2 ] || usage 2; ONLY=$2; shift 2 ;;
        --only=*) ONLY=${1#--only=}; shift ;;
        --list) all_names; exit 0 ;;
        -h|--help) usage 0 ;;
        -*) echo "unknown option: $1" >&2; usage 2 ;;
        *) OUT_DIR=$1; shift ;;
    esac
done
if [ -n "$ONLY" ] && ! all_names | grep -qxF -- "$ONLY"; then
    echo "unknown capture name: $ONLY (see --list)" >&2
    exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "record.sh must run as root (network namespaces, raw sockets)" >&2
    exit 1
fi
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)

log()  { printf '[record] %s\n' "$*" >&2; }
warn() { printf '[record] WARNING: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# Installation
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
    # keeps their maintainer scripts from starting them in the root namespace.
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

# ---------------------------------------------------------------------------
# Process and namespace bookkeeping
# ---------------------------------------------------------------------------

TMP=""
IP_BIN=""

# wait_pid PID SECONDS: wait (bounded) for a process to exit.
wait_pid() {
    timeout "$2" tail --pid="$1" -f /dev/null 2>/dev/null
}

# stop_pid PID: SIGTERM, then SIGKILL if it is still there after 3 s.
stop_pid() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid "$pid" 3 || kill -KILL "$pid" 2>/dev/null || true
}

# spawn LOG NAMESPACE CMD...: start CMD in NAMESPACE in the background and
# record its PID (ip netns exec execs the command, so the PID is the
# program's own).  The PID is left in SPAWNED.
spawn() {
    local logfile=$1 ns=$2
    shift 2
    ip netns exec "$ns" "$@" >"$logfile" 2>&1 </dev/null &
    SPAWNED=$!
    echo "$SPAWNED" >> "$TMP/pids"
}

# Stop everything started for the current pair and delete its namespaces.
cleanup_pair() {
    local pid ns
    if [ -n "$TMP" ] && [ -f "$TMP/pids" ]; then
        while read -r pid; do stop_pid "$pid"; done < "$TMP/pids"
        : > "$TMP/pids"
    fi
    for ns in "$CLI_NS" "$SRV_NS"; do
        [ -e "/run/netns/$ns" ] || continue
        # Anything still running inside our own namespaces was started by
        # this script (children of the recorded processes): stop it by PID.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do stop_pid "$pid"; done
        ip netns del "$ns" 2>/dev/null || true
    done
}

cleanup() {
    cleanup_pair
    if [ -n "$TMP" ]; then
        # RECORD_KEEP_TMP=1 keeps configurations and logs for debugging.
        if [ "${RECORD_KEEP_TMP:-0}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    fi
    if [ "$CREATED_POLICY_RC" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}
# On SIGINT/SIGTERM: stop the capture running in the background subshell
# (see run_one), then exit; the EXIT trap stops every recorded process and
# removes the namespaces.
CHILD=""
on_signal() {
    trap - INT TERM
    if [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null; then
        wait_pid "$CHILD" 10 || kill -KILL "$CHILD" 2>/dev/null || true
    fi
    exit 130
}
trap cleanup EXIT
trap on_signal INT TERM

# wait_event FILE REGEX COUNT SECONDS: wait (at most SECONDS) until FILE has
# COUNT lines matching REGEX.  Polling loops run in this shell, with a
# deadline, so that a signal is handled within 0.1 s.
wait_event() {
    local deadline=$((SECONDS + $4)) n
    while n=$(grep -cE "$2" "$1" 2>/dev/null || true); [ "${n:-0}" -lt "$3" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            warn "timed out waiting for '$2' (x$3) in $(basename "$1")"
            return 1
        fi
        sleep 0.1
    done
}

setup_namespaces() {
    local client=$1
    ip netns add "$SRV_NS"
    ip netns add "$CLI_NS"
    # Create the veth pair directly inside the two namespaces.
    ip -n "$SRV_NS" link add "$SRV_IF" type veth peer name "$CLI_IF" netns "$CLI_NS"
    ip -n "$CLI_NS" link set "$CLI_IF" address "${CLIENT_MAC[$client]}"
    ip -n "$SRV_NS" addr add "$SRV_ADDR/24" dev "$SRV_IF"
    ip -n "$SRV_NS" link set lo up
    ip -n "$CLI_NS" link set lo up
    # veth offloads UDP checksums by default: packets sent through kernel
    # sockets would be captured with a partial (wrong) checksum.  Compute
    # them in software so that every capture holds what a wire would carry.
    ip netns exec "$SRV_NS" ethtool -K "$SRV_IF" tx off >/dev/null
    ip netns exec "$CLI_NS" ethtool -K "$CLI_IF" tx off >/dev/null
    ip -n "$SRV_NS" link set "$SRV_IF" up
    ip -n "$CLI_NS" link set "$CLI_IF" up
}

# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

start_dnsmasq() {
    local d=$1
    spawn "$d/dnsmasq.log" "$SRV_NS" dnsmasq \
        --no-daemon --conf-file=/dev/null --no-hosts --no-resolv \
        --port=0 --no-ping --bind-interfaces --interface="$SRV_IF" \
        --user=root --group=root \
        --dhcp-leasefile="$d/dnsmasq.leases" --pid-file="$d/dnsmasq.pid" \
        --log-dhcp --log-facility=- --dhcp-authoritative \
        --dhcp-range="$POOL_START,$POOL_END,255.255.255.0,${LEASE_TIME}s" \
        --dhcp-option=option:router,"$SRV_ADDR" \
        --dhcp-option=option:dns-server,"$SRV_ADDR" \
        --dhcp-option=option:domain-name,"$DOMAIN" \
        --dhcp-option=option:domain-search,"$DOMAIN,$SEARCH2" \
        --dhcp-option=option:ntp-server,"$SRV_ADDR" \
        --dhcp-option=option:mtu,"$MTU" \
        --dhcp-option=option:classless-static-route,"$STATIC_NET,$SRV_ADDR,0.0.0.0/0,$SRV_ADDR" \
        --dhcp-option=option:T1,"$T1" \
        --dhcp-option=option:T2,"$T2"
}

start_kea() {
    local d=$1
    # Option 121 as raw bytes: 198.51.100.0/24 via 192.0.2.1, default via
    # 192.0.2.1.
    cat > "$d/kea-dhcp4.json" <<EOF
{
  "Dhcp4": {
    "interfaces-config": {
      "interfaces": [ "$SRV_IF" ],
      "dhcp-socket-type": "raw"
    },
    "lease-database": {
      "type": "memfile",
      "persist": true,
      "name": "$d/kea-leases4.csv",
      "lfc-interval": 0
    },
    "authoritative": true,
    "valid-lifetime": $LEASE_TIME,
    "renew-timer": $T1,
    "rebind-timer": $T2,
    "subnet4": [
      {
        "id": 1,
        "subnet": "192.0.2.0/24",
        "pools": [ { "pool": "$POOL_START - $POOL_END" } ],
        "option-data": [
          { "name": "routers", "data": "$SRV_ADDR" },
          { "name": "domain-name-servers", "data": "$SRV_ADDR" },
          { "name": "domain-name", "data": "$DOMAIN" },
          { "name": "domain-search", "data": "$DOMAIN, $SEARCH2" },
          { "name": "ntp-servers", "data": "$SRV_ADDR" },
          { "name": "interface-mtu", "data": "$MTU" },
          { "code": 121, "space": "dhcp4", "csv-format": false,
            "data": "18C63364C000020100C0000201" }
        ]
      }
    ],
    "loggers": [
      {
        "name": "kea-dhcp4",
        "output_options": [ { "output": "$d/kea-dhcp4.out" } ],
        "severity": "DEBUG",
        "debuglevel": 40
      }
    ]
  }
}
EOF
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
option rfc3442-classless-static-routes code 121 = array of integer 8;

subnet 192.0.2.0 netmask 255.255.255.0 {
  range $POOL_START $POOL_END;
  option routers $SRV_ADDR;
  option domain-name-servers $SRV_ADDR;
  option domain-name "$DOMAIN";
  option domain-search "$DOMAIN", "$SEARCH2";
  option ntp-servers $SRV_ADDR;
  option interface-mtu $MTU;
  option rfc3442-classless-static-routes 24, 198, 51, 100, 192, 0, 2, 1, 0, 192, 0, 2, 1;
  option dhcp-renewal-time $T1;
  option dhcp-rebinding-time $T2;
}
EOF
    : > "$d/dhcpd.leases"   # dhcpd refuses to start without a lease file
    spawn "$d/dhcpd.log" "$SRV_NS" dhcpd -4 -f -d \
        -cf "$d/dhcpd.conf" -lf "$d/dhcpd.leases" -pf "$d/dhcpd.pid" "$SRV_IF"
}

start_server() {
    local server=$1 d=$2 pid
    "start_$server" "$d"
    pid=$SPAWNED
    # Ready once something listens on UDP port 67 in the server namespace.
    local deadline=$((SECONDS + 10))
    until [ -n "$(timeout 5 ip netns exec "$SRV_NS" ss -Hlnu 'sport = :67' 2>/dev/null)" ]; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            warn "$server did not start; its log:"
            cat "$d"/*.log >&2 || true
            return 1
        fi
        sleep 0.1
    done
    sleep 0.3   # let raw/packet sockets open as well
}

# ---------------------------------------------------------------------------
# Capture
# ---------------------------------------------------------------------------

# start_capture FILE IFACE [TCPDUMP-ARGS...]; the PID is appended to CAPTURES.
CAPTURES=()
start_capture() {
    local file=$1 iface=$2 logfile
    shift 2
    logfile="$file.log"
    spawn "$logfile" "$CLI_NS" tcpdump -i "$iface" -n -U --immediate-mode -Z root -w "$file" "$@" \
        'port 67 or port 68'
    CAPTURES+=("$SPAWNED")
    wait_event "$logfile" 'listening on' 1 10
}

stop_captures() {
    local pid
    sleep 1     # let the last reply arrive
    for pid in "${CAPTURES[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true   # tcpdump flushes and exits
        wait_pid "$pid" 5 || true
    done
    CAPTURES=()
}

# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------

# dhclient (ISC): foreground, state in the temporary directory, and a hook
# that records the event and sets the address inside the client namespace
# (the unicast renew and release need the leased address on the interface).
run_dhclient() {
    local d=$1 scenario=$2
    local ev="$d/events" pid
    cat > "$d/dhclient.conf" <<EOF
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
send host-name "chr-dhclient";
request subnet-mask, broadcast-address, time-offset, routers,
        domain-name, domain-name-servers, domain-search, host-name,
        interface-mtu, ntp-servers, rfc3442-classless-static-routes;
EOF
    cat > "$d/dhclient-hook" <<EOF
#!/bin/sh
case "\$reason" in
  PREINIT) $IP_BIN link set dev "\$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    $IP_BIN addr replace "\$new_ip_address/\$new_subnet_mask" dev "\$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP)
    [ -z "\$old_ip_address" ] || $IP_BIN addr del "\$old_ip_address/\$old_subnet_mask" dev "\$interface" ;;
esac
echo "\$reason \$new_ip_address" >> "$ev"
exit 0
EOF
    chmod 755 "$d/dhclient-hook"
    local args=(-4 -v -cf "$d/dhclient.conf" -lf "$d/dhclient.leases"
                -pf "$d/dhclient.pid" -sf "$d/dhclient-hook")

    if [ "$scenario" = nak ]; then
        # A remembered, unexpired lease on a network the server does not
        # serve: dhclient starts in INIT-REBOOT, the authoritative server
        # answers DHCPNAK and dhclient falls back to DISCOVER.
        cat > "$d/dhclient.leases" <<EOF
lease {
  interface "$CLI_IF";
  fixed-address 198.51.100.77;
  option subnet-mask 255.255.255.0;
  option dhcp-lease-time $LEASE_TIME;
  option dhcp-server-identifier $SRV_ADDR;
  renew 4 2037/12/31 00:00:00;
  rebind 4 2037/12/31 00:00:00;
  expire 4 2037/12/31 00:00:00;
}
EOF
    fi

    spawn "$d/dhclient.log" "$CLI_NS" dhclient -d "${args[@]}" "$CLI_IF"
    pid=$SPAWNED
    wait_event "$ev" '^BOUND ' 1 30
    if [ "$scenario" = normal ]; then
        # dhclient has no command to renew now: wait for T1 (10 s), when it
        # sends a unicast DHCPREQUEST to the server by itself.
        wait_event "$ev" '^RENEW ' 1 $((T1 + 15))
    fi
    # "dhclient -r" stops the running instance (via its pid file) and sends
    # a DHCPRELEASE for the lease in the lease file.
    timeout 20 ip netns exec "$CLI_NS" dhclient -r "${args[@]}" "$CLI_IF" \
        >> "$d/dhclient-release.log" 2>&1
    wait_event "$ev" '^RELEASE ' 1 5
    stop_pid "$pid"
}

# udhcpc (BusyBox): SIGUSR1 forces a renew (unicast REQUEST), SIGUSR2
# releases the lease.
run_udhcpc() {
    local d=$1 scenario=$2
    local ev="$d/events" pid extra=()
    cat > "$d/udhcpc-hook" <<EOF
#!/bin/sh
case "\$1" in
  deconfig) $IP_BIN -4 addr flush dev "\$interface" ;;
  bound|renew) $IP_BIN addr replace "\$ip/\$mask" dev "\$interface" ;;
esac
echo "\$1 \$ip" >> "$ev"
exit 0
EOF
    chmod 755 "$d/udhcpc-hook"
    # -a: ARP-probe the offered address and DECLINE it if something answers.
    [ "$scenario" = decline ] && extra=(-a)

    spawn "$d/udhcpc.log" "$CLI_NS" busybox udhcpc -f -i "$CLI_IF" \
        -s "$d/udhcpc-hook" -p "$d/udhcpc.pid" -t 5 -T 2 -A 2 \
        -x hostname:chr-udhcpc -O ntpsrv -O search -O mtu -O staticroutes \
        "${extra[@]}"
    pid=$SPAWNED
    wait_event "$ev" '^bound ' 1 30
    if [ "$scenario" = normal ]; then
        sleep 1
        kill -USR1 "$pid"
        wait_event "$ev" '^renew ' 1 15
    fi
    local deconfigs
    deconfigs=$(grep -c '^deconfig' "$ev" || true)
    kill -USR2 "$pid"
    wait_event "$ev" '^deconfig' $((deconfigs + 1)) 10
    stop_pid "$pid"
}

# dhcpcd: runs with a minimal configuration and a hook that only records
# events (dhcpcd configures the address and routes itself, inside the client
# namespace).  Its state directories are compiled in (/var/lib/dhcpcd,
# /run/dhcpcd), so it runs in a private mount namespace where both are
# bind-mounted from the temporary directory; control commands (-N renew,
# -k release) are sent from inside the same namespaces.
run_dhcpcd() {
    local d=$1 scenario=$2
    local ev="$d/events" pid inform=()
    mkdir -p "$d/dhcpcd-run" "$d/dhcpcd-db"
    cat > "$d/dhcpcd.conf" <<EOF
hostname chr-dhcpcd
clientid
option domain_name_servers, domain_name, domain_search, host_name
option ntp_servers, interface_mtu, classless_static_routes
require dhcp_server_identifier
ipv4only
noipv4ll
noarp
EOF
    cat > "$d/dhcpcd-hook" <<EOF
#!/bin/sh
echo "\$reason \$new_ip_address" >> "$ev"
exit 0
EOF
    chmod 755 "$d/dhcpcd-hook"
    if [ "$scenario" = inform ]; then
        # DHCPINFORM for a statically configured address.  The address is put
        # on the interface first: dhcpcd 9.4.1 (privilege separation) crashes
        # when it has to add the address itself in inform mode.
        ip -n "$CLI_NS" addr add 192.0.2.50/24 dev "$CLI_IF"
        inform=(-s 192.0.2.50/24)
    fi

    # shellcheck disable=SC2016  # expanded by the inner sh
    spawn "$d/dhcpcd.log" "$CLI_NS" sh -c '
        mount -n --bind "$1/dhcpcd-run" /run &&
        mount -n --bind "$1/dhcpcd-db" /var/lib/dhcpcd &&
        shift && exec "$@"' sh "$d" \
        dhcpcd -4 -B -d -f "$d/dhcpcd.conf" -c "$d/dhcpcd-hook" -t 20 \
        "${inform[@]}" "$CLI_IF"
    pid=$SPAWNED
    dhcpcd_ctl() {
        timeout 10 nsenter -t "$pid" -m -n \
            dhcpcd -4 -f "$d/dhcpcd.conf" "$@" "$CLI_IF" >> "$d/dhcpcd-ctl.log" 2>&1
    }
    if [ "$scenario" = inform ]; then
        wait_event "$ev" '^INFORM' 1 30
        dhcpcd_ctl -x || true
    else
        wait_event "$ev" '^BOUND ' 1 30
        sleep 1
        dhcpcd_ctl -N
        wait_event "$ev" '^RENEW ' 1 15
        # -k releases the lease and, with no interface left, dhcpcd exits;
        # the hook sees STOP (not RELEASE) as the interface is removed.
        dhcpcd_ctl -k
        wait_event "$ev" '^STOP' 1 10
    fi
    wait_pid "$pid" 5 || stop_pid "$pid"
}

# ---------------------------------------------------------------------------
# One capture
# ---------------------------------------------------------------------------

# message_types FILE: the DHCP message types in FILE, in order.
message_types() {
    tcpdump -r "$1" -n -v 2>/dev/null \
        | grep -oE 'DHCP-Message \(53\), length 1: [A-Za-z]+' \
        | awk '{print $NF}' | paste -sd' ' - || true
}

# record NAME CLIENT SERVER SCENARIO LAST-ATTEMPT
record() {
    local name=$1 client=$2 server=$3 scenario=$4 last_attempt=$5
    local d="$TMP/$name"
    rm -rf "$d"
    mkdir -p "$d"
    : > "$d/events"
    log "$name: $client against $server ($scenario)"

    setup_namespaces "$client"
    if [ "$scenario" = decline ]; then
        # Something else already uses the first pool address: the client's
        # ARP probe gets an answer and it declines the lease.  The address is
        # put on the server namespace's loopback (Linux answers ARP for it on
        # veth-srv) so that the DHCP server itself only sees 192.0.2.1.
        ip -n "$SRV_NS" addr add "$POOL_START/32" dev lo
    fi
    start_server "$server" "$d"

    local tsprec=()
    [ "$scenario" = decline ] && tsprec=(--time-stamp-precision=nano)
    start_capture "$d/$name.pcap" "$CLI_IF" "${tsprec[@]}"
    if [ "$name" = "$COOKED_PAIR" ]; then
        start_capture "$d/$name-cooked.pcap" any -y LINUX_SLL
        start_capture "$d/$name-cooked-sll2.pcap" any -y LINUX_SLL2
    fi

    "run_$client" "$d" "$scenario"

    stop_captures
    cleanup_pair

    # Check that the capture holds what it is meant to hold; a capture that
    # does not is kept only if this was the last attempt.
    local types want ok=1
    types=$(message_types "$d/$name.pcap")
    case "$scenario" in
        # Every client: DORA, a renew (REQUEST/ACK) and a RELEASE.
        normal)  want='Discover Offer Request ACK Request ACK Release' ;;
        nak)     want='Request NACK Discover Offer Request ACK Release' ;;
        decline) want='Discover Offer Request ACK Decline Discover Offer Request ACK Release' ;;
        inform)  want='Inform ACK' ;;
    esac
    if [ "$types" != "$want" ]; then
        warn "$name: got [$types], expected [$want]"
        ok=0
        [ "$last_attempt" = 1 ] || return 1
    fi

    local f
    for f in "$d"/*.pcap; do
        cp "$f" "$OUT_DIR/"
        basename "$f" >> "$TMP/produced"
    done
    if [ "$name" = "$PCAPNG_PAIR" ]; then
        python3 "$SCRIPT_DIR/pcap2pcapng.py" "$d/$name.pcap" "$OUT_DIR/$name.pcapng" "$CLI_IF"
        echo "$name.pcapng" >> "$TMP/produced"
    fi
    [ "$ok" = 1 ]
}

# Run one capture in a subshell so that a failure in one pair neither stops
# the others nor leaves its processes or namespaces behind.  A capture that
# does not hold the expected exchange (a lost reply, a retransmission) is
# recorded again, up to ATTEMPTS times.
ATTEMPTS=3
FAILED=()
run_one() {
    local name=$1 rc attempt last
    for attempt in $(seq "$ATTEMPTS"); do
        last=0
        [ "$attempt" -lt "$ATTEMPTS" ] || last=1
        # In the background, so that "wait" (unlike a foreground subshell)
        # lets this shell handle a signal at once.
        (
            set -e
            trap cleanup_pair EXIT
            trap 'exit 130' TERM
            record "$@" "$last"
        ) &
        CHILD=$!
        rc=0
        wait "$CHILD" || rc=$?
        CHILD=""
        [ "$rc" -ne 130 ] || exit 130
        [ "$rc" -ne 0 ] || return 0
        [ "$attempt" -eq "$ATTEMPTS" ] || log "$name: recording again"
    done
    FAILED+=("$name")
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

install_packages
IP_BIN=$(command -v ip)
TMP=$(mktemp -d /tmp/charrua-captures.XXXXXX)
: > "$TMP/pids"
: > "$TMP/produced"
START=$SECONDS

for c in "${CLIENTS[@]}"; do
    for s in "${SERVERS[@]}"; do
        name="$c-$s"
        [ -z "$ONLY" ] || [ "$ONLY" = "$name" ] || continue
        run_one "$name" "$c" "$s" normal
    done
done
for name in "${EXTRA_ORDER[@]}"; do
    [ -z "$ONLY" ] || [ "$ONLY" = "$name" ] || continue
    read -r c s scenario <<< "${EXTRAS[$name]}"
    run_one "$name" "$c" "$s" "$scenario"
done

# Summary: packets and DHCP message types per file written in this run.
echo
printf '%-36s %7s  %s\n' FILE PACKETS 'DHCP MESSAGE TYPES (in order)'
while read -r f; do
    [ -n "$f" ] || continue
    n=$(tcpdump -r "$OUT_DIR/$f" -n 2>/dev/null | wc -l)
    printf '%-36s %7s  %s\n' "$f" "$n" "$(message_types "$OUT_DIR/$f")"
done < "$TMP/produced"
echo
log "done in $((SECONDS - START)) s, output in $OUT_DIR"
if [ ${#FAILED[@]} -gt 0 ]; then
    warn "incomplete captures: ${FAILED[*]}"
    exit 1
fi
