-- each_tcp.lua -- the streaming side of the socket-listing benchmark: the
-- same sockets as list_tcp.lua, handed over one by one by each_socket()
-- instead of held in one list. Prints only the record count. Argument
-- "reuse": with reuse = true (one record table refilled for every socket).
local root = (arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or ".") .. "/.."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/5.4/?.so;" .. package.cpath
local ns = require "lnetstat"
local reuse = arg and arg[1] == "reuse" or nil
local count = assert(ns.each_socket({ proto = "tcp", reuse = reuse }, function() end))
io.write(count, "\n")
