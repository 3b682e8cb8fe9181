--- Audit checks: check files are plain Lua run in a sandbox that offers
-- lnetstat's data functions, the query helpers and matchers, and the
-- assertions below; each assertion declares one check and returns its
-- result `{id, title, status, expected, actual, details, source, duration,
-- attempts}` (status "pass", "fail", "error" or "skip"), filled in when
-- the run evaluates the checks after the file has loaded.
--
-- One attempt, one reading of the host: every check of an attempt is
-- answered from one snapshot (one sock_diag session and one owner scan for
-- all socket questions; routes, interfaces, addresses, counters once
-- each); checks that retry get a fresh snapshot per attempt; every counter
-- window of a run is served by one pair of readings of the longest window.
-- A data call that fails while the file loads, and an assertion with bad
-- arguments, become error results at their line; the other checks run.
--
-- Assertions (every one also takes the options id, title, within, every,
-- stable and skip):
--
--   listening_only { {proto="tcp", port=22, program="sshd", user="root"},
--                    {proto="tcp", port={80, 443}, program="nginx", addr=wildcard},
--                    ignore = {addr = loopback}, proto = {"tcp", "udp"} }
--   is_listening { port = 22 }          not_listening { port = 25 }
--   no_connection { state = "ESTABLISHED", remote_port = 6667 }   has_connection {...}
--   expect_count(sockets{state = "TIME_WAIT"}, "<", 10000)
--   expect(value_or_function, op_or_matcher[, expected])
--   interface_up "eth0"                 interface { name = "eth0", mtu = 1500, ["stats.rx_errors"] = 0 }
--   no_interface_errors("eth0", { drops = true, window = 5 })
--   address_present("198.51.100.1/24", { interface = "eth0" })     address_absent(...)
--   default_route { via = "198.51.100.254" }   route_present { dst = "203.0.113.0/24" }
--   route_to("203.0.113.5", { interface = "eth0", via = "198.51.100.254" })
--   counter_delta("TcpExt.ListenOverflows", { window = 5, max = 0 })
--   counter("Tcp.CurrEstab", "<", 5000)
--   check("title", function() return ok, actual end)
--   defaults { within = 30, every = 1 }  -- retries for the checks that follow
--
-- Owners: an assertion that names an owner (program, user, pid, command)
-- of a socket whose owner is unknown (not readable without root: the list
-- is `partial`; or in another pid namespace) is an error, never a pass.
-- program is the kernel's comm, 15 bytes: a longer name also matches its
-- first 15 bytes. A socket several processes hold satisfies an owner when
-- one of them matches, except in listening_only (and its ignore), where
-- every one must: program = {"systemd", "sshd"} allows both.
-- In no_connection and has_connection, port and addr match either end.
-- @module lnetstat.check
local util = require "lnetstat.checks.util"
local sandbox = require "lnetstat.checks.sandbox"
local cli = require "lnetstat.checks.cli"

local type, pairs, ipairs, tostring, tonumber, pcall, xpcall, error =
  type, pairs, ipairs, tostring, tonumber, pcall, xpcall, error
local format, concat, sub, find = string.format, table.concat, string.sub, string.find
local argerror, copy, errmsg, describe = util.argerror, util.copy, util.errmsg, util.describe
local new_run, make_env, load_chunk = sandbox.new_run, sandbox.make_env, sandbox.load_chunk
local runner = require "lnetstat.checks.runner"
local read_file = require("lnetstat.util").read_file

local M = { _NAME = "lnetstat.check" }

M.FORMATS = { "human", "tap", "junit", "json", "prometheus" }

--- The assertions a check file can call (their names; each is documented
-- on this page).
-- @table ASSERTIONS
M.ASSERTIONS = sandbox.ASSERTIONS

--- One line describing a socket record and its owner:
-- "tcp 0.0.0.0:22 (sshd, pid 812, user root)".
-- @function describe_socket
-- @tparam table s a socket record
-- @treturn string the line
-- @usage for _, s in ipairs(ns.listening()) do print(check.describe_socket(s)) end
M.describe_socket = util.describe_socket

-- Loading and running files -------------------------------------------------------

-- The line of the check file named name that an error message starts
-- with ("name:12: ..."; Lua shortens a long name to ".../tail"), or nil
-- when the message starts elsewhere: an error raised inside the library
-- names the library's file, never a line of the check file.
local function file_line(msg, name)
  local where, line = tostring(msg):match("^([^\n]-):(%d+): ")
  if not where then return nil end
  if where == name or (sub(where, 1, 3) == "..." and #where > 3 and sub(name, -(#where - 3)) == sub(where, 4)) then
    return tonumber(line)
  end
  return nil
end

local function add_file_error(run, file, msg, stem)
  local line = file_line(msg, file)
  -- the stem the file's checks are named by (sandbox.make_env), also when
  -- the file could not be read: its error keeps one id from run to run
  stem = stem or ((file:match("([^/]+)$") or file):gsub("%.lua$", ""))
  run.results[#run.results + 1] = {
    id = stem .. ".file",
    title = "check file " .. file .. " runs",
    kind = "file",
    file = file,
    line = line,
    source = line and format("%s:%d", file, line) or file,
    status = "error",
    expected = "the check file loads and runs",
    actual = tostring(msg),
    attempts = 1,
    duration = 0,
  }
end

-- The default CPU budget of one check file, in seconds (os.clock: the
-- process's CPU time, data dumps included). A check file that retries big
-- dumps for a minute uses a few seconds; an endless loop would otherwise
-- hang the run forever.
M.CPU_LIMIT = 60

-- The default memory budget of one check file, in MiB (the Lua heap; the
-- command also caps the address space of the process that runs the file).
M.MEMORY_LIMIT = 256

-- The largest check file run() reads, in bytes (16 MiB; standard input
-- too): a longer one is an error result, never read.
M.MAX_FILE_SIZE = require("lnetstat.util").READ_MAX

-- The longest within/stable/window a check may ask for, in seconds.
M.MAX_WAIT = util.MAX_WAIT

-- Instructions between two looks at the clock; function calls (C
-- functions too: string.rep, string.find, a data call) look as well, one
-- in up to CALLS_PER_LOOK (see guarded_pcall).
local HOOK_EVERY = 1000
local CALLS_PER_LOOK = 64
local LOOK_GAP = 0.002

-- Runs fn (the loading or the evaluation of the check file named
-- chunkname) under pcall with the run's CPU and memory budgets. Once a
-- budget is spent, run.budget_spent says why and the hook raises that error
-- at every instruction of the check file's own code (never inside the
-- library, whose bookkeeping must finish): pcall, xpcall and error
-- handlers in the file only meet the error again at their next
-- instruction, so it climbs out to here. One long C call (a pattern that
-- backtracks for minutes) cannot be interrupted from inside the process:
-- `lnetstat check` runs every file in a child process with rlimits too.
-- The error handler of a check file's code: an error positioned inside
-- the library (a stack overflow in a call the file made) gets the line of
-- the file's innermost frame in front, so its result points at the file.
local function at_file_line(chunkname)
  local name = sub(chunkname, 2)
  return function(e)
    if type(e) ~= "string" or file_line(e, name) or not find(e, "^[^\n]-:%d+: ") then return e end
    for level = 2, 100 do
      local info = debug.getinfo(level, "Sl")
      if not info then break end
      if info.source == chunkname and (info.currentline or 0) > 0 then
        return format("%s:%d: %s", name, info.currentline, e)
      end
    end
    return e
  end
end

local function guarded_pcall(run, fn, chunkname)
  local limit, mem = run.cpu_limit, run.memory_limit
  local handler = at_file_line(chunkname)
  if (not limit or limit <= 0) and (not mem or mem <= 0) then return xpcall(fn, handler) end
  local jit = rawget(_G, "jit")
  if jit then jit.off(fn, true) end -- compiled code never calls hooks
  local start = os.clock() - (run.cpu_used or 0)
  local mem_kb = mem and mem > 0 and mem * 1024 or nil
  local old_hook, old_mask, old_count = debug.gethook()
  -- Every call is an event (a loop of heavy C calls runs no instructions
  -- to count), but reading the CPU clock is a system call: calls look at
  -- it one in `every`, which doubles (up to CALLS_PER_LOOK) while looks
  -- come less than LOOK_GAP s of CPU apart and drops to 1 once they come
  -- further apart (heavy calls).
  local calls, every, last = 0, 1, start
  local function hook(event)
    if not run.budget_spent then
      if event ~= "count" then
        calls = calls + 1
        if calls < every then return end
        calls = 0
      end
      local now = os.clock()
      if now - last > LOOK_GAP then
        every = 1
      elseif every < CALLS_PER_LOOK then
        every = every * 2
      end
      last = now
      if limit and limit > 0 and now - start > limit then
        run.budget_spent = format("CPU limit of %g s exceeded: the check file used more than %g s of CPU "
          .. "(an endless loop?); see --cpu-limit", limit, limit)
      elseif mem_kb and collectgarbage("count") > mem_kb then
        collectgarbage()
        if collectgarbage("count") > mem_kb then
          run.budget_spent = format("memory limit of %g MiB exceeded; see --memory-limit", mem)
        end
      end
      if not run.budget_spent then return end
      debug.sethook(hook, "", 1)
    end
    local info = debug.getinfo(2, "S")
    if info and info.source == chunkname then error(run.budget_spent, 0) end
  end
  debug.sethook(hook, "c", HOOK_EVERY)
  local ok, e = xpcall(fn, handler)
  if old_hook then
    debug.sethook(old_hook, old_mask, old_count)
  else
    debug.sethook()
  end
  run.cpu_used = os.clock() - start
  return ok, e
end

--- Runs the check source text src, named name (for results and sources):
-- loads the file (its checks are declared), then evaluates them.
-- @tparam table run a run, as new_run_of() or run() make it
-- @tparam string src the check source text
-- @tparam string name its name in results
-- @treturn table the run, its results added
-- @usage local run = check.new_run_of({}, {})
-- run.data = require "lnetstat"
-- check.run_source(run, 'interface_up "lo"', "inline")
function M.run_source(run, src, name)
  if type(src) ~= "string" then argerror("run_source", 2, "string expected, got " .. type(src)) end
  if type(name) ~= "string" then argerror("run_source", 3, "string expected, got " .. type(name)) end
  run.files[#run.files + 1] = name
  run.budget_spent, run.cpu_used = nil, 0
  local env, ctx = make_env(run, name)
  local fn, err = load_chunk(src, "@" .. name, env)
  if not fn then
    add_file_error(run, name, err, ctx.stem)
    return run
  end
  local ok, e = guarded_pcall(run, fn, "@" .. name)
  ctx.loading = false
  local load_error = not ok and errmsg(e) or nil
  if load_error then
    local line = file_line(load_error, name)
    runner.add_done(ctx, {
      id = ctx.stem .. ".file", title = "check file " .. name .. " runs", kind = "file", file = name,
      line = line, source = line and format("%s:%d", name, line) or name, status = "error",
      expected = "the check file loads and runs", actual = tostring(load_error), attempts = 1, duration = 0,
    })
  end
  if #ctx.checks == 0 then
    add_file_error(run, name, name .. ": no checks in this file", ctx.stem)
    return run
  end
  local eok, ee = guarded_pcall(run, function() runner.evaluate(run, ctx) end, "@" .. name)
  local data_n = 0
  local ids = {}
  for _, entry in ipairs(ctx.checks) do
    if not entry.consumed then
      local r = entry.result
      if r.kind == "data" and r.id == ctx.stem .. ".data" then
        data_n = data_n + 1
        r.id = format("%s.data%d", ctx.stem, data_n)
      end
      if r.status == nil then
        r.status, r.actual = "error", "not run: " .. (eok and "the run stopped" or errmsg(ee))
      end
      local first = ids[r.id]
      if first then
        -- reports, dashboards and baselines tell results apart by id: a
        -- file that gives two checks one id is a bad check file
        r.actual = format("duplicate id '%s' (first used at %s); give each check its own id (was %s: %s)",
          tostring(r.id), first.source or name, tostring(r.status), tostring(r.actual))
        r.status, r.details = "error", nil
      elseif r.id ~= nil then
        ids[r.id] = r
      end
      run.results[#run.results + 1] = r
    end
  end
  return run
end

local function finish(run, t0)
  local s = { total = 0, pass = 0, fail = 0, error = 0, skip = 0 }
  for _, r in ipairs(run.results) do
    s.total = s.total + 1
    s[r.status] = (s[r.status] or 0) + 1
  end
  run.summary = s
  run.duration = run.clock() - t0
  run.exit_code = s.error > 0 and 2 or (s.fail > 0 and 1 or 0)
  return run
end

local function limit_of(fname, opts, key, default, unit)
  local v = opts[key]
  if v == nil then return default end
  if type(v) ~= "number" or v < 0 or v ~= v or v == math.huge then
    argerror(fname, fname == "run" and 2 or 3, format("%s must be a number of %s >= 0, got %s", key, unit,
      type(v) == "string" and format("'%s'", v) or describe(v)), 3)
  end
  return v
end

-- The options run and run_string take, and the type of each (netns: as
-- the data functions take it).
local OPTIONS = { data = "table", netns = "netns", sleep = "function", clock = "function",
  log = "function", defaults = "table", cpu_limit = "number", memory_limit = "number",
  progress = "function" }

-- Checks the option names and types of run (argument n) or run_string:
-- an unknown name (a typo would quietly run with the defaults) and a bad
-- netns are errors at the caller's line, before any file is read.
local function check_options(fname, n, opts)
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then
      argerror(fname, n, format("unknown option %s%s", type(k) == "string" and format("'%s'", k) or describe(k),
        util.suggest(k, OPTIONS)), 2)
    elseif want == "netns" then
      local ok, options = pcall(require, "lnetstat.options")
      if ok then
        local valid, err = pcall(options.netns, fname, n, v)
        if not valid then error(tostring(err), 3) end
      end
    elseif want == "function" and type(v) ~= "function" then
      argerror(fname, n, format("%s must be a function, got %s", k, type(v)), 2)
    elseif want == "table" and type(v) ~= "table" then
      argerror(fname, n, format("%s must be a table, got %s", k, type(v)), 2)
    end
  end
end

local function set_limits(run, fname, opts)
  run.cpu_limit = limit_of(fname, opts, "cpu_limit", M.CPU_LIMIT, "seconds")
  run.memory_limit = limit_of(fname, opts, "memory_limit", M.MEMORY_LIMIT, "MiB")
  local d = opts.defaults
  if d ~= nil then
    if type(d) ~= "table" then argerror(fname, fname == "run" and 2 or 3, "defaults must be a table", 2) end
    local ok, err = pcall(util.check_common, fname, fname == "run" and 2 or 3, d)
    if not ok then error(tostring(err.msg or err), 3) end
  end
end

-- The data functions of a run: opts.data, else the lnetstat module (a run
-- that cannot load it gets data_error, and every data call fails).
local function load_data(run)
  if run.data ~= nil then
    run.version = run.data._VERSION
    return
  end
  local ok, ns = pcall(require, "lnetstat")
  if ok then
    run.data = ns
    run.version = ns._VERSION
  else
    run.data = {}
    run.data_error = "cannot load lnetstat: " .. tostring(ns)
  end
end

--- Runs check files.
-- @tparam table files paths ("-" reads standard input)
-- @tparam[opt] table opts data (a table of data functions; default the
--   lnetstat module), netns, sleep(seconds), clock() -> seconds, log(text),
--   defaults = {within, every, stable}, cpu_limit (seconds of CPU per file,
--   default M.CPU_LIMIT; 0 for none), memory_limit (MiB of Lua heap per
--   file, default M.MEMORY_LIMIT; 0 for none), progress(text) (called with
--   a line to show while a retry or a window waits, nil to clear it).
--   The budgets are kept by a debug hook in this process, which cannot
--   interrupt one long C call; `lnetstat check` adds rlimits on a child.
-- @treturn table the run: results, summary {total, pass, fail, error, skip},
--   files, duration, exit_code (0 pass, 1 a check failed, 2 an error)
-- @usage local check = require "lnetstat.check"
-- local run = check.run { "examples/audit/web.lua" }
-- io.write(check.report(run, "tap"))
-- os.exit(run.exit_code)
function M.run(files, opts)
  if type(files) ~= "table" then argerror("run", 1, "list of files expected, got " .. type(files)) end
  if opts ~= nil and type(opts) ~= "table" then argerror("run", 2, "options table expected, got " .. type(opts)) end
  for i, file in ipairs(files) do
    if type(file) ~= "string" then argerror("run", 1, format("file #%d must be a path, got %s", i, type(file))) end
  end
  opts = copy(opts)
  check_options("run", 2, opts)
  local run = new_run(opts)
  set_limits(run, "run", opts)
  local t0 = run.clock()
  load_data(run)
  for _, file in ipairs(files) do
    local src, err
    if file == "-" then
      src = io.stdin:read(M.MAX_FILE_SIZE + 1)
      if src and #src > M.MAX_FILE_SIZE then
        src, err = nil, format("standard input: larger than %d bytes", M.MAX_FILE_SIZE)
      end
      if src == nil and err == nil then src = "" end   -- empty input
    else
      -- bounded, and never blocked by a FIFO or a device; a memory error
      -- while reading is this file's error result too
      local ok, text, why = pcall(read_file, file, M.MAX_FILE_SIZE)
      if ok then src, err = text, why else err = errmsg(text) end
    end
    if not src then
      run.files[#run.files + 1] = file
      add_file_error(run, file, "cannot read: " .. tostring(err))
    else
      M.run_source(run, src, file == "-" and "stdin" or file)
    end
  end
  return finish(run, t0)
end

--- Runs check source text (for embedding and tests); opts as for run.
-- @tparam string src the check source text
-- @tparam[opt] string name its name in results
-- @tparam[opt] table opts as for run
-- @treturn table the run
-- @usage local run = check.run_string('interface_up "lo"', "inline")
-- print(run.summary.pass, run.summary.fail)
function M.run_string(src, name, opts)
  if type(src) ~= "string" then argerror("run_string", 1, "string expected, got " .. type(src)) end
  if name ~= nil and type(name) ~= "string" then argerror("run_string", 2, "string expected, got " .. type(name)) end
  if opts ~= nil and type(opts) ~= "table" then argerror("run_string", 3, "options table expected") end
  opts = copy(opts)
  check_options("run_string", 3, opts)
  local run = new_run(opts)
  set_limits(run, "run_string", opts)
  local t0 = run.clock()
  load_data(run)
  M.run_source(run, src, name or "check")
  return finish(run, t0)
end

--- A run made of results gathered elsewhere (the command runs each file
-- in a child process): summary and exit code as run() makes them.
-- info: files, netns, version, data_error, duration.
-- @tparam table results the results
-- @tparam[opt] table info files, netns, version, data_error, duration
-- @treturn table the run
-- @usage local run = check.new_run_of(results, { files = { "audit.lua" } })
-- print(run.exit_code)
function M.new_run_of(results, info)
  info = info or {}
  local run = new_run({})
  run.results = results
  run.files = info.files or {}
  run.netns, run.version, run.data_error = info.netns, info.version, info.data_error
  finish(run, run.clock())
  run.duration = info.duration or 0
  return run
end

--- The report of a run in one of M.FORMATS; ropts go to the renderer
-- (the human one takes color = true).
-- @tparam table run a run
-- @tparam string fmt one of FORMATS
-- @tparam[opt] table ropts options of the renderer
-- @treturn string the report
-- @usage io.write(check.report(check.run_string('interface_up "lo"'), "json"))
function M.report(run, fmt, ropts)
  fmt = fmt or "human"
  if type(run) ~= "table" or type(run.results) ~= "table" then argerror("report", 1, "run expected") end
  local known = false
  for _, f in ipairs(M.FORMATS) do if f == fmt then known = true end end
  if not known then
    argerror("report", 2, format("format must be one of %s, got %s", concat(M.FORMATS, ", "), describe(fmt)))
  end
  return require("lnetstat.report." .. fmt).render(run, ropts)
end

-- Command line -----------------------------------------------------------------------

--- `lnetstat check ...`: returns the exit code (never exits).
-- @tparam table argv the arguments after "check"
-- @tparam[opt] table opts for embedding and tests: data, sleep, clock, stdout, stderr
-- @treturn integer the exit code: 0 pass, 1 a check failed, 2 an error
-- @usage os.exit(require("lnetstat.check").main { "audit.lua", "--format", "tap" })
function M.main(argv, opts)
  return cli.main(M, argv, opts)
end

return M
