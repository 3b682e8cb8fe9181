--- Shared helpers for the lnetstat specs: root detection, network
-- namespaces, background processes and an `ss` output parser (the oracle of
-- the differential specs).
--
-- Teardown helpers (netns_delete, kill, remove) never raise: a failing
-- cleanup must not leak the namespaces and processes of the next one.
local helpers = {}

local format = string.format
local concat = table.concat

--- Quotes s for /bin/sh.
function helpers.quote(s)
  s = tostring(s)
  if s:match("^[%w%-%./_=:@,+]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
local quote = helpers.quote

--- Runs cmd with /bin/sh; returns its stdout, ok (exit status 0), code.
-- The shell prints the status after the output: under Lua 5.1 and LuaJIT
-- a popen handle's close() says nothing of it, and a failed command would
-- look like a success.
local RC_MARK = "\031lnetstat%-spec%-rc="
function helpers.run(cmd)
  local p = io.popen("{ " .. cmd .. "\n}; printf '\\037lnetstat-spec-rc=%d' \"$?\"", "r")
  if not p then return "", false, -1 end
  local out = p:read("*a") or ""
  local closed, _, status = p:close()
  local body, rc = out:match("^(.*)" .. RC_MARK .. "(%d+)$")
  if body then
    rc = tonumber(rc)
    return body, rc == 0, rc
  end
  -- no mark: the command ended the shell itself (exit, exec)
  if status ~= nil then return out, closed == true, status end
  return out, false, -1
end
local run = helpers.run

--- Like run, but raises with the command and its output when it fails.
function helpers.must(cmd)
  local out, ok, code = run(cmd .. " 2>&1")
  if not ok then
    error(format("command failed (exit %s): %s\n%s", tostring(code), cmd, out), 2)
  end
  return out
end

--- Runs cmd with /bin/sh; returns its stdout and its exit code (a number).
function helpers.run_rc(cmd)
  local out, _, code = run(cmd)
  return out, code
end

local cached_pid
--- The pid of this Lua process (the parent of the shell popen starts).
function helpers.getpid()
  if not cached_pid then
    cached_pid = tonumber((run("echo $PPID")):match("%d+"))
  end
  return cached_pid
end

--- How many descriptors process pid holds, pipes left out: the pipe
-- popen makes to the counting child may still be open at both ends in the
-- counting process while the child looks, one too many on a loaded machine.
function helpers.count_fds(pid)
  local out = run("find /proc/" .. pid .. "/fd -mindepth 1 ! -lname 'pipe:*' -printf x")
  return #out
end

local cached_root
--- True when running as root (euid 0).
function helpers.is_root()
  if cached_root == nil then
    local out = run("id -u 2>/dev/null")
    cached_root = out:match("^%s*0%s*$") ~= nil
  end
  return cached_root
end

--- it() that needs root: pending when not root, run when root (CI is root,
-- so these tests never skip there).
-- busted's it/pending live in the environment of the spec file, not in
-- _G: find them in the environment of the function calling root_it.
local function caller_env(level)
  local getfenv = rawget(_G, "getfenv")
  if getfenv then
    -- not a tail call: LuaJIT would count levels from the caller's caller
    local env = getfenv(level + 1)
    return env
  end
  local info = debug.getinfo(level + 1, "f")
  local f = info and info.func
  if f then
    for i = 1, math.huge do
      local name, value = debug.getupvalue(f, i)
      if name == nil then break end
      if name == "_ENV" then return value end
    end
  end
  return _G
end

function helpers.root_it(name, fn)
  local env = caller_env(2)
  local it_, pending_ = env.it or rawget(_G, "it"), env.pending or rawget(_G, "pending")
  if helpers.is_root() then
    return it_(name, fn)
  end
  return pending_(name .. " (needs root)")
end

--- it(name, fn) for a test of lnetstat's helper threads, which start only
-- when this process may run on more than one CPU; pending otherwise.
function helpers.threaded_it(name, fn)
  local env = caller_env(2)
  local it_, pending_ = env.it or rawget(_G, "it"), env.pending or rawget(_G, "pending")
  if helpers.usable_cpus() > 1 then
    return it_(name, fn)
  end
  return pending_(name .. " (one usable CPU: no helper thread starts)")
end

--- setup() and teardown() of a describe block whose tests need root (call
-- it in the block's body). When root, setup runs build(); when build
-- raises, cleanup() runs first and the error goes on, so that a scenario
-- made halfway leaves nothing behind. teardown runs cleanup() whatever
-- happened (also when not root, or after that failed build): cleanup must
-- undo only what was made, and never raise. Returns nothing.
function helpers.root_setup(build, cleanup)
  local api = require "busted"
  api.setup(function()
    if not helpers.is_root() then return end
    local ok, err = pcall(build)
    if not ok then
      cleanup()
      error(err, 0)
    end
  end)
  api.teardown(function() cleanup() end)
end

--- Sleeps for the given seconds (fractions allowed).
function helpers.sleep(seconds)
  os.execute(format("sleep %.3f", seconds))
end

-- Namespaces ---------------------------------------------------------------

local netns_counter = 0

--- Creates a network namespace with a unique name (prefix, pid, counter)
-- and its loopback up; returns the name. Raises when it cannot.
function helpers.netns_create(prefix)
  netns_counter = netns_counter + 1
  local name = format("%s-%d-%d", prefix or "lnetstat", helpers.getpid(), netns_counter)
  helpers.must("ip netns add " .. quote(name))
  local ok, err = pcall(helpers.must, "ip -n " .. quote(name) .. " link set lo up")
  if not ok then
    helpers.netns_delete(name)
    error(err, 2)
  end
  return name
end

--- Adds count IPv6 routes, 2001:db8:X:Y::/64 via a veth pair (rta0,
-- rta1) whose rta0 holds 2001:db8:ffff::1/64, to namespace netns (one
-- `ip -batch`): enough of them make a dump of many datagrams. Raises when
-- it cannot.
function helpers.add_routes(netns, count)
  helpers.ip(netns, "link add rta0 type veth peer name rta1")
  helpers.ip(netns, "link set rta0 up")
  helpers.ip(netns, "link set rta1 up")
  helpers.ip(netns, "addr add 2001:db8:ffff::1/64 dev rta0 nodad")
  local batch = {}
  for i = 0, count - 1 do
    batch[#batch + 1] = format("route add 2001:db8:%x:%x::/64 via 2001:db8:ffff::2 dev rta0",
      math.floor(i / 256), i % 256)
  end
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(table.concat(batch, "\n"), "\n")
  f:close()
  local _, ok = run(format("ip -n %s -batch %s 2>&1", quote(netns), quote(path)))
  os.remove(path)
  assert(ok, "ip -batch")
end

local function netns_delete_one(name)
  local ok, res = pcall(function()
    run("ip netns delete " .. quote(name) .. " >/dev/null 2>&1")
    local list = run("ip netns list 2>/dev/null")
    for line in list:gmatch("[^\n]+") do
      if line:match("^(%S+)") == name then return false end
    end
    return true
  end)
  return ok and res
end

--- Deletes each namespace named (nil names, of a setup that stopped early,
-- are skipped); never raises. Returns true when all of them are gone.
function helpers.netns_delete(...)
  local all = true
  for i = 1, select("#", ...) do
    local name = select(i, ...)
    if name ~= nil and not netns_delete_one(name) then all = false end
  end
  return all
end

--- For one test: creates a namespace named from prefix (netns_create) and
-- a temp directory (mktemp_dir). Returns the namespace's name, the
-- directory's path and a function that deletes both and never raises (for
-- finally()); raises, leaving nothing behind, when either cannot be made.
function helpers.netns_with_dir(prefix)
  local ns = helpers.netns_create(prefix)
  local ok, dir = pcall(helpers.mktemp_dir)
  if not ok then
    helpers.netns_delete(ns)
    error(dir, 0)
  end
  return ns, dir, function()
    helpers.netns_delete(ns)
    helpers.remove_tree(dir)
  end
end

--- Runs cmd inside the namespace (ip netns exec); returns stdout, ok, code.
function helpers.netns_run(name, cmd)
  return run("ip netns exec " .. quote(name) .. " " .. cmd)
end

--- Runs `ip -n NETNS ARGS`; returns its output, raises when it fails.
function helpers.ip(netns, args)
  return helpers.must("ip -n " .. quote(netns) .. " " .. args)
end

--- `ip -n NETNS -j ARGS`, decoded from JSON; raises when ip fails.
function helpers.ip_json(netns, args)
  return helpers.json_decode(helpers.ip(netns, "-j " .. args))
end

--- Sets sysctls inside netns: each further argument is one "name=value"
-- (quoted here), all of them in one `sysctl -qw`. Returns its output;
-- raises when it fails.
function helpers.sysctl(netns, ...)
  local args = {}
  for i = 1, select("#", ...) do args[i] = quote(select(i, ...)) end
  return helpers.must(format("ip netns exec %s sysctl -qw %s", quote(netns), concat(args, " ")))
end

--- Two interface names for a veth pair, unique to this process: tag, the
-- pid (7 digits at most: an interface name holds 15 bytes), then "a" and
-- "b". Returns both.
function helpers.veth_names(tag)
  local id = helpers.getpid() % 10000000
  return tag .. id .. "a", tag .. id .. "b"
end

--- The lines of `ip netns list` that name a namespace netns_create made in
-- this process from one of the given prefixes, joined by newlines; nil
-- when there is none. A spec ends with assert.is_nil(netns_leftover(...)):
-- its teardown deleted every namespace it made.
function helpers.netns_leftover(...)
  local out = helpers.must("ip netns list")
  local pid = helpers.getpid()
  local left = {}
  for line in out:gmatch("[^\n]+") do
    for i = 1, select("#", ...) do
      local made = format("%s-%d-", select(i, ...), pid)
      if line:sub(1, #made) == made then
        left[#left + 1] = line
        break
      end
    end
  end
  if #left > 0 then return concat(left, "\n") end
  return nil
end

-- Processes ----------------------------------------------------------------

--- True while pid exists and is not a zombie.
function helpers.alive(pid)
  if type(pid) ~= "number" then return false end
  local f = io.open(format("/proc/%d/stat", pid), "r")
  if not f then return false end
  local stat = f:read("*a") or ""
  f:close()
  local state = stat:match("%)%s+(%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
helpers.read_file = read_file

--- Starts cmd (a simple command, so that the shell execs it and $! is its
-- pid) in the background with stdout and stderr in temp files. Returns pid,
-- handle; handle:wait_ready(timeout) waits for a line "ready" on stdout and
-- returns true, stdout or nil, message; handle:stdout(), handle:stderr();
-- handle:cleanup() removes the temp files.
function helpers.spawn(cmd)
  local out_path, err_path = os.tmpname(), os.tmpname()
  local text = run(format("%s >%s 2>%s </dev/null & echo $!", cmd, quote(out_path), quote(err_path)))
  local pid = tonumber(text:match("(%d+)"))
  if not pid then
    os.remove(out_path)
    os.remove(err_path)
    error("spawn failed: " .. cmd, 2)
  end
  local handle = { pid = pid, cmd = cmd }
  function handle.stdout() return read_file(out_path) or "" end
  function handle.stderr() return read_file(err_path) or "" end
  function handle.wait_ready(_, timeout)
    timeout = timeout or 10
    local waited = 0
    while true do
      local out = handle.stdout()
      if out:match("\nready\n") or out:match("^ready\n") then return true, out end
      if not helpers.alive(pid) then
        return nil, format("process %d (%s) exited before ready:\n%s%s", pid, cmd,
          out, handle.stderr())
      end
      if waited >= timeout then
        return nil, format("process %d (%s) not ready after %ss:\n%s%s", pid, cmd,
          timeout, out, handle.stderr())
      end
      helpers.sleep(0.05)
      waited = waited + 0.05
    end
  end
  function handle.cleanup()
    pcall(os.remove, out_path)
    pcall(os.remove, err_path)
  end
  return pid, handle
end

--- The command line of pid, arguments separated by spaces (nil if gone).
function helpers.cmdline(pid)
  local s = read_file(format("/proc/%d/cmdline", pid))
  return s and (s:gsub("%z", " "))
end

--- Stops pid: SIGTERM, then SIGKILL after timeout seconds; waits until it is
-- gone. With match (a plain string), a process whose command line does not
-- contain it counts as gone and is left alone: a pid that was reused is
-- never signalled. Never raises; returns true when the process is gone.
function helpers.kill(pid, timeout, match)
  local function ours()
    if not helpers.alive(pid) then return false end
    if match == nil then return true end
    local cmd = helpers.cmdline(pid)
    return cmd ~= nil and cmd:find(match, 1, true) ~= nil
  end
  local ok, res = pcall(function()
    if type(pid) ~= "number" or pid <= 1 then return true end
    timeout = timeout or 5
    for _, sig in ipairs { "TERM", "KILL" } do
      if not ours() then return true end
      run(format("kill -%s %d >/dev/null 2>&1", sig, pid))
      local waited = 0
      while waited < timeout do
        if not ours() then return true end
        helpers.sleep(0.05)
        waited = waited + 0.05
      end
    end
    return not ours()
  end)
  return ok and res
end

--- Removes a directory tree; never raises.
function helpers.remove_tree(path)
  if type(path) ~= "string" or not path:match("^/tmp/") then return false end
  local ok = pcall(run, "rm -rf " .. quote(path) .. " >/dev/null 2>&1")
  return ok
end

--- A fresh temp directory (mktemp -d).
function helpers.mktemp_dir()
  local out = helpers.must("mktemp -d /tmp/lnetstat-spec.XXXXXX")
  return (out:gsub("%s+$", ""))
end

--- strace -f text with every call on one line: a call that another
-- thread's call interrupted ("PID  name(args <unfinished ...>") is joined
-- to the line that ends it ("PID  <... name resumed>rest"), where that
-- line was, as strace prints a call that ran alone (") = N").
function helpers.strace_joined(text)
  local pending, out = {}, {}
  for line in text:gmatch("[^\n]+") do
    local pid, head = line:match("^(%d+)%s+(.-)%s*<unfinished %.%.%.>$")
    local rpid, rest = line:match("^(%d+)%s+<%.%.%. [%w_]+ resumed>(.*)$")
    if pid then
      pending[pid] = head
    elseif rpid and pending[rpid] then
      -- a short resumed line pads its result to a column: ")   = 5"
      out[#out + 1] = rpid .. "  " .. pending[rpid] .. rest:gsub("^%)%s+=", ") =")
      pending[rpid] = nil
    else
      out[#out + 1] = line
    end
  end
  for p, head in pairs(pending) do out[#out + 1] = p .. "  " .. head end   -- never resumed
  return concat(out, "\n") .. "\n"
end

--- Runs script in a new interpreter of this suite (package.path and
-- package.cpath as here, then `local ns = require "lnetstat"`) under
-- `strace -f -qq -e trace=CALLS`. Returns what the script wrote to stdout
-- and the text of strace's log, each call on one line (strace_joined).
function helpers.strace_lua(calls, script)
  local trace = os.tmpname()
  local out = run(format("strace -f -qq -e trace=%s -o %s %s -e %s", calls, quote(trace),
    helpers.LUA, quote(format("package.path = %q; package.cpath = %q\nlocal ns = require 'lnetstat'\n%s",
      package.path, package.cpath, script))))
  local text = read_file(trace)
  os.remove(trace)
  return out, text and helpers.strace_joined(text)
end

-- A loopback TCP listener (backlog 3) on a port the kernel picks.
local LISTENER = [[python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(3)
print(s.getsockname()[1]); print("ready", flush=True)
time.sleep(600)']]

--- Starts a child holding n unix socket pairs (2n sockets; its descriptor
-- limit raised to the hard one) and waits until they are open; returns its
-- pid and handle, for helpers.stop_unix_pairs. Raises when it cannot.
function helpers.spawn_unix_pairs(n)
  local pid, handle = helpers.spawn(format([[python3 -c 'import resource, signal, socket
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
keep = [socket.socketpair() for _ in range(%d)]
print("ready", flush=True)
signal.sigwait([signal.SIGTERM])']], n))
  local ok, out = handle:wait_ready(30)
  if not ok then
    helpers.stop_unix_pairs(pid, handle)
    error(out, 2)
  end
  return pid, handle
end

--- Stops a child of helpers.spawn_unix_pairs (nothing when pid is nil).
function helpers.stop_unix_pairs(pid, handle)
  if pid then helpers.kill(pid, 5, "socketpair") end
  if handle then handle.cleanup() end
end

--- Starts a child holding one loopback TCP listener in this namespace;
-- returns its pid (stop it with helpers.kill) and the port.
function helpers.spawn_listener()
  local pid, h = helpers.spawn(LISTENER)
  local ok, out = h:wait_ready(10)
  h.cleanup()
  assert(ok, out)
  return pid, tonumber(out:match("^(%d+)\n"))
end

--- Writes script (python3 source) to dir/farm.py and runs it inside network
-- namespace netns, with the further arguments (quoted here) as its
-- arguments; waits up to 20 s for its "ready" line. Returns pid, handle;
-- raises when it does not get ready.
function helpers.spawn_farm(netns, dir, script, ...)
  local f = assert(io.open(dir .. "/farm.py", "w"))
  f:write(script)
  f:close()
  local args = { quote(dir .. "/farm.py") }
  for i = 1, select("#", ...) do args[#args + 1] = quote(select(i, ...)) end
  local pid, handle = helpers.spawn(format("ip netns exec %s python3 %s", netns, concat(args, " ")))
  local ready, out = handle:wait_ready(20)
  if not ready then
    helpers.kill(pid, 5, "farm.py")
    handle.cleanup()
    error(out, 2)
  end
  return pid, handle
end

--- Creates a network namespace named from prefix, runs prepare(netns) if
-- given (addresses, sysctls), and starts script there with spawn_farm.
-- Returns netns, pid, handle, dir (for stop_farm). On a failure it undoes
-- what it made, then raises the error.
function helpers.netns_farm(prefix, script, prepare)
  local netns, dir
  local ok, pid, handle = pcall(function()
    netns = helpers.netns_create(prefix)
    if prepare then prepare(netns) end
    dir = helpers.mktemp_dir()
    return helpers.spawn_farm(netns, dir, script)
  end)
  if not ok then
    helpers.stop_farm(nil, nil, netns, dir)
    error(pid, 0)
  end
  return netns, pid, handle, dir
end

--- Stops a farm spawn_farm started (by its pid), then deletes netns and dir.
-- Each may be nil (a setup that stopped early); never raises.
function helpers.stop_farm(pid, handle, netns, dir)
  if pid then helpers.kill(pid, 5, "farm.py") end
  if handle then pcall(handle.cleanup) end
  helpers.netns_delete(netns)
  if dir then helpers.remove_tree(dir) end
end

--- Creates a network namespace named from prefix and starts cmd in it
-- (spawn of `ip netns exec NETNS cmd`); waits up to timeout seconds (10)
-- for its "ready" line. Returns netns, pid, handle (for netns_stop). On a
-- failure it undoes what it made, then raises the error.
function helpers.netns_spawn(prefix, cmd, timeout)
  local netns, pid, handle
  local ok, err = pcall(function()
    netns = helpers.netns_create(prefix)
    pid, handle = helpers.spawn("ip netns exec " .. quote(netns) .. " " .. cmd)
    assert(handle:wait_ready(timeout or 10))
  end)
  if not ok then
    helpers.netns_stop(pid, handle, netns)
    error(err, 0)
  end
  return netns, pid, handle
end

--- Stops what netns_spawn started: the process by its pid (helpers.kill),
-- the handle's temp files, then the namespace. Each may be nil (a setup
-- that stopped early); never raises, returns nothing.
function helpers.netns_stop(pid, handle, netns)
  if pid then helpers.kill(pid) end
  if handle then pcall(handle.cleanup) end
  helpers.netns_delete(netns)
end

--- Stops each pid given (nil ones and repeats skipped), in order, with
-- helpers.kill(pid, 5, match): a scenario's process, and the pids it
-- reported (its own, when a wrapper stood between, and a child's). Never
-- raises; returns nothing.
function helpers.kill_each(match, ...)
  local done = {}
  for i = 1, select("#", ...) do
    local pid = select(i, ...)
    if pid ~= nil and not done[pid] then
      done[pid] = true
      helpers.kill(pid, 5, match)
    end
  end
end

--- Starts `ip -n NETNS monitor link address route neigh`; returns pid,
-- handle (see spawn). handle.stop() stops it by its pid and removes its
-- temp files: a test hands it to finally().
function helpers.spawn_ip_monitor(netns)
  local pid, handle = helpers.spawn(format("ip -n %s monitor link address route neigh", quote(netns)))
  function handle.stop()
    helpers.kill(pid, 5, "monitor")
    handle.cleanup()
  end
  return pid, handle
end

--- Waits until `ip monitor` (the handle spawn_ip_monitor gave, in netns)
-- listens: it subscribes at its own pace, so a marker route on lo is
-- added, one more each time it has not reported the last (up to 50).
-- Returns the marker it reported ("203.0.113.2NN"), or nil.
function helpers.ip_monitor_listening(netns, handle)
  for attempt = 1, 50 do
    local mark = format("203.0.113.%d", 199 + attempt)
    helpers.ip(netns, format("route add %s/32 dev lo", mark))
    for _ = 1, 4 do
      if handle.stdout():find(mark, 1, true) then return mark end
      helpers.sleep(0.05)
    end
  end
  return nil
end

--- The NUD states `ip monitor` ends a neighbour's line with (a set).
helpers.NUD_STATES = {
  PERMANENT = true, REACHABLE = true, STALE = true, FAILED = true, NOARP = true,
  INCOMPLETE = true, DELAY = true, PROBE = true, NONE = true,
}

-- netstat as the oracle ------------------------------------------------------

--- text with the Ref column of netstat -r's lines masked as R: the
-- kernel's reference count moves between two reads, and rtnetlink does not
-- report it.
function helpers.mask_route_ref(text)
  return (text:gsub("([^\n]-%S+ +%S+ +%S+ +%-?%d+ +)%d+( +%d+ %S+\n)", "%1R%2"))
end

--- Asserts that `netstat ARGS` in netns prints what render() returns, the
-- two read back to back up to three times until they agree (a counter or
-- an expiry may move between the reads); mask (optional) is applied to
-- both texts first. Returns render's text (masked).
function helpers.compare_netstat(netns, args, render, mask)
  mask = mask or function(text) return text end
  local expected, actual
  for _ = 1, 3 do
    expected = mask(helpers.netns_run(netns, "netstat " .. args .. " 2>&1"))
    actual = mask(render())
    if expected == actual then break end
    helpers.sleep(0.3)
  end
  require("luassert").are.equal(expected, actual)
  return actual
end

-- JSON (scenario facts) -------------------------------------------------------

function helpers.json_decode(text)
  local ok, cjson = pcall(require, "cjson")
  if ok then return cjson.decode(text) end
  local dkjson = require "dkjson"
  return dkjson.decode(text)
end

-- ss parser ----------------------------------------------------------------

-- ss state names -> lnetstat's.
helpers.SS_STATES = {
  ESTAB = "ESTABLISHED", ["SYN-SENT"] = "SYN_SENT", ["SYN-RECV"] = "SYN_RECV",
  ["FIN-WAIT-1"] = "FIN_WAIT1", ["FIN-WAIT-2"] = "FIN_WAIT2", ["TIME-WAIT"] = "TIME_WAIT",
  UNCONN = "UNCONN", ["CLOSE-WAIT"] = "CLOSE_WAIT", ["LAST-ACK"] = "LAST_ACK",
  LISTEN = "LISTEN", CLOSING = "CLOSING", CLOSE = "CLOSE",
}

local UNIX_TYPES = { u_str = "stream", u_dgr = "dgram", u_seq = "seqpacket" }

--- Splits an ss "addr:port" column. Returns addr, port, family, extra where
-- extra = { dev = "%dev suffix", any_dual = true for "*" }.
-- "*" (a dual-stack [::] socket) becomes "::" with family inet6; brackets
-- are removed; port "*" becomes 0.
function helpers.ss_split_addr(col)
  local addr, port = col:match("^(.*):([^:]*)$")
  if not addr then return nil end
  local extra = {}
  local a, dev = addr:match("^(.-)%%(.+)$")
  if a then addr, extra.dev = a, dev end
  local family
  if addr == "*" then
    addr, family, extra.any_dual = "::", "inet6", true
  elseif addr:sub(1, 1) == "[" then
    addr, family = addr:sub(2, -2), "inet6"
    local a2, dev2 = addr:match("^(.-)%%(.+)$")   -- [fe80::1%eth0]
    if a2 then addr, extra.dev = a2, dev2 end
  else
    family = addr:find(":", 1, true) and "inet6" or "inet"
  end
  local p = port == "*" and 0 or tonumber(port)
  return addr, p, family, extra
end

local function parse_users(rest)
  local users = {}
  local u = rest:match("users:%((.-%))%)")
  if u then
    for name, pid, fd in u:gmatch('%("(.-)",pid=(%d+),fd=(%d+)%)') do
      users[#users + 1] = { name = name, pid = tonumber(pid), fd = tonumber(fd) }
    end
  end
  return users
end

local function split_ws(line)
  local t = {}
  for w in line:gmatch("%S+") do t[#t + 1] = w end
  return t
end

local NETIDS = { tcp = true, udp = true, raw = true, udplite = true, sctp = true,
  mptcp = true, p_raw = true, p_dgr = true, nl = true }

-- ss leaves out the Netid column when one protocol is asked for, and the
-- State column with a "state X" filter: defaults fill them in.
local function parse_inet_line(line, with_ext, default_netid, default_state)
  local f = split_ws(line)
  if not NETIDS[f[1]] then table.insert(f, 1, default_netid or "?") end
  if not helpers.SS_STATES[f[2]] then table.insert(f, 2, default_state or "?") end
  if #f < 6 then return nil end
  local r = {
    netid = f[1],
    proto = f[1],
    ss_state = f[2],
    state = helpers.SS_STATES[f[2]] or f[2],
    recv_q = tonumber(f[3]),
    send_q = tonumber(f[4]),
  }
  if r.proto == "tcp" and r.state == "UNCONN" then r.state = "CLOSE" end
  local lextra, rextra, _
  r.local_addr, r.local_port, r.family, lextra = helpers.ss_split_addr(f[5])
  r.remote_addr, r.remote_port, _, rextra = helpers.ss_split_addr(f[6])
  if not r.local_addr or not r.remote_addr then return nil end
  r.local_dev = lextra.dev
  r.dual_stack = lextra.any_dual or nil
  r.remote_dev = rextra.dev
  local rest = concat(f, " ", 7)
  r.extra = rest
  r.users = parse_users(rest)
  r.uid = tonumber(rest:match("%f[%w]uid:(%d+)"))
  if r.uid == nil and with_ext then r.uid = 0 end   -- ss -e omits uid 0
  r.inode = tonumber(rest:match("%f[%w]ino:(%d+)"))
  r.sk = rest:match("%f[%w]sk:(%x+)")
  local v6 = rest:match("%f[%w]v6only:(%d)")
  if v6 then r.v6only = v6 == "1" end
  r.timer = rest:match("timer:%((%a+),")
  return r
end

-- ss -x: Netid State Recv-Q Send-Q Path Inode PeerPath PeerInode [extras]
local function parse_unix_line(line)
  local f = split_ws(line)
  if #f < 8 then return nil end
  -- The local path may contain spaces: find the columns from the end, the
  -- peer inode being the last all-digit column after the path.
  local n = #f
  while n > 8 and not (f[n]:match("^%d+$") and f[n - 2]:match("^%d+$")) do n = n - 1 end
  local r = {
    netid = f[1],
    proto = "unix",
    type = UNIX_TYPES[f[1]] or f[1],
    ss_state = f[2],
    state = helpers.SS_STATES[f[2]] or f[2],
    recv_q = tonumber(f[3]),
    send_q = tonumber(f[4]),
    inode = tonumber(f[n - 2]),
    peer = f[n - 1],
    peer_inode = tonumber(f[n]),
  }
  local path = concat(f, " ", 5, n - 3)
  if path ~= "*" then r.path = path end
  r.local_addr = r.path
  r.extra = concat(f, " ", n + 1)
  r.users = parse_users(r.extra)
  return r
end

--- Parses ss output text (-H: no header). Lines of -i/-m (indented) are
-- attached to the preceding record as `detail`. with_ext: -e was given (so
-- a missing uid: means 0); default_netid, default_state: the values of
-- columns ss leaves out (one protocol asked for; a "state X" filter).
function helpers.ss_parse(text, with_ext, default_netid, default_state)
  local list = {}
  for line in text:gmatch("[^\n]+") do
    if line:match("^%s") then
      local last = list[#list]
      if last then last.detail = (last.detail and last.detail .. " " or "") .. line:gsub("^%s+", "") end
    elseif line:match("^u_") then
      local r = parse_unix_line(line)
      if r then list[#list + 1] = r end
    else
      local r = parse_inet_line(line, with_ext, default_netid, default_state)
      if r then list[#list + 1] = r end
    end
  end
  return list
end

--- `ip netns exec NS ss ARGS` parsed (netns nil: this namespace). ARGS must
-- include -H. Returns the list of records or nil, message.
function helpers.ss(netns, args)
  local cmd = (netns and ("ip netns exec " .. quote(netns) .. " ") or "") .. "ss " .. args .. " 2>/dev/null"
  local out, ok = run(cmd)
  if not ok then return nil, "failed: " .. cmd end
  local flags = ""
  for w in (" " .. args):gmatch("%s%-(%a+)") do flags = flags .. w end
  local protos = {}
  for c in ("tuwx"):gmatch(".") do
    if flags:find(c, 1, true) then protos[#protos + 1] = c end
  end
  local default_netid = #protos == 1 and ({ t = "tcp", u = "udp", w = "raw", x = "u_str" })[protos[1]] or nil
  local st = args:match("state%s+([%w%-]+)")
  local default_state = st and ({ established = "ESTAB", listening = "LISTEN",
    ["time-wait"] = "TIME-WAIT", ["syn-sent"] = "SYN-SENT" })[st:lower()] or nil
  return helpers.ss_parse(out, flags:find("e", 1, true) ~= nil, default_netid, default_state)
end

-- Record keys ----------------------------------------------------------------

--- A key identifying an inet socket: "proto local_addr:port remote_addr:port".
function helpers.inet_key(proto, laddr, lport, raddr, rport)
  return format("%s %s:%d %s:%d", proto, laddr, lport, raddr, rport)
end

--- inet_key of a socket record (proto, local and remote address and port).
function helpers.record_key(r)
  return helpers.inet_key(r.proto, r.local_addr, r.local_port, r.remote_addr, r.remote_port)
end

--- Sorted list of keys of a table (for messages).
function helpers.keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = tostring(k) end
  table.sort(out)
  return out
end

-- Small tools the specs share ------------------------------------------------

--- A reader of the fixture files of one folder under spec/fixtures/.
function helpers.fixtures(folder)
  return function(name)
    local f = assert(io.open("spec/fixtures/" .. folder .. "/" .. name, "rb"))
    local text = f:read("*a")
    f:close()
    return text
  end
end

--- Calls f, asserts that it raised, and returns the error message.
function helpers.err_of(f, ...)
  local ok, msg = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(msg)
end

--- The interpreter running this suite, as a command ("lua5.4", "luajit"...),
-- and the build folder of its C module ("5.4", "luajit"...): child
-- processes run what the suite runs.
helpers.LUA, helpers.BUILD = "lua5.4", "5.4"
if rawget(_G, "jit") then
  helpers.LUA, helpers.BUILD = "luajit", "luajit"
elseif _VERSION == "Lua 5.1" then
  helpers.LUA, helpers.BUILD = "lua5.1", "5.1"
elseif _VERSION == "Lua 5.3" then
  helpers.LUA, helpers.BUILD = "lua5.3", "5.3"
end

--- This suite's folder (spec/, from the path helpers.lua was loaded from)
-- and the checkout around it, each ending with "/"; LNETSTAT, the command
-- that runs the checkout's bin/lnetstat with this suite's interpreter.
helpers.SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
helpers.ROOT = helpers.SPEC .. "../"
helpers.LNETSTAT = helpers.LUA .. " " .. quote(helpers.ROOT .. "bin/lnetstat")

--- The CPUs this process may run on (nproc honours the affinity mask).
function helpers.usable_cpus()
  return tonumber((helpers.must("nproc"):match("%d+")))
end

--- The threads of this process (its status file's Threads line).
function helpers.threads()
  local f = assert(io.open("/proc/self/status"))
  local n = f:read("*a"):match("\nThreads:%s*(%d+)")
  f:close()
  return tonumber(n)
end

--- Runs script in a child interpreter of this suite (its package paths),
-- under prefix (a command such as `taskset -c 0`) if given, after
-- `core`, `hooks` and `ns` (lnetstat.core, lnetstat.testhooks, lnetstat)
-- and `threads()` (as helpers.threads) are set up. Returns its output
-- (stdout and stderr, then "exit=N") and whether it exited 0 within a
-- minute: a call that never returns fails its test instead of the run.
function helpers.lua_child(script, prefix)
  local prelude = format("package.path = %q; package.cpath = %q\n"
    .. "local core = require 'lnetstat.core'; local hooks = require 'lnetstat.testhooks'\n"
    .. "local ns = require 'lnetstat'\n"
    .. "local function threads() local f = assert(io.open('/proc/self/status'))"
    .. " local n = f:read('*a'):match('\\nThreads:%%s*(%%d+)'); f:close(); return tonumber(n) end\n",
    package.path, package.cpath)
  local out = helpers.run(format("timeout 60 %s %s -e %s 2>&1; echo \"exit=$?\"", prefix or "",
    helpers.LUA, quote(prelude .. script)))
  return out, out:match("exit=0\n$") ~= nil
end

--- The lines of text, each without its newline (a last line without one
-- is left out).
function helpers.lines_of(text)
  local t = {}
  for line in text:gmatch("([^\n]*)\n") do t[#t + 1] = line end
  return t
end

--- Splits a netstat-like text into its header lines (titles, column
-- heads: the lines that match one of the Lua patterns in head_patterns),
-- in order, and its body lines, sorted (the row order within a protocol is
-- the kernel's). Returns head, body.
function helpers.split_head(text, head_patterns)
  local head, body = {}, {}
  for _, line in ipairs(helpers.lines_of(text)) do
    local is_head = false
    for _, p in ipairs(head_patterns) do
      if line:match(p) then
        is_head = true
        break
      end
    end
    if is_head then head[#head + 1] = line else body[#body + 1] = line end
  end
  table.sort(body)
  return head, body
end

--- The number of keys of a table.
function helpers.count_keys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

--- An integer (a float with an integral value on Lua 5.1/LuaJIT).
function helpers.is_integer(v)
  if math.type then return math.type(v) == "integer" end
  return type(v) == "number" and v == math.floor(v)
end

return helpers
