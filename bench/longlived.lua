-- longlived.lua -- the cost of one call in a long-lived Lua state (a server
-- worker asking for its listeners again and again): after a warm-up, runs
-- listening{proto = "tcp"} CALLS times (argument 1, default 2000) and prints
-- the CPU microseconds per call (os.clock: user + system) and the records
-- of the last call (CALLS = 0: the warm-up alone). With "session" as
-- argument 2 the calls go through one lnetstat.session (one socket kept
-- open). bench/diagloop.c is the same kernel request in bare C.
local root = (arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or ".") .. "/.."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/5.4/?.so;" .. package.cpath
local ns = require "lnetstat"
local calls = tonumber(arg and arg[1]) or 2000
local listening = ns.listening
if arg and arg[2] == "session" then
  local session = assert(ns.session())
  listening = function(opts) return session:listening(opts) end
end
local list
for _ = 1, 50 do list = assert(listening { proto = "tcp" }) end
local t0 = os.clock()
for _ = 1, calls do list = assert(listening { proto = "tcp" }) end
-- CALLS = 0 runs the warm-up alone (bench/callgrind.sh subtracts it)
local per_call = calls > 0 and (os.clock() - t0) * 1e6 / calls or 0
io.write(string.format("%.1f %d\n", per_call, #list))
