-- Loads the C modules built in the given folder with this interpreter and
-- proves they are the right build: `lua5.x build-aux/load-check.lua build/5.x`.
local dir = assert(arg[1], "usage: load-check.lua BUILD_DIR")
package.cpath = dir .. "/?.so"
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local core = require "lnetstat.core"
for name, v in pairs(core) do
  if type(v) == "function" then
    assert(not name:find("^_"), "test hook " .. name .. " in lnetstat.core")
  end
end
local hooks = require "lnetstat.testhooks"
assert(type(hooks._parse_proc) == "function", "lnetstat.testhooks without its hooks")
local ns = require "lnetstat"
local list = assert(ns.sockets { proto = "unix" })
print(string.format("%-24s %s: lnetstat.core %s loaded, %d unix sockets",
  jit and jit.version or _VERSION, dir, core._VERSION, #list))
