-- This host's listening sockets and who owns them: the module's smallest
-- use. From the checkout, after `make`: lua5.4 examples/listening.lua
-- (`make demo` runs examples/demo.lua, a fuller first look.)
-- Run as root to see the owners of every process's sockets.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/5.4/?.so;" .. package.cpath

local ns = require "lnetstat"

local list = assert(ns.listening { proto = { "tcp", "udp" }, process = true })
table.sort(list, function(a, b)
  if a.proto ~= b.proto then return a.proto < b.proto end
  if a.local_port ~= b.local_port then return a.local_port < b.local_port end
  return a.family < b.family
end)

local function where(s)
  if s.family == "inet6" then
    -- a [::] socket that is not v6only serves IPv4 too
    local any = s.local_addr == "::" and s.v6only == false and " (IPv4 too)" or ""
    return ("[%s]:%d%s"):format(s.local_addr, s.local_port, any)
  end
  return ("%s:%d"):format(s.local_addr, s.local_port)
end

local function owners(s)
  if not s.processes then return "?" end
  local out = {}
  for _, p in ipairs(s.processes) do out[#out + 1] = ("%s[%d]"):format(p.program or "?", p.pid) end
  return table.concat(out, ", ")
end

print(("%d listening sockets on this host:"):format(#list))
print(("%-5s %-34s %-10s %s"):format("proto", "address", "user", "owners"))
for _, s in ipairs(list) do
  print(("%-5s %-34s %-10s %s"):format(s.proto, where(s), s.user or "-", owners(s)))
end
if list.partial then print("note: " .. list.partial) end
