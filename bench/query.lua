-- query.lua -- one socket query of the benchmark table, run as a whole
-- process. Loads lnetstat from the source tree, runs the query named by
-- argument 1 and prints the number of records it got:
--   listening   listening{proto = "tcp"}
--   dport       sockets{proto = "tcp", remote_port = 6667}
--   src         sockets{proto = "tcp", local_addr = "127.0.0.3"}
-- Run from anywhere: lua5.4 bench/query.lua NAME
local root = (arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or ".") .. "/.."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/5.4/?.so;" .. package.cpath
local ns = require "lnetstat"
local queries = {
  listening = function() return ns.listening { proto = "tcp" } end,
  dport = function() return ns.sockets { proto = "tcp", remote_port = 6667 } end,
  src = function() return ns.sockets { proto = "tcp", local_addr = "127.0.0.3" } end,
}
local q = queries[arg and arg[1] or ""]
if not q then
  io.stderr:write("usage: query.lua listening|dport|src\n")
  os.exit(2)
end
io.write(#assert(q()), "\n")
