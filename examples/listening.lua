-- This host's listening sockets and who owns them: `make demo`.
-- Run as root to see the owners of every process's sockets.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/5.4/?.so;" .. package.cpath

local ns = require "lnetstat"
local cli = require "lnetstat.cli"

local list = assert(ns.listening { proto = { "tcp", "udp" }, process = true })
table.sort(list, function(a, b)
  if a.proto ~= b.proto then return a.proto < b.proto end
  return a.local_port < b.local_port
end)
print(("%d listening sockets on this host:"):format(#list))
cli.print_sockets(list)
