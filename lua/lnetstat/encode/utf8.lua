--- UTF-8 validation and repair for the encoders.
--
-- Host-controlled strings (process names, interface names, unix socket
-- paths, check titles) are byte strings; every output format needs valid
-- UTF-8. The rule for text people and parsers read (`repair`): a byte that is not part of a valid
-- UTF-8 sequence stands for the character of the same number in Latin-1
-- (U+0080..U+00FF). That repair is readable but not one-to-one: "\xff"
-- and "\xc3\xbf" (valid UTF-8 for U+00FF) both become "ÿ", so it is kept
-- for text only people read (TAP, the JUnit messages). Where distinct byte
-- strings must stay distinct (JSON keys and strings, Prometheus label
-- values, which name a series, JUnit suite and test case names), `distinct`
-- is used instead: valid UTF-8 kept, a backslash doubled and every other
-- byte written `\xHH`, which reads back to the original bytes. Overlong forms, surrogates (ED A0..ED BF) and code
-- points above U+10FFFF are not valid sequences.
-- @module lnetstat.encode.utf8
local byte, char, find, sub, format = string.byte, string.char, string.find, string.sub, string.format
local gsub = string.gsub
local concat, tostring, type = table.concat, tostring, type

local M = {}

-- Length of the valid UTF-8 sequence that starts at byte i of s whose
-- first byte c is >= 0x80, or nil when there is none.
local function sequence(s, i, c, n)
  local len, lo, hi
  if c >= 0xC2 and c <= 0xDF then len, lo, hi = 2, 0x80, 0xBF
  elseif c >= 0xE0 and c <= 0xEF then
    len, lo, hi = 3, 0x80, 0xBF
    if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F end
  elseif c >= 0xF0 and c <= 0xF4 then
    len, lo, hi = 4, 0x80, 0xBF
    if c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
  else
    return nil
  end
  if i + len - 1 > n then return nil end
  local c2 = byte(s, i + 1)
  if c2 < lo or c2 > hi then return nil end
  for j = i + 2, i + len - 1 do
    local cj = byte(s, j)
    if cj < 0x80 or cj > 0xBF then return nil end
  end
  return len
end

--- The character at byte i of s (1 <= i <= #s) as regular expressions
-- read text: its code point and its length in bytes; a byte that is not
-- part of a valid sequence is U+FFFD, one byte long (as Go reads it).
function M.rune(s, i)
  local c = byte(s, i)
  if c < 0x80 then return c, 1 end
  local len = sequence(s, i, c, #s)
  if not len then return 0xFFFD, 1 end
  if len == 2 then return (c - 0xC0) * 64 + byte(s, i + 1) - 0x80, 2 end
  local cp = c - (len == 3 and 0xE0 or 0xF0)
  for j = i + 1, i + len - 1 do cp = cp * 64 + byte(s, j) - 0x80 end
  return cp, len
end

--- The UTF-8 encoding of the Latin-1 character of byte b (0x80..0xFF).
function M.latin1(b)
  return char(0xC0 + (b - b % 64) / 64, 0x80 + b % 64)
end

--- True when s (a string) is valid UTF-8.
function M.valid(s)
  local i, n = 1, #s
  while true do
    local j = find(s, "[\128-\255]", i)
    if not j then return true end
    local len = sequence(s, j, byte(s, j), n)
    if not len then return false end
    i = j + len
  end
end

--- Walks s: calls each(text, valid) for every run of valid UTF-8 (valid =
-- true) and for every byte that is not part of a valid sequence (valid =
-- false), in order, and returns the concatenation of what each returned.
function M.map(s, each)
  s = type(s) == "string" and s or tostring(s)
  local out, i, n = {}, 1, #s
  local start = 1
  while i <= n do
    local j = find(s, "[\128-\255]", i)
    if not j then break end
    local len = sequence(s, j, byte(s, j), n)
    if len then
      i = j + len
    else
      if j > start then out[#out + 1] = each(sub(s, start, j - 1), true) end
      out[#out + 1] = each(sub(s, j, j), false)
      i = j + 1
      start = i
    end
  end
  if start == 1 then return each(s, true) end
  if start <= n then out[#out + 1] = each(sub(s, start), true) end
  return concat(out)
end

local function as_latin1(text, valid)
  if valid then return text end
  return M.latin1(byte(text))
end

--- s as valid UTF-8: each byte outside a valid sequence becomes its
-- Latin-1 character (0xFF -> U+00FF "ÿ"). Valid input is returned as is.
function M.repair(s)
  s = type(s) == "string" and s or tostring(s)
  if not find(s, "[\128-\255]") or M.valid(s) then return s end
  return M.map(s, as_latin1)
end

local function backslashed(text, valid)
  if valid then return (gsub(text, "\\", "\\\\")) end
  return format("\\x%02X", byte(text))
end

--- s as valid UTF-8 that keeps distinct byte strings distinct: valid
-- UTF-8 kept as it is, each backslash doubled and each byte outside a
-- valid sequence written as the four characters `\xHH` (0xFF -> "\xFF").
-- Reading `\\` as a backslash and `\xHH` as a byte gives s back, so two
-- different strings never give the same text.
function M.distinct(s)
  s = type(s) == "string" and s or tostring(s)
  if not find(s, "[\128-\255\\]") then return s end
  return M.map(s, backslashed)
end

--- s for a terminal: valid UTF-8 kept, control characters (C0, DEL and
-- the C1 range U+0080..U+009F, which some terminals obey) and bytes
-- outside valid sequences shown as \xNN (newline as \n, C1 as \u00NN).
-- The result holds no byte a terminal acts on.
function M.printable(s)
  s = type(s) == "string" and s or tostring(s)
  local function ctl(c)
    if c == "\n" then return "\\n" end
    return format("\\x%02X", byte(c))
  end
  local function each(text, valid)
    if not valid then return format("\\x%02X", byte(text)) end
    text = text:gsub("[%z\1-\31\127]", ctl)
    -- C1 controls: U+0080..U+009F are C2 80..C2 9F
    return (text:gsub("\194([\128-\159])", function(c) return format("\\u%04X", byte(c)) end))
  end
  return M.map(s, each)
end

return M
