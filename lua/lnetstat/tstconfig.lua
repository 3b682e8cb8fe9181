--- Runs Tstconfig definition files (softwareloop/tstconfig 0.3) with
-- Tstconfig's directives, semantics and report format:
--
--   file F | command ARGS...          the text to test (resets the parse state)
--   parse_mode tokenized|fixed|keyvalue, syntax apache|apt|etc_group|etc_passwd|etc_shadow|ini,
--   skip_header_lines N, read_lines N, positions P..., columns C..., separator CHARS,
--   key_separator S, key_separator_optional B, ignore_empty_tokens B, quote_char C,
--   duplicates_policy replace|ignore|append, section_header_pattern RE,
--   section_footer_pattern RE, hash_/slash_/semicolon_comment_allowed B
--   section [NAME], section_size, property ARGS...
--   assert_eq, assert_defined, assert_undefined, assert_empty, assert_not_empty,
--   assert_contains, assert_not_contains, assert_starts_with, assert_ends_with
--
-- Differences from Tstconfig 0.3, all deliberate:
--
-- * assert_starts_with / assert_ends_with really compare (0.3 compares the
--   value with itself, so they always pass); a WARN line says so when one
--   fails.
-- * A failing run exits 1 (0.3 always exits 0); `--exit-zero` restores 0.
-- * `command [sudo] netstat ...` is answered by lnetstat.format.netstat
--   (net-tools' layout, from netlink) and `command [sudo] ss ...` by a
--   minimal ss renderer (see render_ss): no fork, no sudo. Any other
--   command runs only with `--exec-commands`, its arguments quoted one by
--   one (no shell interpretation).
-- * `positions` starting with 0 reads the positions as column starts: a cut
--   at 0 would only add an always-empty first column and shift every
--   column index by one, so `positions 0 6 13 20 44 68 80` and
--   `positions 6 13 20 44 68 80` both give Proto as column 0.
-- * Lines shorter than a position give empty cells (0.3 aborts the parse).
-- * A missing parse_mode means tokenized (0.3 throws); keyvalue without
--   key_separator splits at the first blank.
-- * An unreadable definition file counts as an error (0.3 prints a stack
--   trace and counts nothing). Unknown directives print ERROR and are not
--   counted, as in 0.3, unless `--strict` is given.
-- * section_header_pattern / section_footer_pattern take Java regular
--   expressions translated to Lua patterns; alternation (|), counted
--   repetition ({n,m}) and quantified groups are not supported (ERROR).
-- @module lnetstat.tstconfig
local type, ipairs, tostring, tonumber, pcall, require, error =
  type, ipairs, tostring, tonumber, pcall, require, error
local format, sub, find, gsub, char, rep, lower =
  string.format, string.sub, string.find, string.gsub, string.char, string.rep, string.lower
local concat, insert, remove = table.concat, table.insert, table.remove
local unpack = rawget(table, "unpack") or rawget(_G, "unpack")

local M = { _NAME = "lnetstat.tstconfig", TSTCONFIG_VERSION = "0.3" }

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

-- Reading text ------------------------------------------------------------------------

local function split_lines_file(text)
  local lines = {}
  for line in gsub(text, "\r\n", "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local last = text:match("([^\n]*)$")
  if last ~= "" then lines[#lines + 1] = (gsub(last, "\r$", "")) end
  return lines
end

-- Java's String.split("\n"): trailing empty strings are dropped, an empty
-- string gives one empty line.
local function split_lines_command(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  while #lines > 1 and lines[#lines] == "" do lines[#lines] = nil end
  return lines
end
M.split_lines_command = split_lines_command

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("*a")
  f:close()
  if text == nil then return nil, "cannot read " .. path end
  return text
end

local function shell_quote(s)
  return "'" .. gsub(tostring(s), "'", "'\\''") .. "'"
end
M.shell_quote = shell_quote

-- Runs argv (no shell interpretation: every element is quoted) and
-- returns stdout, stderr, exit code.
local function exec_argv(argv)
  local errfile = os.tmpname()
  local parts = {}
  for i, a in ipairs(argv) do parts[i] = shell_quote(a) end
  local cmd = format("%s 2>%s </dev/null; printf '\\036%%d' \"$?\"", concat(parts, " "), shell_quote(errfile))
  local p = io.popen(cmd, "r")
  local out = p and p:read("*a") or ""
  if p then p:close() end
  local err = read_file(errfile) or ""
  os.remove(errfile)
  local body, code = out:match("^(.*)\030(%d+)$")
  if not body then return out, err, -1 end
  return body, err, tonumber(code)
end
M.exec_argv = exec_argv

-- ss, minimally ------------------------------------------------------------------------

local SS_STATES = {
  ESTABLISHED = "ESTAB", SYN_SENT = "SYN-SENT", SYN_RECV = "SYN-RECV", FIN_WAIT1 = "FIN-WAIT-1",
  FIN_WAIT2 = "FIN-WAIT-2", TIME_WAIT = "TIME-WAIT", CLOSE = "UNCONN", CLOSE_WAIT = "CLOSE-WAIT",
  LAST_ACK = "LAST-ACK", LISTEN = "LISTEN", CLOSING = "CLOSING", UNCONN = "UNCONN",
}

local function ss_endpoint(r, addr, port, is_local)
  local a = addr or "*"
  if is_local and r.family == "inet6" and r.v6only == false and (a == "::") then
    a = "*"
  elseif find(a, ":", 1, true) then
    a = "[" .. a .. "]"
  elseif a == "0.0.0.0" and not is_local then
    a = "0.0.0.0"
  end
  if r.interface and is_local then a = a .. "%" .. r.interface end
  return a .. ":" .. ((port == nil or port == 0) and "*" or tostring(port))
end

--- A minimal `ss` for Tstconfig commands: flags -t -u -w -l -a -n -p -4
-- -6 -H (bundled or not); TCP, UDP and RAW sockets; numeric addresses and
-- ports (service names are not looked up, as with -n); dual-stack [::]
-- shown as "*". Columns are separated by blanks as ss prints them, but
-- their widths are not ss's (use parse_mode tokenized, not fixed).
-- @tparam table argv arguments after "ss"
-- @tparam table opts netns, data (a table with sockets(opts))
-- @treturn string stdout, string stderr, number exit code
function M.render_ss(argv, opts)
  opts = opts or {}
  local flags = {}
  for _, a in ipairs(argv) do
    if sub(a, 1, 2) == "--" then
      local long = { ["--tcp"] = "t", ["--udp"] = "u", ["--raw"] = "w", ["--listening"] = "l", ["--all"] = "a",
        ["--numeric"] = "n", ["--processes"] = "p", ["--ipv4"] = "4", ["--ipv6"] = "6",
        ["--no-header"] = "H" }
      if not long[a] then return "", format("ss: option %s is not supported by lnetstat's ss\n", a), 1 end
      flags[long[a]] = true
    elseif sub(a, 1, 1) == "-" then
      for k = 2, #a do
        local c = sub(a, k, k)
        if not find("tuwlanp46H", c, 1, true) then
          return "", format("ss: option -%s is not supported by lnetstat's ss\n", c), 1
        end
        flags[c] = true
      end
    else
      return "", format("ss: filter '%s' is not supported by lnetstat's ss\n", a), 1
    end
  end
  local protos = {}
  if flags.t then protos[#protos + 1] = "tcp" end
  if flags.u then protos[#protos + 1] = "udp" end
  if flags.w then protos[#protos + 1] = "raw" end
  if #protos == 0 then protos = { "tcp", "udp", "raw" } end
  local state = flags.a and "all" or (flags.l and "listening" or "connected")
  local sopts = { proto = protos, state = state, process = flags.p or nil, netns = opts.netns }
  if flags["4"] and not flags["6"] then sopts.family = "inet" end
  if flags["6"] and not flags["4"] then sopts.family = "inet6" end
  local data = opts.data or require("lnetstat")
  local list, err = data.sockets(sopts)
  if not list then return "", "ss: " .. tostring(err) .. "\n", 1 end
  local rows = {}
  local netid = #protos > 1
  local header = {}
  if netid then header[#header + 1] = "Netid" end
  for _, h in ipairs { "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port" } do
    header[#header + 1] = h
  end
  if flags.p then header[#header + 1] = "Process" end
  if not flags.H then rows[#rows + 1] = header end
  for _, r in ipairs(list) do
    local row = {}
    if netid then row[#row + 1] = r.proto end
    local st = SS_STATES[r.state] or tostring(r.state)
    row[#row + 1] = st
    row[#row + 1] = tostring(r.recv_q or 0)
    row[#row + 1] = tostring(r.send_q or 0)
    row[#row + 1] = ss_endpoint(r, r.local_addr, r.local_port, true)
    row[#row + 1] = ss_endpoint(r, r.remote_addr, r.remote_port, false)
    if flags.p then
      local users = {}
      for _, p in ipairs(r.processes or {}) do
        users[#users + 1] = format('("%s",pid=%s,fd=%s)', tostring(p.program), tostring(p.pid), tostring(p.fd))
      end
      row[#row + 1] = #users > 0 and ("users:(" .. concat(users, ",") .. ")") or ""
    end
    rows[#rows + 1] = row
  end
  -- column widths: the longest cell, left-aligned, one blank between
  local widths = {}
  for _, row in ipairs(rows) do
    for k, cell in ipairs(row) do
      if k < #row and (widths[k] or 0) < #cell then widths[k] = #cell end
    end
  end
  local out = {}
  for _, row in ipairs(rows) do
    local cells = {}
    for k, cell in ipairs(row) do
      cells[k] = k < #row and (cell .. rep(" ", widths[k] - #cell)) or cell
    end
    out[#out + 1] = gsub(concat(cells, " "), "%s+$", "")
  end
  local stderr = ""
  if flags.p and list.partial then stderr = "" end
  return (#out > 0 and (concat(out, "\n") .. "\n") or ""), stderr, 0
end

-- The run ---------------------------------------------------------------------------

local BOOL = function(s) return lower(s) == "true" end

-- One Tstconfig "Test" object: state shared across all definition files.
local function new_test(opts, print)
  local T = {
    tested = 0, failed = 0, errors = 0,
    warned_fixed = false,
  }
  local S = {}  -- per file/command state

  local function reset()
    S = {
      filename = nil, command_line = nil, section_name = nil, property_names = nil,
      lines = {}, config = new_config(), parsed = false, column_map = nil,
      section = {}, values = nil, duplicates = "append", doc = nil,
    }
  end
  reset()

  local function joinargs(args)
    if args == nil then return nil end
    local parts = {}
    for i = 1, #args do parts[i] = args[i] == nil and "" or args[i] end
    -- arrays with holes (nil cells) keep their length in .n
    if args.n then for i = 1, args.n do parts[i] = args[i] or "" end end
    return concat(parts, " ")
  end

  local function err_line(msg)
    print("ERROR: " .. msg)
    print("")
  end

  local function ensure_parsed()
    if not S.parsed then
      S.parsed = true
      S.doc = parse_lines(S.config, S.lines)
      S.section = S.doc.top
    end
  end

  local function failed(cmd, args)
    T.failed = T.failed + 1
    print("ASSERTION FAILED")
    if S.filename ~= nil then
      print(format(" File:      %s", S.filename))
    elseif S.command_line ~= nil then
      print(format(" Command:   %s", S.command_line))
    end
    if S.section_name ~= nil then print(format(" Section:   %s", S.section_name)) end
    if S.property_names ~= nil then print(format(" Property:  %s", joinargs(S.property_names))) end
    if S.values == nil then
      print(" Value:     <undefined>")
    else
      print(format(" Value:     %s", joinargs(S.values)))
    end
    print(format(" Assertion: %s %s", cmd, joinargs(args or {})))
    print("")
  end

  local function number_arg(args)
    local s = joinargs(args)
    local n = s:match("^%s*([+-]?%d+)%s*$")
    if not n then
      T.errors = T.errors + 1
      err_line("not a number: " .. s)
      return nil
    end
    return tonumber(n)
  end

  -- cell n (0-based) of a row through the column map; nil when absent
  local function mapped(row, idx)
    if S.column_map == nil then return row[idx + 1] end
    local c = S.column_map[idx + 1]
    if c == nil then return nil end
    return row[c + 1]
  end

  local D = {}

  -- Sources
  function D.file(args)
    reset()
    S.filename = joinargs(args)
    local text = read_file(S.filename)
    if not text then
      T.errors = T.errors + 1
      err_line("cannot read file: " .. S.filename)
      return
    end
    S.lines = split_lines_file(text)
  end

  local SUDO_VALUE_OPTS = { ["-u"] = true, ["-g"] = true, ["-C"] = true, ["-D"] = true, ["-h"] = true,
    ["-p"] = true, ["-r"] = true, ["-t"] = true, ["-U"] = true }

  local function run_command(args)
    local argv = {}
    for i, a in ipairs(args) do argv[i] = a end
    local prog = argv[1] and argv[1]:match("([^/]+)$")
    if prog == "sudo" then
      remove(argv, 1)
      while argv[1] and sub(argv[1], 1, 1) == "-" do
        local o = remove(argv, 1)
        if o == "--" then break end
        if SUDO_VALUE_OPTS[o] then remove(argv, 1) end
      end
      prog = argv[1] and argv[1]:match("([^/]+)$")
    end
    if prog == nil then return nil, "empty command" end
    local rest = { unpack(argv, 2) }
    if prog == "netstat" then
      local fn = opts.netstat
      if not fn then
        local ok, fmt = pcall(require, "lnetstat.format")
        if ok and type(fmt) == "table" and type(fmt.netstat) == "function" then fn = fmt.netstat end
      end
      if not fn then return nil, "netstat emulation is not available (lnetstat.format.netstat missing)" end
      local ok, out, err, code = pcall(fn, rest, { netns = opts.netns })
      if not ok then return nil, "netstat emulation failed: " .. tostring(out) end
      return out or "", err or "", code or 0
    elseif prog == "ss" then
      local fn = opts.ss
      if not fn then
        local ok, fmt = pcall(require, "lnetstat.format")
        if ok and type(fmt) == "table" and type(fmt.ss) == "function" then fn = fmt.ss end
      end
      fn = fn or function(a, o) return M.render_ss(a, { netns = o.netns, data = opts.data }) end
      local ok, out, err, code = pcall(fn, rest, { netns = opts.netns })
      if not ok then return nil, "ss emulation failed: " .. tostring(out) end
      return out or "", err or "", code or 0
    end
    if not opts.exec_commands then
      return nil, "command not run: lnetstat answers netstat and ss itself; "
        .. "pass --exec-commands to run other commands"
    end
    local full = {}
    for i, a in ipairs(args) do full[i] = a end
    if opts.netns ~= nil then
      local ns = tostring(opts.netns)
      if tonumber(ns) then
        for i, a in ipairs { "nsenter", "-t", ns, "-n", "--" } do insert(full, i, a) end
      elseif find(ns, "/", 1, true) then
        for i, a in ipairs { "nsenter", "--net=" .. ns, "--" } do insert(full, i, a) end
      else
        for i, a in ipairs { "ip", "netns", "exec", ns } do insert(full, i, a) end
      end
    end
    return (opts.exec or exec_argv)(full)
  end

  function D.command(args)
    reset()
    S.command_line = joinargs(args)
    local out, err, code = run_command(args)
    if out == nil then
      T.errors = T.errors + 1
      err_line(err)
      return
    end
    if code ~= 0 then print("ERROR: Command returned error code: " .. tostring(code)) end
    if err ~= "" then print("WARN: Command wrote to stderr:\n" .. err) end
    S.lines = split_lines_command(out)
  end

  -- Syntax
  function D.skip_header_lines(args)
    local n = number_arg(args)
    if n then S.config.skip_header_lines = n end
  end
  function D.read_lines(args)
    if joinargs(args) == "" then S.config.read_lines = nil; return end
    local n = number_arg(args)
    if n then S.config.read_lines = n end
  end
  function D.columns(args)
    local map = {}
    for i, a in ipairs(args) do
      local n = a:match("^[+-]?%d+$") and tonumber(a)
      if not n then
        T.errors = T.errors + 1
        err_line("not a number: " .. a)
        n = 0
      end
      map[i] = n
    end
    S.column_map = map
  end
  function D.syntax(args)
    local s = joinargs(args)
    local c = S.config
    if s == "apache" then
      c.parse_mode, c.header, c.footer, c.hash = "tokenized", APACHE_HEADER, APACHE_FOOTER, true
    elseif s == "apt" then
      c.parse_mode, c.header, c.footer = "tokenized", APT_HEADER, APT_FOOTER
      c.separator, c.slash = charset(" \t;"), true
    elseif s == "etc_group" or s == "etc_passwd" or s == "etc_shadow" then
      c.parse_mode, c.separator, c.hash, c.ignore_empty = "tokenized", charset(":"), true, false
    elseif s == "ini" then
      c.parse_mode, c.header, c.key_separator = "keyvalue", INI_HEADER, "="
      c.key_separator_optional, c.hash, c.semicolon = true, true, true
    else
      T.errors = T.errors + 1
      err_line("unrecognized syntax: " .. s)
    end
  end
  function D.key_separator(args) S.config.key_separator = joinargs(args) end
  function D.separator(args) S.config.separator = charset(unescape_java(joinargs(args))) end
  function D.ignore_empty_tokens(args) S.config.ignore_empty = BOOL(joinargs(args)) end
  function D.key_separator_optional(args) S.config.key_separator_optional = BOOL(joinargs(args)) end
  function D.positions(args)
    local pos = {}
    for i, a in ipairs(args) do
      local n = a:match("^[+-]?%d+$") and tonumber(a)
      if not n then
        -- 0.3 throws NumberFormatException here: printed, not counted
        print(format('ERROR: java.lang.NumberFormatException: For input string: "%s"', a))
        return
      end
      pos[i] = n
    end
    S.config.positions = pos
  end
  function D.parse_mode(args)
    local m = lower(joinargs(args))
    if m == "tokenized" or m == "fixed" or m == "keyvalue" then
      S.config.parse_mode = m
    else
      T.errors = T.errors + 1
      err_line("unrecognized parse mode: " .. joinargs(args))
    end
  end
  function D.duplicates_policy(args)
    local p = joinargs(args)
    if p == "replace" or p == "ignore" or p == "append" then
      S.duplicates = p
    else
      T.errors = T.errors + 1
      err_line("unrecognized duplicates policy: " .. p)
    end
  end
  local function pattern_directive(which)
    return function(args)
      local re = joinargs(args)
      local pat, why = M.regex_to_lua(re)
      if not pat then
        print(format("ERROR: java.util.regex.PatternSyntaxException: %s: %s (lnetstat translates Java "
          .. "regular expressions to Lua patterns)", why, re))
        return
      end
      S.config[which] = lua_section_pattern(pat)
    end
  end
  D.section_header_pattern = pattern_directive("header")
  D.section_footer_pattern = pattern_directive("footer")
  function D.hash_comment_allowed(args) S.config.hash = BOOL(joinargs(args)) end
  function D.slash_comment_allowed(args) S.config.slash = BOOL(joinargs(args)) end
  function D.semicolon_comment_allowed(args) S.config.semicolon = BOOL(joinargs(args)) end
  function D.quote_char(args)
    local q = joinargs(args)
    if #q == 1 then
      S.config.quote = q
    else
      T.errors = T.errors + 1
      err_line("illegal quote char: " .. q)
    end
  end

  -- Sections
  function D.section(args)
    ensure_parsed()
    S.section_name = joinargs(args)
    local sec
    if #args == 0 then sec = S.doc.top else sec = S.doc.sections[S.section_name] end
    if sec == nil then
      T.errors = T.errors + 1
      err_line("section is undefined: " .. S.section_name)
      sec = {}
    end
    S.section = sec
  end
  function D.section_size()
    ensure_parsed()
    S.values = { tostring(#S.section) }
  end

  -- Properties
  function D.property(args)
    ensure_parsed()
    S.values = nil
    S.property_names = args
    local nargs = #args
    local first = true
    for _, row in ipairs(S.section) do
      local same = true
      for k = 1, nargs do
        if mapped(row, k - 1) ~= args[k] then same = false; break end
      end
      if same then
        local vals = { n = 0 }
        if S.column_map == nil then
          for k = nargs + 1, #row do vals.n = vals.n + 1; vals[vals.n] = row[k] end
        else
          for k = nargs, #S.column_map - 1 do vals.n = vals.n + 1; vals[vals.n] = mapped(row, k) end
        end
        if first then
          first = false
          S.values = vals
        elseif S.duplicates == "replace" then
          S.values = vals
        elseif S.duplicates == "append" then
          local n = S.values.n
          for k = 1, vals.n do S.values[n + k] = vals[k] end
          S.values.n = n + vals.n
        end
      end
    end
  end

  -- Assertions
  local function count() T.tested = T.tested + 1 end
  local function values_list()
    local v = S.values
    if v == nil then return nil end
    return v, v.n or #v
  end
  local function contains(v, n, x)
    for k = 1, n do if v[k] == x then return true end end
    return false
  end

  function D.assert_eq(args)
    count()
    local v, n = values_list()
    local ok = v ~= nil and n == #args
    if ok then for k = 1, n do if v[k] ~= args[k] then ok = false; break end end end
    if not ok then failed("assert_eq", args) end
  end
  function D.assert_defined(args)
    count()
    if S.values == nil then failed("assert_defined", args) end
  end
  function D.assert_undefined(args)
    count()
    if S.values ~= nil then failed("assert_undefined", args) end
  end
  function D.assert_empty(args)
    count()
    local j = joinargs(S.values)
    if j ~= nil and j ~= "" then failed("assert_empty", args) end
  end
  function D.assert_not_empty(args)
    count()
    local j = joinargs(S.values)
    if j == nil or j == "" then failed("assert_not_empty", args) end
  end
  function D.assert_contains(args)
    count()
    local v, n = values_list()
    local ok = true
    for _, a in ipairs(args) do
      if v == nil or not contains(v, n, a) then ok = false end
    end
    if not ok then failed("assert_contains", args) end
  end
  function D.assert_not_contains(args)
    count()
    local v, n = values_list()
    local ok = true
    for _, a in ipairs(args) do
      if v ~= nil and contains(v, n, a) then ok = false end
    end
    if not ok then failed("assert_not_contains", args) end
  end
  local function affix(name, test)
    return function(args)
      count()
      local j = joinargs(S.values)
      local a = joinargs(args)
      if j == nil or not test(j, a) then
        if not T.warned_fixed then
          T.warned_fixed = true
          print(format("WARN: %s checks the value here; Tstconfig %s passes assert_starts_with and "
            .. "assert_ends_with whatever the value", name, M.TSTCONFIG_VERSION))
        end
        failed(name, args)
      end
    end
  end
  D.assert_starts_with = affix("assert_starts_with", function(j, a) return sub(j, 1, #a) == a end)
  D.assert_ends_with = affix("assert_ends_with", function(j, a) return a == "" or sub(j, -#a) == a end)

  -- A definition line: directive and arguments.
  function T.directive(tokens)
    local name = tokens[1]
    local args = { unpack(tokens, 2) }
    local fn = D[name]
    if not fn then
      print(format("ERROR: java.lang.NoSuchMethodException: com.softwareloop.tstconfig.Test.%s"
        .. "([Ljava.lang.String;)", tostring(name)))
      if opts.strict then T.errors = T.errors + 1 end
      return
    end
    fn(args)
  end
  return T
end

-- The definition-file reader: tokenized, '#' comments, '"' quotes.
local function run_definition(T, text)
  for _, line in ipairs(split_lines_file(text)) do
    if not is_blank(line) and not find(line, "^%s*#") then
      local tokens = tokenize(line, SPLIT, '"', true)
      if #tokens > 0 then T.directive(tokens) end
    end
  end
end

--- Runs definition files.
-- @tparam table files paths
-- @tparam[opt] table opts exec_commands, netns, strict, exit_zero,
--   netstat (function(argv, opts) -> stdout, stderr, code; default
--   lnetstat.format.netstat), ss (likewise; default render_ss), exec
--   (function(argv) -> stdout, stderr, code), data (for render_ss)
-- @treturn string the report
-- @treturn number the exit code (0 PASS, 1 FAIL; 0 with exit_zero)
-- @treturn table counts {tested, passed, failed, errors}
function M.run(files, opts)
  if type(files) ~= "table" then
    error(format("bad argument #1 to 'run' (list of files expected, got %s)", type(files)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(format("bad argument #2 to 'run' (options table expected, got %s)", type(opts)), 2)
  end
  opts = opts or {}
  local out = {}
  local function print(s) out[#out + 1] = s end
  print(format("Tstconfig %s (lnetstat)", M.TSTCONFIG_VERSION))
  local T = new_test(opts, print)
  for _, file in ipairs(files) do
    print("")
    print(format("Reading definition file: %s", file))
    local text, err = read_file(file)
    if not text then
      T.errors = T.errors + 1
      print("ERROR: cannot read file: " .. file .. " (" .. tostring(err) .. ")")
      print("")
    else
      run_definition(T, text)
    end
  end
  print("")
  local pass = T.failed == 0 and T.errors == 0
  print("SUMMARY REPORT: " .. (pass and "PASS" or "FAIL"))
  print(format("Assertions tested: %d", T.tested))
  print(format("Assertions passed: %d", T.tested - T.failed))
  print(format("Assertions failed: %d", T.failed))
  print(format("Errors: %d", T.errors))
  local code = (pass or opts.exit_zero) and 0 or 1
  return concat(out, "\n") .. "\n", code,
    { tested = T.tested, passed = T.tested - T.failed, failed = T.failed, errors = T.errors }
end

local USAGE = [[
usage: lnetstat tstconfig FILE... [--exit-zero] [--exec-commands] [--netns NAME] [--strict]
  Runs Tstconfig definition files with Tstconfig's report.
  --exit-zero      exit 0 even when the report says FAIL (Tstconfig 0.3 behaviour)
  --exec-commands  run `command` lines other than netstat and ss (netstat and ss
                   are answered by lnetstat itself, without sudo)
  --netns NAME     read the data of a network namespace (and run commands in it)
  --strict         count unknown directives as errors
Exit status: 0 PASS, 1 FAIL, 2 usage error.
]]

--- `lnetstat tstconfig ...`: returns the exit code (never exits).
-- @tparam table argv arguments after "tstconfig"
-- @tparam[opt] table opts for tests: stdout, stderr, netstat, ss, exec, data
function M.main(argv, opts)
  opts = opts or {}
  local stdout, stderr = opts.stdout or io.stdout, opts.stderr or io.stderr
  local files = {}
  local run_opts = { netstat = opts.netstat, ss = opts.ss, exec = opts.exec, data = opts.data }
  local i = 1
  argv = type(argv) == "table" and argv or {}
  while i <= #argv do
    local a = argv[i]
    local name, inline = tostring(a):match("^(%-%-[%w%-]+)=(.*)$")
    if name then a = name end
    if a == "-h" or a == "--help" then
      stdout:write(USAGE)
      return 0
    elseif a == "--exit-zero" then
      run_opts.exit_zero = true
    elseif a == "--exec-commands" then
      run_opts.exec_commands = true
    elseif a == "--strict" then
      run_opts.strict = true
    elseif a == "--netns" then
      local v = inline
      if v == nil then
        i = i + 1
        v = argv[i]
      end
      if v == nil or v == "" then
        stderr:write("lnetstat tstconfig: --netns needs a value\n", USAGE)
        return 2
      end
      run_opts.netns = tonumber(v) or v
    elseif a == "--" then
      for j = i + 1, #argv do files[#files + 1] = argv[j] end
      break
    elseif sub(a, 1, 1) == "-" then
      stderr:write("lnetstat tstconfig: unknown option ", a, "\n", USAGE)
      return 2
    else
      files[#files + 1] = a
    end
    i = i + 1
  end
  if #files == 0 then
    stdout:write(format("Tstconfig %s (lnetstat)\nNo definition file provided.\nCommand line syntax:\n"
      .. "tstconfig [DEFINITION_FILE]...\n", M.TSTCONFIG_VERSION))
    return 2
  end
  local text, code = M.run(files, run_opts)
  stdout:write(text)
  return code
end


return M
