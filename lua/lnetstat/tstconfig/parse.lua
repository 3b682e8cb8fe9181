--- Tstconfig's parsing: commons-lang3 StrTokenizer tokens, section
-- patterns (Java regular expressions), and the parse configuration (parse_mode,
-- positions, separators, sections) applied to the lines of a text, as
-- Tstconfig 0.3 applies them.
-- @module lnetstat.tstconfig.parse
local ipairs, tonumber, sub, find, gsub, char =
  ipairs, tonumber, string.sub, string.find, string.gsub, string.char
local concat =
  table.concat

local regex = require "lnetstat.tstconfig.regex"

local M = {}

-- Tokenizing (commons-lang3 StrTokenizer) --------------------------------------

local SPLIT = { [" "] = true, ["\t"] = true, ["\n"] = true, ["\r"] = true, ["\f"] = true }

local function charset(s)
  local set = {}
  for i = 1, #s do set[sub(s, i, i)] = true end
  return set
end

--- Splits a line like commons-lang3's StrTokenizer: delims is a set of
-- delimiter characters, quote a quote character (or nil), ignore_empty
-- drops empty tokens. A quote is special only when it opens a token:
-- such a token may then leave and re-enter quoting at later quotes, and
-- a doubled quote inside quotes is a literal quote. A quote anywhere
-- else in a token is an ordinary character.
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
      local quoted = quote ~= nil and c == quote
      local buf, in_quote = {}, quoted
      if quoted then i = i + 1 end
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
        elseif quoted and c == quote then
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

-- Section patterns: { match = function(line) -> matched, name }, from
-- Java regular expressions (lnetstat.tstconfig.regex). The name is
-- group 1; a pattern without a group names the section by the whole line.
local NO_NAME = {}  -- group 1 did not take part: a section no directive can select

local function section_pattern(re)
  local rx, why, kind = regex.compile(re)
  if not rx then return nil, why, kind end
  return {
    source = re,
    match = function(line)
      local hit, name = rx.match(line)
      if not hit then return false end
      if rx.groups == 0 then return true, line end
      if name == nil then return true, NO_NAME end
      return true, name
    end,
  }
end

-- the syntax directive's patterns (Tstconfig's)
local APACHE_HEADER = section_pattern("^\\s*<(.*)>\\s*$")
local APACHE_FOOTER = section_pattern("^\\s*</.*>\\s*$")
local APT_HEADER = section_pattern("^\\s*(\\S+)\\s*\\{\\s*$")
local APT_FOOTER = section_pattern("^\\s*\\}\\s*;\\s*$")
local INI_HEADER = section_pattern("^\\s*\\[(.*)\\]\\s*$")

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

-- Tstconfig 0.3: each position is where a column starts, so the first
-- position starts column 0 and the text before it belongs to no column.
-- (A line too short for a position gives empty cells; 0.3 aborts.)
local function parse_fixed(cfg, line)
  local pos = cfg.positions or {}
  local cells = {}
  for k = 1, #pos do
    local start, stop = pos[k], pos[k + 1]
    cells[k] = trim(stop and sub(line, start + 1, stop) or sub(line, start + 1))
  end
  return cells
end

-- keyvalue: the key is the trimmed text before the first key_separator,
-- the value the trimmed text after it, split at the separator as 0.3
-- splits it: no quote character and empty tokens dropped, whatever
-- quote_char and ignore_empty_tokens say (0.3 applies those two to
-- tokenized mode only). Without any key_separator (0.3 throws) the key
-- ends at the first blank.
local function parse_keyvalue(cfg, line)
  local key, value
  local ks = cfg.key_separator
  if ks then
    local idx = find(line, ks, 1, true)
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

M.charset, M.unescape_java, M.section_pattern = charset, unescape_java, section_pattern
M.SPLIT = SPLIT
M.SECTIONS = { -- the section patterns of the syntax directive
  APACHE_HEADER = APACHE_HEADER, APACHE_FOOTER = APACHE_FOOTER, APT_HEADER = APT_HEADER,
  APT_FOOTER = APT_FOOTER, INI_HEADER = INI_HEADER,
}
M.new_config, M.is_blank, M.parse_lines = new_config, is_blank, parse_lines

return M
