--- The Java regular expressions of section_header_pattern and
-- section_footer_pattern, matched as java.util.regex's Matcher.matches()
-- matches them: the whole line, with group(1) the section name.
--
-- A small backtracking matcher. It understands literals, `.`, character
-- classes with ranges and negation, the escapes \d \D \s \S \w \W \b \B
-- \t \n \r \f \e \a \xhh \uhhhh (ASCII) and escaped punctuation, \Q...\E,
-- anchors ^ $ \A \z \Z, capturing groups, (?:...), (?=...), (?!...),
-- (?>...), alternation |, the quantifiers * + ? {n} {n,} {n,m} (greedy,
-- lazy with ?, possessive with +) and back references \1 to \9. It
-- refuses, with a reason, what it does not understand: look-behind,
-- inline flags such as (?i), named groups, \p{...} classes, and class
-- unions or intersections ([a[b]], [a&&b]). Text is matched byte by byte.
-- @module lnetstat.tstconfig.regex
local type, error, pcall, tostring, tonumber, pairs = type, error, pcall, tostring, tonumber, pairs
local sub, byte, find, format = string.sub, string.byte, string.find, string.format

local M = {}

-- Character predicates ---------------------------------------------------------------

local function is_digit(c) return c >= 48 and c <= 57 end
local function is_space(c) return c == 32 or (c >= 9 and c <= 13) end
local function is_word(c)
  return is_digit(c) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122) or c == 95
end
local function is_eol(c) return c == 10 or c == 13 end

local CLASS_ESC = {
  d = is_digit, s = is_space, w = is_word,
  D = function(c) return not is_digit(c) end,
  S = function(c) return not is_space(c) end,
  W = function(c) return not is_word(c) end,
}
local CHAR_ESC = { t = 9, n = 10, r = 13, f = 12, a = 7, e = 27 }

-- Parsing ------------------------------------------------------------------------------

-- A parse error: kind "syntax" (Java refuses it too) or "unsupported"
-- (valid Java that this matcher does not implement).
local function fail(kind, msg, at)
  error({ kind = kind, msg = msg, at = at }, 0)
end

local function parser(re)
  local P = { i = 1, n = #re, ngroups = 0 }

  local function peek(k) return sub(re, P.i + (k or 0), P.i + (k or 0)) end

  -- an escape after a backslash at P.i (already past the backslash):
  -- returns a predicate or a byte
  local function escape(in_class)
    local d = peek()
    if d == "" then fail("syntax", "Unexpected internal error", P.i) end
    P.i = P.i + 1
    if CLASS_ESC[d] then return CLASS_ESC[d] end
    if CHAR_ESC[d] then return CHAR_ESC[d] end
    if d == "x" then
      local h = sub(re, P.i, P.i + 1)
      if not h:match("^%x%x$") then fail("syntax", "Illegal hexadecimal escape sequence", P.i) end
      P.i = P.i + 2
      return tonumber(h, 16)
    end
    if d == "u" then
      local h = sub(re, P.i, P.i + 3)
      if not h:match("^%x%x%x%x$") then fail("syntax", "Illegal Unicode escape sequence", P.i) end
      P.i = P.i + 4
      local cp = tonumber(h, 16)
      if cp > 127 then fail("unsupported", "a non-ASCII \\u escape", P.i) end
      return cp
    end
    if d == "0" then
      local o = sub(re, P.i):match("^[0-7][0-7]?[0-7]?")
      if not o then fail("syntax", "Illegal octal escape sequence", P.i) end
      P.i = P.i + #o
      local v = tonumber(o, 8)
      if v > 255 then fail("unsupported", "an octal escape above \\0377", P.i) end
      return v
    end
    if d:match("%d") and not in_class then return { backref = tonumber(d) } end
    if d == "p" or d == "P" then fail("unsupported", "\\p{...} classes", P.i) end
    local anchor = not in_class and find("bBAzZQ", d, 1, true)
    if d:match("%a") and not anchor then fail("syntax", "Illegal/unsupported escape sequence", P.i) end
    if d:match("%w") then return { special = d } end
    return byte(d)
  end

  -- [...] at P.i (past the '['): a predicate
  local function class()
    local negate = false
    if peek() == "^" then negate = true; P.i = P.i + 1 end
    local items = {}
    local first = true
    while true do
      local c = peek()
      if c == "" then fail("syntax", "Unclosed character class", P.n) end
      if c == "]" and not first then P.i = P.i + 1; break end
      if c == "[" then fail("unsupported", "nested character classes", P.i) end
      if c == "&" and peek(1) == "&" then fail("unsupported", "class intersections (&&)", P.i) end
      first = false
      local lo
      P.i = P.i + 1
      if c == "\\" then lo = escape(true) else lo = byte(c) end
      if type(lo) == "number" and peek() == "-" and peek(1) ~= "]" and peek(1) ~= "" then
        P.i = P.i + 1
        local hc = peek()
        P.i = P.i + 1
        local hi
        if hc == "\\" then hi = escape(true) else hi = byte(hc) end
        if type(hi) ~= "number" then fail("syntax", "Illegal character range", P.i) end
        if hi < lo then fail("syntax", "Illegal character range", P.i) end
        local a, b = lo, hi
        items[#items + 1] = function(x) return x >= a and x <= b end
      elseif type(lo) == "number" then
        local v = lo
        items[#items + 1] = function(x) return x == v end
      elseif type(lo) == "function" then
        items[#items + 1] = lo
      else
        fail("syntax", "Illegal escape in a character class", P.i)
      end
    end
    return function(x)
      local hit = false
      for k = 1, #items do
        if items[k](x) then hit = true; break end
      end
      if negate then return not hit end
      return hit
    end
  end

  local parse_alt

  -- one atom at P.i, or nil at the end of a branch
  local function atom()
    local c = peek()
    if c == "" or c == "|" or c == ")" then return nil end
    if c == "(" then
      P.i = P.i + 1
      local node
      if peek() == "?" then
        local k = peek(1)
        if k == ":" then
          P.i = P.i + 2
          node = { type = "group", alt = parse_alt() }
        elseif k == "=" or k == "!" then
          P.i = P.i + 2
          node = { type = "look", negate = (k == "!"), alt = parse_alt() }
        elseif k == ">" then
          P.i = P.i + 2
          node = { type = "atomic", alt = parse_alt() }
        elseif k == "<" and (peek(2) == "=" or peek(2) == "!") then
          fail("unsupported", "look-behind", P.i)
        elseif k == "<" then
          fail("unsupported", "named groups", P.i)
        else
          fail("unsupported", "inline flags and special groups (?" .. k .. "...)", P.i)
        end
      else
        P.ngroups = P.ngroups + 1
        local idx = P.ngroups
        node = { type = "group", cap = idx, alt = parse_alt() }
      end
      if peek() ~= ")" then fail("syntax", "Unclosed group", P.n) end
      P.i = P.i + 1
      return node
    end
    if c == "[" then
      P.i = P.i + 1
      return { type = "char", test = class() }
    end
    if c == "." then
      P.i = P.i + 1
      return { type = "char", test = function(x) return not is_eol(x) end }
    end
    if c == "^" then P.i = P.i + 1; return { type = "bol" } end
    if c == "$" then P.i = P.i + 1; return { type = "eol" } end
    if c == "*" or c == "+" or c == "?" then fail("syntax", "Dangling meta character '" .. c .. "'", P.i) end
    if c == "{" then fail("syntax", "Illegal repetition", P.i) end
    if c == "\\" then
      P.i = P.i + 1
      local e = escape(false)
      if type(e) == "number" then
        local v = e
        return { type = "char", test = function(x) return x == v end }
      elseif type(e) == "function" then
        return { type = "char", test = e }
      elseif e.backref then
        if e.backref > P.ngroups then fail("syntax", "a back reference to a later group", P.i) end
        return { type = "backref", idx = e.backref }
      elseif e.special == "b" then return { type = "wordb" }
      elseif e.special == "B" then return { type = "nwordb" }
      elseif e.special == "A" then return { type = "bol" }
      elseif e.special == "z" or e.special == "Z" then return { type = "eol" }
      elseif e.special == "Q" then
        local stop = find(re, "\\E", P.i, true)
        local lit = sub(re, P.i, stop and stop - 1 or P.n)
        P.i = stop and stop + 2 or P.n + 1
        return { type = "lit", text = lit }
      end
      fail("syntax", "Illegal/unsupported escape sequence", P.i)
    end
    P.i = P.i + 1
    local v = byte(c)
    return { type = "char", test = function(x) return x == v end }
  end

  -- a quantifier after an atom, if any; then greedy, lazy (?) or
  -- possessive (+)
  local function quantifier(node)
    local c = peek()
    local min, max
    if c == "*" then min, max = 0, nil
    elseif c == "+" then min, max = 1, nil
    elseif c == "?" then min, max = 0, 1
    elseif c == "{" then
      local a, comma, b = sub(re, P.i):match("^{(%d+)(,?)(%d*)}")
      if not a then fail("syntax", "Illegal repetition", P.i) end
      min = tonumber(a)
      if comma == "" then max = min elseif b == "" then max = nil else max = tonumber(b) end
      if max and max < min then fail("syntax", "Illegal repetition range", P.i) end
      P.i = P.i + #a + #comma + #b + 1
    else
      return node
    end
    P.i = P.i + 1
    local q = { type = "rep", node = node, min = min, max = max, greedy = true }
    local m = peek()
    if m == "?" then q.greedy = false; P.i = P.i + 1
    elseif m == "+" then q.possessive = true; P.i = P.i + 1 end
    return q
  end

  function parse_alt()
    local branches = {}
    local seq = {}
    while true do
      local a = atom()
      if a == nil then
        branches[#branches + 1] = seq
        if peek() == "|" then
          P.i = P.i + 1
          seq = {}
        else
          break
        end
      else
        local q = quantifier(a)
        local again = peek()
        if again == "*" or again == "+" or again == "?" or again == "{" then
          fail("syntax", "Dangling meta character '" .. again .. "'", P.i)
        end
        seq[#seq + 1] = q
      end
    end
    return branches
  end

  return P, parse_alt
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- Compiling to matchers: m(i, k) tries to match at i and calls k(j) with
-- the position after the match, backtracking when k returns false.

-- A pattern that backtracks without end (nested quantifiers over what
-- may match nothing) stops after this many steps on one line.
local STEPS = 1000000
local TOO_MUCH = {}

local function build(node, st)
  local t = node.type
  if t == "char" then
    local test = node.test
    return function(i, k)
      local c = byte(st.s, i)
      if c and test(c) then return k(i + 1) end
      return false
    end
  elseif t == "lit" then
    local text = node.text
    local len = #text
    return function(i, k)
      if sub(st.s, i, i + len - 1) == text then return k(i + len) end
      return false
    end
  elseif t == "bol" then
    return function(i, k) if i == 1 then return k(i) end return false end
  elseif t == "eol" then
    return function(i, k) if i == st.n + 1 then return k(i) end return false end
  elseif t == "wordb" or t == "nwordb" then
    local want = (t == "wordb")
    return function(i, k)
      local a, b = byte(st.s, i - 1), byte(st.s, i)
      local wa, wb = a ~= nil and is_word(a), b ~= nil and is_word(b)
      if (wa ~= wb) == want then return k(i) end
      return false
    end
  elseif t == "backref" then
    local idx = node.idx
    return function(i, k)
      local s, e = st.caps[2 * idx - 1], st.caps[2 * idx]
      if not s then return false end
      local text = sub(st.s, s, e - 1)
      if sub(st.s, i, i + #text - 1) == text then return k(i + #text) end
      return false
    end
  elseif t == "group" or t == "look" or t == "atomic" then
    local branches = {}
    for b = 1, #node.alt do
      local seq = node.alt[b]
      local ms = {}
      for j = 1, #seq do ms[j] = build(seq[j], st) end
      local chain = function(i, k) return k(i) end
      for j = #ms, 1, -1 do
        local a, rest = ms[j], chain
        chain = function(i, k) return a(i, function(p) return rest(p, k) end) end
      end
      branches[b] = chain
    end
    local function alt(i, k)
      local left = st.steps - 1
      if left < 0 then error(TOO_MUCH, 0) end
      st.steps = left
      for b = 1, #branches do
        if branches[b](i, k) then return true end
      end
      return false
    end
    if t == "look" then
      local negate = node.negate
      return function(i, k)
        local caps = copy(st.caps)
        local hit = alt(i, function() return true end)
        if negate then
          st.caps = caps
          if hit then return false end
          return k(i)
        end
        if not hit then st.caps = caps; return false end
        return k(i)
      end
    elseif t == "atomic" then
      return function(i, k)
        local stop
        if not alt(i, function(p) stop = p return true end) then return false end
        return k(stop)
      end
    end
    local idx = node.cap
    if not idx then return alt end
    local si, ei = 2 * idx - 1, 2 * idx
    return function(i, k)
      return alt(i, function(p)
        local caps = st.caps
        local os, oe = caps[si], caps[ei]
        caps[si], caps[ei] = i, p
        if k(p) then return true end
        caps[si], caps[ei] = os, oe
        return false
      end)
    end
  elseif t == "rep" and node.node.type == "char" then
    -- one character repeated: counted in a loop, so that the depth of the
    -- match does not grow with the length of the line
    local test, min, max, greedy, possessive = node.node.test, node.min, node.max, node.greedy, node.possessive
    return function(i, k)
      local s, n = st.s, st.n
      local last = i - 1  -- the last position the run may reach
      local limit = max and (i + max - 1) or n
      if limit > n then limit = n end
      while last < limit do
        local c = byte(s, last + 1)
        if not test(c) then break end
        last = last + 1
      end
      local first = i + min - 1  -- the run must reach this far
      if last < first then return false end
      if possessive then return k(last + 1) end
      if greedy then
        for j = last, first, -1 do
          if k(j + 1) then return true end
        end
      else
        for j = first, last do
          if k(j + 1) then return true end
        end
      end
      return false
    end
  elseif t == "rep" then
    local inner = build(node.node, st)
    local min, max, greedy = node.min, node.max, node.greedy
    local function try(i, count, k)
      local left = st.steps - 1
      if left < 0 then error(TOO_MUCH, 0) end
      st.steps = left
      local function more(p)
        -- an empty pass ends the loop, its groups kept (as Java keeps them)
        if p == i and count >= min then return k(p) end
        return try(p, count + 1, k)
      end
      if greedy then
        if (max == nil or count < max) and inner(i, more) then return true end
        if count >= min then return k(i) end
        return false
      end
      if count >= min and k(i) then return true end
      if max == nil or count < max then return inner(i, more) end
      return false
    end
    if node.possessive then
      return function(i, k)
        local stop
        if not try(i, 0, function(p) stop = p return true end) then return false end
        return k(stop)
      end
    end
    return function(i, k) return try(i, 0, k) end
  end
  error("regex: unknown node " .. tostring(t))
end

--- Compiles a Java regular expression. Returns an object whose
-- match(line) answers Matcher.matches() and group(1) (true, group1 or
-- false; it raises a message when the pattern backtracks more than a
-- million steps on the line), or nil, message, kind ("syntax": Java refuses it too;
-- "unsupported": valid Java this matcher does not implement).
function M.compile(re)
  if type(re) ~= "string" then
    error(format("bad argument #1 to 'compile' (string expected, got %s)", type(re)), 2)
  end
  local P, parse_alt = parser(re)
  local ok, tree = pcall(function()
    local alt = parse_alt()
    if P.i <= P.n then fail("syntax", "Unmatched closing ')'", P.i) end
    return alt
  end)
  if not ok then
    if type(tree) == "table" then
      return nil, format("%s near index %d", tree.msg, (tree.at or 1) - 1), tree.kind
    end
    error(tree, 0)
  end
  local st = { s = "", n = 0, caps = {} }
  local top = build({ type = "group", alt = tree }, st)
  local ngroups = P.ngroups
  return {
    source = re,
    groups = ngroups,
    match = function(line)
      st.s, st.n, st.caps, st.steps = line, #line, {}, STEPS
      local n = #line
      local done, hit = pcall(top, 1, function(p) return p == n + 1 end)
      if not done then
        if hit == TOO_MUCH then
          error(format("the pattern %s backtracks too much on a line of %d characters", re, n), 0)
        end
        error(hit, 0)
      end
      if not hit then return false end
      local s, e = st.caps[1], st.caps[2]
      if ngroups == 0 then return true, nil end
      if not s then return true, nil end
      return true, sub(line, s, e - 1)
    end,
  }
end

return M
