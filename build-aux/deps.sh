#!/bin/sh
# Installs the Debian packages a target needs, if any are missing (as root),
# or names them on one line and fails (as any other user).
# Usage: build-aux/deps.sh build [5.1|5.3|5.4|luajit] | test | matrix | bench | lint | fuzz | memory | docs
set -eu

# The interpreter and headers of each Lua the module builds for.
lua_set() {
	case "$1" in
	5.1) echo "lua5.1 liblua5.1-0-dev" ;;
	5.3) echo "lua5.3 liblua5.3-dev" ;;
	5.4) echo "lua5.4 liblua5.4-dev" ;;
	luajit) echo "luajit2 libluajit2-5.1-dev" ;;
	*) echo "deps.sh: unknown Lua version '$1' (5.1, 5.3, 5.4 or luajit)" >&2; exit 2 ;;
	esac
}

base="gcc make pkg-config libc6-dev libmnl-dev lua-argparse"
build="$base $(lua_set 5.4)"
test="$build lua-busted iproute2 net-tools procps python3 luarocks lua-cjson lua-dkjson python3-prometheus-client libxml2-utils nginx libnginx-mod-http-lua haproxy luajit2 libluajit2-5.1-dev lua5.3 liblua5.3-dev strace python3-junitparser prometheus prometheus-node-exporter curl perl lua-argparse lua-ldoc git valgrind"
matrix="$build lua5.1 liblua5.1-0-dev lua5.3 liblua5.3-dev luajit2 libluajit2-5.1-dev"
bench="$test time"
lint="lua-check shellcheck"
fuzz="$build clang libclang-rt-14-dev"
memory=$test
docs="lua-ldoc"

case "${1:-build}" in
build) want="$base $(lua_set "${2:-5.4}")" ;;
test) want=$test ;;
matrix) want=$matrix ;;
bench) want=$bench ;;
lint) want=$lint ;;
fuzz) want=$fuzz ;;
memory) want=$memory ;;
docs) want=$docs ;;
*) echo "deps.sh: unknown set '$1'" >&2; exit 2 ;;
esac

# Not a Debian system: nothing to ask dpkg about.
command -v dpkg-query >/dev/null 2>&1 || exit 0

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*)
		# the OpenResty LuaJIT and Debian's plain one are the same ABI
		case "$p" in
		luajit2) dpkg-query -W -f='${Status}' luajit 2>/dev/null | grep -q ' installed$' && continue ;;
		libluajit2-5.1-dev) dpkg-query -W -f='${Status}' libluajit-5.1-dev 2>/dev/null | grep -q ' installed$' && continue ;;
		esac
		missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages:$missing (as root: apt-get install$missing)" >&2
	exit 1
fi
echo "installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
