--- Check results for people: one line per check, the expected and actual
-- values and details of those that did not pass, a summary line.
-- @module lnetstat.report.human
local util = require "lnetstat.report.util"

local ipairs, tostring, type = ipairs, tostring, type
local format, concat = string.format, table.concat

local M = {}

local LABEL = { pass = "PASS", fail = "FAIL", error = "ERROR", skip = "SKIP" }

-- One line: newlines and other control characters shown escaped.
local function line(s)
  return (tostring(s):gsub("[%z\1-\31\127]", function(c)
    if c == "\n" then return "\\n" end
    return string.format("\\x%02X", c:byte())
  end))
end

local function indent_lines(out, prefix, text)
  local first = true
  for l in (tostring(text) .. "\n"):gmatch("(.-)\n") do
    out[#out + 1] = (first and prefix or string.rep(" ", #prefix)) .. l
    first = false
  end
end

--- Renders a run (see lnetstat.check.run) as text.
function M.render(run)
  local out = {}
  local order, groups = util.by_file(run)
  for _, file in ipairs(order) do
    out[#out + 1] = format("%s", file)
    for _, r in ipairs(groups[file]) do
      local label = LABEL[r.status] or tostring(r.status):upper()
      out[#out + 1] = format("  %-5s %-14s %s  (%s)", label, line(r.id), line(r.title), line(r.source))
      if r.status ~= "pass" then
        if r.expected ~= nil then indent_lines(out, "        expected: ", r.expected) end
        if type(r.details) == "table" and #r.details > 0 then
          out[#out + 1] = "        actual:"
          for _, d in ipairs(r.details) do indent_lines(out, "          - ", d) end
        elseif r.actual ~= nil then
          indent_lines(out, "        actual:   ", r.actual)
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
