--- Check results as JUnit XML: one <testsuite> per check file, one
-- <testcase> per check; failures and errors carry the expected and the
-- actual values (also in <system-out>, which CI systems show).
--
-- Only the elements and attributes the common JUnit schema (the one
-- Jenkins' xunit plugin validates against) allows: <testsuites> name, time,
-- tests, failures, errors; <testsuite> name, tests, failures, errors,
-- skipped, time, timestamp, file; <testcase> name, classname, time (the
-- check's file:line is in its <system-out> and its suite's file);
-- <failure>, <error> and <skipped> message and type. Text is valid XML 1.0
-- (see lnetstat.encode.xml).
--
-- Names identify: a suite's name and file, a test case's name and
-- classname are one-to-one, as Prometheus labels and JSON strings are
-- (lnetstat.encode.utf8 `distinct`: valid UTF-8 as it is, a backslash
-- doubled, a byte outside UTF-8 as `\xHH`; a control character XML cannot
-- carry is then `\xHH` too), so two checks never share a test case because
-- of how their bytes were repaired. Messages and bodies are for people: a
-- byte outside UTF-8 is shown as its Latin-1 character.
-- @module lnetstat.report.junit
local xml = require "lnetstat.encode.xml"
local utf8 = require "lnetstat.encode.utf8"
local util = require "lnetstat.report.util"

local ipairs, tostring, type = ipairs, tostring, type
local format, concat = string.format, table.concat

local M = {}

local x = xml.text
local a = xml.attr

-- A name attribute (one-to-one, see above).
local function name(s)
  return a(utf8.distinct(s))
end

local function body(r)
  local lines = {}
  if r.expected ~= nil then lines[#lines + 1] = "expected: " .. tostring(r.expected) end
  if r.actual ~= nil then lines[#lines + 1] = "actual: " .. tostring(r.actual) end
  if type(r.details) == "table" then
    for _, d in ipairs(r.details) do lines[#lines + 1] = "  - " .. tostring(d) end
  end
  lines[#lines + 1] = "source: " .. tostring(r.source)
  if (r.attempts or 1) > 1 then lines[#lines + 1] = format("attempts: %d", r.attempts) end
  return concat(lines, "\n")
end

local function counts(list)
  local c = { tests = 0, failures = 0, errors = 0, skipped = 0, time = 0 }
  for _, r in ipairs(list) do
    c.tests = c.tests + 1
    if r.status == "fail" then c.failures = c.failures + 1
    elseif r.status == "error" then c.errors = c.errors + 1
    elseif r.status == "skip" then c.skipped = c.skipped + 1 end
    c.time = c.time + (type(r.duration) == "number" and r.duration or 0)
  end
  return c
end

--- Renders a run (see lnetstat.check.run) as JUnit XML.
function M.render(run)
  local out = { '<?xml version="1.0" encoding="UTF-8"?>' }
  local all = counts(run.results)
  out[#out + 1] = format('<testsuites name="lnetstat check" tests="%d" failures="%d" errors="%d" time="%s">',
    all.tests, all.failures, all.errors, util.seconds(run.duration or all.time))
  local order, groups = util.by_file(run)
  local stamp = os.date("!%Y-%m-%dT%H:%M:%S", run.started or os.time())
  for _, file in ipairs(order) do
    local list = groups[file]
    local c = counts(list)
    local classname = (tostring(file):match("([^/]+)$") or file):gsub("%.lua$", "")
    out[#out + 1] = format('  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d" '
      .. 'time="%s" timestamp="%s" file="%s">', name(file), c.tests, c.failures, c.errors, c.skipped,
      util.seconds(c.time), stamp, name(file))
    for _, r in ipairs(list) do
      local attrs = format('name="%s" classname="%s" time="%s"',
        name(tostring(r.id) .. ": " .. tostring(r.title)), name(classname), util.seconds(r.duration))
      if r.status == "pass" then
        out[#out + 1] = format("    <testcase %s/>", attrs)
      else
        out[#out + 1] = format("    <testcase %s>", attrs)
        local msg = r.actual ~= nil and tostring(r.actual) or r.status
        if r.status == "skip" then
          out[#out + 1] = format('      <skipped message="%s"/>', a(msg))
        elseif r.status == "error" then
          out[#out + 1] = format('      <error message="%s" type="error">%s</error>', a(msg), x(body(r)))
        else
          out[#out + 1] = format('      <failure message="%s" type="fail">%s</failure>', a(msg), x(body(r)))
        end
        if r.status ~= "skip" then
          out[#out + 1] = format("      <system-out>%s</system-out>", x(body(r)))
        end
        out[#out + 1] = "    </testcase>"
      end
    end
    out[#out + 1] = "  </testsuite>"
  end
  out[#out + 1] = "</testsuites>"
  return concat(out, "\n") .. "\n"
end

return M
