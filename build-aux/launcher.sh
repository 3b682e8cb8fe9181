#!/bin/sh
# Writes the installed lnetstat command to stdout, from the checkout's
# launcher on stdin: the first line names the interpreter the modules were
# built for, and the checkout block (between "-- checkout {" and
# "-- } checkout") becomes the directories the modules were installed into,
# unless the interpreter already searches them.
# Usage: build-aux/launcher.sh LUA INTERPRETER LUADIR LIBDIR < bin/lnetstat
set -eu
[ $# -eq 4 ] || { echo "usage: launcher.sh LUA INTERPRETER LUADIR LIBDIR" >&2; exit 2; }
lua=$1
LNETSTAT_INTERP=$2
LNETSTAT_LUADIR=$3
LNETSTAT_LIBDIR=$4

# The interpreter's own default paths (without the caller's LUA_PATH).
default=$(env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_2 -u LUA_CPATH_5_2 \
	-u LUA_PATH_5_3 -u LUA_CPATH_5_3 -u LUA_PATH_5_4 -u LUA_CPATH_5_4 \
	"$lua" -e 'io.write(";", package.path, ";", package.cpath, ";")')
LNETSTAT_SETPATH=yes
case "$default" in
*";$LNETSTAT_LUADIR/?.lua;"*)
	case "$default" in
	*";$LNETSTAT_LIBDIR/?.so;"*) LNETSTAT_SETPATH=no ;;
	esac ;;
esac
case "$LNETSTAT_LUADIR$LNETSTAT_LIBDIR" in
*"]==]"*) echo "launcher.sh: install directories must not contain ]==]" >&2; exit 2 ;;
esac
export LNETSTAT_INTERP LNETSTAT_LUADIR LNETSTAT_LIBDIR LNETSTAT_SETPATH

awk '
NR == 1 { print "#!" ENVIRON["LNETSTAT_INTERP"]; next }
/^-- checkout \{$/ {
	skip = 1
	if (ENVIRON["LNETSTAT_SETPATH"] == "yes") {
		d = ENVIRON["LNETSTAT_LUADIR"]; l = ENVIRON["LNETSTAT_LIBDIR"]
		print "-- the directories make install put the modules in"
		print "package.path = [==[" d "/?.lua;" d "/?/init.lua;]==] .. package.path"
		print "package.cpath = [==[" l "/?.so;]==] .. package.cpath"
	}
	next
}
/^-- \} checkout$/ { skip = 0; next }
!skip { print }
'
