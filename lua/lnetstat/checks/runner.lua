-- lnetstat.check's retry runner: runs one check until it passes, is stable
-- or its time is up, and records where in the check file it was called.
-- @module lnetstat.checks.runner
local util = require "lnetstat.checks.util"

local type, tostring, pcall, format, min =
  type, tostring, pcall, string.format, math.min
local strip_position = util.strip_position
local errmsg = util.errmsg

local M = {}

--- The retry runner of one check file: returns run_check(c, opts), which
-- runs c = { kind, title, expected, eval = function(attempt) -> status,
-- actual, details } under the options within, every, stable and skip (or
-- the file's defaults), records the result in run.results and returns
-- passed, result.
function M.new(run, ctx)
  local file = ctx.file

  -- Where in the check file the current assertion was called.
  local function source()
    for level = 3, 40 do
      local info = debug.getinfo(level, "Sl")
      if not info then break end
      if info.source == ctx.chunkname then
        return format("%s:%d", file, info.currentline or 0), info.currentline
      end
    end
    return file, nil
  end
  -- Running one check ---------------------------------------------------------
  -- c = { title, expected, eval = function() -> status, actual, details }
  local function run_check(c, opts)
    local src, line = source()
    ctx.n = ctx.n + 1
    local result = {
      id = opts.id or format("%s.%d", ctx.stem, ctx.n),
      title = opts.title or c.title,
      kind = c.kind,
      file = file,
      line = line,
      source = src,
      expected = c.expected,
      attempts = 0,
      duration = 0,
    }
    if opts.skip then
      result.status = "skip"
      result.actual = type(opts.skip) == "string" and opts.skip or "skipped"
      run.results[#run.results + 1] = result
      return false, result
    end
    local within = opts.within
    if within == nil then within = ctx.defaults.within end
    local every = opts.every or ctx.defaults.every or 1
    local stable = opts.stable or ctx.defaults.stable or 1
    local clock, sleep = run.clock, run.sleep
    local t0 = clock()
    local passes = 0
    local status, actual, details
    while true do
      result.attempts = result.attempts + 1
      local ok, s, a, d = pcall(c.eval, result.attempts)
      if ok then
        status, actual, details = s, a, d
      else
        status, actual, details = "error", strip_position(errmsg(s)), nil
      end
      if status == "pass" then passes = passes + 1 else passes = 0 end
      if status == "skip" or (status == "pass" and passes >= stable) then break end
      if status ~= "pass" and stable > 1 and not within then break end
      local elapsed = clock() - t0
      if not within then
        if status ~= "pass" then break end
      elseif elapsed >= within then
        break
      end
      local wait = every
      if within then wait = min(every, within - elapsed) end
      sleep(wait)
    end
    if status == "pass" and passes < stable then
      status = "fail"
      actual = format("%s (passed %d consecutive samples of the %d needed)", tostring(actual), passes, stable)
    end
    result.status = status
    result.actual = actual
    if type(details) == "table" and #details > 0 then result.details = details end
    result.duration = clock() - t0
    run.results[#run.results + 1] = result
    return status == "pass", result
  end

  return run_check
end

return M
