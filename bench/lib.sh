# shellcheck shell=bash
# lib.sh -- what the benchmarks share; sourced by sockets.sh, cli.sh and
# routes.sh, never run on its own.
#
# A benchmark sets TOOLS (the rows; the first is the one the ratios divide)
# and ROUNDS, defines argv_of TOOL (sets the array argv to the command line
# of TOOL) and may define:
#   out_of TOOL      where TOOL's stdout goes (default /dev/null)
#   records_of TOOL  what the "records" column shows (default 0)
#   on_exit          extra cleanup, run before the temp dir goes
# Then: start_farm N (optional), run_rounds, print_table TITLE.
# Wall time comes from $EPOCHREALTIME around each whole process, peak RSS
# (KiB) and minor page faults from GNU time; the table shows medians.

set -euo pipefail
export LC_ALL=C
command -v /usr/bin/time >/dev/null || { echo "$0: needs GNU time (apt-get install time)" >&2; exit 1; }

tmp=$(mktemp -d)
farm_pid=
held=0

bench_cleanup() {
	if declare -F on_exit >/dev/null; then on_exit || true; fi
	if [[ -n $farm_pid ]]; then
		kill "$farm_pid" 2>/dev/null || true
		wait "$farm_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

out_of() { echo /dev/null; }
records_of() { echo 0; }

# start_farm N [ARGS...]: fills the network namespace with N loopback TCP
# sockets (bench/sockfarm.py, given ARGS too) and sets held to the number
# it holds.
# shellcheck disable=SC2034 # held is read by the benchmarks that source this
start_farm() {
	local word n=$1
	shift
	echo "$(basename "$0"): starting farm of $n loopback TCP sockets..." >&2
	coproc FARM { exec python3 bench/sockfarm.py --count "$n" "$@"; }
	farm_pid=${FARM_PID:?}
	if ! read -r -t 120 word held <&"${FARM[0]}" || [[ $word != ready ]]; then
		echo "$0: socket farm did not get ready" >&2
		exit 1
	fi
}

# make_route_ns NS N: creates network namespace NS holding N IPv6 routes
# (2001:db8:X:Y::/64 via a gateway on a veth, added with `ip -batch`: no
# traffic). The caller deletes NS (its on_exit).
make_route_ns() {
	local ns=$1 n=$2
	((n <= 65536 * 256)) || { echo "$0: too many routes: $n" >&2; exit 1; }
	echo "$(basename "$0"): building $ns with $n routes..." >&2
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link add rtb0 type veth peer name rtb1
	ip -n "$ns" link set rtb0 up
	ip -n "$ns" link set rtb1 up
	ip -n "$ns" addr add 2001:db8:ffff::1/64 dev rtb0 nodad
	awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
		printf "route add 2001:db8:%x:%x::/64 via 2001:db8:ffff::2 dev rtb0\n", int(i / 256), i % 256 }' \
		>"$tmp/routes.batch"
	ip -n "$ns" -batch "$tmp/routes.batch"
}

# timed TOOL: runs TOOL once, appends "usec rss_kib minflt" to $tmp/TOOL.runs.
timed() {
	local t0 t1 argv
	argv_of "$1"
	t0=${EPOCHREALTIME/./}
	/usr/bin/time -f "%M %R" -o "$tmp/rss" "${argv[@]}" >"$(out_of "$1")"
	t1=${EPOCHREALTIME/./}
	echo "$((t1 - t0)) $(<"$tmp/rss")" >>"$tmp/$1.runs"
}

# run_rounds: ROUNDS rounds of every tool, the order reversed every other
# round, so that neither end of a round is always the same tool.
run_rounds() {
	local r i t order
	for ((r = 1; r <= ROUNDS; r++)); do
		order=("${TOOLS[@]}")
		((r % 2)) || for ((i = 0; i < ${#TOOLS[@]}; i++)); do order[i]=${TOOLS[-1 - i]}; done
		echo "$(basename "$0"): round $r/$ROUNDS: ${order[*]}" >&2
		for t in "${order[@]}"; do timed "$t"; done
	done
}

median() {  # median COLUMN FILE
	cut -d' ' -f"$1" "$2" | sort -n | awk '{v[NR] = $1} END {print (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2}'
}

# print_table TITLE: one row per tool; ratio = first tool / this tool, for
# wall time and peak RSS (below 1: the first tool is cheaper). Leaves the
# medians in $tmp/table ("tool records usec rss minflt") for summary lines.
print_table() {
	local t
	for t in "${TOOLS[@]}"; do
		echo "$t $(records_of "$t") $(median 1 "$tmp/$t.runs") $(median 2 "$tmp/$t.runs") $(median 3 "$tmp/$t.runs")"
	done >"$tmp/table"
	echo
	echo "$1, medians of $ROUNDS runs"
	awk '
		NR == 1 { ref = $1; lt = $3; lm = $4 }
		{ printf "%-13s %9d %10.1f %12d %10d %13s %12s\n", $1, $2, $3 / 1000, $4, $5,
		  ($1 == "noop" || $1 == ref) ? "-" : sprintf("%.2f", lt / $3),
		  ($1 == "noop" || $1 == ref) ? "-" : sprintf("%.2f", lm / $4) }
	' "$tmp/table" | { printf "%-13s %9s %10s %12s %10s %13s %12s\n" tool records "wall ms" "max RSS KiB" minflt "time ratio" "mem ratio"; cat; }
}

# ratio A B: wall-time median of A divided by that of B, two decimals.
ratio() {
	awk -v a="$1" -v b="$2" '$1 == a { x = $3 } $1 == b { y = $3 } END { printf "%.2f", x / y }' "$tmp/table"
}

# target LABEL A B LIMIT [FLOOR]: one summary line, the wall-time ratio
# A / B against its target (at most LIMIT): met or not met; with FLOOR (a
# row that does part of A's work alone, such as the Lua tables of its
# records), FLOOR / B too: how much of the target that part leaves.
target() {
	local r f=
	r=$(ratio "$2" "$3")
	[[ -z ${5:-} ]] || f=$(ratio "$5" "$3")
	awk -v n="$1" -v r="$r" -v l="$4" -v floor="${5:-}" -v f="$f" 'BEGIN {
		printf "%-46s %6s (target <= %s): %s", n, r, l, (r + 0 <= l + 0) ? "met" : "not met"
		if (floor != "") printf "; %s alone: %s", floor, f
		printf "\n" }'
}
