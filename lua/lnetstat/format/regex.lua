--- A small regular-expression matcher for the field and device filters of
-- `lnetstat metrics` (--fields, --devices). It takes the RE2 syntax that
-- node_exporter's --collector.netstat.fields and --collector.netdev.device-*
-- flags take, for what such filters use: literals, `.`, classes (`[a-z]`,
-- `[^...]`, `\d \w \s` and their negations), groups (`(...)`, `(?:...)`),
-- alternation, the quantifiers `* + ? {n} {n,} {n,m}` (a trailing `?` for
-- the lazy form is accepted: it does not change whether a text matches),
-- and the anchors `^` and `$`. As Go's MatchString, a pattern matches when
-- it matches anywhere in the text (anchor it to match the whole text).
-- Anything else (back references, flags, named groups) is an error.
-- @module lnetstat.format.regex
local type, error, tonumber = type, error, tonumber
local sub, byte, find = string.sub, string.byte, string.find

local M = {}

local function class_escape(c)
  if c == "d" then return { { 48, 57 } }, false end
  if c == "D" then return { { 48, 57 } }, true end
  if c == "w" then return { { 48, 57 }, { 65, 90 }, { 97, 122 }, { 95, 95 } }, false end
  if c == "W" then return { { 48, 57 }, { 65, 90 }, { 97, 122 }, { 95, 95 } }, true end
  if c == "s" then return { { 9, 10 }, { 12, 13 }, { 32, 32 } }, false end
  if c == "S" then return { { 9, 10 }, { 12, 13 }, { 32, 32 } }, true end
  return nil
end

local ESCAPES = { t = 9, n = 10, r = 13, f = 12, v = 11 }

-- Parser: pattern text -> tree of nodes.
--   {"char", ranges, negated}  {"seq", items...}  {"alt", branches...}
--   {"rep", node, min, max}    {"bol"}  {"eol"}
local function parse(pat)
  local pos, len = 1, #pat
  local function fail(msg)
    error(("%s at offset %d of %q"):format(msg, pos - 1, pat), 0)
  end
  local alternation

  local function escaped_literal()
    local c = sub(pat, pos, pos)
    if c == "" then fail("trailing backslash") end
    pos = pos + 1
    if ESCAPES[c] then return ESCAPES[c] end
    if find(c, "%w") then fail("unsupported escape \\" .. c) end
    return byte(c)
  end

  local function bracket()
    local ranges, negated = {}, false
    if sub(pat, pos, pos) == "^" then negated, pos = true, pos + 1 end
    local first = true
    while true do
      local c = sub(pat, pos, pos)
      if c == "" then fail("missing ]") end
      if c == "]" and not first then pos = pos + 1; break end
      first = false
      local lo
      if c == "\\" then
        pos = pos + 1
        local cls, neg = class_escape(sub(pat, pos, pos))
        if cls then
          if neg then fail("negated class escape inside [...]") end
          pos = pos + 1
          for _, r in ipairs(cls) do ranges[#ranges + 1] = r end
        else
          lo = escaped_literal()
        end
      elseif c == "[" and sub(pat, pos, pos + 1) == "[:" then
        fail("POSIX classes are not supported")
      else
        lo, pos = byte(c), pos + 1
      end
      if lo then
        local hi = lo
        if sub(pat, pos, pos) == "-" and sub(pat, pos + 1, pos + 1) ~= "]"
            and sub(pat, pos + 1, pos + 1) ~= "" then
          pos = pos + 1
          local h = sub(pat, pos, pos)
          if h == "\\" then
            pos = pos + 1
            hi = escaped_literal()
          else
            hi, pos = byte(h), pos + 1
          end
          if hi < lo then fail("bad range") end
        end
        ranges[#ranges + 1] = { lo, hi }
      end
    end
    return { "char", ranges, negated }
  end

  local function atom()
    local c = sub(pat, pos, pos)
    if c == "(" then
      pos = pos + 1
      if sub(pat, pos, pos) == "?" then
        if sub(pat, pos, pos + 1) ~= "?:" then fail("unsupported group syntax") end
        pos = pos + 2
      end
      local node = alternation()
      if sub(pat, pos, pos) ~= ")" then fail("missing )") end
      pos = pos + 1
      return node
    elseif c == "[" then
      pos = pos + 1
      return bracket()
    elseif c == "." then
      pos = pos + 1
      return { "char", { { 10, 10 } }, true }
    elseif c == "^" then
      pos = pos + 1
      return { "bol" }
    elseif c == "$" then
      pos = pos + 1
      return { "eol" }
    elseif c == "\\" then
      pos = pos + 1
      local cls, neg = class_escape(sub(pat, pos, pos))
      if cls then
        pos = pos + 1
        return { "char", cls, neg }
      end
      local b = escaped_literal()
      return { "char", { { b, b } }, false }
    elseif c == "*" or c == "+" or c == "?" or c == "{" then
      fail("missing argument to repetition operator")
    end
    pos = pos + 1
    local b = byte(c)
    return { "char", { { b, b } }, false }
  end

  local function quantified()
    local node = atom()
    while true do
      local c = sub(pat, pos, pos)
      local lo, hi
      if c == "*" then lo, hi = 0, nil
      elseif c == "+" then lo, hi = 1, nil
      elseif c == "?" then lo, hi = 0, 1
      elseif c == "{" then
        local s, e, a, comma, b = find(pat, "^{(%d+)(,?)(%d*)}", pos)
        if not s then fail("bad repetition") end
        lo = tonumber(a)
        if comma == "" then hi = lo else hi = tonumber(b) end
        if hi and hi < lo then fail("bad repetition range") end
        if lo > 1000 or (hi and hi > 1000) then fail("repetition count too large") end
        pos = e
      else
        return node
      end
      pos = pos + 1
      if node[1] == "bol" or node[1] == "eol" then fail("repetition of an anchor") end
      if sub(pat, pos, pos) == "?" then pos = pos + 1 end
      node = { "rep", node, lo, hi }
    end
  end

  local function sequence()
    local seq = { "seq" }
    while pos <= len do
      local c = sub(pat, pos, pos)
      if c == "|" or c == ")" then break end
      seq[#seq + 1] = quantified()
    end
    return seq
  end

  function alternation()
    local alt = { "alt", sequence() }
    while sub(pat, pos, pos) == "|" do
      pos = pos + 1
      alt[#alt + 1] = sequence()
    end
    return alt
  end

  local tree = alternation()
  if pos <= len then fail("unexpected )") end
  return tree
end

local function in_class(node, b)
  local hit = false
  local ranges = node[2]
  for i = 1, #ranges do
    local r = ranges[i]
    if b >= r[1] and b <= r[2] then hit = true; break end
  end
  if node[3] then return not hit end
  return hit
end

-- Backtracking matcher: m(node, i, k) tries node at position i and calls
-- the continuation k with each position where it could end.
local function matcher(tree)
  return function(s)
    local n = #s
    local m
    local function seq_at(node, idx, i, k)
      if idx > #node then return k(i) end
      return m(node[idx], i, function(j) return seq_at(node, idx + 1, j, k) end)
    end
    function m(node, i, k)
      local t = node[1]
      if t == "char" then
        if i > n or not in_class(node, byte(s, i)) then return false end
        return k(i + 1)
      elseif t == "seq" then
        return seq_at(node, 2, i, k)
      elseif t == "alt" then
        for a = 2, #node do
          if m(node[a], i, k) then return true end
        end
        return false
      elseif t == "bol" then
        return i == 1 and k(i)
      elseif t == "eol" then
        return i == n + 1 and k(i)
      end
      -- rep: greedy, and an empty iteration ends the loop
      local body, lo, hi = node[2], node[3], node[4]
      local function again(count, at)
        if (hi == nil or count < hi) and m(body, at, function(j)
          if j == at and count >= lo then return false end
          return again(count + 1, j)
        end) then
          return true
        end
        return count >= lo and k(at)
      end
      return again(0, i)
    end
    for start = 1, n + 1 do
      if m(tree, start, function() return true end) then return true end
    end
    return false
  end
end

--- Compiles pattern; returns a function(text) -> boolean, or nil and a
-- message saying what is wrong with the pattern.
function M.compile(pattern)
  if type(pattern) ~= "string" then return nil, "pattern must be a string" end
  local ok, tree = pcall(parse, pattern)
  if not ok then return nil, tree end
  return matcher(tree)
end

return M
