--- Check results as one JSON document:
-- `{"tool":"lnetstat check","version":...,"netns":...,"exit_code":N,
--   "summary":{"total":N,"pass":N,"fail":N,"error":N,"skip":N},
--   "files":[...],"results":[{"id":...,"title":...,"status":...,
--   "expected":...,"actual":...,"details":[...],"source":"file:line",
--   "file":...,"line":N,"duration":seconds,"attempts":N,"kind":...}]}`.
-- Missing values are null; lists are always arrays.
-- @module lnetstat.report.json
local util = require "lnetstat.report.util"

local ipairs, tostring, type = ipairs, tostring, type

local M = {}

local function str(v)
  if v == nil then return "null" end
  return util.json_string(tostring(v))
end

local function number(v)
  if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then return "null" end
  return util.json(v)
end

local function strings(list)
  local items = {}
  if type(list) == "table" then
    for i, v in ipairs(list) do items[i] = str(v) end
  end
  return util.json_array(items)
end

--- Renders a run (see lnetstat.check.run) as JSON.
function M.render(run)
  local results = {}
  for i, r in ipairs(run.results) do
    results[i] = util.json_object {
      { "id", str(r.id) }, { "title", str(r.title) }, { "status", str(r.status) },
      { "expected", str(r.expected) }, { "actual", str(r.actual) }, { "details", strings(r.details) },
      { "source", str(r.source) }, { "file", str(r.file) }, { "line", number(r.line) },
      { "duration", number(r.duration) }, { "attempts", number(r.attempts) }, { "kind", str(r.kind) },
    }
  end
  local s = util.summary(run)
  local doc = util.json_object {
    { "tool", str("lnetstat check") },
    { "version", str(run.version) },
    { "netns", run.netns ~= nil and str(run.netns) or "null" },
    { "exit_code", number(run.exit_code) },
    { "duration", number(run.duration) },
    { "summary", util.json_object {
      { "total", number(s.total) }, { "pass", number(s.pass) }, { "fail", number(s.fail) },
      { "error", number(s.error) }, { "skip", number(s.skip) },
    } },
    { "files", strings(run.files) },
    { "results", util.json_array(results) },
  }
  return doc .. "\n"
end

return M
