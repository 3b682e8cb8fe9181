--- A small regular-expression matcher for the field and device filters of
-- `lnetstat metrics` (--fields, --devices). It takes the RE2 syntax that
-- node_exporter's --collector.netstat.fields and --collector.netdev.device-*
-- flags take, for what such filters use: literals, `.`, classes (`[a-z]`,
-- `[^...]`, `\d \w \s` and their negations), groups (`(...)`, `(?:...)`),
-- alternation, the quantifiers `* + ? {n} {n,} {n,m}` (a trailing `?` for
-- the lazy form is accepted: it does not change whether a text matches),
-- and the anchors `^` and `$`. As Go's MatchString, a pattern matches when
-- it matches anywhere in the text (anchor it to match the whole text), and
-- as Go it reads pattern and text as UTF-8: `.` and a class match one
-- character (`^p.$` matches "pÿ"), a byte of the text that is not part of
-- a valid sequence is the character U+FFFD, and a pattern that is not
-- valid UTF-8 is an error.
-- Anything else (back references, flags, named groups) is an error.
--
-- Matching runs in linear time, as RE2's does: the pattern compiles to a
-- Thompson NFA whose states are followed all at once over the text, so no
-- pattern backtracks (`(.*)*x` costs what `x` costs). A match takes at
-- most (#text + 1) times the program's size in steps; a pattern that
-- would compile to more than MAX_PROGRAM instructions (counted
-- repetitions copy their body) or nests deeper than MAX_HEIGHT is refused
-- when compiled, with a message, as RE2 refuses it.
-- @module lnetstat.format.regex
local type, error, tonumber, ipairs, pcall = type, error, tonumber, ipairs, pcall
local sub, byte, find = string.sub, string.byte, string.find
local utf8 = require "lnetstat.encode.utf8"
local rune = utf8.rune

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

-- The deepest a pattern may nest (groups, alternations, quantifiers).
local MAX_HEIGHT = 1000

local ESCAPES = { t = 9, n = 10, r = 13, f = 12, v = 11 }

-- A pattern in a message: quoted, cut when long, and shown with its
-- control characters and bytes outside UTF-8 escaped (`\x1B`, `\n`): the
-- message is one line a terminal can show (string.format's %q keeps a
-- newline, and on Lua 5.1 every other control byte, as it is).
local function quoted(pat)
  if #pat > 60 then return '"' .. utf8.printable(sub(pat, 1, 60)) .. '"...' end
  return '"' .. utf8.printable(pat) .. '"'
end

-- Parser: pattern text -> tree of nodes.
--   {"char", ranges, negated}  {"seq", items...}  {"alt", branches...}
--   {"rep", node, min, max}    {"bol"}  {"eol"}
local function parse(pat)
  local pos, len = 1, #pat
  local depth = 0
  local function fail(msg)
    error(("%s at offset %d of %s"):format(msg, pos - 1, quoted(pat)), 0)
  end
  if not utf8.valid(pat) then fail("invalid UTF-8") end
  -- the character at pos as a code point; pos moves past it
  local function literal()
    local cp, n = rune(pat, pos)
    pos = pos + n
    return cp
  end
  local alternation

  local function escaped_literal()
    local c = sub(pat, pos, pos)
    if c == "" then fail("trailing backslash") end
    pos = pos + 1
    if ESCAPES[c] then return ESCAPES[c] end
    if find(c, "[%w\128-\255]") then fail("unsupported escape \\" .. c) end
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
        lo = literal()
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
            hi = literal()
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
      depth = depth + 1
      if depth > MAX_HEIGHT then fail("groups nested too deeply") end
      local node = alternation()
      if sub(pat, pos, pos) ~= ")" then fail("missing )") end
      pos = pos + 1
      depth = depth - 1
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
    local cp = literal()
    return { "char", { { cp, cp } }, false }
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
  -- stacked quantifiers (`a{1}{1}...`) nest too: the compiler recurses
  -- over the tree, so its height is bounded as Go's parser bounds it
  local function height(node, h)
    if h > 2 * MAX_HEIGHT then
      error(("pattern nested too deeply: %s"):format(quoted(pat)), 0)
    end
    local t = node[1]
    if t == "seq" then
      for i = 2, #node do height(node[i], h) end
    elseif t == "alt" then
      for i = 2, #node do height(node[i], h + 1) end
    elseif t == "rep" then
      height(node[2], h + 1)
    end
  end
  height(tree, 1)
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

-- Compiler: tree -> program of a Thompson NFA, in parallel arrays (op,
-- x, y, cls). CHAR consumes one character of its class, SPLIT goes on at x and
-- at y, JMP at x, BOL/EOL hold at the start/end of the text, MATCH ends.
local CHAR, SPLIT, JMP, BOL, EOL, MATCH = 1, 2, 3, 4, 5, 6

-- The most instructions a pattern may compile to: counted repetitions
-- copy their body, and `(x{1000}){1000}` must be refused, not built. A
-- match costs at most (text length + 1) * this many steps.
local MAX_PROGRAM = 10000

local function compile_tree(tree, pat)
  local op, x, y, cls = {}, {}, {}, {}
  local count = 0
  local function add(o, node)
    count = count + 1
    if count > MAX_PROGRAM then
      error(("pattern too large (more than %d instructions): %s"):format(MAX_PROGRAM, quoted(pat)), 0)
    end
    op[count], cls[count] = o, node
    return count
  end
  local emit
  local function emit_rep(body, lo, hi)
    for _ = 1, lo do emit(body) end
    if hi == nil then
      -- L: SPLIT L+1, out; body; JMP L
      local split = add(SPLIT)
      x[split] = count + 1
      emit(body)
      x[add(JMP)] = split
      y[split] = count + 1
    else
      -- each optional copy may be skipped to the end
      local skips = {}
      for _ = lo + 1, hi do
        local split = add(SPLIT)
        x[split] = count + 1
        skips[#skips + 1] = split
        emit(body)
      end
      for _, split in ipairs(skips) do y[split] = count + 1 end
    end
  end
  function emit(node)
    local t = node[1]
    if t == "char" then
      add(CHAR, node)
    elseif t == "seq" then
      for i = 2, #node do emit(node[i]) end
    elseif t == "alt" then
      local jumps = {}
      for a = 2, #node - 1 do
        local split = add(SPLIT)
        x[split] = count + 1
        emit(node[a])
        jumps[#jumps + 1] = add(JMP)
        y[split] = count + 1
      end
      emit(node[#node])
      for _, j in ipairs(jumps) do x[j] = count + 1 end
    elseif t == "bol" then
      add(BOL)
    elseif t == "eol" then
      add(EOL)
    else
      emit_rep(node[2], node[3], node[4])
    end
  end
  emit(tree)
  add(MATCH)
  return op, x, y, cls
end

-- Matcher: the NFA simulated over the text (Thompson's construction, run
-- as in Pike's VM without captures): the set of live instructions moves
-- one character at a time, so a match costs at most (#text + 1) times the size
-- of the program, whatever the pattern (no backtracking, nothing
-- exponential: `(.*)*x` is as cheap as `x`).
local function matcher(op, x, y, cls)
  local mark, stack = {}, {}
  local gen = 0
  return function(s)
    local n = #s
    -- adds the closure of pc at position i to list (length len): returns
    -- the new length, and true when MATCH is reached
    local function add(list, len, pc, i)
      local sp = 1
      stack[1] = pc
      while sp > 0 do
        local p = stack[sp]
        sp = sp - 1
        if mark[p] ~= gen then
          mark[p] = gen
          local o = op[p]
          if o == CHAR then
            len = len + 1
            list[len] = p
          elseif o == SPLIT then
            stack[sp + 1], stack[sp + 2] = y[p], x[p]
            sp = sp + 2
          elseif o == JMP then
            sp = sp + 1
            stack[sp] = x[p]
          elseif o == MATCH then
            return len, true
          elseif (o == BOL and i == 1) or (o == EOL and i == n + 1) then
            sp = sp + 1
            stack[sp] = p + 1
          end
        end
      end
      return len, false
    end
    gen = gen + 1
    local clist, nlist = {}, {}
    local clen, hit = add(clist, 0, 1, 1)
    if hit then return true end
    local i = 1
    while i <= n do
      gen = gen + 1
      local cp, w = rune(s, i)
      local nlen = 0
      for t = 1, clen do
        local p = clist[t]
        if in_class(cls[p], cp) then
          nlen, hit = add(nlist, nlen, p + 1, i + w)
          if hit then return true end
        end
      end
      -- a match may start at any position (MatchString)
      nlen, hit = add(nlist, nlen, 1, i + w)
      if hit then return true end
      clist, nlist, clen = nlist, clist, nlen
      i = i + w
    end
    return false
  end
end

--- Compiles pattern; returns a function(text) -> boolean, or nil and a
-- message saying what is wrong with the pattern.
function M.compile(pattern)
  if type(pattern) ~= "string" then return nil, "pattern must be a string" end
  local ok, op, x, y, cls = pcall(function()
    return compile_tree(parse(pattern), pattern)
  end)
  if not ok then return nil, op end
  return matcher(op, x, y, cls)
end

return M
