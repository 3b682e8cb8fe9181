--- Helpers shared by the check reporters: UTF-8 repair, escaping for XML,
-- YAML and Prometheus, JSON through lua-cjson (else dkjson), numbers.
-- @module lnetstat.report.util
local type, tostring, pairs, ipairs, pcall, require = type, tostring, pairs, ipairs, pcall, require
local byte, format, gsub, sub = string.byte, string.format, string.gsub, string.sub
local concat, sort = table.concat, table.sort
local floor = math.floor

local M = {}

local REPLACEMENT = "\239\191\189"   -- U+FFFD

--- s with every byte that is not part of a valid UTF-8 sequence replaced
-- by U+FFFD (reports must parse whatever a process calls itself).
function M.utf8(s)
  s = tostring(s)
  if not s:find("[\128-\255]") then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = byte(s, i)
    local len, lo, hi = 0, 0x80, 0xBF
    if c < 0x80 then len = 1
    elseif c >= 0xC2 and c <= 0xDF then len = 2
    elseif c >= 0xE0 and c <= 0xEF then
      len = 3
      if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F end
    elseif c >= 0xF0 and c <= 0xF4 then
      len = 4
      if c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
    end
    local ok = len > 0 and i + len - 1 <= n
    if ok and len > 1 then
      local c2 = byte(s, i + 1)
      ok = c2 >= lo and c2 <= hi
      for j = i + 2, i + len - 1 do
        local cj = byte(s, j)
        if cj < 0x80 or cj > 0xBF then ok = false end
      end
    end
    if ok then
      out[#out + 1] = sub(s, i, i + len - 1)
      i = i + len
    else
      out[#out + 1] = REPLACEMENT
      i = i + 1
    end
  end
  return concat(out)
end

local XML = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }

--- Text for XML content or attribute values: escaped, valid UTF-8, without
-- the control characters XML 1.0 forbids (shown as \xNN).
function M.xml(s)
  s = M.utf8(s)
  s = gsub(s, "[&<>\"']", XML)
  s = gsub(s, "[%z\1-\8\11\12\14-\31\127]", function(c) return format("\\x%02X", byte(c)) end)
  return s
end

--- Text for an XML attribute value: as xml(), and newlines, tabs and
-- carriage returns as character references (attribute values are
-- normalized: a raw newline would come back as a blank).
function M.xml_attr(s)
  return (gsub(M.xml(s), "[\n\r\t]", { ["\n"] = "&#10;", ["\r"] = "&#13;", ["\t"] = "&#9;" }))
end

--- A double-quoted string for YAML (TAP diagnostics) and JSON alike.
function M.quote(s)
  s = M.utf8(s)
  s = gsub(s, '[%z\1-\31\\"\127]', function(c)
    if c == "\\" then return "\\\\" elseif c == '"' then return '\\"'
    elseif c == "\n" then return "\\n" elseif c == "\t" then return "\\t"
    elseif c == "\r" then return "\\r" end
    return format("\\u%04x", byte(c))
  end)
  return '"' .. s .. '"'
end

--- A Prometheus label value: escaped backslash, double quote and newline.
function M.label(s)
  s = M.utf8(s)
  s = gsub(s, "[\\\"\n]", { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" })
  return s
end

--- A Prometheus sample value.
function M.number(v)
  if type(v) ~= "number" then return "NaN" end
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" elseif v == -math.huge then return "-Inf" end
  if v == floor(v) and v > -1e15 and v < 1e15 then return format("%d", v) end
  return format("%.9g", v)
end

--- Seconds with millisecond precision ("0.012").
function M.seconds(v)
  if type(v) ~= "number" or v ~= v or v < 0 then v = 0 end
  return format("%.3f", v)
end

local json_encode
--- Encodes a JSON value (lua-cjson, else dkjson): objects with string
-- keys, strings, numbers, booleans; empty tables are objects. Arrays are
-- built with M.json_array so that empty ones stay arrays.
function M.json(v)
  if not json_encode then
    local ok, cjson = pcall(require, "cjson")
    if ok then
      local inst = cjson.new and cjson.new() or cjson
      json_encode = inst.encode
    else
      local dok, dkjson = pcall(require, "dkjson")
      if dok then
        json_encode = function(x) return dkjson.encode(x) end
      else
        -- neither library: the reports only need scalars
        json_encode = function(x)
          local t = type(x)
          if t == "string" then return M.quote(x) end
          if t == "boolean" then return tostring(x) end
          if t == "number" and x == x and x ~= math.huge and x ~= -math.huge then
            if x == floor(x) and x > -1e15 and x < 1e15 then return format("%d", x) end
            return format("%.17g", x)
          end
          if x == nil then return "null" end
          error("no JSON library (lua-cjson or dkjson) to encode a " .. t, 2)
        end
      end
    end
  end
  return json_encode(v)
end

--- A JSON object from ordered key/text pairs: {{"id", '"x"'}, ...} where
-- text is already encoded JSON.
function M.json_object(pairs_list)
  local parts = {}
  for i, kv in ipairs(pairs_list) do
    parts[i] = M.quote(kv[1]) .. ":" .. kv[2]
  end
  return "{" .. concat(parts, ",") .. "}"
end

--- A JSON array of already encoded items.
function M.json_array(items)
  return "[" .. concat(items, ",") .. "]"
end

--- A JSON string value (valid UTF-8, escaped).
function M.json_string(s)
  return M.quote(s)
end

--- Sorted keys of a table.
function M.keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  sort(out, function(a, b) return tostring(a) < tostring(b) end)
  return out
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
