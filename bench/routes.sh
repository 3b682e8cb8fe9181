#!/usr/bin/env bash
# routes.sh -- benchmark: list every route of a namespace holding a big table.
#
# What: a private network namespace gets N IPv6 routes (N = $BENCH_ROUTES,
# default 100000; 2001:db8:X:Y::/64 via a gateway on a veth, added with
# `ip -batch`), then whole processes are timed, $BENCH_ROUNDS rounds
# (default 5), alternating the order each round:
#   lnetstat      lua5.4 list_routes.lua: routes{netns=NS, table="all"} (the script is
#                 written to a temp dir; it loads lua/ and build/5.4/ of this tree)
#   lnetstat+thp  the same, with glibc's heap on transparent huge pages
#                 (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): a diagnostic row
#                 that shows how much of lnetstat's time is page faults
#   ip            ip -n NS route show table all   (both families, like lnetstat)
#   ip-json       ip -j -n NS route show table all
#   noop          /bin/true                       (process start + timing)
# Why: lnetstat builds one Lua table per route; `ip route` is what it
# replaces. Wall time comes from $EPOCHREALTIME around each process, peak
# RSS from GNU time (%M, KiB); the table shows medians. Output goes to
# /dev/null except lnetstat's record count. The namespace is deleted on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
N=${BENCH_ROUTES:-100000}
ROUNDS=${BENCH_ROUNDS:-5}
TOOLS=(lnetstat lnetstat+thp ip ip-json noop)
NS=lnetstat-bench-rt-$$

command -v /usr/bin/time >/dev/null || { echo "routes.sh: needs GNU time (apt-get install time)" >&2; exit 1; }
((N <= 65536 * 256)) || { echo "routes.sh: BENCH_ROUTES too large" >&2; exit 1; }
tmp=$(mktemp -d)
cleanup() {
	ip netns delete "$NS" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$tmp/list_routes.lua" <<'EOF'
-- the lnetstat side: the whole route list of NS, built once; prints its length
local root, netns = arg[1], arg[2]
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/5.4/?.so;" .. package.cpath
local list = assert(require("lnetstat").routes{ netns = netns, table = "all" })
io.write(#list, "\n")
EOF

argv_of() {  # argv_of TOOL: set the array argv to the command line of TOOL
	case $1 in
	lnetstat) argv=(lua5.4 "$tmp/list_routes.lua" "$PWD" "$NS") ;;
	lnetstat+thp) argv=(env GLIBC_TUNABLES=glibc.malloc.hugetlb=1 lua5.4 "$tmp/list_routes.lua" "$PWD" "$NS") ;;
	ip) argv=(ip -n "$NS" route show table all) ;;
	ip-json) argv=(ip -j -n "$NS" route show table all) ;;
	noop) argv=(/bin/true) ;;
	esac
}

timed() {  # timed TOOL: run TOOL once, append "usec rss_kib minflt" to $tmp/TOOL.runs
	local out=/dev/null t0 t1 argv
	if [[ $1 == lnetstat* ]]; then out=$tmp/$1.count; fi
	argv_of "$1"
	t0=${EPOCHREALTIME/./}
	/usr/bin/time -f "%M %R" -o "$tmp/rss" "${argv[@]}" >"$out"
	t1=${EPOCHREALTIME/./}
	echo "$((t1 - t0)) $(<"$tmp/rss")" >>"$tmp/$1.runs"
}

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

# Warm-up and record counts (untimed); skip lnetstat if the module is not built.
argv_of lnetstat
if ! "${argv[@]}" >"$tmp/lnetstat.count" 2>"$tmp/lnetstat.err"; then
	echo "routes.sh: lnetstat skipped (module not built? run make):" >&2
	head -n 2 "$tmp/lnetstat.err" >&2
	TOOLS=(ip ip-json noop)
else
	cp "$tmp/lnetstat.count" "$tmp/lnetstat+thp.count"
fi
ip -n "$NS" route show table all | grep -c '^[^[:space:]]' >"$tmp/ip.count"
ip -j -n "$NS" route show table all | grep -o '"dst":' | wc -l >"$tmp/ip-json.count"
echo 0 >"$tmp/noop.count"

for ((r = 1; r <= ROUNDS; r++)); do
	order=("${TOOLS[@]}")
	((r % 2)) || for ((i = 0; i < ${#TOOLS[@]}; i++)); do order[i]=${TOOLS[-1 - i]}; done
	echo "routes: round $r/$ROUNDS: ${order[*]}" >&2
	for t in "${order[@]}"; do timed "$t"; done
done

median() {  # median COLUMN FILE
	cut -d' ' -f"$1" "$2" | sort -n | awk '{v[NR] = $1} END {print (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2}'
}
for t in "${TOOLS[@]}"; do
	echo "$t $(<"$tmp/$t.count") $(median 1 "$tmp/$t.runs") $(median 2 "$tmp/$t.runs") $(median 3 "$tmp/$t.runs")"
done >"$tmp/table"

echo
echo "Route listing, table all, $N IPv6 routes in a private netns, medians of $ROUNDS runs"
awk '
	NR == FNR { if ($1 == "lnetstat") { lt = $3; lm = $4 } ; next }
	FNR == 1 { printf "%-13s %9s %10s %12s %10s %13s %12s\n", "tool", "records", "wall ms", "max RSS KiB", "minflt", "time ratio", "mem ratio" }
	{ printf "%-13s %9d %10.1f %12d %10d %13s %12s\n", $1, $2, $3 / 1000, $4, $5,
	  $1 == "noop" ? "-" : lt ? sprintf("%.2f", lt / $3) : "n/a",
	  $1 == "noop" ? "-" : lm ? sprintf("%.2f", lm / $4) : "n/a" }
' "$tmp/table" "$tmp/table"
echo "(ratio = lnetstat / tool, for wall time and peak RSS; below 1 means lnetstat is cheaper;"
echo " records: lnetstat's list length, ip's route lines; lnetstat holds every route as a Lua"
echo " table at once, ip prints as it goes: minflt counts the first touches of new heap pages)"
