--- Audit checks: check files are plain Lua run in a sandbox that offers
-- lnetstat's data functions, the query helpers and matchers, and the
-- assertions below; each assertion records one result
-- `{id, title, status, expected, actual, details, source, duration, attempts}`
-- with status "pass", "fail", "error" or "skip".
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
-- @module lnetstat.check
local util = require "lnetstat.checks.util"
local sandbox = require "lnetstat.checks.sandbox"
local cli = require "lnetstat.checks.cli"

local type, ipairs, tostring, tonumber, pcall = type, ipairs, tostring, tonumber, pcall
local format, concat = string.format, table.concat
local argerror, copy, errmsg, describe = util.argerror, util.copy, util.errmsg, util.describe
local new_run, make_env, load_chunk = sandbox.new_run, sandbox.make_env, sandbox.load_chunk

local M = { _NAME = "lnetstat.check" }

M.FORMATS = { "human", "tap", "junit", "json", "prometheus" }

--- The assertions a check file can call.
M.ASSERTIONS = sandbox.ASSERTIONS

--- One line describing a socket record and its owner:
-- "tcp 0.0.0.0:22 (sshd, pid 812, user root)".
M.describe_socket = util.describe_socket

-- Loading and running files -------------------------------------------------------

local function add_file_error(run, file, msg, stem)
  local line = tonumber(tostring(msg):match(":(%d+):"))
  run.results[#run.results + 1] = {
    id = (stem or file) .. ".file",
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
-- process's CPU time, data dumps included). Generous: a check file that
-- retries big dumps for a minute uses a few seconds; an endless loop would
-- otherwise hang the run forever.
M.CPU_LIMIT = 60

-- Instructions between two looks at the clock: often enough to stop a loop
-- within milliseconds of its budget, rarely enough to cost nothing.
local HOOK_EVERY = 10000

-- Runs fn, the chunk of a check file named chunkname, under pcall with the
-- run's CPU budget. Once the budget is spent, the hook looks at every
-- instruction and raises an error whenever the check file's own code runs
-- (never inside the library, whose bookkeeping must finish): a loop that
-- catches the error with pcall is stopped at its next instruction outside
-- that pcall, and the error climbs out to here.
local function guarded_pcall(run, fn, chunkname)
  local limit = run.cpu_limit
  if not limit or limit <= 0 then return pcall(fn) end
  local jit = rawget(_G, "jit")
  if jit then jit.off(fn, true) end -- compiled code never calls hooks
  local start = os.clock()
  local spent = false
  local old_hook, old_mask, old_count = debug.gethook()
  local msg = format("stopped: the check file used more than %g s of CPU (an endless loop?); "
    .. "see --cpu-limit", limit)
  local function hook()
    if not spent then
      if os.clock() - start <= limit then return end
      spent = true
      debug.sethook(hook, "", 1)
    end
    local info = debug.getinfo(2, "S")
    if info and info.source == chunkname then error(msg, 0) end
  end
  debug.sethook(hook, "", HOOK_EVERY)
  local ok, e = pcall(fn)
  if old_hook then
    debug.sethook(old_hook, old_mask, old_count)
  else
    debug.sethook()
  end
  return ok, e
end

--- Runs the check source text src, named name (for results and sources).
function M.run_source(run, src, name)
  if type(src) ~= "string" then argerror("run_source", 2, "string expected, got " .. type(src)) end
  if type(name) ~= "string" then argerror("run_source", 3, "string expected, got " .. type(name)) end
  run.files[#run.files + 1] = name
  local env, ctx = make_env(run, name)
  local fn, err = load_chunk(src, "@" .. name, env)
  if not fn then
    add_file_error(run, name, err, ctx.stem)
    return run
  end
  local before = #run.results
  local ok, e = guarded_pcall(run, fn, "@" .. name)
  if not ok then
    local msg = errmsg(e)
    add_file_error(run, name, msg, ctx.stem)
  elseif #run.results == before then
    add_file_error(run, name, name .. ": no checks in this file", ctx.stem)
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

local function cpu_limit_of(fname, opts)
  local v = opts.cpu_limit
  if v == nil then return M.CPU_LIMIT end
  if type(v) ~= "number" or v < 0 or v ~= v then
    argerror(fname, fname == "run" and 2 or 3, "cpu_limit must be a number of seconds >= 0, got "
      .. (type(v) == "string" and format("'%s'", v) or describe(v)), 2)
  end
  return v
end

--- Runs check files.
-- @tparam table files paths ("-" reads standard input)
-- @tparam[opt] table opts data (a table of data functions; default the
--   lnetstat module), netns, sleep(seconds), clock() -> seconds, log(text),
--   defaults = {within, every, stable}, cpu_limit (seconds of CPU per file,
--   default M.CPU_LIMIT; 0 for none)
-- @treturn table the run: results, summary {total, pass, fail, error, skip},
--   files, duration, exit_code (0 pass, 1 a check failed, 2 an error)
function M.run(files, opts)
  if type(files) ~= "table" then argerror("run", 1, "list of files expected, got " .. type(files)) end
  if opts ~= nil and type(opts) ~= "table" then argerror("run", 2, "options table expected, got " .. type(opts)) end
  opts = copy(opts)
  local run = new_run(opts)
  run.cpu_limit = cpu_limit_of("run", opts)
  local t0 = run.clock()
  if run.data == nil then
    local ok, ns = pcall(require, "lnetstat")
    if ok then
      run.data = ns
      run.version = ns._VERSION
    else
      run.data = {}
      run.data_error = "cannot load lnetstat: " .. tostring(ns)
    end
  else
    run.version = run.data._VERSION
  end
  for _, file in ipairs(files) do
    local src, err
    if file == "-" then
      src = io.stdin:read("*a")
    else
      local f
      f, err = io.open(file, "r")
      if f then
        src = f:read("*a")
        f:close()
      end
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
function M.run_string(src, name, opts)
  if opts ~= nil and type(opts) ~= "table" then argerror("run_string", 3, "options table expected") end
  opts = copy(opts)
  local run = new_run(opts)
  run.cpu_limit = cpu_limit_of("run_string", opts)
  local t0 = run.clock()
  if run.data == nil then
    local ok, ns = pcall(require, "lnetstat")
    run.data = ok and ns or {}
    run.version = ok and ns._VERSION or nil
  else
    run.version = run.data._VERSION
  end
  M.run_source(run, src, name or "check")
  return finish(run, t0)
end

--- The report of a run in one of M.FORMATS.
function M.report(run, fmt)
  fmt = fmt or "human"
  if type(run) ~= "table" or type(run.results) ~= "table" then argerror("report", 1, "run expected") end
  local known = false
  for _, f in ipairs(M.FORMATS) do if f == fmt then known = true end end
  if not known then
    argerror("report", 2, format("format must be one of %s, got %s", concat(M.FORMATS, ", "), describe(fmt)))
  end
  return require("lnetstat.report." .. fmt).render(run)
end

-- Command line -----------------------------------------------------------------------

--- `lnetstat check ...`: returns the exit code (never exits).
-- @tparam table argv the arguments after "check"
-- @tparam[opt] table opts for embedding and tests: data, sleep, clock, stdout, stderr
function M.main(argv, opts)
  return cli.main(M, argv, opts)
end

return M
