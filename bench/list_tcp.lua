-- list_tcp.lua -- the lnetstat side of the socket-listing benchmark.
-- Loads lnetstat from the source tree (lua/ and build/5.4/, relative to the
-- repo root, found from this script's path), builds the full array of TCP
-- socket records once, and prints only the record count on stdout.
-- With the argument "process", the owners too (sockets{process = true}),
-- and the count of records that got one.
-- Run from anywhere: lua5.4 bench/list_tcp.lua [process]
local root = (arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or ".") .. "/.."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/5.4/?.so;" .. package.cpath
local ns = require "lnetstat"
local process = arg and arg[1] == "process"
local list = assert(ns.sockets{ proto = "tcp", process = process or nil })
if process then
  local owned = 0
  for _, r in ipairs(list) do
    if r.pid then owned = owned + 1 end
  end
  io.write(#list, " ", owned, "\n")
else
  io.write(#list, "\n")
end
