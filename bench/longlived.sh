#!/usr/bin/env bash
# longlived.sh -- the CPU cost of one call in a long-lived Lua state.
#
# What: a farm of $BENCH_LISTENERS (default 20) TCP listeners and nothing
# else, then $BENCH_ROUNDS rounds (default 5), alternating, of
#   lnetstat  lua5.4 bench/longlived.lua CALLS  -- listening{proto="tcp"}, CALLS
#             times in one state after a warm-up: CPU µs per call (os.clock)
#   bare-c    bench/diagloop.c CALLS            -- the same kernel requests in C
#             (socket, one LISTEN dump of both families, close): CPU µs per call
#   bare-c-2  bench/diagloop.c CALLS per-family -- diagnostic: the same in C with
#             a request per family, as ss asks (what the one request saves)
# CALLS = $BENCH_CALLS (default 2000).
# Why: an nginx worker or an HAProxy thread asking for its listeners again and
# again pays this per call; the bare-C loop is what the kernel round trips
# alone cost, so the ratio is lnetstat's own overhead. Target: <= 1.5.
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh
ROUNDS=${BENCH_ROUNDS:-5}
CALLS=${BENCH_CALLS:-2000}

cc -O2 -o "$tmp/diagloop" bench/diagloop.c
start_farm 0 --listeners "${BENCH_LISTENERS:-20}"

for ((r = 1; r <= ROUNDS; r++)); do
	echo "longlived.sh: round $r/$ROUNDS" >&2
	if ((r % 2)); then order=(lnetstat bare-c bare-c-2); else order=(bare-c-2 bare-c lnetstat); fi
	for t in "${order[@]}"; do
		case $t in
		lnetstat) lua5.4 bench/longlived.lua "$CALLS" >>"$tmp/$t.runs" ;;
		bare-c) "$tmp/diagloop" "$CALLS" >>"$tmp/$t.runs" ;;
		bare-c-2) "$tmp/diagloop" "$CALLS" per-family >>"$tmp/$t.runs" ;;
		esac
	done
done
l=$(median 1 "$tmp/lnetstat.runs")
c=$(median 1 "$tmp/bare-c.runs")
c2=$(median 1 "$tmp/bare-c-2.runs")
echo
echo "listening{proto=\"tcp\"} in a long-lived state, $held listeners, medians of $ROUNDS x $CALLS calls"
printf "%-10s %8s %14s\n" tool records "CPU us/call"
printf "%-10s %8s %14s\n" lnetstat "$(cut -d' ' -f2 "$tmp/lnetstat.runs" | tail -n 1)" "$l"
printf "%-10s %8s %14s\n" bare-c "$(cut -d' ' -f2 "$tmp/bare-c.runs" | tail -n 1)" "$c"
printf "%-10s %8s %14s\n" bare-c-2 "$(cut -d' ' -f2 "$tmp/bare-c-2.runs" | tail -n 1)" "$c2"
awk -v l="$l" -v c="$c" 'BEGIN { r = l / c;
	printf "%-46s %6.2f (target <= 1.5): %s\n", "long-lived listening{proto=\"tcp\"} / bare C", r, (r <= 1.5) ? "met" : "not met" }'
