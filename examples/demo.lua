-- A first look at this host's network in one screen: `make demo`.
-- Listeners and their owners, connections by state, interfaces with their
-- errors and drops, the default routes and a short audit against a baseline
-- made on the spot; each part names the command that shows all of it.
-- Run as root to see the owners of every process's sockets. Needs lnetstat
-- on the Lua paths (make demo sets them to the checkout).
local ns = require "lnetstat"
local check = require "lnetstat.check"
local baseline = require "lnetstat.checks.baseline"

local MAX_ROWS = 8
local write, format = io.write, string.format

local function title(text, full)
  write(format("\n== %s%s\n", text, full and ("   (all of it: " .. full .. ")") or ""))
end

local function fail(what, err)
  write(format("  cannot read %s: %s\n", what, tostring(err)))
end

-- Listeners -------------------------------------------------------------------
local function where(s)
  if s.family == "inet6" then return format("[%s]:%d", s.local_addr, s.local_port) end
  return format("%s:%d", s.local_addr, s.local_port)
end

local function owners(s)
  if not s.processes or #s.processes == 0 then return "-" end
  local out = {}
  for _, p in ipairs(s.processes) do out[#out + 1] = format("%s[%d]", p.program or "?", p.pid) end
  return table.concat(out, ",")
end

local list, err = ns.listening { proto = { "tcp", "udp" }, process = true }
title("listening sockets", "lnetstat -tulnp")
if not list then
  fail("the listeners", err)
else
  table.sort(list, function(a, b)
    if a.proto ~= b.proto then return a.proto < b.proto end
    if a.local_port ~= b.local_port then return a.local_port < b.local_port end
    return a.family < b.family
  end)
  write(format("  %-5s %-28s %-10s %s\n", "proto", "address", "user", "owners"))
  for i, s in ipairs(list) do
    if i > MAX_ROWS then
      write(format("  ... and %d more\n", #list - MAX_ROWS))
      break
    end
    write(format("  %-5s %-28s %-10s %s\n", s.proto, where(s), s.user or "-", owners(s)))
  end
  if #list == 0 then write("  none\n") end
  if list.partial then write("  note: ", list.partial, "\n") end
end

-- Connections by state --------------------------------------------------------
title("TCP sockets by state", "lnetstat -tanp")
local count, n = {}, 0
local total, cerr = ns.each_socket({ proto = "tcp", fields = { "state" } }, function(s)
  count[s.state] = (count[s.state] or 0) + 1
  n = n + 1
end)
if not total then
  fail("the TCP sockets", cerr)
else
  local states = {}
  for state in pairs(count) do states[#states + 1] = state end
  table.sort(states, function(a, b) return count[a] > count[b] or (count[a] == count[b] and a < b) end)
  local parts = {}
  for _, state in ipairs(states) do parts[#parts + 1] = format("%s %d", state, count[state]) end
  write(format("  %d in all%s%s\n", n, #parts > 0 and ": " or "", table.concat(parts, ", ")))
end

-- Interfaces ------------------------------------------------------------------
title("interfaces", "lnetstat -i")
local ifs, ierr = ns.interfaces { addresses = false }
if not ifs then
  fail("the interfaces", ierr)
else
  table.sort(ifs, function(a, b) return a.name < b.name end)
  write(format("  %-12s %-8s %12s %12s %8s %8s\n", "name", "state", "rx packets", "tx packets",
    "errors", "drops"))
  for i, r in ipairs(ifs) do
    if i > MAX_ROWS then
      write(format("  ... and %d more\n", #ifs - MAX_ROWS))
      break
    end
    local s = r.stats or {}
    local errors = (s.rx_errors or 0) + (s.tx_errors or 0)
    local drops = (s.rx_dropped or 0) + (s.tx_dropped or 0)
    write(format("  %-12s %-8s %12d %12d %8d %8d%s\n", r.name, r.operstate or "?", s.rx_packets or 0,
      s.tx_packets or 0, errors, drops, (errors + drops > 0) and "  <-" or ""))
  end
end

-- Default routes --------------------------------------------------------------
title("default routes", "lnetstat -rn; lnetstat -rn -6")
local found = false
for _, family in ipairs { "inet", "inet6" } do
  local routes, rerr = ns.routes { family = family }
  if not routes then
    fail(family .. " routes", rerr)
  else
    for _, r in ipairs(routes) do
      if r.dst == "0.0.0.0/0" or r.dst == "::/0" then
        found = true
        write(format("  %-10s via %-26s dev %-10s metric %s\n", r.dst, r.gateway or "-",
          r.interface or "-", tostring(r.metric or 0)))
      end
    end
  end
end
if not found then write("  none: this host reaches only its own networks\n") end

-- Audit -----------------------------------------------------------------------
title("audit against a baseline made now",
  "lnetstat check --init -o baseline.lua; lnetstat check baseline.lua")
local text, berr = baseline.generate()
if not text then
  fail("a baseline", berr)
else
  local run = check.run_string(text, "baseline")
  local sum = run.summary
  write(format("  %d checks: %d passed, %d failed, %d errors, %d skipped\n", sum.total or 0,
    sum.pass or 0, sum.fail or 0, sum.error or 0, sum.skip or 0))
  for _, r in ipairs(run.results) do
    if r.status ~= "pass" and r.status ~= "skip" then
      write(format("  %s: %s\n", r.status, tostring(r.title or r.id)))
    end
  end
  write("  (a baseline passes where it was made: edit it into the host's policy,\n"
    .. "  then run it from cron or CI; lnetstat check --help)\n")
end
