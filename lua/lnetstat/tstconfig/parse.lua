--- Tstconfig's parsing: commons-lang3 StrTokenizer tokens, Java regular
-- expressions as Lua patterns, and the parse configuration (parse_mode,
-- positions, separators, sections) applied to the lines of a text.
-- @module lnetstat.tstconfig.parse
local ipairs, tonumber, pcall, sub, find, gsub, char =
  ipairs, tonumber, pcall, string.sub, string.find, string.gsub, string.char
local concat =
  table.concat

local M = {}

-- Tokenizing (commons-lang3 StrTokenizer) --------------------------------------

local SPLIT = { [" "] = true, ["\t"] = true, ["\n"] = true, ["\r"] = true, ["\f"] = true }

local function charset(s)
  local set = {}
  for i = 1, #s do set[sub(s, i, i)] = true end
  return set
end

--- Splits a line like StrTokenizer: delims is a set of delimiter
-- characters, quote a quote character (or nil), ignore_empty drops empty
-- tokens. Quoted parts may appear anywhere in a token; a doubled quote
-- inside quotes is a literal quote.
function M.tokenize(line, delims, quote, ignore_empty)
  delims = delims or SPLIT
  local tokens = {}
  local n = #line
  if n == 0 then return tokens end
  local function add(tok)
    if tok == "" and ignore_empty then return end
    tokens[#tokens + 1] = tok
  end
  local i = 1
  while i <= n do
    local c = sub(line, i, i)
    if delims[c] then
      add("")
      i = i + 1
      if i > n then add("") end
    else
      local buf, in_quote = {}, false
      while i <= n do
        c = sub(line, i, i)
        if in_quote then
          if c == quote then
            if sub(line, i + 1, i + 1) == quote then
              buf[#buf + 1] = quote
              i = i + 2
            else
              in_quote = false
              i = i + 1
            end
          else
            buf[#buf + 1] = c
            i = i + 1
          end
        elseif quote and c == quote then
          in_quote = true
          i = i + 1
        elseif delims[c] then
          break
        else
          buf[#buf + 1] = c
          i = i + 1
        end
      end
      add(concat(buf))
      if i <= n then
        -- at a delimiter: consume it; a delimiter ending the line makes a
        -- last empty token
        i = i + 1
        if i > n then add("") end
      end
    end
  end
  return tokens
end
local tokenize = M.tokenize

-- Java's StringEscapeUtils.unescapeJava, for the separator directive.
local function unescape_java(s)
  return (gsub(s, "\\(u?)(%x?%x?%x?%x?)(.?)", function(u, hex, rest)
    if u == "u" and #hex == 4 then
      local cp = tonumber(hex, 16)
      if cp < 128 then return char(cp) .. rest end
      return nil
    end
    return nil
  end):gsub("\\(.)", function(c)
    local map = { t = "\t", n = "\n", r = "\r", f = "\f", b = "\b", ["\\"] = "\\", ['"'] = '"', ["'"] = "'" }
    return map[c] or c
  end))
end

-- Java regular expressions -> Lua patterns -----------------------------------------

local LUA_MAGIC = "^$()%.[]*+-?"

--- Translates the subset of Java regex syntax that section patterns use
-- into a Lua pattern anchored at both ends (Java's matches()). Returns the
-- pattern or nil, reason.
function M.regex_to_lua(re)
  local out = {}
  local n = #re
  local last_group_close = false
  local function esc(c)
    if find(LUA_MAGIC, c, 1, true) then return "%" .. c end
    return c
  end
  local CLASS = { s = "%s", S = "%S", d = "%d", D = "%D", w = "[%w_]", W = "[^%w_]" }
  local CLASS_IN = { s = "%s", S = "%S", d = "%d", D = "%D", w = "%w_" }
  local start = 1
  if sub(re, 1, 1) == "^" then start = 2 end
  local i = start
  local depth = 0
  while i <= n do
    local c = sub(re, i, i)
    local quant_ok = true
    if c == "\\" then
      local d = sub(re, i + 1, i + 1)
      if d == "" then return nil, "trailing backslash" end
      if CLASS[d] then out[#out + 1] = CLASS[d]
      elseif d:match("%a") or d:match("%d") then return nil, "unsupported escape \\" .. d
      else out[#out + 1] = esc(d) end
      i = i + 2
      last_group_close = false
    elseif c == "[" then
      local j = i + 1
      local buf = { "[" }
      if sub(re, j, j) == "^" then buf[#buf + 1] = "^"; j = j + 1 end
      if sub(re, j, j) == "]" then buf[#buf + 1] = "%]"; j = j + 1 end
      while j <= n and sub(re, j, j) ~= "]" do
        local d = sub(re, j, j)
        if d == "\\" then
          local e = sub(re, j + 1, j + 1)
          if CLASS_IN[e] then buf[#buf + 1] = CLASS_IN[e]
          elseif e:match("%w") then return nil, "unsupported escape \\" .. e
          else buf[#buf + 1] = "%" .. e end
          j = j + 2
        elseif d == "[" then
          return nil, "nested character classes are not supported"
        elseif d == "%" then
          buf[#buf + 1] = "%%"
          j = j + 1
        else
          buf[#buf + 1] = d
          j = j + 1
        end
      end
      if j > n then return nil, "unclosed character class" end
      buf[#buf + 1] = "]"
      out[#out + 1] = concat(buf)
      i = j + 1
      last_group_close = false
    elseif c == "(" then
      if sub(re, i + 1, i + 1) == "?" then return nil, "special groups (?...) are not supported" end
      depth = depth + 1
      out[#out + 1] = "("
      i = i + 1
      quant_ok = false
    elseif c == ")" then
      if depth == 0 then return nil, "unbalanced )" end
      depth = depth - 1
      out[#out + 1] = ")"
      i = i + 1
      last_group_close = true
      quant_ok = false
    elseif c == "|" then
      return nil, "alternation (|) is not supported"
    elseif c == "{" then
      return nil, "counted repetition ({n,m}) is not supported"
    elseif c == "*" or c == "+" or c == "?" then
      if last_group_close then return nil, "a quantifier after a group is not supported" end
      if #out == 0 then return nil, "dangling " .. c end
      local lazy = sub(re, i + 1, i + 1) == "?"
      if lazy and c == "*" then out[#out + 1] = "-" else out[#out + 1] = c end
      i = i + (lazy and 2 or 1)
      last_group_close = false
    elseif c == "." then
      out[#out + 1] = "."
      i = i + 1
      last_group_close = false
    elseif c == "$" and i == n then
      i = i + 1
    else
      out[#out + 1] = esc(c)
      i = i + 1
      last_group_close = false
    end
    if quant_ok == false then last_group_close = (c == ")") end
  end
  if depth ~= 0 then return nil, "unbalanced (" end
  local pat = "^" .. concat(out) .. "$"
  local ok = pcall(find, "", pat)
  if not ok then return nil, "cannot translate" end
  return pat
end

-- Section pattern objects: { match = function(line) -> matched, group1 }.
local function lua_section_pattern(lua_pat)
  return {
    match = function(line)
      local caps = { line:match(lua_pat) }
      if #caps == 0 then return false end
      if caps[1] == line and not find(lua_pat, "(", 1, true) then return true, line end
      return true, caps[1]
    end,
  }
end

local APACHE_HEADER = lua_section_pattern("^%s*<(.*)>%s*$")
local APACHE_FOOTER = lua_section_pattern("^%s*</.*>%s*$")
local APT_HEADER = lua_section_pattern("^%s*(%S+)%s*{%s*$")
local APT_FOOTER = lua_section_pattern("^%s*}%s*;%s*$")
local INI_HEADER = lua_section_pattern("^%s*%[(.*)%]%s*$")

-- Configs (what to parse, how) ------------------------------------------------------

local function new_config()
  return {
    skip_header_lines = 0,
    read_lines = nil,
    hash = false, slash = false, semicolon = false,
    header = nil, footer = nil,
    key_separator = nil, key_separator_optional = false,
    separator = SPLIT, ignore_empty = true, quote = '"',
    positions = nil,
    parse_mode = nil,
  }
end

local function is_blank(line) return not find(line, "%S") end

local function is_comment(cfg, line)
  return (cfg.hash and find(line, "^%s*#") ~= nil)
    or (cfg.slash and find(line, "^%s*//") ~= nil)
    or (cfg.semicolon and find(line, "^%s*;") ~= nil)
end

local function trim(s) return (gsub(s, "^%s+", ""):gsub("%s+$", "")) end

local function parse_fixed(cfg, line)
  local pos = cfg.positions or {}
  local cells = {}
  local start = 0
  local first = 1
  if pos[1] == 0 then first = 2 end     -- column starts: a cut at 0 adds nothing
  for k = first, #pos do
    local stop = pos[k]
    cells[#cells + 1] = trim(sub(line, start + 1, stop))
    start = stop
  end
  cells[#cells + 1] = trim(sub(line, start + 1))
  return cells
end

local function parse_keyvalue(cfg, line)
  local key, value
  local ks = cfg.key_separator
  local idx
  if ks and ks ~= "" then
    idx = find(line, ks, 1, true)
    if idx then
      key, value = trim(sub(line, 1, idx - 1)), trim(sub(line, idx + #ks))
    end
  else
    local k, v = line:match("^%s*(%S+)%s+(.-)%s*$")
    if k then key, value = k, v end
  end
  if not key then
    if cfg.key_separator_optional or not ks then
      key, value = trim(line), ""
    else
      return nil
    end
  end
  local row = { key }
  if cfg.separator then
    for _, t in ipairs(tokenize(value, cfg.separator, nil, true)) do row[#row + 1] = t end
  else
    row[#row + 1] = value
  end
  return row
end

local function parse_config_line(cfg, line)
  local mode = cfg.parse_mode or "tokenized"
  if mode == "fixed" then return parse_fixed(cfg, line) end
  if mode == "keyvalue" then return parse_keyvalue(cfg, line) end
  return tokenize(line, cfg.separator, cfg.quote, cfg.ignore_empty)
end

-- Parses lines into { top = rows, sections = {name = rows} }.
local function parse_lines(cfg, lines)
  local top, sections = {}, {}
  local current = top
  local skip = cfg.skip_header_lines or 0
  local budget = cfg.read_lines
  for _, line in ipairs(lines) do
    if skip > 0 then
      skip = skip - 1
    else
      if budget then
        if budget <= 0 then break end
        budget = budget - 1
      end
      if not is_blank(line) and not is_comment(cfg, line) then
        local is_footer = cfg.footer and cfg.footer.match(line)
        local is_header, name
        if not is_footer and cfg.header then is_header, name = cfg.header.match(line) end
        if is_footer then
          current = top
        elseif is_header then
          current = sections[name]
          if not current then
            current = {}
            sections[name] = current
          end
        else
          local row = parse_config_line(cfg, line)
          if row then current[#current + 1] = row end
        end
      end
    end
  end
  return { top = top, sections = sections }
end

M.charset, M.unescape_java, M.lua_section_pattern = charset, unescape_java, lua_section_pattern
M.SPLIT = SPLIT
M.SECTIONS = { -- the section patterns of the syntax directive
  APACHE_HEADER = APACHE_HEADER, APACHE_FOOTER = APACHE_FOOTER, APT_HEADER = APT_HEADER,
  APT_FOOTER = APT_FOOTER, INI_HEADER = INI_HEADER,
}
M.new_config, M.is_blank, M.parse_lines = new_config, is_blank, parse_lines

return M
