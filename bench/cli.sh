#!/usr/bin/env bash
# cli.sh -- the lnetstat command against netstat and ss on a busy host.
#
# What: fills the network namespace with N loopback TCP sockets (bench/
# sockfarm.py, exactly as sockets.sh does; N = $BENCH_SOCKETS, default
# 100000), then times whole processes printing every TCP socket numerically,
# $BENCH_ROUNDS rounds (default 5), the order reversed every other round:
#   lnetstat  lua5.4 bin/lnetstat -tan   -- sock_diag + Lua rendering, netstat's layout
#   netstat   netstat -tan               -- net-tools, /proc/net/tcp{,6}
#   ss        ss -tan                    -- iproute2, sock_diag
#   lnetstat-p  lua5.4 bin/lnetstat -tanp -- the same with each socket's owner
#   netstat-p   netstat -tanp            -- net-tools with owners
#   ss-p        ss -tanp                 -- iproute2 with owners
#   noop      /bin/true                  -- process start + timing overhead
# Why: the command must be a drop-in for `netstat -tan` that is faster than
# netstat and takes at most 0.7 of ss's time.  Output goes to a file; its line count is
# the records column (every tool should see about N sockets), and the
# last round's lnetstat and netstat outputs are compared, untimed.
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh
N=${BENCH_SOCKETS:-100000}
ROUNDS=${BENCH_ROUNDS:-5}
TOOLS=(lnetstat netstat ss lnetstat-p netstat-p ss-p noop)

argv_of() {
	case $1 in
	lnetstat) argv=(lua5.4 bin/lnetstat -tan) ;;
	netstat) argv=(netstat -tan) ;;
	ss) argv=(ss -tan) ;;
	lnetstat-p) argv=(lua5.4 bin/lnetstat -tanp) ;;
	netstat-p) argv=(netstat -tanp) ;;
	ss-p) argv=(ss -tanp) ;;
	noop) argv=(/bin/true) ;;
	esac
}
out_of() { echo "$tmp/$1.out"; }
records_of() { wc -l <"$tmp/$1.out"; }

start_farm "$N"

# Untimed warm-up; without the C module there is nothing to compare.
if ! lua5.4 bin/lnetstat -tan >"$tmp/warm" 2>"$tmp/lnetstat.err"; then
	echo "cli.sh: bin/lnetstat failed (module not built? run make):" >&2
	head -n 3 "$tmp/lnetstat.err" >&2
	exit 1
fi
netstat -tan >/dev/null
ss -tan >/dev/null

run_rounds

# The same sockets, the same layout: lnetstat's lines are netstat's, give or
# take the farm's few sockets that change state between the two runs.
if ! diff <(sort "$tmp/netstat.out") <(sort "$tmp/lnetstat.out") >"$tmp/diff"; then
	echo "cli: lnetstat -tan and netstat -tan differ in $(grep -c '^[<>]' "$tmp/diff") lines (last round)" >&2
fi
if ! diff <(sort "$tmp/netstat-p.out") <(sort "$tmp/lnetstat-p.out") >"$tmp/diff"; then
	echo "cli: lnetstat -tanp and netstat -tanp differ in $(grep -c '^[<>]' "$tmp/diff") lines (last round)" >&2
fi

print_table "lnetstat -tan(p) against netstat -tan(p) and ss -tan(p), farm holding $held sockets"
echo "(records = output lines; ratio = lnetstat / tool: below 1 means lnetstat is faster or"
echo " smaller)"
target 'lnetstat -tan / netstat -tan' lnetstat netstat 1.0
target 'lnetstat -tan / ss -tan' lnetstat ss 0.7
echo "with owners: lnetstat -tanp / netstat -tanp = $(ratio lnetstat-p netstat-p)," \
	"lnetstat -tanp / ss -tanp = $(ratio lnetstat-p ss-p)"
