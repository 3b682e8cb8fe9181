-- busted's helper script for this suite (.busted, and build-aux/rock-test.lua
-- passes it too): two guards that busted itself lacks.
--
-- Every finally() of a test runs. busted 2 keeps only the last function a
-- test hands to finally(): a test that started a process, registered its
-- stop, then started a server and registered that stop, lost the first
-- cleanup and left the process running (its listeners then showed up in
-- later specs). Here a test's finally() stacks its functions: they run
-- last-registered first, each even when one before it fails, and the first
-- failure is raised once all have run.
--
-- Nothing a spec file starts outlives it. make runs busted with
-- LNETSTAT_SPEC_RUN set to a value of its own, which every process the
-- suite starts inherits; when a spec file ends, a process still carrying it
-- (not this one, not its ancestors) was left running by that file, and a
-- network namespace named for this run (helpers.netns_create puts busted's
-- pid in the name) was left behind. Each is removed and named, and once
-- busted has printed its summary the run exits 1.
local busted = require "busted"

local pcall, error, ipairs, format = pcall, error, ipairs, string.format

busted.subscribe({ "test", "start" }, function(element)
  local env = element.env
  local register = env and env.finally
  if not register then return nil, true end
  local cleanups = {}
  env.finally = function(fn)
    cleanups[#cleanups + 1] = fn
    if #cleanups == 1 then
      register(function()
        local first
        for i = #cleanups, 1, -1 do
          local ok, err = pcall(cleanups[i])
          if not ok and first == nil then first = err end
        end
        if first ~= nil then error(first, 0) end
      end)
    end
  end
  return nil, true
end)

local MARK = os.getenv("LNETSTAT_SPEC_RUN")
if not MARK or MARK == "" then return end
local ENTRY = "\0LNETSTAT_SPEC_RUN=" .. MARK .. "\0"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

local function lines(cmd)
  local p = io.popen(cmd)
  local text = p:read("*a")
  p:close()
  return text
end

local SELF = tonumber((read("/proc/self/stat") or ""):match("^(%d+)"))
-- this process and its ancestors carry the mark too (make, the shell)
local ours = {}
do
  local pid = SELF
  while pid and pid > 1 and not ours[pid] do
    ours[pid] = true
    pid = tonumber(((read(format("/proc/%d/stat", pid)) or ""):match("%)%s+%a+%s+(%d+)")))
  end
end

-- The processes that carry the mark, but for this one and its ancestors
-- (and the ls that lists them).
local function marked()
  local found = {}
  for pid in lines("ls /proc"):gmatch("%d+") do
    pid = tonumber(pid)
    if not ours[pid] then
      local env = read(format("/proc/%d/environ", pid))
      if env and ("\0" .. env):find(ENTRY, 1, true) then
        local cmd = (read(format("/proc/%d/cmdline", pid)) or ""):gsub("%z", " ")
        -- the listing itself (ls, and the shell popen may start it in) is no leak
        if not cmd:find("ls /proc", 1, true) then found[#found + 1] = { pid = pid, cmd = cmd } end
      end
    end
  end
  return found
end

local leaks = {}

busted.subscribe({ "file", "end" }, function(file)
  local name = file and file.name or "?"
  for _, p in ipairs(marked()) do
    os.execute(format("kill -KILL %d 2>/dev/null", p.pid))
    leaks[#leaks + 1] = format("%s left pid %d running: %s", name, p.pid, p.cmd:sub(1, 200))
  end
  for netns in lines("ls /var/run/netns 2>/dev/null"):gmatch("[^\n]+") do
    if netns:find("%-" .. SELF .. "%-%d+$") then
      os.execute(format("ip netns delete '%s' 2>/dev/null", netns))
      leaks[#leaks + 1] = format("%s left network namespace %s", name, netns)
    end
  end
  return nil, true
end)

busted.subscribe({ "exit" }, function()
  if #leaks == 0 then return nil, true end
  io.stderr:write("\nleft behind by spec files (now removed):\n")
  for _, line in ipairs(leaks) do io.stderr:write("  ", line, "\n") end
  io.stderr:flush()
  os.exit(1)
end)
