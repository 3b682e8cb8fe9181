-- lnetstat.check's runner: a check file declares its checks while it
-- loads; the runner then evaluates them in attempts. Every attempt reads
-- the host once (one snapshot) and answers each due check from it; checks
-- that retry (within, every, stable) come back in a later attempt with a
-- fresh snapshot; every counter window of an attempt is served by one pair
-- of readings, the longest window apart.
-- @module lnetstat.checks.runner
local util = require "lnetstat.checks.util"
local printable = require("lnetstat.encode.utf8").printable
local snapshot = require "lnetstat.checks.snapshot"

local type, ipairs, tostring, pcall, format, min, max, ceil =
  type, ipairs, tostring, pcall, string.format, math.min, math.max, math.ceil
local strip_position = util.strip_position
local errmsg = util.errmsg

local M = {}

-- Where in the check file the current assertion was called.
local function source_of(ctx)
  for level = 3, 40 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source == ctx.chunkname then
      return format("%s:%d", ctx.file, info.currentline or 0), info.currentline
    end
  end
  return ctx.file, nil
end
M.source_of = source_of

--- A new result record for a check declared now (id, title, source ...).
-- A data call that failed while the file loaded (kind "data") is numbered
-- apart: it may be dropped (an assertion reports it), and the ids of the
-- checks must not depend on whether the host could be read.
function M.new_result(ctx, kind, title, expected, opts)
  local src, line = source_of(ctx)
  local id
  if kind == "data" then
    id = ctx.stem .. ".data" -- numbered once the file has run (see lnetstat.check)
  else
    ctx.n = ctx.n + 1
    id = format("%s.%d", ctx.stem, ctx.n)
  end
  return {
    id = opts and opts.id or id,
    title = opts and opts.title or title,
    kind = kind,
    file = ctx.file,
    line = line,
    source = src,
    expected = expected,
    attempts = 0,
    duration = 0,
  }
end

--- Adds a finished result (an error found while the file loaded).
function M.add_done(ctx, result)
  ctx.checks[#ctx.checks + 1] = { result = result, done = true }
  return ctx.checks[#ctx.checks]
end

--- The declaration function of one check file: run_check(c, opts) with
-- c = { kind, title, expected, eval = function(attempt) -> status, actual,
-- details } (or, for a counter window, window = seconds, before(attempt)
-- -> state and after(state, seconds) -> status, actual, details) and the
-- options within, every, stable and skip (or the file's defaults).
-- Returns the result record, filled in when the run evaluates the check.
function M.new(_, ctx)
  ctx.checks = ctx.checks or {}
  return function(c, opts)
    local result = M.new_result(ctx, c.kind, c.title, c.expected, opts)
    local entry = { c = c, result = result }
    if opts.skip then
      result.status = "skip"
      result.actual = type(opts.skip) == "string" and opts.skip or "skipped"
      entry.done = true
    else
      local within = opts.within
      if within == nil then within = ctx.defaults.within end
      entry.within = within
      entry.every = opts.every or ctx.defaults.every or 1
      entry.stable = opts.stable or ctx.defaults.stable or 1
      entry.passes = 0
    end
    ctx.checks[#ctx.checks + 1] = entry
    return result
  end
end

-- Records one attempt's answer and decides whether the check is done or
-- when it is due again.
local function settle(run, e, t0, ok, s, a, d)
  local status, actual, details
  if ok then
    status, actual, details = s, a, d
  else
    status, actual, details = "error", strip_position(errmsg(s)), nil
  end
  e.status, e.actual, e.details = status, actual, details
  if status == "pass" then e.passes = e.passes + 1 else e.passes = 0 end
  local within, stable = e.within, e.stable
  local now = run.clock()
  local elapsed = now - t0
  if status == "skip" or (status == "pass" and e.passes >= stable)
    or (status ~= "pass" and stable > 1 and not within)
    or (not within and status ~= "pass")
    or (within and elapsed >= within) then
    e.done = true
    return
  end
  local wait = e.every
  if within then wait = min(e.every, within - elapsed) end
  e.next_at = now + wait
end

local function finish(run, e, t0)
  local result = e.result
  local status, actual = e.status, e.actual
  if status == "pass" and e.passes < e.stable then
    status = "fail"
    actual = format("%s (passed %d consecutive samples of the %d needed)", tostring(actual), e.passes, e.stable)
  end
  result.status = status
  result.actual = actual
  if type(e.details) == "table" and #e.details > 0 then result.details = e.details end
  result.duration = run.clock() - t0
  e.done = true
end

-- Waits seconds; with run.progress (a TTY), one line says which check
-- waits and how long is left, rewritten every second.
local function wait(run, seconds, label)
  if seconds <= 0 then return end
  local progress = run.progress
  if not progress then return run.sleep(seconds) end
  local left = seconds
  while left > 0 do
    progress(format("waiting for %s: %d s left", label, ceil(left)))
    local step = min(1, left)
    run.sleep(step)
    left = left - step
  end
  progress(nil)
end

-- The check ids a wait is for, as a terminal may show them (control
-- bytes escaped, see lnetstat.encode.utf8 printable).
local function label_of(list)
  local first = printable(list[1].result.id)
  if #list > 1 then return format("'%s' (+%d more)", first, #list - 1) end
  return format("'%s'", first)
end

-- Marks every unfinished check as an error (the file's budget is spent).
local function abandon(run, ctx, t0, msg)
  for _, e in ipairs(ctx.checks) do
    if not e.done then
      if e.status == nil or e.result.attempts == 0 then
        e.status, e.actual = "error", "not run: " .. msg
      else
        e.status, e.actual = "error", msg
      end
      e.passes, e.stable = 0, e.stable or 1
      finish(run, e, t0)
    end
  end
end

--- Evaluates the declared checks of ctx: first with ctx.snap (the
-- snapshot the file loaded with), then in fresh snapshots while checks
-- retry. Sets each result's status, actual, details, attempts, duration.
function M.evaluate(run, ctx)
  local clock = run.clock
  local t0 = clock()
  local first = true
  while true do
    if run.budget_spent then abandon(run, ctx, t0, run.budget_spent); return end
    local now = clock()
    local due, windows = {}, {}
    local pending, next_at = false, nil
    for _, e in ipairs(ctx.checks) do
      if not e.done and not e.consumed then
        if first or e.next_at <= now + 1e-9 then
          if e.c.window then windows[#windows + 1] = e else due[#due + 1] = e end
        else
          pending = true
          next_at = next_at and min(next_at, e.next_at) or e.next_at
        end
      end
    end
    first = false
    if #due == 0 and #windows == 0 then
      if not pending then return end
      local waiting = {}
      for _, e in ipairs(ctx.checks) do
        if not e.done and not e.consumed and e.next_at == next_at then waiting[#waiting + 1] = e end
      end
      wait(run, next_at - clock(), label_of(waiting))
    else
      if not ctx.fresh then ctx.snap = snapshot.new(run.data, run.needs, run.reads) end
      ctx.fresh = false
      for _, e in ipairs(due) do
        e.result.attempts = e.result.attempts + 1
        settle(run, e, t0, pcall(e.c.eval, e.result.attempts))
        if e.done then finish(run, e, t0) end
        if run.budget_spent then abandon(run, ctx, t0, run.budget_spent); return end
      end
      if #windows > 0 then
        local longest, states = 0, {}
        for i, e in ipairs(windows) do
          longest = max(longest, e.c.window)
          e.result.attempts = e.result.attempts + 1
          states[i] = { pcall(e.c.before, e.result.attempts) }
        end
        wait(run, longest, label_of(windows))
        local seconds = longest
        ctx.snap = snapshot.new(run.data, run.needs, run.reads)
        for i, e in ipairs(windows) do
          local st = states[i]
          if st[1] then
            settle(run, e, t0, pcall(e.c.after, st[2], seconds))
          else
            settle(run, e, t0, false, st[2])
          end
          if e.done then finish(run, e, t0) end
          if run.budget_spent then abandon(run, ctx, t0, run.budget_spent); return end
        end
      end
    end
  end
end

return M
