--- Check results as TAP version 13: one test line per check, a YAML block
-- with id, status, source, expected, actual and details under every check
-- that did not pass; skipped checks carry the SKIP directive. The plan
-- always equals the number of test lines.
--
-- The YAML block stays inside the subset TAP::Parser (prove) reads: every
-- value is a single-line double-quoted string using only the escapes both
-- YAML and that reader know (`\\`, `\"`, `\n`, `\t`, `\r`, `\xNN`), and a
-- colon followed by a space is written `\x3a` so that a list item such as
-- `- "missing: tcp 22"` is never taken for a mapping. Strings are valid
-- UTF-8 (see lnetstat.encode.utf8) without control characters: C0, DEL and
-- the C1 controls U+0080..U+009F, which prove would send to a terminal,
-- are written `\xNN` in descriptions and YAML values alike.
-- @module lnetstat.report.tap
local utf8 = require "lnetstat.encode.utf8"
local util = require "lnetstat.report.util"

local ipairs, tostring, type = ipairs, tostring, type
local format, concat, gsub, byte = string.format, table.concat, string.gsub, string.byte

local M = {}

local function hex(c)
  return format("\\x%02X", byte(c))
end

-- A C1 control (U+0080..U+009F, C2 80..C2 9F in UTF-8: some terminals obey
-- them as they do ESC) as \xNN, its code point, as YAML reads it.
local function c1(s)
  return (gsub(s, "\194([\128-\159])", hex))
end

-- A test description: one line, no control characters (C0, DEL, C1), '#'
-- escaped (it starts a directive) and so the backslash that escapes it.
local function description(s)
  s = utf8.repair(s)
  s = gsub(s, "[\r\n]+", " ")
  s = gsub(s, "\\", "\\\\")
  s = gsub(s, "[%z\1-\31\127]", hex)
  s = gsub(s, "#", "\\#")
  return c1(s)
end

local YAML_ESCAPES = { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }

-- A YAML double-quoted scalar on one line.
local function quote(s)
  s = utf8.repair(s)
  s = gsub(s, '[%z\1-\31\\"\127]', function(c) return YAML_ESCAPES[c] or hex(c) end)
  s = gsub(s, ": ", "\\x3a ")
  return '"' .. c1(s) .. '"'
end

--- Renders a run (see lnetstat.check.run) as TAP.
function M.render(run)
  local n = #run.results
  local out = { "TAP version 13", n == 0 and "1..0 # SKIP no checks" or format("1..%d", n) }
  for i, r in ipairs(run.results) do
    local desc = description(tostring(r.id) .. " " .. tostring(r.title))
    if r.status == "pass" then
      out[#out + 1] = format("ok %d - %s", i, desc)
    elseif r.status == "skip" then
      out[#out + 1] = format("ok %d - %s # SKIP %s", i, desc, description(r.actual or "skipped"))
    else
      out[#out + 1] = format("not ok %d - %s", i, desc)
      out[#out + 1] = "  ---"
      out[#out + 1] = "  id: " .. quote(r.id)
      out[#out + 1] = "  status: " .. quote(r.status)
      out[#out + 1] = "  severity: " .. quote(r.status == "error" and "error" or "fail")
      out[#out + 1] = "  source: " .. quote(r.source or "")
      if r.expected ~= nil then out[#out + 1] = "  expected: " .. quote(r.expected) end
      if r.actual ~= nil then out[#out + 1] = "  actual: " .. quote(r.actual) end
      if type(r.details) == "table" and #r.details > 0 then
        out[#out + 1] = "  details:"
        for _, d in ipairs(r.details) do out[#out + 1] = "    - " .. quote(d) end
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
