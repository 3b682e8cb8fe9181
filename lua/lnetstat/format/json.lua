-- JSON output (--json).
-- @module lnetstat.format.json

local type, ipairs, pairs, tostring = type, ipairs, pairs, tostring
local tonumber, next, pcall, require = tonumber, next, pcall, require
local sformat, byte, gsub, concat = string.format, string.byte, string.gsub, table.concat
local sort, floor, math_type = table.sort, math.floor, math.type

local M = {}

-- JSON ---------------------------------------------------------------------------------

local function json_string(s)
  s = gsub(s, '[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\"
    elseif c == "\n" then return "\\n" elseif c == "\t" then return "\\t"
    elseif c == "\r" then return "\\r" end
    return sformat("\\u%04x", byte(c))
  end)
  return '"' .. s .. '"'
end

local function json_number(v)
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  if math_type and math_type(v) == "integer" then return sformat("%d", v) end
  if v == floor(v) and v > -1e18 and v < 1e18 then return sformat("%.0f", v) end
  return sformat("%.17g", v)
end

-- A small encoder: integers exact (doubles up to 2^53 too), object keys
-- sorted, an empty table as [] (lists are what is most often empty).
local function encode_builtin(value, out)
  local t = type(value)
  if t == "table" then
    local n = #value
    local has_other = false
    for k in pairs(value) do
      if type(k) ~= "number" or k < 1 or k > n or k ~= floor(k) then has_other = true break end
    end
    if not has_other then
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        encode_builtin(value[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(value) do
        if type(k) == "string" or type(k) == "number" then keys[#keys + 1] = tostring(k) end
      end
      sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        local v = value[k]
        if v == nil then v = value[tonumber(k)] end
        out[#out + 1] = json_string(k) .. ":"
        encode_builtin(v, out)
      end
      out[#out + 1] = "}"
    end
  elseif t == "string" then out[#out + 1] = json_string(value)
  elseif t == "number" then out[#out + 1] = json_number(value)
  elseif t == "boolean" then out[#out + 1] = value and "true" or "false"
  else out[#out + 1] = "null" end
end

local function builtin_json(value)
  local out = {}
  encode_builtin(value, out)
  return concat(out)
end

-- lua-cjson, else dkjson, else the encoder above; a library is used only
-- if it writes a large counter exactly (lua-cjson 2.1.0 writes 2^53+1 as
-- 9.007199254741e+15, dkjson does so on Lua 5.1/LuaJIT).
local json_encoder
local function pick_json()
  if json_encoder then return json_encoder end
  local probe, expect
  if math_type then
    probe, expect = 9007199254740993, "[9007199254740993]"
  else
    probe, expect = 2 ^ 53, "[9007199254740992]"
  end
  for _, name in ipairs { "cjson", "dkjson" } do
    local ok, lib = pcall(require, name)
    if ok and type(lib) == "table" and type(lib.encode) == "function" then
      local fine, text = pcall(lib.encode, { probe })
      if fine and text == expect then
        json_encoder = lib.encode
        return json_encoder
      end
    end
  end
  json_encoder = builtin_json
  return json_encoder
end

--- One JSON document for a value (records as the data functions return
-- them). A list loses its non-array fields (partial, sources) in JSON.
function M.json(value)
  if type(value) == "table" and value[1] ~= nil then
    local copy = {}
    for i = 1, #value do copy[i] = value[i] end
    value = copy
  elseif type(value) == "table" and next(value) == nil then
    return "[]"
  end
  return pick_json()(value)
end
M._json_builtin = builtin_json

M.number = json_number   -- for lnetstat.format.prometheus

return M
