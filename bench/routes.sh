#!/usr/bin/env bash
# routes.sh -- benchmark: list every route of a namespace holding a big table.
#
# What: a private network namespace gets N IPv6 routes (N = $BENCH_ROUTES,
# default 100000; 2001:db8:X:Y::/64 via a gateway on a veth, added with
# `ip -batch`), then whole processes are timed, $BENCH_ROUNDS rounds
# (default 5), alternating the order each round:
#   lnetstat      lua5.4 list_routes.lua: routes{netns=NS, table="all"} (the script is
#                 written to a temp dir; it loads lua/ and build/5.4/ of this tree)
#   fields        the lnetstat row with fields = {"gateway", "interface"}: lighter
#                 records, the list form for a script that needs only those
#   each          lua5.4 each_routes.lua: each_route{netns=NS, table="all"} with a
#                 function that counts: the same records, streamed, never all held
#   lnetstat+thp  the same as lnetstat, with glibc's heap on transparent huge pages
#                 (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): a diagnostic row
#                 that shows how much of lnetstat's time is page faults
#   ip            ip -n NS route show table all   (both families, like lnetstat)
#   ip-json       ip -j -n NS route show table all
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
TOOLS=(lnetstat fields each lnetstat+thp ip ip-json noop)
NS=lnetstat-bench-rt-$$

((N <= 65536 * 256)) || { echo "routes.sh: BENCH_ROUTES too large" >&2; exit 1; }
on_exit() { ip netns delete "$NS" 2>/dev/null || true; }

cat >"$tmp/list_routes.lua" <<'EOF'
-- the lnetstat side: the whole route list of NS, built once; prints its length
-- (with a third argument "fields": only gateway and interface, besides family and dst)
local root, netns = arg[1], arg[2]
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/5.4/?.so;" .. package.cpath
local fields = arg[3] == "fields" and { "gateway", "interface" } or nil
local list = assert(require("lnetstat").routes{ netns = netns, table = "all", fields = fields })
io.write(#list, "\n")
EOF

cat >"$tmp/each_routes.lua" <<'EOF'
-- the streaming side: each_route over the same tables; prints the count
local root, netns = arg[1], arg[2]
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/5.4/?.so;" .. package.cpath
local n = 0
assert(require("lnetstat").each_route({ netns = netns, table = "all" }, function() n = n + 1 end))
io.write(n, "\n")
EOF

argv_of() {  # argv_of TOOL: set the array argv to the command line of TOOL
	case $1 in
	lnetstat) argv=(lua5.4 "$tmp/list_routes.lua" "$PWD" "$NS") ;;
	fields) argv=(lua5.4 "$tmp/list_routes.lua" "$PWD" "$NS" fields) ;;
	each) argv=(lua5.4 "$tmp/each_routes.lua" "$PWD" "$NS") ;;
	lnetstat+thp) argv=(env GLIBC_TUNABLES=glibc.malloc.hugetlb=1 lua5.4 "$tmp/list_routes.lua" "$PWD" "$NS") ;;
	ip) argv=(ip -n "$NS" route show table all) ;;
	ip-json) argv=(ip -j -n "$NS" route show table all) ;;
	noop) argv=(/bin/true) ;;
	esac
}

out_of() {
	case $1 in lnetstat* | each | fields) echo "$tmp/$1.count" ;; *) echo /dev/null ;; esac
}
records_of() { cat "$tmp/$1.count"; }

echo "routes: building $NS with $N routes..." >&2
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add rtb0 type veth peer name rtb1
ip -n "$NS" link set rtb0 up
ip -n "$NS" link set rtb1 up
ip -n "$NS" addr add 2001:db8:ffff::1/64 dev rtb0 nodad
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
	printf "route add 2001:db8:%x:%x::/64 via 2001:db8:ffff::2 dev rtb0\n", int(i / 256), i % 256 }' >"$tmp/batch"
ip -n "$NS" -batch "$tmp/batch"

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
echo "lnetstat / ip = $(ratio lnetstat ip) (target <= 1.0), fields / ip = $(ratio fields ip)," \
	"each / ip = $(ratio each ip)"
