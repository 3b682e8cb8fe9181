--- The one JSON encoder: `lnetstat --json`, `lnetstat monitor --json` and
-- the JSON check report all write through it.
--
-- The output is a function of the value alone, byte for byte the same on
-- Lua 5.1, 5.3, 5.4 and LuaJIT and whether or not lua-cjson or dkjson is
-- installed (neither orders object keys, and they differ in numbers and in
-- what they do with invalid UTF-8, so the text is written here):
--
-- * object keys in byte order (`opts.keyorder` names keys to put first);
-- * a table whose keys are exactly 1..n is an array; an empty table is an
--   array unless marked with `object` (or `opts.empty = "object"`);
--   `array(t)` / `object(t)` mark a table without touching it;
-- * integers exactly (Lua 5.3+ integers, and integral doubles); other
--   numbers in the shortest form that reads back to the same double;
--   NaN and the infinities (not JSON) as null;
-- * strings (object keys and values alike) always valid UTF-8 and
--   one-to-one: valid UTF-8 as it is, a backslash doubled and a byte that
--   is not part of a valid UTF-8 sequence written as the four characters
--   `\xHH` (lnetstat.encode.utf8 `distinct`, the rule of Prometheus label
--   values), then `"`, `\` and control characters escaped as JSON says
--   (`\n`, `\t`, ..., else `\u00XX`). So the key "p\xff" is the JSON text
--   `"p\\xFF"` (read back: p, backslash, xFF) and never the same key as
--   "pÿ"; reading `\\` as a backslash and `\xHH` as the byte HH in a
--   decoded string gives the original bytes;
-- * a table with other keys is an object, as lua-cjson and dkjson write
--   it: number keys become their text (`{1, 2, x = 3}` is
--   `{"1":1,"2":2,"x":3}`; a string key wins over the number key that
--   reads the same); no entry is dropped: a key that is neither a string
--   nor a finite number (a boolean, a table, NaN, an infinity) has no JSON
--   name and raises an error, as in lua-cjson;
-- * `null` (this module's sentinel) and nil as null; booleans; functions,
--   userdata (so lua-cjson's null too) and threads as null. A table inside
--   itself raises an error.
--
--     local json = require "lnetstat.encode.json"
--     json.encode({ b = 1, a = { 2, 3 } })          --> {"a":[2,3],"b":1}
--     json.encode({ id = "x", title = json.null }, { keyorder = { "title", "id" } })
--                                                    --> {"title":null,"id":"x"}
-- @module lnetstat.encode.json
local utf8 = require "lnetstat.encode.utf8"
local util = require "lnetstat.util"

local type, pairs, ipairs, tostring, setmetatable =
  type, pairs, ipairs, tostring, setmetatable
local byte, find, format, gsub = string.byte, string.find, string.format, string.gsub
local concat, sort = table.concat, table.sort
local floor, huge = math.floor, math.huge
local number_text = util.number_text

local M = {}

--- The JSON null (a value to put in tables where nil would vanish).
M.null = setmetatable({}, { __tostring = function() return "null" end })

local marks = setmetatable({}, { __mode = "k" })

--- Marks t to be written as a JSON array (even when empty); returns t.
function M.array(t)
  if type(t) ~= "table" then util.argerror("array", 1, "table expected, got " .. type(t)) end
  marks[t] = "array"
  return t
end

--- Marks t to be written as a JSON object (even when empty); returns t.
function M.object(t)
  if type(t) ~= "table" then util.argerror("object", 1, "table expected, got " .. type(t)) end
  marks[t] = "object"
  return t
end

local ESCAPES = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}
local function escape_char(c)
  return ESCAPES[c] or format("\\u%04x", byte(c))
end
local distinct = utf8.distinct

--- A JSON string literal for s (any string; numbers and other values are
-- converted with tostring), quotes included. The text is `utf8.distinct(s)`
-- (valid UTF-8 kept, a backslash doubled, a byte outside a valid sequence
-- written `\xHH`) with JSON's own escapes: two different strings never
-- give the same literal, as keys or as values.
function M.string(s)
  if type(s) ~= "string" then s = tostring(s) end
  if find(s, '[%z\1-\31"\\\127-\255]') then
    s = gsub(distinct(s), '[%z\1-\31"\\\127]', escape_char)
  end
  return '"' .. s .. '"'
end

--- A JSON number for v, or "null" for NaN, the infinities and non-numbers.
function M.number(v)
  if type(v) ~= "number" or v ~= v or v == huge or v == -huge then return "null" end
  return number_text(v)
end

local function kind_of(t, empty)
  local mark = marks[t]
  if mark then return mark end
  local n, max = 0, 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k ~= floor(k) then return "object" end
    n = n + 1
    if k > max then max = k end
  end
  if n == 0 then return empty end
  if max ~= n then return "object" end   -- holes: keys are not exactly 1..n
  return "array"
end

local encode_value

-- Encoded object keys (the same few names recur in every record).
local key_cache = {}
local key_count = 0

local function key_literal(name)
  local lit = key_cache[name]
  if not lit then
    lit = M.string(name) .. ":"
    if key_count < 4096 then key_cache[name], key_count = lit, key_count + 1 end
  end
  return lit
end

local function encode_object(t, out, ctx)
  local keys, values = {}, nil
  for k in pairs(t) do
    local kt = type(k)
    if kt == "string" then
      keys[#keys + 1] = k
    elseif kt == "number" and k == k and k ~= huge and k ~= -huge then
      values = values or {}
      values[#values + 1] = k
    else
      util.argerror(ctx.fname, 1, "a table has a key JSON cannot name: "
        .. (kt == "number" and tostring(k) or kt))
    end
  end
  if values then
    -- number keys are written as their text; a string key wins over the
    -- number key that reads the same
    local lookup = {}
    for _, k in ipairs(keys) do lookup[k] = t[k] end
    for _, k in ipairs(values) do
      local name = M.number(k)
      if lookup[name] == nil then
        keys[#keys + 1] = name
        lookup[name] = t[k]
      end
    end
    values = lookup
  end
  local rank = ctx.rank
  if rank then
    sort(keys, function(a, b)
      local ra, rb = rank[a], rank[b]
      if ra and rb then return ra < rb end
      if ra or rb then return ra ~= nil end
      return a < b
    end)
  else
    sort(keys)
  end
  out[#out + 1] = "{"
  for i, name in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = key_literal(name)
    if values then encode_value(values[name], out, ctx) else encode_value(t[name], out, ctx) end
  end
  out[#out + 1] = "}"
end

function encode_value(v, out, ctx)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = M.string(v)
  elseif t == "number" then
    out[#out + 1] = M.number(v)
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif t == "table" and v ~= M.null then
    if ctx.open[v] then util.argerror(ctx.fname, 1, "a table contains itself") end
    ctx.open[v] = true
    if kind_of(v, ctx.empty) == "array" then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode_value(v[i], out, ctx)
      end
      out[#out + 1] = "]"
    else
      encode_object(v, out, ctx)
    end
    ctx.open[v] = nil
  else
    out[#out + 1] = "null"
  end
end

local OPTIONS = { keyorder = true, empty = true }

local function parse_opts(fname, opts)
  local ctx = { empty = "array", open = {}, fname = fname }
  if opts == nil then return ctx end
  if type(opts) ~= "table" then util.argerror(fname, 2, "options table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if not OPTIONS[k] then
      util.argerror(fname, 2, format("unknown option %s%s", util.show(k),
        util.did_you_mean(k, OPTIONS)))
    end
  end
  if opts.empty ~= nil then
    if opts.empty ~= "array" and opts.empty ~= "object" then
      util.argerror(fname, 2, "empty must be \"array\" or \"object\", got " .. util.show(opts.empty))
    end
    ctx.empty = opts.empty
  end
  if opts.keyorder ~= nil then
    if type(opts.keyorder) ~= "table" then
      util.argerror(fname, 2, "keyorder must be a list of key names")
    end
    ctx.rank = {}
    for i, k in ipairs(opts.keyorder) do
      if type(k) ~= "string" then util.argerror(fname, 2, "keyorder must be a list of key names") end
      if not ctx.rank[k] then ctx.rank[k] = i end
    end
  end
  return ctx
end

local function encode_all(fname, value, opts)
  local ctx = parse_opts(fname, opts)
  local out = {}
  encode_value(value, out, ctx)
  return concat(out)
end

--- The JSON text of value (no trailing newline).
-- @param value a table, string, number, boolean, nil or `null`
-- @tparam[opt] table opts `keyorder`: a list of key names written first,
--   in that order, in every object (the other keys follow in byte order);
--   `empty`: "array" (default) or "object", what an unmarked empty table is
-- @treturn string
function M.encode(value, opts)
  local text = util.validate(encode_all, "encode", value, opts)   -- not a tail call: validate counts this frame
  return text
end

-- encode for a public function of another module: its errors name fname
-- (and point, as encode's, at the first caller outside the library).
function M._encode(fname, value, opts)
  local text = util.validate(encode_all, fname, value, opts)
  return text
end

return M
