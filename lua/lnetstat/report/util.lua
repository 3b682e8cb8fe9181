--- What the check reporters share: the summary of a run, its results
-- grouped by file, seconds as text. Escaping lives in lnetstat.encode.*.
-- @module lnetstat.report.util
local type, ipairs = type, ipairs
local format = string.format

local M = {}

--- Seconds with millisecond precision ("0.012").
function M.seconds(v)
  if type(v) ~= "number" or v ~= v or v < 0 or v == math.huge then v = 0 end
  return format("%.3f", v)
end

--- Counts of a run's statuses, filled in when the run lacks them.
function M.summary(run)
  if run.summary then return run.summary end
  local s = { total = 0, pass = 0, fail = 0, error = 0, skip = 0 }
  for _, r in ipairs(run.results) do
    s.total = s.total + 1
    s[r.status] = (s[r.status] or 0) + 1
  end
  return s
end

--- The results grouped by file, files in run order.
function M.by_file(run)
  local order, groups = {}, {}
  for _, f in ipairs(run.files or {}) do
    if not groups[f] then groups[f] = {}; order[#order + 1] = f end
  end
  for _, r in ipairs(run.results) do
    local f = r.file or "?"
    if not groups[f] then groups[f] = {}; order[#order + 1] = f end
    local g = groups[f]
    g[#g + 1] = r
  end
  return order, groups
end

return M
