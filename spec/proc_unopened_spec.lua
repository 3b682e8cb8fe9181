-- A /proc/net file that exists but cannot be opened (no descriptor left,
-- a security module's denial) is a gap the answer names: stats() and
-- groups() say so in partial, the single-file readers return the errno the
-- open gave. Only a file the namespace lacks (no IPv6) is left out in
-- silence. A child interpreter runs out of descriptors on purpose.
local helpers = require "helpers"

local format, quote = string.format, helpers.quote

-- Runs script in a child interpreter whose descriptors are all taken but
-- `spare` (it opens /dev/null until the limit of 64, then closes spare of
-- them); returns what the script printed.
local function with_spare_fds(spare, script)
  local prog = format([[
package.path = %q; package.cpath = %q
local ns = require "lnetstat"
-- the modules a call loads on first use need a descriptor to be read
for _, m in ipairs { "counters", "links", "sockets" } do require("lnetstat.source." .. m) end
local held = {}
while true do
  local f = io.open("/dev/null")
  if not f then break end
  held[#held + 1] = f
end
for _ = 1, %d do table.remove(held):close() end
%s]], package.path, package.cpath, spare, script)
  local out = helpers.run(format("ulimit -n 64 && %s -e %s 2>&1", helpers.LUA, quote(prog)))
  return out
end

describe("a /proc/net file that cannot be opened", function()
  it("makes stats() partial, naming the file and the reason", function()
    local out = with_spare_fds(0, [[
local s = assert(ns.stats())
print("groups", s.Tcp ~= nil, s.TcpExt ~= nil, s.sockstat ~= nil)
print("partial", s.partial)]])
    assert.matches("groups\tfalse\tfalse\tfalse\n", out, 1, true)
    assert.matches("partial\tsnmp: cannot open: Too many open files (and 4 more)\n", out, 1, true)
  end)

  it("leaves out the groups of the files that did not open and reads the rest", function()
    local out = with_spare_fds(1, [[
local s = assert(ns.stats())
print("groups", s.Tcp ~= nil, s.TcpExt ~= nil)
print("partial", s.partial)]])
    assert.matches("groups\ttrue\tfalse\n", out, 1, true)
    assert.matches("partial\tnetstat: cannot open: Too many open files (and 3 more)\n", out, 1, true)
  end)

  it("makes groups() partial", function()
    local out = with_spare_fds(0, [[
local g = assert(ns.groups())
print("groups", #g, g.partial)]])
    assert.matches("groups\t0\tigmp: cannot open: Too many open files (and 1 more)\n", out, 1, true)
  end)

  it("is the open's errno for the /proc socket and interface readers", function()
    local out = with_spare_fds(0, [[
print("sockets", ns.sockets { source = "proc", proto = "tcp" })
print("interfaces", ns.interfaces { source = "proc" })]])
    assert.matches("sockets\tnil\t[^\n]*/proc/net/tcp[^\n]*\t24\n", out)
    assert.matches("interfaces\tnil\t[^\n]*/proc/net/dev[^\n]*\t24\n", out)
  end)

  it("names an /proc/net/if_inet6 that did not open in interfaces' partial, not as IPv6 disabled", function()
    local out = with_spare_fds(1, [[
local list = assert(ns.interfaces { source = "proc", addresses = true })
print("interfaces", #list > 0, list.partial)]])
    assert.matches("interfaces\ttrue\t[^\n]*if_inet6: Too many open files", out)
    assert.not_matches("IPv6 disabled", out, 1, true)
  end)
end)
