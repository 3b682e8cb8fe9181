#!/usr/bin/env bash
# callgrind.sh -- a figure that does not depend on the machine's noise.
#
# What: a farm of $BENCH_CG_SOCKETS (default 10000) loopback TCP sockets, then
# the instructions (callgrind's Ir, user space only: the kernel's share is
# not counted) of whole processes:
#   list      lua5.4 bench/list_tcp.lua             -- sockets{proto="tcp"}
#   each      lua5.4 bench/each_tcp.lua             -- each_socket{proto="tcp"}
#   listen    lua5.4 bench/query.lua listening      -- listening{proto="tcp"}
#   dport     lua5.4 bench/query.lua dport          -- with a port filter
#   tan       lua5.4 bin/lnetstat -tan              -- the netstat view, streamed
#             (records: the lines it prints)
#   per call  lua5.4 bench/longlived.lua 1000 and 0 -- listening{proto="tcp"}
#             in one Lua state: (instructions of 1,000 calls - of none) / 1,000
# and, in a private network namespace holding $BENCH_CG_ROUTES (default
# 10000) IPv6 routes (make_route_ns of lib.sh):
#   routes    lua5.4 bench/routes.lua NS list       -- routes{table="all"}
#   eachrt    lua5.4 bench/routes.lua NS each       -- each_route{table="all"}
# and the Lua tables alone (bench/tablefloor.c, no kernel, no parsing), the
# floors the rows above cannot go below:
#   tables    tablefloor N          -- N records handed to a Lua function
#   tables-l  tablefloor N list     -- N records held in one list
#   tables-r  tablefloor NR list routes -- N route-shaped records held
# Why: wall times on a shared machine move by tens of percent from run to
# run; instruction counts of a fixed dump do not, so a slowdown in review
# shows here first. Each process runs with a fixed environment and with
# bench/fixseed.c preloaded (time() answers one fixed second): Lua seeds its
# string hashes with the time, which moved every count by one or two
# percent; now the same build gives the same count. Needs valgrind and cc.
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh
command -v valgrind >/dev/null || { echo "callgrind.sh: needs valgrind" >&2; exit 1; }
N=${BENCH_CG_SOCKETS:-10000}
NR=${BENCH_CG_ROUTES:-10000}
cc -shared -fPIC -O2 -o "$tmp/fixseed.so" bench/fixseed.c
cc -O2 -I/usr/include/lua5.4 -o "$tmp/tablefloor" bench/tablefloor.c -llua5.4

# cg OUT ARGS...: runs ARGS under callgrind (instructions into OUT) in a
# fixed environment with the fixed time (see above)
cg() {
	local out=$1
	shift
	env -i PATH="$PATH" LC_ALL=C LD_PRELOAD="$tmp/fixseed.so" \
		valgrind --tool=callgrind --callgrind-out-file="$out" "$@"
}

# cg_row ROW ARGS...: one table row, the instructions of lua5.4 ARGS
cg_row() {
	local row=$1
	shift
	cg_cmd "$row" lua5.4 "$@"
}

# cg_cmd ROW ARGS...: one table row, the instructions of ARGS, which print
# their record count first
cg_cmd() {
	local row=$1 ir n
	shift
	cg "$tmp/cg.$row" "$@" >"$tmp/$row.count" 2>"$tmp/$row.err"
	ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/cg.$row")
	n=$(cut -d' ' -f1 "$tmp/$row.count")
	awk -v r="$row" -v n="$n" -v ir="$ir" 'BEGIN {
		printf "%-8s %10d %16d %14.0f\n", r, n, ir, (n > 0) ? ir / n : 0 }'
}

start_farm "$N" --marked 10
echo
echo "Instructions (callgrind Ir, user space), farm holding $held sockets"
printf "%-8s %10s %16s %14s\n" row records instructions "per record"
cg_row list bench/list_tcp.lua
cg_row each bench/each_tcp.lua
cg_row listen bench/query.lua listening
cg_row dport bench/query.lua dport
cg_cmd tables "$tmp/tablefloor" "$held"
cg_cmd tables-l "$tmp/tablefloor" "$held" list
# the command prints lines, not a count: the records column counts them
cg "$tmp/cg.tan" lua5.4 bin/lnetstat -tan >"$tmp/tan.out" 2>"$tmp/tan.err"
awk -v n="$(wc -l <"$tmp/tan.out")" -v ir="$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/cg.tan")" \
	'BEGIN { printf "%-8s %10d %16d %14.0f\n", "tan", n, ir, (n > 0) ? ir / n : 0 }'
# the long-lived row's figure: the process with no call after the warm-up is
# subtracted, so what is left is the calls alone
cg "$tmp/cg.calls0" lua5.4 bench/longlived.lua 0 >/dev/null 2>"$tmp/calls0.err"
cg "$tmp/cg.calls" lua5.4 bench/longlived.lua 1000 >"$tmp/calls.count" 2>"$tmp/calls.err"
awk -v n="$(cut -d' ' -f2 "$tmp/calls.count")" \
	-v a="$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/cg.calls0")" \
	-v b="$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/cg.calls")" \
	'BEGIN { printf "listening{proto=\"tcp\"} in one Lua state, %d records: %.0f instructions per call\n", n, (b - a) / 1000 }'

NS=lnetstat-bench-cg-$$
on_exit() { ip netns delete "$NS" 2>/dev/null || true; }
make_route_ns "$NS" "$NR"
echo "Instructions, a private namespace holding $NR IPv6 routes (table all)"
cg_row routes bench/routes.lua "$NS" list
cg_row eachrt bench/routes.lua "$NS" each
cg_cmd tables-r "$tmp/tablefloor" "$NR" list routes
