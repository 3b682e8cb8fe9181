#!/usr/bin/env bash
# sockets.sh -- baseline benchmark: list every TCP socket of a busy host.
#
# What: fills the network namespace with N loopback TCP sockets (bench/
# sockfarm.py; N = $BENCH_SOCKETS, default 100000), then times whole processes,
# $BENCH_ROUNDS rounds (default 5), alternating the order each round:
#   lnetstat  lua5.4 bench/list_tcp.lua    -- require "lnetstat"; sockets{proto="tcp"}
#   ss        ss -tan                      -- iproute2, sock_diag netlink
#   netstat   netstat -tan                 -- net-tools, /proc/net/tcp{,6}
#   floor     bench/diagfloor.c            -- raw sock_diag dump, counting only
#   each      lua5.4 bench/each_tcp.lua    -- each_socket{proto="tcp"}: the same
#             records streamed to a function, never all held at once
#   lnetstat+thp  the same as lnetstat, with glibc's heap on transparent huge pages
#                 (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): a diagnostic row
#                 showing how much of lnetstat's time is first-touch page
#                 faults of its 100k Lua tables (compare the minflt column)
#   noop      /bin/true                    -- process start + timing overhead
# Why: lnetstat builds one Lua table per socket; ss and netstat are what it
# replaces, and the floor is what the kernel alone costs, so lnetstat/floor is
# the overhead lnetstat itself adds.  Wall time comes from $EPOCHREALTIME
# around each process, peak RSS from GNU time (%M, KiB); the table shows
# medians.  Output goes to /dev/null, except the counts of lnetstat and floor.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
N=${BENCH_SOCKETS:-100000}
ROUNDS=${BENCH_ROUNDS:-5}
TOOLS=(lnetstat each lnetstat+thp ss netstat floor noop)

command -v /usr/bin/time >/dev/null || { echo "sockets.sh: needs GNU time (apt-get install time)" >&2; exit 1; }
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

cc -O2 -o "$tmp/diagfloor" bench/diagfloor.c

argv_of() {  # argv_of TOOL: set the array argv to the command line of TOOL
	case $1 in
	lnetstat) argv=(lua5.4 bench/list_tcp.lua) ;;
	each) argv=(lua5.4 bench/each_tcp.lua) ;;
	lnetstat+thp) argv=(env GLIBC_TUNABLES=glibc.malloc.hugetlb=1 lua5.4 bench/list_tcp.lua) ;;
	ss) argv=(ss -tan) ;;
	netstat) argv=(netstat -tan) ;;
	floor) argv=("$tmp/diagfloor") ;;
	noop) argv=(/bin/true) ;;
	esac
}

timed() {  # timed TOOL: run TOOL once, append "usec rss_kib" to $tmp/TOOL.runs
	local out=/dev/null t0 t1 argv
	if [[ $1 == lnetstat* || $1 == each || $1 == floor ]]; then out=$tmp/$1.count; fi
	argv_of "$1"
	t0=${EPOCHREALTIME/./}
	/usr/bin/time -f "%M %R" -o "$tmp/rss" "${argv[@]}" >"$out"
	t1=${EPOCHREALTIME/./}
	echo "$((t1 - t0)) $(<"$tmp/rss")" >>"$tmp/$1.runs"
}

echo "sockets: starting farm of $N loopback TCP sockets..." >&2
coproc FARM { exec python3 bench/sockfarm.py --count "$N"; }
farm_pid=${FARM_PID:?}
if ! read -r -t 120 word held <&"${FARM[0]}" || [[ $word != ready ]]; then
	echo "sockets.sh: socket farm did not get ready" >&2
	exit 1
fi

# Warm-up and record counts (untimed); skip lnetstat if the module is not built.
if ! lua5.4 bench/list_tcp.lua >"$tmp/lnetstat.count" 2>"$tmp/lnetstat.err"; then
	echo "sockets.sh: lnetstat skipped (module not built? run make):" >&2
	head -n 2 "$tmp/lnetstat.err" >&2
	TOOLS=(ss netstat floor noop)
else
	cp "$tmp/lnetstat.count" "$tmp/lnetstat+thp.count"
	cp "$tmp/lnetstat.count" "$tmp/each.count"
fi
ss -tan | tail -n +2 | wc -l >"$tmp/ss.count"
netstat -tan | tail -n +3 | wc -l >"$tmp/netstat.count"
"$tmp/diagfloor" >"$tmp/floor.count"
echo 0 >"$tmp/noop.count"

for ((r = 1; r <= ROUNDS; r++)); do
	order=("${TOOLS[@]}")
	((r % 2)) || for ((i = 0; i < ${#TOOLS[@]}; i++)); do order[i]=${TOOLS[-1 - i]}; done
	echo "sockets: round $r/$ROUNDS: ${order[*]}" >&2
	for t in "${order[@]}"; do timed "$t"; done
done

median() {  # median COLUMN FILE
	cut -d' ' -f"$1" "$2" | sort -n | awk '{v[NR] = $1} END {print (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2}'
}
for t in "${TOOLS[@]}"; do
	echo "$t $(<"$tmp/$t.count") $(median 1 "$tmp/$t.runs") $(median 2 "$tmp/$t.runs") $(median 3 "$tmp/$t.runs")"
done >"$tmp/table"

echo
echo "TCP socket listing, farm holding $held sockets, medians of $ROUNDS runs"
awk '
	NR == FNR { if ($1 == "lnetstat") { lt = $3; lm = $4 } ; next }
	FNR == 1 { printf "%-13s %9s %10s %12s %10s %13s %12s\n", "tool", "records", "wall ms", "max RSS KiB", "minflt", "time ratio", "mem ratio" }
	{ printf "%-13s %9d %10.1f %12d %10d %13s %12s\n", $1, $2, $3 / 1000, $4, $5,
	  $1 ~ /^(noop|lnetstat)$/ ? "-" : lt ? sprintf("%.2f", lt / $3) : "n/a",
	  $1 ~ /^(noop|lnetstat)$/ ? "-" : lm ? sprintf("%.2f", lm / $4) : "n/a" }
' "$tmp/table" "$tmp/table"
echo "(ratio = lnetstat / tool, for wall time and peak RSS; below 1 means lnetstat is cheaper;"
echo " minflt = minor page faults: each first touch of a new heap page, the main cost of holding"
echo " every record as a Lua table at once, which ss and netstat, printing as they go, never pay)"
awk '$1 == "lnetstat+thp" { t = $3 } $1 == "each" { e = $3 } $1 == "ss" { s = $3 } $1 == "netstat" { n = $3 }
	END { if (t && s) printf "lnetstat+thp / ss = %.2f, lnetstat+thp / netstat = %.2f\n", t / s, t / n
	      if (e && s) printf "each / ss = %.2f, each / netstat = %.2f\n", e / s, e / n }' "$tmp/table"
