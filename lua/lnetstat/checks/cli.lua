-- The command line of lnetstat.check: `lnetstat check FILE...` and
-- `lnetstat check --init`.
-- @module lnetstat.checks.cli
local cliargs = require "lnetstat.cliargs"
local lutil = require "lnetstat.util"
local child = require "lnetstat.checks.child"
local printable = require("lnetstat.encode.utf8").printable

local type, ipairs, tostring, tonumber, format, concat =
  type, ipairs, tostring, tonumber, string.format, table.concat

local M = {}

local USAGE = [[
usage: lnetstat check FILE... [--format human|tap|junit|json|prometheus]
                              [--netns NAME] [--output FILE]
                              [--within SECONDS] [--every SECONDS]
                              [--cpu-limit SECONDS] [--memory-limit MIB]
       lnetstat check --init [--netns NAME] [--output FILE]
  Runs check files (Lua; see lnetstat.check). FILE "-" reads standard input.
  --format, -f     report format (default human)
  --netns NAME     read the data of a network namespace (name, path or pid;
                   all: every namespace, merged)
  --output, -o     write the report to FILE (atomically) instead of stdout
  --within S       retry failing checks for up to S seconds (default: no retry;
                   at most 3600)
  --every S        seconds between retries (default 1; more than 0)
  --cpu-limit S    CPU seconds a check file may use (default 60; 0: no limit;
                   at most 86400)
  --memory-limit M MiB of memory a check file may use (default 256; 0: no limit;
                   at most 1048576)
  --init           write a check file for this host (its listeners with their
                   programs and users, default route, interfaces that are up)
                   to stdout or --output, to edit and commit
Each check file runs in its own process with these budgets; a file that
exceeds one is stopped within seconds and reported as an error.
Exit status: 0 all checks passed, 1 a check failed, 2 an error (a bad check
file, data that could not be read, an owner that could not be identified, a
budget exceeded) or a usage error.
]]

local MAX_WAIT = 3600
-- The largest budgets the command takes: a day of CPU, 1 TiB of memory
-- (what the rlimits of the child can express, with room to spare).
local MAX_CPU, MAX_MEMORY = 86400, 1048576

local function seconds(name, lo_open, max, no_limit)
  return function(v)
    local n = tonumber(v)
    if not lutil.is_finite(n) or n < 0 or (lo_open and n == 0) or n > max then
      return nil, format("%s needs a number of seconds (%s, at most %d)", name,
        lo_open and "more than 0" or no_limit and "0: no limit" or "0 or more", max)
    end
    return n
  end
end

local function mebibytes(v)
  local n = tonumber(v)
  if not lutil.is_finite(n) or n < 0 or n > MAX_MEMORY then
    return nil, format("--memory-limit needs a number of MiB (0: no limit, at most %d)", MAX_MEMORY)
  end
  return n
end

-- The command's conventions (no abbreviation, -fX as -f X, one exit-code
-- rule) come from lnetstat.cliargs; the help is this file's USAGE.
local function parser()
  local p = cliargs.parser("lnetstat check", "Runs check files.")
  p:argument("files"):args("*")
  p:option("-f --format")
  p:option("--netns")
  p:option("-o --output")
  p:option("--within"):convert(seconds("--within", false, MAX_WAIT))
  p:option("--every"):convert(seconds("--every", true, MAX_WAIT))
  p:option("--cpu-limit"):convert(seconds("--cpu-limit", false, MAX_CPU, true))
  p:option("--memory-limit"):convert(mebibytes)
  p:flag("--init")
  return p
end

local LONG = { ["--format"] = true, ["--netns"] = true, ["--output"] = true, ["--within"] = true,
  ["--every"] = true, ["--cpu-limit"] = true, ["--memory-limit"] = true, ["--init"] = true, ["--help"] = true }

-- True when file descriptor fd is a terminal (test -t, through the shell).
local function isatty(fd)
  local ok, how, code = os.execute(format("test -t %d", fd))
  if type(ok) == "number" then return ok == 0 end
  return ok == true and (how == nil or how == "exit") and (code == nil or code == 0)
end
M.isatty = isatty

--- A progress writer for a terminal: one line rewritten with \r, cleared
-- with nil; writes through write(text). The text's control bytes are
-- escaped (it names checks, whose ids come from file names).
function M.progress_writer(write)
  return function(text)
    write("\r\27[K" .. (text and printable(text) or ""))
  end
end

--- `lnetstat check ...` for the public module check (lnetstat.check):
-- returns the exit code (never exits); uses check.run, check.report and
-- check.FORMATS. opts (embedding and tests): data, sleep, clock, stdout,
-- stderr, log, tty = {stdout = bool, stderr = bool}, in_process.
function M.main(check, argv, opts)
  opts = opts or {}
  local stdout, stderr = opts.stdout or io.stdout, opts.stderr or io.stderr
  if type(argv) ~= "table" then argv = {} end
  local args = {}
  for i, a in ipairs(argv) do args[i] = tostring(a) end
  local ok, a = parser():pparse(args)
  if not ok then
    stderr:write("lnetstat check: ", cliargs.message(a, LONG), "\n", USAGE)
    return cliargs.ERROR
  end
  if a.help then stdout:write(USAGE); return cliargs.OK end
  local fmt = a.format or "human"
  local known = false
  for _, f in ipairs(check.FORMATS) do if f == fmt then known = true end end
  if not known then
    stderr:write("lnetstat check: unknown format '", fmt, "' (", concat(check.FORMATS, ", "), ")\n")
    return cliargs.ERROR
  end
  local netns, netns_err = cliargs.check_netns(a.netns)
  if netns_err then
    stderr:write("lnetstat check: ", netns_err, "\n", USAGE)
    return cliargs.ERROR
  end
  local output = a.output
  -- text to --output (atomically) or stdout; code, or ERROR when it cannot be written
  local function emit(text, code)
    if not output then
      stdout:write(text)
      return code
    end
    local wok, werr = lutil.write_atomic(output, text)
    if wok then return code end
    stderr:write("lnetstat check: cannot write ", output, ": ", tostring(werr), "\n")
    return cliargs.ERROR
  end
  if a.init then
    if #a.files > 0 then
      stderr:write("lnetstat check: --init takes no check file (it writes one)\n", USAGE)
      return cliargs.ERROR
    end
    local text, err = require("lnetstat.checks.baseline").generate({ netns = netns, data = opts.data })
    if not text then
      stderr:write("lnetstat check: --init: ", tostring(err), "\n")
      return cliargs.ERROR
    end
    return emit(text, cliargs.OK)
  end
  local files = a.files
  if #files == 0 then
    stderr:write("lnetstat check: no check file given\n", USAGE)
    return cliargs.ERROR
  end
  if output then
    -- fail before the checks run (and sleep through their windows)
    local pok, perr = lutil.check_writable(output)
    if not pok then
      stderr:write("lnetstat check: cannot write ", output, ": ", tostring(perr), "\n")
      return cliargs.ERROR
    end
  end
  local tty = opts.tty or {}
  local on_tty_err = tty.stderr
  if on_tty_err == nil then on_tty_err = opts.stderr == nil and isatty(2) end
  local on_tty_out = tty.stdout
  if on_tty_out == nil then on_tty_out = opts.stdout == nil and isatty(1) end
  local defaults = { within = a.within, every = a.every }
  local run
  if opts.data ~= nil or opts.in_process then
    local progress
    if on_tty_err then progress = M.progress_writer(function(s) stderr:write(s) end) end
    run = check.run(files, {
      data = opts.data, netns = netns, sleep = opts.sleep, clock = opts.clock,
      log = opts.log or function(s) stderr:write(s, "\n") end, defaults = defaults,
      cpu_limit = a.cpu_limit, memory_limit = a.memory_limit, progress = progress,
    })
  else
    -- each file in its own process, under rlimits
    local results, data_error, version = {}, nil, nil
    local duration = 0
    for _, file in ipairs(files) do
      local r = child.run_file({
        file = file, netns = netns, defaults = defaults,
        cpu_limit = a.cpu_limit or check.CPU_LIMIT, memory_limit = a.memory_limit or check.MEMORY_LIMIT,
        progress = on_tty_err or nil,
      })
      for _, res in ipairs(r.results) do results[#results + 1] = res end
      data_error = data_error or r.data_error
      version = version or r.version
      duration = duration + (tonumber(r.duration) or 0)
    end
    run = check.new_run_of(results, { files = files, netns = netns, version = version,
      data_error = data_error, duration = duration })
  end
  if run.data_error then stderr:write("lnetstat check: ", run.data_error, "\n") end
  local color = fmt == "human" and not output and on_tty_out and os.getenv("NO_COLOR") == nil
  local text = check.report(run, fmt, color and { color = true } or nil)
  return emit(text, run.exit_code)
end

return M
