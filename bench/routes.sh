#!/usr/bin/env bash
# routes.sh -- benchmark: list every route of a namespace holding a big table.
#
# What: a private network namespace gets N IPv6 routes (N = $BENCH_ROUTES,
# default 100000; 2001:db8:X:Y::/64 via a gateway on a veth, added with
# `ip -batch`), then whole processes are timed, $BENCH_ROUNDS rounds
# (default 5), alternating the order each round:
#   lnetstat      lua5.4 bench/routes.lua NS list: routes{netns=NS, table="all"}
#   fields        the lnetstat row with fields = {"gateway", "interface"}: lighter
#                 records, the list form for a script that needs only those
#   each          lua5.4 bench/routes.lua NS each: each_route{netns=NS, table="all"}
#                 with a function that counts: the same records, streamed, never held
#   lnetstat+thp  the same as lnetstat, with glibc's heap on transparent huge pages
#                 (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): a diagnostic row
#                 that shows how much of lnetstat's time is page faults
#   ip            ip -n NS route show table all   (both families, like lnetstat)
#   ip-json       ip -j -n NS route show table all
#   floor         bench/routefloor.c NS: the route dumps lnetstat sends (one per
#                 family, strict checking), messages only counted: the kernel's cost
#   tables        bench/tablefloor.c N list routes: N held tables of a route's 13
#                 fields, one distinct text each (the dst), no kernel: Lua's cost
#   noop          /bin/true                       (process start + timing)
# Why: lnetstat builds one Lua table per route; `ip route` is what it
# replaces. Wall time comes from $EPOCHREALTIME around each process, peak
# RSS from GNU time (%M, KiB); the table shows medians. Output goes to
# /dev/null except lnetstat's record count. The namespace is deleted on exit.
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh
N=${BENCH_ROUTES:-100000}
ROUNDS=${BENCH_ROUNDS:-5}
TOOLS=(lnetstat fields each lnetstat+thp ip ip-json floor tables noop)
NS=lnetstat-bench-rt-$$

((N <= 65536 * 256)) || { echo "routes.sh: BENCH_ROUTES too large" >&2; exit 1; }
on_exit() { ip netns delete "$NS" 2>/dev/null || true; }

argv_of() {  # argv_of TOOL: set the array argv to the command line of TOOL
	case $1 in
	lnetstat) argv=(lua5.4 bench/routes.lua "$NS" list) ;;
	fields) argv=(lua5.4 bench/routes.lua "$NS" fields) ;;
	each) argv=(lua5.4 bench/routes.lua "$NS" each) ;;
	lnetstat+thp) argv=(env GLIBC_TUNABLES=glibc.malloc.hugetlb=1 lua5.4 bench/routes.lua "$NS" list) ;;
	ip) argv=(ip -n "$NS" route show table all) ;;
	ip-json) argv=(ip -j -n "$NS" route show table all) ;;
	floor) argv=("$tmp/routefloor" "$NS") ;;
	tables) argv=("$tmp/tablefloor" "$N" list routes) ;;
	noop) argv=(/bin/true) ;;
	esac
}

out_of() {
	case $1 in lnetstat* | each | fields | floor | tables) echo "$tmp/$1.count" ;; *) echo /dev/null ;; esac
}
records_of() { cat "$tmp/$1.count"; }

cc -O2 -o "$tmp/routefloor" bench/routefloor.c
cc -O2 -I/usr/include/lua5.4 -o "$tmp/tablefloor" bench/tablefloor.c -llua5.4
make_route_ns "$NS" "$N"

# Warm-up and record counts (untimed).
argv_of lnetstat
if ! "${argv[@]}" >"$tmp/lnetstat.count" 2>"$tmp/lnetstat.err"; then
	echo "routes.sh: lnetstat failed (module not built? run make):" >&2
	head -n 2 "$tmp/lnetstat.err" >&2
	exit 1
fi
ip -n "$NS" route show table all | grep -c '^[^[:space:]]' >"$tmp/ip.count"
ip -j -n "$NS" route show table all | grep -o '"dst":' | wc -l >"$tmp/ip-json.count"
echo 0 >"$tmp/noop.count"

run_rounds
print_table "Route listing, table all, $N IPv6 routes in a private netns"
echo "(ratio = lnetstat / tool, for wall time and peak RSS; below 1 means lnetstat is cheaper;"
echo " records: lnetstat's list length, ip's route lines; lnetstat holds every route as a Lua"
echo " table at once, ip prints as it goes: minflt counts the first touches of new heap pages)"
echo "fields / ip = $(ratio fields ip), each / ip = $(ratio each ip)"
# the kernel's dump and the Lua tables alone, each in its own process (one
# process start, noop, taken off the sum)
awk '{ t[$1] = $3 / 1000 } END {
	printf "floors: routes() %.1f ms against floor + tables - noop = %.1f ms; ip route %.1f ms\n", t["lnetstat"], t["floor"] + t["tables"] - t["noop"], t["ip"] }' "$tmp/table"
target 'routes{table="all"} / ip route show table all' lnetstat ip 1.0 tables
