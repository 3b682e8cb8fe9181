--- Check results in the Prometheus text format (for node_exporter's
-- textfile collector: write with `--output FILE.prom`, which renames into
-- place). Names:
--
--   lnetstat_check_status{id,title,file,status}   1 when the check passed, else 0
--   lnetstat_check_duration_seconds{id,title,file}
--   lnetstat_check_attempts{id,title,file}
--   lnetstat_checks{status}                       checks per status
--   lnetstat_check_run_success                    1 when every check passed
--   lnetstat_check_run_duration_seconds, lnetstat_check_run_timestamp_seconds
--
-- Alert on `lnetstat_check_status{status=~"fail|error"}` or on
-- `lnetstat_check_run_success == 0`. Label values are valid UTF-8
-- whatever bytes an id, title or file name holds, and distinct strings
-- stay distinct series: valid UTF-8 as it is, a backslash as `\\` and a
-- byte that is not UTF-8 as `\xHH`, then escaped as the format says
-- (lnetstat.encode.prometheus `label_value`, the one escaper).
-- @module lnetstat.report.prometheus
local prom = require "lnetstat.encode.prometheus"
local util = require "lnetstat.report.util"

local ipairs, tostring = ipairs, tostring
local format, concat = string.format, table.concat

local M = {}

local labels = prom.labels

--- Renders a run (see lnetstat.check.run) as Prometheus text.
function M.render(run)
  local out = {}
  local function header(name, help)
    out[#out + 1] = prom.family(name, help, "gauge"):sub(1, -2)
  end
  -- Series must be unique: a repeated id (same file name in two
  -- directories, or a user id used twice) gets the first #N suffix (N from
  -- 2) that no check of that file has as its id and no earlier repeat got.
  local ids, taken, claimed = {}, {}, {}
  -- (keyed by the file label's value: a missing file and "" are one label)
  local function key(id, r) return id .. "\0" .. tostring(r.file or "") end
  for _, r in ipairs(run.results) do taken[key(tostring(r.id), r)] = true end
  for i, r in ipairs(run.results) do
    local id = tostring(r.id)
    if claimed[key(id, r)] then
      local n = 2
      while taken[key(id .. "#" .. n, r)] do n = n + 1 end
      id = id .. "#" .. n
      taken[key(id, r)] = true
    end
    claimed[key(id, r)] = true
    ids[i] = id
  end
  local function base(i, r)
    return { { "id", ids[i] }, { "title", tostring(r.title) }, { "file", tostring(r.file or "") } }
  end
  header("lnetstat_check_status",
    "1 when the check passed, 0 otherwise; the status label is pass, fail, error or skip.")
  for i, r in ipairs(run.results) do
    local l = base(i, r)
    l[#l + 1] = { "status", tostring(r.status) }
    -- concatenated: Lua 5.1's format("%s") stops at a zero byte
    out[#out + 1] = "lnetstat_check_status" .. labels(l) .. (r.status == "pass" and " 1" or " 0")
  end
  header("lnetstat_check_duration_seconds", "Time the check took, retries and windows included.")
  for i, r in ipairs(run.results) do
    out[#out + 1] = "lnetstat_check_duration_seconds" .. labels(base(i, r)) .. " " .. prom.value(r.duration or 0)
  end
  header("lnetstat_check_attempts", "Attempts the check needed (more than 1 with within/every retries).")
  for i, r in ipairs(run.results) do
    out[#out + 1] = "lnetstat_check_attempts" .. labels(base(i, r)) .. " " .. prom.value(r.attempts or 1)
  end
  local s = util.summary(run)
  header("lnetstat_checks", "Checks of the last run by status.")
  for _, st in ipairs { "pass", "fail", "error", "skip" } do
    out[#out + 1] = format('lnetstat_checks{status="%s"} %d', st, s[st] or 0)
  end
  header("lnetstat_check_run_success", "1 when every check passed or was skipped (exit code 0), else 0.")
  out[#out + 1] = format("lnetstat_check_run_success %d", (s.fail == 0 and s.error == 0) and 1 or 0)
  header("lnetstat_check_run_duration_seconds", "Time the whole run took.")
  out[#out + 1] = "lnetstat_check_run_duration_seconds " .. prom.value(run.duration or 0)
  header("lnetstat_check_run_timestamp_seconds", "When the run started (Unix time).")
  out[#out + 1] = "lnetstat_check_run_timestamp_seconds " .. prom.value(run.started or os.time())
  return concat(out, "\n") .. "\n"
end

return M
