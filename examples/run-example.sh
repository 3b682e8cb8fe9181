#!/bin/sh
# Starts examples/openresty or examples/haproxy from a checkout, in the
# foreground, on 127.0.0.1: installs the lnetstat rock (LuaJIT for nginx,
# Lua 5.3 for HAProxy) into build/example/<lua>, prepares a directory for
# the server there, prints the URLs to try and runs the server until Ctrl-C.
# usage: examples/run-example.sh openresty|haproxy
set -eu
which=${1:?usage: $0 openresty|haproxy}
top=$(cd "$(dirname "$0")/.." && pwd)
case $which in
openresty) lua=luajit; abi=5.1; port=61080
  paths="snapshot listeners metrics audit" ;;
haproxy) lua=5.3; abi=5.3; port=61081
  paths="snapshot listeners metrics fetch up" ;;
*) echo "usage: $0 openresty|haproxy" >&2; exit 2 ;;
esac
base=$top/build/example
tree=$base/$lua
src=$base/src-$lua
run=$base/$which

# luarocks make builds in the source directory: build in a copy
rm -rf "$src"
mkdir -p "$src" "$run/logs"
(cd "$top" && git ls-files -co --exclude-standard -z -- csrc lua bin man rockspec Makefile |
  xargs -0 tar -cf -) | tar -xf - -C "$src"
if [ "$lua" = luajit ]; then
  (cd "$src" && luarocks --lua-version 5.1 --tree "$tree" make rockspec/lnetstat-scm-1.rockspec \
    LUA_INCDIR=/usr/include/luajit-2.1 >"$base/luarocks-$lua.log" 2>&1)
else
  (cd "$src" && luarocks --lua-version "$lua" --tree "$tree" make rockspec/lnetstat-scm-1.rockspec \
    >"$base/luarocks-$lua.log" 2>&1)
fi || { cat "$base/luarocks-$lua.log" >&2; exit 1; }
rm -rf "$src"
cp "$top/examples/$which"/* "$run/"
# nginx workers run as nobody: they read the rock and the check file
chmod -R a+rX "$tree" "$run"

LUA_PATH="$tree/share/lua/$abi/?.lua;$tree/share/lua/$abi/?/init.lua;;"
LUA_CPATH="$tree/lib/lua/$abi/?.so;;"
export LUA_PATH LUA_CPATH

echo "lnetstat $which example on 127.0.0.1:$port (Ctrl-C stops it); try:"
for p in $paths; do
  case $p in
  metrics|fetch|up) echo "  curl -s http://127.0.0.1:$port/$p" ;;
  *) echo "  curl -s http://127.0.0.1:$port/lnetstat/$p" ;;
  esac
done
cd "$run"
if [ "$which" = openresty ]; then
  exec nginx -p "$run/" -e "$run/logs/error.log" -c "$run/nginx.conf"
fi
haproxy -c -q -f haproxy.cfg
exec haproxy -db -f haproxy.cfg
