-- routes.lua -- the lnetstat side of the route-listing benchmark.
-- Loads lnetstat from the source tree (lua/ and build/5.4/, relative to the
-- repo root, found from this script's path) and lists every route of
-- network namespace NETNS (table "all"), printing only the count:
--   list    routes{}: the whole list, built once
--   fields  routes{} with fields = {"gateway", "interface"}: lighter records
--   each    each_route{} with a function that counts: streamed, never held
-- Run from anywhere: lua5.4 bench/routes.lua NETNS [list|fields|each]
local root = (arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or ".") .. "/.."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/5.4/?.so;" .. package.cpath
local ns = require "lnetstat"
local netns, mode = arg[1], arg[2] or "list"
if mode == "each" then
  local n = 0
  assert(ns.each_route({ netns = netns, table = "all" }, function() n = n + 1 end))
  io.write(n, "\n")
else
  local fields = mode == "fields" and { "gateway", "interface" } or nil
  local list = assert(ns.routes { netns = netns, table = "all", fields = fields })
  io.write(#list, "\n")
end
