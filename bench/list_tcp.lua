-- list_tcp.lua -- the lnetstat side of the socket-listing benchmark.
-- Loads lnetstat from the source tree (lua/ and build/5.4/, relative to the
-- repo root, found from this script's path), builds the full array of TCP
-- socket records once, and prints only the record count on stdout.
-- Run from anywhere: lua5.4 bench/list_tcp.lua
local root = (arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or ".") .. "/.."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/5.4/?.so;" .. package.cpath
local ns = require "lnetstat"
local list = assert(ns.sockets{ proto = "tcp" })
io.write(#list, "\n")
