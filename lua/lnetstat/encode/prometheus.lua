--- The Prometheus text exposition format (version 0.0.4): names, the one
-- label-value escaper, HELP text and sample values. `lnetstat metrics` and
-- the Prometheus check report both write through it.
--
-- Every string that comes from the host (an interface name, a check title)
-- goes through `label_value`, which turns any byte string into valid UTF-8
-- keeping distinct strings distinct (lnetstat.encode.utf8 `distinct`: a
-- byte outside a valid sequence is written `\xHH`, a backslash doubled)
-- and then escapes backslash, double quote and newline, the three escapes
-- the format has. It is the only place label values are escaped.
--
--     local prom = require "lnetstat.encode.prometheus"
--     prom.family("x_up", "1 when up.", "gauge")
--       .. prom.sample("x_up", { { "device", "eth0" } }, 1)
--     --> # HELP x_up 1 when up.\n# TYPE x_up gauge\nx_up{device="eth0"} 1\n
-- @module lnetstat.encode.prometheus
local utf8 = require "lnetstat.encode.utf8"
local util = require "lnetstat.util"

local type, ipairs, tostring = type, ipairs, tostring
local gsub, find = string.gsub, string.find
local concat = table.concat
local huge = math.huge
local number_text = util.number_text

local M = {}

--- name as a metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`): every other byte
-- becomes "_", and a leading digit gets a "_" in front.
function M.metric_name(name)
  name = gsub(tostring(name), "[^%w_:]", "_")
  if name == "" or find(name, "^%d") then name = "_" .. name end
  return name
end

--- name as a label name (`[a-zA-Z_][a-zA-Z0-9_]*`), as metric_name but
-- without colons.
function M.label_name(name)
  name = gsub(tostring(name), "[^%w_]", "_")
  if name == "" or find(name, "^%d") then name = "_" .. name end
  return name
end

local LABEL_ESCAPES = { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }

--- Any value as the text between a label's double quotes, one-to-one:
-- `utf8.distinct(s)` (valid UTF-8 kept, a backslash doubled, a byte
-- outside a valid sequence written `\xHH`), then `\`, `"` and newline
-- escaped as the format says. Two different strings are never the same
-- label value, so never the same series. Callers pass the raw string.
function M.label_value(s)
  return (gsub(utf8.distinct(s), '[\\"\n]', LABEL_ESCAPES))
end

--- A label set: {{name, value}, ...} (in that order) as `{a="x",b="y"}`,
-- or "" for an empty list.
function M.labels(list)
  if list == nil or #list == 0 then return "" end
  local parts = {}
  for i, kv in ipairs(list) do
    parts[i] = M.label_name(kv[1]) .. '="' .. M.label_value(kv[2]) .. '"'
  end
  return "{" .. concat(parts, ",") .. "}"
end

--- HELP text: valid UTF-8, one line (backslash and newline escaped).
function M.help(s)
  return (gsub(utf8.repair(s), "[\\\n]", { ["\\"] = "\\\\", ["\n"] = "\\n" }))
end

--- A sample value: integers exactly, other numbers in the shortest form
-- that reads back the same, NaN, +Inf and -Inf as the format spells them;
-- a non-number is NaN.
function M.value(v)
  if type(v) ~= "number" or v ~= v then return "NaN" end
  if v == huge then return "+Inf" elseif v == -huge then return "-Inf" end
  return number_text(v)
end

local KINDS = { counter = true, gauge = true, untyped = true, histogram = true, summary = true }

--- The HELP and TYPE lines of a metric family (kind: counter, gauge,
-- untyped, histogram or summary), each ending in a newline.
function M.family(name, help, kind)
  if not KINDS[kind] then
    util.argerror("family", 3, "metric type expected, got " .. util.show(kind))
  end
  name = M.metric_name(name)
  -- concatenated: Lua 5.1's format("%s") stops at a zero byte
  return "# HELP " .. name .. " " .. M.help(help) .. "\n# TYPE " .. name .. " " .. kind .. "\n"
end

--- One sample line, newline included: name, labels ({{name, value}, ...}
-- or nil) and value.
function M.sample(name, labels, value)
  return M.metric_name(name) .. M.labels(labels) .. " " .. M.value(value) .. "\n"
end

return M
