--- Check results as one JSON document:
-- `{"tool":"lnetstat check","version":...,"netns":...,"exit_code":N,
--   "summary":{"total":N,"pass":N,"fail":N,"error":N,"skip":N},
--   "files":[...],"results":[{"id":...,"title":...,"status":...,
--   "expected":...,"actual":...,"details":[...],"source":"file:line",
--   "file":...,"line":N,"duration":seconds,"attempts":N,"kind":...}]}`.
-- Keys always in this order, missing values are null, lists are always
-- arrays, strings valid UTF-8 (see lnetstat.encode.json).
-- @module lnetstat.report.json
local json = require "lnetstat.encode.json"
local util = require "lnetstat.report.util"

local ipairs, tostring, type = ipairs, tostring, type
local null = json.null

local M = {}

-- One order for every object: the document's keys and a result's share
-- "duration", which comes after exit_code in one and after line in the other.
local KEYORDER = {
  "tool", "version", "netns", "exit_code",
  "id", "title", "status", "expected", "actual", "details", "source", "file", "line",
  "duration", "attempts", "kind", "summary", "files", "results",
  "total", "pass", "fail", "error", "skip",
}

local function str(v)
  if v == nil then return null end
  return tostring(v)
end

local function number(v)
  if type(v) ~= "number" then return null end
  return v   -- NaN and the infinities are written as null
end

local function strings(list)
  local items = {}
  if type(list) == "table" then
    for i, v in ipairs(list) do items[i] = tostring(v) end
  end
  return json.array(items)
end

--- Renders a run (see lnetstat.check.run) as JSON.
function M.render(run)
  local results = {}
  for i, r in ipairs(run.results) do
    results[i] = {
      id = str(r.id), title = str(r.title), status = str(r.status),
      expected = str(r.expected), actual = str(r.actual), details = strings(r.details),
      source = str(r.source), file = str(r.file), line = number(r.line),
      duration = number(r.duration), attempts = number(r.attempts), kind = str(r.kind),
    }
  end
  local s = util.summary(run)
  local doc = {
    tool = "lnetstat check",
    version = str(run.version),
    netns = str(run.netns),
    exit_code = number(run.exit_code),
    duration = number(run.duration),
    summary = { total = number(s.total), pass = number(s.pass), fail = number(s.fail),
      error = number(s.error), skip = number(s.skip) },
    files = strings(run.files),
    results = json.array(results),
  }
  return json.encode(doc, { keyorder = KEYORDER }) .. "\n"
end

return M
