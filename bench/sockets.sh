#!/usr/bin/env bash
# sockets.sh -- baseline benchmark: list every TCP socket of a busy host.
#
# What: fills the network namespace with N loopback TCP sockets (bench/
# sockfarm.py; N = $BENCH_SOCKETS, default 100000), then times whole processes,
# $BENCH_ROUNDS rounds (default 5), alternating the order each round:
#   lnetstat  lua5.4 bench/list_tcp.lua    -- require "lnetstat"; sockets{proto="tcp"}
#   each      lua5.4 bench/each_tcp.lua    -- each_socket{proto="tcp"}: the same
#             records streamed to a function, never all held at once
#   each+reuse    lua5.4 bench/each_tcp.lua reuse: each_socket{proto="tcp",
#                 reuse=true}, one record table refilled for every socket: a
#                 diagnostic row showing what a fresh Lua table per socket costs
#   lnetstat+thp  the same as lnetstat, with glibc's heap on transparent huge pages
#                 (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): a diagnostic row
#                 showing how much of lnetstat's time is first-touch page
#                 faults of its 100k Lua tables (compare the minflt column)
#   ss        ss -tan                      -- iproute2, sock_diag netlink
#   netstat   netstat -tan                 -- net-tools, /proc/net/tcp{,6}
#   floor     bench/diagfloor.c            -- raw sock_diag dump, counting only
#   tables    bench/tablefloor.c N         -- N record tables of 14 fields made
#             through the C API and handed to a Lua function, no kernel: what
#             the Lua side of each_socket cannot go below
#   tables-list  bench/tablefloor.c N list -- the same tables held in one list:
#             the floor of sockets() (their memory and its page faults)
#   tables-owners  bench/tablefloor.c N list owners -- the same held tables with
#             the owner fields of process = true (user, pid, program, and a list
#             of one owner table): the Lua side of the owners row
#   owners    lua5.4 bench/list_tcp.lua process -- sockets{proto="tcp", process=true}:
#             the same list with every socket's owner (pid, program, user)
#   scan      bench/scanfloor.c            -- one walk of every /proc/PID/fd, reading
#             each link and counting the sockets: the kernel's floor of any owner
#             lookup (ss -p and netstat -p walk the same files)
#   ss-p      ss -tanp                     -- iproute2 with owners
#   netstat-p netstat -tanp                -- net-tools with owners
#   listen    lua5.4 bench/query.lua listening -- listening{proto="tcp"} among them
#   ss-l      ss -tln
#   dport     lua5.4 bench/query.lua dport -- sockets{proto="tcp", remote_port=6667}
#   ss-dport  ss -tan 'dport = :6667'
#   src       lua5.4 bench/query.lua src   -- sockets{proto="tcp", local_addr="127.0.0.3"}
#   ss-src    ss -tan 'src 127.0.0.3'
#             (the farm adds $BENCH_MARKED, default 10, connections to 127.0.0.3:6667
#             for these two: the kernel filters them, lnetstat and ss alike)
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
MARKED=${BENCH_MARKED:-10}
TOOLS=(lnetstat each each+reuse lnetstat+thp ss netstat floor tables tables-list tables-owners
	owners scan ss-p netstat-p listen ss-l dport ss-dport src ss-src noop)

cc -O2 -o "$tmp/diagfloor" bench/diagfloor.c
cc -O2 -o "$tmp/scanfloor" bench/scanfloor.c
cc -O2 -I/usr/include/lua5.4 -o "$tmp/tablefloor" bench/tablefloor.c -llua5.4

argv_of() {
	case $1 in
	lnetstat) argv=(lua5.4 bench/list_tcp.lua) ;;
	each) argv=(lua5.4 bench/each_tcp.lua) ;;
	each+reuse) argv=(lua5.4 bench/each_tcp.lua reuse) ;;
	lnetstat+thp) argv=(env GLIBC_TUNABLES=glibc.malloc.hugetlb=1 lua5.4 bench/list_tcp.lua) ;;
	ss) argv=(ss -tan) ;;
	netstat) argv=(netstat -tan) ;;
	floor) argv=("$tmp/diagfloor") ;;
	tables) argv=("$tmp/tablefloor" "$held") ;;
	tables-list) argv=("$tmp/tablefloor" "$held" list) ;;
	tables-owners) argv=("$tmp/tablefloor" "$held" list owners) ;;
	owners) argv=(lua5.4 bench/list_tcp.lua process) ;;
	scan) argv=("$tmp/scanfloor") ;;
	ss-p) argv=(ss -tanp) ;;
	netstat-p) argv=(netstat -tanp) ;;
	listen) argv=(lua5.4 bench/query.lua listening) ;;
	ss-l) argv=(ss -tln) ;;
	dport) argv=(lua5.4 bench/query.lua dport) ;;
	ss-dport) argv=(ss -tan 'dport = :6667') ;;
	src) argv=(lua5.4 bench/query.lua src) ;;
	ss-src) argv=(ss -tan 'src 127.0.0.3') ;;
	noop) argv=(/bin/true) ;;
	esac
}
out_of() {
	case $1 in lnetstat* | each* | floor | tables* | owners | scan | listen | dport | src) echo "$tmp/$1.count" ;; *) echo /dev/null ;; esac
}
records_of() { cut -d' ' -f1 "$tmp/$1.count"; }

start_farm "$N" --marked "$MARKED"

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
ss -tln | tail -n +2 | wc -l >"$tmp/ss-l.count"
ss -tan 'dport = :6667' | tail -n +2 | wc -l >"$tmp/ss-dport.count"
ss -tan 'src 127.0.0.3' | tail -n +2 | wc -l >"$tmp/ss-src.count"
echo 0 >"$tmp/noop.count"

run_rounds
print_table "TCP socket listing, farm holding $held sockets"
echo "(ratio = lnetstat / tool, for wall time and peak RSS; below 1 means lnetstat is cheaper;"
echo " minflt = minor page faults: each first touch of a new heap page, the main cost of holding"
echo " every record as a Lua table at once, which ss and netstat, printing as they go, never pay)"
echo "lnetstat / netstat = $(ratio lnetstat netstat), lnetstat+thp / ss = $(ratio lnetstat+thp ss)"
echo "with owners: owners / netstat -p = $(ratio owners netstat-p)" \
	"($(cut -d' ' -f2 "$tmp/owners.count") of $(cut -d' ' -f1 "$tmp/owners.count") records got an owner)"
awk '$1 == "owners" { printf "with owners: %.0f bytes of peak RSS per record (%d KiB for %d records; 120 MB for 100k before)\n", $4 * 1024 / $2, $4, $2 }' "$tmp/table"
# The two floors together: the kernel's dump and the Lua tables alone, each
# in its own process (one process start, noop, taken off the sum)
awk '{ t[$1] = $3 / 1000 } END {
	printf "floors: each_socket %.1f ms against sock_diag floor + tables - noop = %.1f ms;", t["each"], t["floor"] + t["tables"] - t["noop"]
	printf " sockets() %.1f ms against floor + tables-list - noop = %.1f ms\n", t["lnetstat"], t["floor"] + t["tables-list"] - t["noop"]
	printf "floors: process=true %.1f ms against floor + tables-owners + scan - 2 noop = %.1f ms", t["owners"], t["floor"] + t["tables-owners"] + t["scan"] - 2 * t["noop"]
	printf " (the /proc walk alone: %.1f ms; 0.12 of ss -tanp: %.1f ms)\n", t["scan"] - t["noop"], 0.12 * t["ss-p"] }' "$tmp/table"
echo
echo "Targets (wall time of the whole process, medians; noise: compare rounds on a busy machine with care)"
target 'listening{proto="tcp"} / ss -tln' listen ss-l 1.0
target 'sockets{remote_port=6667} / ss dport' dport ss-dport 1.0
target 'sockets{local_addr="127.0.0.3"} / ss src' src ss-src 1.0
target 'sockets{proto="tcp"} / ss -tan' lnetstat ss 1.0 tables-list
target 'each_socket{proto="tcp"} / ss -tan' each ss 0.5
target 'each_socket{proto="tcp"} / sock_diag floor' each floor 1.2
target 'sockets{proto="tcp", process=true} / ss -tanp' owners ss-p 0.12 tables-owners
