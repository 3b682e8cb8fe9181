--- The small helpers every layer shares: argument errors, number checks,
-- "did you mean" suggestions, bounded file reading and atomic file writing.
-- One of each, so that every module words and checks things the same way.
-- @module lnetstat.util
local type, pairs, ipairs, error, select, tonumber, tostring =
  type, pairs, ipairs, error, select, tonumber, tostring
local format, sub, byte, find = string.format, string.sub, string.byte, string.find
local floor, min, huge = math.floor, math.min, math.huge
local sort = table.sort
local math_type = rawget(math, "type")

local M = {}

--- Raises "bad argument #n to 'fname' (msg)" with no position: the public
-- function that validates its arguments re-raises it at its caller (see
-- `validate`), however deep the check that found the problem.
function M.argerror(fname, n, msg)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 0)
end

-- The source name prefix of lnetstat's own Lua files ("@.../lnetstat/"),
-- from this file's own; nil when the modules were not loaded from files.
local getinfo = debug.getinfo
local OWN_SOURCE = getinfo(1, "S").source:match("^(@.*[/\\])util%.lua$")

-- The stack level (as error() counts from validate) of the first function
-- outside the library: the line an argument error names, however many of
-- the library's own frames (a facade, an assertion) lie in between.
local function caller_level()
  local level = 3   -- 1: validate, 2: the public function
  local info = getinfo(level + 1, "S")
  while info and (info.what == "tail"
      or (OWN_SOURCE and sub(info.source, 1, #OWN_SOURCE) == OWN_SOURCE)) do
    level = level + 1
    info = getinfo(level + 1, "S")
  end
  return info and level or 3
end

--- Runs parse(...) and re-raises its argument errors at the first caller
-- outside the library; call it from the public function.
function M.validate(parse, ...)
  local ok, result = pcall(parse, ...)
  if not ok then error(result, caller_level()) end
  return result
end

--- True for a finite number (not NaN, not an infinity).
function M.is_finite(v)
  return type(v) == "number" and v == v and v ~= huge and v ~= -huge
end

--- True for a number with an integral, finite value (3 and 3.0, not 3.5,
-- NaN or an infinity).
function M.is_integer(v)
  if math_type and math_type(v) == "integer" then return true end
  return M.is_finite(v) and v == floor(v)
end

--- The shortest decimal text of a finite number v that reads back as v:
-- integers (and integral floats below 1e18) without a point or exponent,
-- -0.0 as "0", other floats with 14 to 17 significant digits. The JSON and
-- Prometheus encoders share it; each spells NaN and the infinities its way.
function M.number_text(v)
  if math_type and math_type(v) == "integer" then return format("%d", v) end
  if v == 0 then return "0" end   -- -0.0 too
  if v == floor(v) and v > -1e18 and v < 1e18 then return format("%.0f", v) end
  for digits = 14, 16 do
    local s = format("%." .. digits .. "g", v)
    if tonumber(s) == v then return s end
  end
  return format("%.17g", v)
end

-- Names longer than this get no suggestion: comparing costs the product of
-- the lengths, and a name that long is no typo.
local SUGGEST_MAX = 64

-- Levenshtein distance of two short strings.
local function distance(a, b)
  local prev, cur = {}, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    cur[0] = i
    local ai = byte(a, i)
    for j = 1, #b do
      local cost = ai == byte(b, j) and 0 or 1
      cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev, cur = cur, prev
  end
  return prev[#b]
end

--- The known name closest to name (within two edits, or a prefix of it),
-- or nil. Each further argument is a set (keys are the names); time does
-- not depend on the length of name beyond a short cap.
function M.suggest(name, ...)
  if type(name) ~= "string" or #name > SUGGEST_MAX then return nil end
  local best, best_d
  for i = 1, select("#", ...) do
    local names = {}
    for k in pairs((select(i, ...))) do
      if type(k) == "string" then names[#names + 1] = k end
    end
    sort(names)
    for _, k in ipairs(names) do
      local d = distance(name, k)
      if #name > 0 and sub(k, 1, #name) == name then d = min(d, 1) end
      if d <= 2 and (not best_d or d < best_d) then best, best_d = k, d end
    end
  end
  return best
end

--- "; did you mean 'x'?" for an error message, or "".
function M.did_you_mean(name, ...)
  local best = M.suggest(name, ...)
  return best and format("; did you mean '%s'?", best) or ""
end

--- A caller's value shown in an error message: strings quoted and cut to
-- a readable length with control bytes escaped; other values by type.
function M.show(v)
  if type(v) ~= "string" then return type(v) end
  local s = #v > 40 and sub(v, 1, 40) .. "..." or v
  s = s:gsub("[%z\1-\31\127-\255]", function(c) return format("\\x%02X", byte(c)) end)
  return "'" .. s .. "'"
end

--- The most a caller-given file is read to: check files, Tstconfig
-- definition files and their `file` targets, name files (16 MiB).
M.READ_MAX = 16 * 1024 * 1024

--- The whole content of the regular file at path, read without ever
-- blocking and at most max_bytes long (default M.READ_MAX): a FIFO, a
-- device, a socket or a directory is never opened, and a longer file is
-- refused rather than read. /proc files (size 0) are read to their end.
-- Returns the text, or nil, message, errno ("'/tmp/f': not a regular file
-- (a FIFO)", EINVAL; "'/x': larger than 16777216 bytes", EFBIG; the
-- open's own error).
function M.read_file(path, max_bytes)
  if type(path) ~= "string" then
    error("bad argument #1 to 'read_file' (string expected, got " .. type(path) .. ")", 2)
  end
  if max_bytes == nil then
    max_bytes = M.READ_MAX
  elseif not M.is_integer(max_bytes) or max_bytes < 0 or max_bytes >= 2 ^ 53 then
    error("bad argument #2 to 'read_file' (a size in bytes >= 0 expected, got "
      .. (type(max_bytes) == "number" and tostring(max_bytes) or type(max_bytes)) .. ")", 2)
  end
  -- a name that cannot be a path (it comes from a file's text): a failure,
  -- as open would report it, not an error
  if find(path, "\0", 1, true) then return nil, M.show(path) .. ": path contains a NUL byte", 22 end
  return require("lnetstat.core").read_file(path, floor(max_bytes))
end

--- Writes text to path through a temporary file beside it and a rename, so
-- a reader (a Prometheus textfile collector, a CI job) never sees half a
-- file. The temporary file is created exclusively (nothing planted at its
-- name is ever followed or truncated), gets the target's mode, and is
-- synced before the rename. Returns true, or nil, message, errno.
function M.write_atomic(path, text)
  if type(path) ~= "string" or path == "" then
    error("bad argument #1 to 'write_atomic' (path expected)", 2)
  end
  if type(text) ~= "string" then
    error("bad argument #2 to 'write_atomic' (string expected, got " .. type(text) .. ")", 2)
  end
  return require("lnetstat.core").write_atomic(path, text)
end

--- Checks, before long work, that write_atomic(path, ...) can create its
-- temporary file: the directory exists and is writable. Creates and
-- removes one exclusively created file; never touches path. Returns true,
-- or nil, message, errno.
function M.check_writable(path)
  if type(path) ~= "string" or path == "" then
    error("bad argument #1 to 'check_writable' (path expected)", 2)
  end
  return require("lnetstat.core").write_atomic(path)
end

return M
