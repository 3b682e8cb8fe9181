-- JSON output (--json), through lnetstat.encode.json: object keys in byte
-- order, integers exact, any byte string (a unix socket path, a process
-- name) written as valid UTF-8 and one-to-one (a byte that is not UTF-8 as
-- `\xHH`, a backslash doubled: two names never read as the same key or
-- value), control bytes escaped.
--
-- A list as the data functions return it (records 1..n, with the result
-- fields partial, source, sources or netns_errors beside them) is written
-- as the JSON array of its records: the result fields are dropped, as
-- documented for --json. Any other table is written faithfully, as
-- lua-cjson and dkjson write it: keys 1..n make an array, anything else an
-- object whose number keys become their text (`{1, 2, x = 3}` is
-- `{"1":1,"2":2,"x":3}`), and a key JSON cannot name (a boolean, a table)
-- is an error naming json. No entry is ever dropped silently.
-- @module lnetstat.format.json

local type, pairs, floor = type, pairs, math.floor
local json = require "lnetstat.encode.json"
local util_mod = require "lnetstat.format.util"
local unknown_option = util_mod.unknown_option

local M = {}

-- The fields a data function's list carries beside its records.
local RESULT_FIELDS = { partial = true, source = true, sources = true, netns_errors = true }

-- The encoder's options, which json passes on.
local OPTIONS = { keyorder = true, empty = true }

-- n when t is records 1..n (n >= 1) and result fields only, else nil.
local function result_list(t)
  if t[1] == nil then return nil end
  local n, max = 0, 0
  for k in pairs(t) do
    if type(k) == "number" then
      if k < 1 or k ~= floor(k) then return nil end
      n = n + 1
      if k > max then max = k end
    elseif not RESULT_FIELDS[k] then
      return nil
    end
  end
  if max ~= n then return nil end
  return n
end

--- One JSON document for a value (records as the data functions return
-- them). A list loses its result fields (partial, source, sources,
-- netns_errors); an empty table is [] (opts.empty = "object": {}).
-- opts (optional): keyorder, empty, as lnetstat.encode.json takes them.
function M.json(value, opts)
  if opts ~= nil then
    if type(opts) ~= "table" then
      error("bad argument #2 to 'json' (table or nil expected, got " .. type(opts) .. ")", 2)
    end
    local msg = unknown_option(opts, OPTIONS)
    if msg then error("bad argument #2 to 'json' (" .. msg .. ")", 2) end
  end
  if type(value) == "table" then
    local n = result_list(value)
    if n then
      local copy = {}
      for i = 1, n do copy[i] = value[i] end
      value = copy
    end
  end
  local text = json._encode("json", value, opts)
  return text
end

-- The encoder without the list handling (kept for lnetstat.format).
function M._json_builtin(value)
  return json.encode(value)
end

M.number = json.number

return M
