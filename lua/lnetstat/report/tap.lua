--- Check results as TAP version 13: one test line per check, a YAML block
-- with id, status, source, expected, actual and details under every check
-- that did not pass; skipped checks carry the SKIP directive.
-- @module lnetstat.report.tap
local util = require "lnetstat.report.util"

local ipairs, tostring, type = ipairs, tostring, type
local format, concat, gsub = string.format, table.concat, string.gsub

local M = {}

-- A test description: one line, '#' escaped (it starts a directive).
local function description(s)
  s = util.utf8(s)
  s = gsub(s, "[\r\n]+", " ")
  s = gsub(s, "\\", "\\\\")
  s = gsub(s, "#", "\\#")
  return s
end

--- Renders a run (see lnetstat.check.run) as TAP.
function M.render(run)
  local out = { "TAP version 13", format("1..%d", #run.results) }
  for i, r in ipairs(run.results) do
    local desc = description(tostring(r.id) .. " " .. tostring(r.title))
    if r.status == "pass" then
      out[#out + 1] = format("ok %d - %s", i, desc)
    elseif r.status == "skip" then
      out[#out + 1] = format("ok %d - %s # SKIP %s", i, desc, description(r.actual or "skipped"))
    else
      out[#out + 1] = format("not ok %d - %s", i, desc)
      out[#out + 1] = "  ---"
      out[#out + 1] = "  id: " .. util.quote(r.id)
      out[#out + 1] = "  status: " .. util.quote(r.status)
      out[#out + 1] = "  severity: " .. util.quote(r.status == "error" and "error" or "fail")
      out[#out + 1] = "  source: " .. util.quote(r.source or "")
      if r.expected ~= nil then out[#out + 1] = "  expected: " .. util.quote(r.expected) end
      if r.actual ~= nil then out[#out + 1] = "  actual: " .. util.quote(r.actual) end
      if type(r.details) == "table" and #r.details > 0 then
        out[#out + 1] = "  details:"
        for _, d in ipairs(r.details) do out[#out + 1] = "    - " .. util.quote(d) end
      end
      out[#out + 1] = format("  attempts: %d", r.attempts or 1)
      out[#out + 1] = "  duration_s: " .. util.seconds(r.duration)
      out[#out + 1] = "  ..."
    end
  end
  local s = util.summary(run)
  out[#out + 1] = format("# %d passed, %d failed, %d errors, %d skipped", s.pass, s.fail, s.error, s.skip)
  return concat(out, "\n") .. "\n"
end

return M
