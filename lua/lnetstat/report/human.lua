--- Check results for people: one line per check, the expected and actual
-- values and details of those that did not pass, a summary line.
--
-- Strings that come from the host (process names, paths, titles, values)
-- are shown with their control characters and invalid UTF-8 bytes escaped
-- (`\x1B`, `\n`, ...): the report never sends a terminal an escape
-- sequence it did not write itself, and its lines are its own: a newline
-- in an expected or actual value or a detail is shown as `\n` on the same
-- line (a check lists several lines as several details), so a process
-- name can never make a line of its own.
--
-- `render(run, {color = true})` colours the status words (PASS green,
-- FAIL red, ERROR magenta, SKIP yellow) with ANSI escapes. The renderer
-- never looks at the terminal: the caller decides, and should ask for
-- colour only when writing to a terminal and NO_COLOR is unset or empty.
-- @module lnetstat.report.human
local utf8 = require "lnetstat.encode.utf8"
local util = require "lnetstat.report.util"
local base = require "lnetstat.util"

local ipairs, pairs, tostring, type = ipairs, pairs, tostring, type
local format, concat, rep = string.format, table.concat, string.rep

local M = {}

local LABEL = { pass = "PASS", fail = "FAIL", error = "ERROR", skip = "SKIP" }
local COLOR = { pass = "\27[32m", fail = "\27[31m", error = "\27[35m", skip = "\27[33m" }
local RESET = "\27[0m"

-- One line: newlines and other control characters shown escaped.
local line = utf8.printable

local OPTIONS = { color = true }

local function parse_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then base.argerror("render", 2, "options table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if not OPTIONS[k] then
      base.argerror("render", 2, format("unknown option %s%s", base.show(k), base.did_you_mean(k, OPTIONS)))
    end
  end
  if opts.color ~= nil and type(opts.color) ~= "boolean" then
    base.argerror("render", 2, "color must be a boolean, got " .. type(opts.color))
  end
  return opts
end

--- Renders a run (see lnetstat.check.run) as text.
-- @tparam table run
-- @tparam[opt] table opts `color`: true to colour the status words
-- @treturn string
function M.render(run, opts)
  opts = base.validate(parse_opts, opts)
  local out = {}
  local order, groups = util.by_file(run)
  for _, file in ipairs(order) do
    out[#out + 1] = line(file)
    for _, r in ipairs(groups[file]) do
      local label = LABEL[r.status] or line(tostring(r.status):upper())
      local padded = format("%-5s", label)
      if opts.color and COLOR[r.status] then
        padded = COLOR[r.status] .. label .. RESET .. rep(" ", #padded - #label)
      end
      out[#out + 1] = format("  %s %-14s %s  (%s)", padded, line(r.id), line(r.title), line(r.source))
      if r.status ~= "pass" then
        if r.expected ~= nil then out[#out + 1] = "        expected: " .. line(r.expected) end
        if type(r.details) == "table" and #r.details > 0 then
          out[#out + 1] = "        actual:"
          for _, d in ipairs(r.details) do out[#out + 1] = "          - " .. line(d) end
        elseif r.actual ~= nil then
          out[#out + 1] = "        actual:   " .. line(r.actual)
        end
        if (r.attempts or 1) > 1 then
          out[#out + 1] = format("        after %d attempts in %ss", r.attempts, util.seconds(r.duration))
        end
      end
    end
  end
  local s = util.summary(run)
  local parts = {}
  parts[#parts + 1] = format("%d passed", s.pass)
  parts[#parts + 1] = format("%d failed", s.fail)
  parts[#parts + 1] = format("%d %s", s.error, s.error == 1 and "error" or "errors")
  parts[#parts + 1] = format("%d skipped", s.skip)
  out[#out + 1] = format("%d %s: %s (%ss)", s.total, s.total == 1 and "check" or "checks",
    concat(parts, ", "), util.seconds(run.duration))
  return concat(out, "\n") .. "\n"
end

return M
