#!/usr/bin/env bash
# sockets.sh -- baseline benchmark: list every TCP socket of a busy host.
#
# What: fills the network namespace with N loopback TCP sockets (bench/
# sockfarm.py; N = $BENCH_SOCKETS, default 100000), then times whole processes,
# $BENCH_ROUNDS rounds (default 5), alternating the order each round:
#   lnetstat  lua5.4 bench/list_tcp.lua    -- require "lnetstat"; sockets{proto="tcp"}
#   each      lua5.4 bench/each_tcp.lua    -- each_socket{proto="tcp"}: the same
#             records streamed to a function, never all held at once
#   lnetstat+thp  the same as lnetstat, with glibc's heap on transparent huge pages
#                 (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): a diagnostic row
#                 showing how much of lnetstat's time is first-touch page
#                 faults of its 100k Lua tables (compare the minflt column)
#   ss        ss -tan                      -- iproute2, sock_diag netlink
#   netstat   netstat -tan                 -- net-tools, /proc/net/tcp{,6}
#   floor     bench/diagfloor.c            -- raw sock_diag dump, counting only
#   owners    lua5.4 bench/list_tcp.lua process -- sockets{proto="tcp", process=true}:
#             the same list with every socket's owner (pid, program, user)
#   ss-p      ss -tanp                     -- iproute2 with owners
#   netstat-p netstat -tanp                -- net-tools with owners
#   noop      /bin/true                    -- process start + timing overhead
# Why: lnetstat builds one Lua table per socket; ss and netstat are what it
# replaces, and the floor is what the kernel alone costs, so lnetstat/floor is
# the overhead lnetstat itself adds.  Output goes to /dev/null, except the
# counts lnetstat, each and floor print.
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh
N=${BENCH_SOCKETS:-100000}
ROUNDS=${BENCH_ROUNDS:-5}
TOOLS=(lnetstat each lnetstat+thp ss netstat floor owners ss-p netstat-p noop)

cc -O2 -o "$tmp/diagfloor" bench/diagfloor.c

argv_of() {
	case $1 in
	lnetstat) argv=(lua5.4 bench/list_tcp.lua) ;;
	each) argv=(lua5.4 bench/each_tcp.lua) ;;
	lnetstat+thp) argv=(env GLIBC_TUNABLES=glibc.malloc.hugetlb=1 lua5.4 bench/list_tcp.lua) ;;
	ss) argv=(ss -tan) ;;
	netstat) argv=(netstat -tan) ;;
	floor) argv=("$tmp/diagfloor") ;;
	owners) argv=(lua5.4 bench/list_tcp.lua process) ;;
	ss-p) argv=(ss -tanp) ;;
	netstat-p) argv=(netstat -tanp) ;;
	noop) argv=(/bin/true) ;;
	esac
}
out_of() {
	case $1 in lnetstat* | each | floor | owners) echo "$tmp/$1.count" ;; *) echo /dev/null ;; esac
}
records_of() { cut -d' ' -f1 "$tmp/$1.count"; }

start_farm "$N"

# Warm-up and record counts (untimed).
if ! lua5.4 bench/list_tcp.lua >"$tmp/lnetstat.count" 2>"$tmp/lnetstat.err"; then
	echo "sockets.sh: bench/list_tcp.lua failed (module not built? run make):" >&2
	head -n 2 "$tmp/lnetstat.err" >&2
	exit 1
fi
ss -tan | tail -n +2 | wc -l >"$tmp/ss.count"
netstat -tan | tail -n +3 | wc -l >"$tmp/netstat.count"
cp "$tmp/ss.count" "$tmp/ss-p.count"
cp "$tmp/netstat.count" "$tmp/netstat-p.count"
echo 0 >"$tmp/noop.count"

run_rounds
print_table "TCP socket listing, farm holding $held sockets"
echo "(ratio = lnetstat / tool, for wall time and peak RSS; below 1 means lnetstat is cheaper;"
echo " minflt = minor page faults: each first touch of a new heap page, the main cost of holding"
echo " every record as a Lua table at once, which ss and netstat, printing as they go, never pay)"
echo "lnetstat / ss = $(ratio lnetstat ss) (target <= 1.0), lnetstat / netstat = $(ratio lnetstat netstat)"
echo "each / ss = $(ratio each ss), lnetstat+thp / ss = $(ratio lnetstat+thp ss)"
echo "with owners: owners / ss -p = $(ratio owners ss-p), owners / netstat -p = $(ratio owners netstat-p)" \
	"($(cut -d' ' -f2 "$tmp/owners.count") of $(cut -d' ' -f1 "$tmp/owners.count") records got an owner)"
