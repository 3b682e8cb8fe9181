#!/usr/bin/env bash
# run.sh -- entry point of `make bench`: runs every benchmark in bench/ in turn.
# Each benchmark prints its own table on stdout (progress goes to stderr).
# Environment: BENCH_SOCKETS (farm size, default 100000), BENCH_ROUNDS (default 5).
# A benchmark runs in the background so that a SIGINT/SIGTERM sent to this
# script is passed on to it at once (its own traps then stop its helpers).
set -euo pipefail
cd "$(dirname "$0")/.."

pid=
trap '[[ -z $pid ]] || { kill "$pid" 2>/dev/null; wait "$pid"; }; exit 130' INT TERM
bench() { "$@" & pid=$!; wait "$pid"; pid=; }

# longlived first: it measures microseconds per call, and the kernel is
# still tearing down the 100,000 sockets of the other farms for a while
# after they stop (its row read 2.4 right after sockets.sh, 0.9-1.4 alone)
bench bench/longlived.sh
bench bench/sockets.sh
bench bench/callgrind.sh
bench bench/cli.sh
bench bench/routes.sh
