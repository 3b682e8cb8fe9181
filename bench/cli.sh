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
#   noop      /bin/true                  -- process start + timing overhead
# Why: the command must be a drop-in for `netstat -tan` that is faster than
# netstat and no slower than ss.  Output goes to a file; its line count is
# shown (every tool should see about N sockets) and is checked untimed.
# Wall time from $EPOCHREALTIME around each process, peak RSS from GNU time
# (%M, KiB); the table shows medians, ratio = lnetstat / tool.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
N=${BENCH_SOCKETS:-100000}
ROUNDS=${BENCH_ROUNDS:-5}
TOOLS=(lnetstat netstat ss noop)

command -v /usr/bin/time >/dev/null || { echo "cli.sh: needs GNU time (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp -d)
farm_pid=
cleanup() {
	if [[ -n $farm_pid ]]; then
		kill "$farm_pid" 2>/dev/null || true
		wait "$farm_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

argv_of() {  # argv_of TOOL: set the array argv to the command line of TOOL
	case $1 in
	lnetstat) argv=(lua5.4 bin/lnetstat -tan) ;;
	netstat) argv=(netstat -tan) ;;
	ss) argv=(ss -tan) ;;
	noop) argv=(/bin/true) ;;
	esac
}

timed() {  # timed TOOL: run TOOL once, append "usec rss_kib lines" to $tmp/TOOL.runs
	local t0 t1 argv
	argv_of "$1"
	t0=${EPOCHREALTIME/./}
	/usr/bin/time -f "%M" -o "$tmp/rss" "${argv[@]}" >"$tmp/$1.out"
	t1=${EPOCHREALTIME/./}
	echo "$((t1 - t0)) $(<"$tmp/rss") $(wc -l <"$tmp/$1.out")" >>"$tmp/$1.runs"
}

echo "cli: starting farm of $N loopback TCP sockets..." >&2
coproc FARM { exec python3 bench/sockfarm.py --count "$N"; }
farm_pid=${FARM_PID:?}
if ! read -r -t 120 word held <&"${FARM[0]}" || [[ $word != ready ]]; then
	echo "cli.sh: socket farm did not get ready" >&2
	exit 1
fi

# Untimed warm-up; without the C module there is nothing to compare.
if ! lua5.4 bin/lnetstat -tan >"$tmp/warm" 2>"$tmp/lnetstat.err"; then
	echo "cli.sh: bin/lnetstat failed (module not built? run make):" >&2
	head -n 3 "$tmp/lnetstat.err" >&2
	exit 1
fi
netstat -tan >/dev/null
ss -tan >/dev/null

for ((r = 1; r <= ROUNDS; r++)); do
	order=("${TOOLS[@]}")
	((r % 2)) || for ((i = 0; i < ${#TOOLS[@]}; i++)); do order[i]=${TOOLS[-1 - i]}; done
	echo "cli: round $r/$ROUNDS: ${order[*]}" >&2
	for t in "${order[@]}"; do timed "$t"; done
done

# The same sockets, the same layout: lnetstat's lines are netstat's, give or
# take the farm's few sockets that change state between the two runs.
if ! diff <(sort "$tmp/netstat.out") <(sort "$tmp/lnetstat.out") >"$tmp/diff"; then
	echo "cli: lnetstat -tan and netstat -tan differ in $(grep -c '^[<>]' "$tmp/diff") lines (last round)" >&2
fi

median() {  # median COLUMN FILE
	cut -d' ' -f"$1" "$2" | sort -n | awk '{v[NR] = $1} END {print (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2}'
}
for t in "${TOOLS[@]}"; do
	echo "$t $(median 1 "$tmp/$t.runs") $(median 2 "$tmp/$t.runs") $(median 3 "$tmp/$t.runs")"
done >"$tmp/table"

echo
echo "lnetstat -tan against netstat -tan and ss -tan, farm holding $held sockets, medians of $ROUNDS runs"
awk '
	NR == FNR { if ($1 == "lnetstat") { lt = $2; lm = $3 } ; next }
	FNR == 1 { printf "%-9s %9s %10s %12s %11s %10s\n", "tool", "lines", "wall ms", "max RSS KiB", "time ratio", "mem ratio" }
	{ printf "%-9s %9d %10.1f %12d %11s %10s\n", $1, $4, $2 / 1000, $3,
	  $1 == "noop" ? "-" : sprintf("%.2f", lt / $2), $1 == "noop" ? "-" : sprintf("%.2f", lm / $3) }
' "$tmp/table" "$tmp/table"
echo "(ratio = lnetstat / tool: below 1 means lnetstat is faster or smaller; target:"
echo " time ratio < 1 against netstat and <= 1 against ss)"
