-- Helpers the renderers share (lnetstat.format.* and lnetstat.netstat.*):
-- integer columns, argument checks, IPv4 masks. Reads nothing.
-- @module lnetstat.format.util

local type, error, sformat, byte = type, error, string.format, string.byte
local gsub, rep, concat, floor = string.gsub, string.rep, table.concat, math.floor
local pairs, tostring = pairs, tostring
local math_type = math.type
local did_you_mean = require("lnetstat.util").did_you_mean

local M = {}

-- Lua 5.1 has no integer subtype: "%d" needs a number without a fraction.
local function int(v)
  if v == nil then return 0 end
  if math_type and math_type(v) == "integer" then return v end
  return floor(v)
end

-- Writes an unsigned 64-bit decimal for a value that may have wrapped
-- negative (the kernel prints Tcp MaxConn as -1; netstat reads it with
-- strtoull, so it shows 18446744073709551615).
local function unsigned_text(v)
  if v >= 0 then return sformat("%d", int(v)) end
  local digits = "18446744073709551616"
  local minus = sformat("%d", int(-v))
  minus = rep("0", #digits - #minus) .. minus
  local out, borrow = {}, 0
  for i = #digits, 1, -1 do
    local d = byte(digits, i) - byte(minus, i) - borrow
    if d < 0 then d, borrow = d + 10, 1 else borrow = 0 end
    out[i] = d
  end
  return (gsub(concat(out), "^0+(%d)", "%1"))
end

-- Argument checks of the public functions (error at the caller's line).
local function need_table(fname, n, v, what)
  if type(v) ~= "table" then
    error(sformat("bad argument #%d to '%s' (%s expected, got %s)", n, fname, what or "table", type(v)), 3)
  end
end
local function need_opts(fname, n, v)
  if v ~= nil and type(v) ~= "table" then
    error(sformat("bad argument #%d to '%s' (table or nil expected, got %s)", n, fname, type(v)), 3)
  end
end

-- The error of the first key of opts that is not in known (the wording
-- of lnetstat.options.check, with its "did you mean"), or nil. what:
-- "option" (default), or what else the keys are ("field").
local function unknown_option(opts, known, what)
  for k in pairs(opts) do
    if type(k) ~= "string" or not known[k] then
      return sformat("unknown %s '%s'%s", what or "option", tostring(k),
        type(k) == "string" and did_you_mean(k, known) or "")
    end
  end
  return nil
end
-- Raises that error at the caller of the public function.
local function need_known(fname, n, opts, known)
  local msg = unknown_option(opts, known)
  if msg then error(sformat("bad argument #%d to '%s' (%s)", n, fname, msg), 3) end
end

local function prefix_mask(len)
  local v = 0
  for i = 1, 32 do
    v = v * 2
    if i <= len then v = v + 1 end
  end
  return v
end

local function dotted(v)
  return sformat("%d.%d.%d.%d", floor(v / 16777216) % 256, floor(v / 65536) % 256,
    floor(v / 256) % 256, v % 256)
end

M.int, M.unsigned_text, M.need_table, M.need_opts = int, unsigned_text, need_table, need_opts
M.unknown_option, M.need_known = unknown_option, need_known
M.prefix_mask, M.dotted = prefix_mask, dotted

return M
