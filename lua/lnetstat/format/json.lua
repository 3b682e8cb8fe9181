-- JSON output (--json), through lnetstat.encode.json: object keys in byte
-- order, integers exact, any byte string (a unix socket path, a process
-- name) written as valid UTF-8.
-- @module lnetstat.format.json

local type, next = type, next
local json = require "lnetstat.encode.json"

local M = {}

--- One JSON document for a value (records as the data functions return
-- them). A list loses its non-array fields (partial, sources) in JSON; an
-- empty table is [].
function M.json(value)
  if type(value) == "table" and value[1] ~= nil then
    local copy = {}
    for i = 1, #value do copy[i] = value[i] end
    value = copy
  elseif type(value) == "table" and next(value) == nil then
    return "[]"
  end
  return json.encode(value)
end

-- The encoder without the list handling (kept for lnetstat.format).
function M._json_builtin(value)
  return json.encode(value)
end

M.number = json.number

return M
