#!/bin/sh
# Installs the Debian packages a target needs, if any are missing.
# Usage: build-aux/deps.sh build|test|matrix|bench|lint|fuzz|memory
set -eu

build="gcc make pkg-config libc6-dev libmnl-dev lua5.4 liblua5.4-dev lua-argparse"
test="$build lua-busted iproute2 net-tools procps python3 luarocks lua-cjson lua-dkjson python3-prometheus-client libxml2-utils nginx libnginx-mod-http-lua haproxy luajit2 libluajit2-5.1-dev lua5.3 liblua5.3-dev strace python3-junitparser prometheus perl lua-argparse"
matrix="$build lua5.1 liblua5.1-0-dev lua5.3 liblua5.3-dev luajit2 libluajit2-5.1-dev"
bench="$test time"
lint="lua-check shellcheck"
fuzz="$build clang libclang-rt-14-dev"
memory="$test valgrind"

case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
matrix) want=$matrix ;;
bench) want=$bench ;;
lint) want=$lint ;;
fuzz) want=$fuzz ;;
memory) want=$memory ;;
*) echo "deps.sh: unknown set '$1'" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages:$missing" >&2
	echo "install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
