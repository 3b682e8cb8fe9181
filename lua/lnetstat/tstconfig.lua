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
-- * A failing run exits 1, and 2 when it counted an error (an unreadable
--   or bad file, data lnetstat could not read); 0.3 always exits 0 and
--   `--exit-zero` restores that.
-- * What the report shows of the host or of a file is escaped as the
--   netstat views escape their cells: control characters and bytes
--   outside valid UTF-8 become \xNN (\u00NN for C1), never raw bytes.
-- * keyvalue mode without key_separator splits each line at its first
--   blank (0.3 throws a NullPointerException).
--
-- Where 0.3 stops with a Java exception, lnetstat goes on: a missing
-- parse_mode means tokenized, lines shorter than a position give empty
-- cells, an unreadable definition file counts as an error, a section
-- pattern without a group names its sections by the whole line. Unknown
-- directives print ERROR and are not counted, as in 0.3, unless `--strict`.
--
-- What lnetstat cannot do as 0.3 does: `command [sudo] netstat ...` is
-- answered by lnetstat.format.netstat (net-tools' layout, from netlink)
-- and `command [sudo] ss ...` by lnetstat.ss (iproute2's layout, numeric,
-- from netlink), without fork or sudo; any other command runs only with
-- `--exec-commands`, its arguments quoted one by one (no shell). Section
-- patterns are matched by lnetstat.tstconfig.regex, which refuses (ERROR,
-- counted) the few Java constructs it does not implement.
-- @module lnetstat.tstconfig
local type, pairs, ipairs, tostring, tonumber, pcall, require, error, format, sub, find =
  type, pairs, ipairs, tostring, tonumber, pcall, require, error, string.format, string.sub, string.find
local lower, concat, insert, remove =
  string.lower, table.concat, table.insert, table.remove
local unpack = rawget(table, "unpack") or rawget(_G, "unpack")
local parse = require "lnetstat.tstconfig.parse"
local source = require "lnetstat.tstconfig.source"
local asserts = require "lnetstat.tstconfig.asserts"
local tokenize, charset, unescape_java, section_pattern =
  parse.tokenize, parse.charset, parse.unescape_java, parse.section_pattern
local new_config, is_blank, parse_lines, SPLIT = parse.new_config, parse.is_blank, parse.parse_lines, parse.SPLIT
local SECTIONS = parse.SECTIONS
local APACHE_HEADER, APACHE_FOOTER, APT_HEADER, APT_FOOTER, INI_HEADER = SECTIONS.APACHE_HEADER,
  SECTIONS.APACHE_FOOTER, SECTIONS.APT_HEADER, SECTIONS.APT_FOOTER, SECTIONS.INI_HEADER
local split_lines_file, split_lines_command, read_file, exec_argv =
  source.split_lines_file, source.split_lines_command, source.read_file, source.exec_argv

local lutil = require "lnetstat.util"
-- What the report shows of the host and of files (values, names, paths,
-- messages) goes through the views' cell escaper: a control character or
-- a byte outside valid UTF-8 becomes a visible escape, and a newline in a
-- value cannot start a false report line.
local esc = require("lnetstat.netstat.text.inet").cell

local M = { _NAME = "lnetstat.tstconfig", TSTCONFIG_VERSION = "0.3" }

--- The largest definition file or `file` target read, in bytes (16 MiB):
-- a longer one is an ERROR, never read. Neither is ever opened unless it
-- is a regular file (a FIFO or a device would block or never end).
M.MAX_FILE_SIZE = lutil.READ_MAX

-- The parts' public functions (render_ss is lnetstat.ss.render).
M.tokenize, M.regex = parse.tokenize, require("lnetstat.tstconfig.regex").compile
M.split_lines_command, M.shell_quote, M.exec_argv, M.render_ss =
  source.split_lines_command, source.shell_quote, source.exec_argv, source.render_ss

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
    print("ERROR: " .. esc(msg))
    print("")
  end

  local function ensure_parsed()
    if not S.parsed then
      S.parsed = true
      local ok, doc = pcall(parse_lines, S.config, S.lines)
      if not ok then
        -- a section pattern that backtracks without end: nothing is parsed
        T.errors = T.errors + 1
        err_line(tostring(doc))
        doc = { top = {}, sections = {} }
      end
      S.doc = doc
      S.section = S.doc.top
    end
  end

  local function failed(cmd, args)
    T.failed = T.failed + 1
    print("ASSERTION FAILED")
    if S.filename ~= nil then
      print(format(" File:      %s", esc(S.filename)))
    elseif S.command_line ~= nil then
      print(format(" Command:   %s", esc(S.command_line)))
    end
    if S.section_name ~= nil then print(format(" Section:   %s", esc(S.section_name))) end
    if S.property_names ~= nil then print(format(" Property:  %s", esc(joinargs(S.property_names)))) end
    if S.values == nil then
      print(" Value:     <undefined>")
    else
      print(format(" Value:     %s", esc(joinargs(S.values))))
    end
    print(format(" Assertion: %s %s", esc(cmd), esc(joinargs(args or {}))))
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
    local text, why = read_file(S.filename, M.MAX_FILE_SIZE)
    if not text then
      T.errors = T.errors + 1
      err_line("cannot read file: " .. S.filename .. " (" .. tostring(why) .. ")")
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
      return out or "", err or "", code or 0, true
    elseif prog == "ss" then
      local fn = opts.ss or function(a, o)
        return require("lnetstat.ss").render(a, { netns = o.netns, data = opts.data })
      end
      local ok, out, err, code = pcall(fn, rest, { netns = opts.netns })
      if not ok then return nil, "ss emulation failed: " .. tostring(out) end
      return out or "", err or "", code or 0, true
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
    local out, err, code, own = run_command(args)
    if out == nil then
      T.errors = T.errors + 1
      err_line(err)
      return
    end
    -- lnetstat's own netstat or ss fails only on a bad command line or on
    -- data it could not read (a netns that is not one): an error, counted.
    -- Any other command's code is its own business, printed as in 0.3.
    if code ~= 0 then
      if own then T.errors = T.errors + 1 end
      print("ERROR: Command returned error code: " .. esc(code))
    end
    if err ~= "" then
      -- the command's own lines stay lines; each is escaped
      local lines = {}
      for line in (err:gsub("\n$", "") .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = esc(line) end
      print("WARN: Command wrote to stderr:\n" .. concat(lines, "\n") .. "\n")
    end
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
        print(format('ERROR: java.lang.NumberFormatException: For input string: "%s"', esc(a)))
        return
      end
      pos[i] = n
    end
    S.config.positions = pos
  end
  -- the names of 0.3's enum, case and all: "TOKENIZED" is an error there
  function D.parse_mode(args)
    local m = joinargs(args)
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
  -- A Java regular expression that Java refuses prints Java's exception
  -- and counts nothing, as in 0.3; one that Java accepts but lnetstat
  -- cannot match is an error (its sections could not be found).
  local function pattern_directive(which)
    return function(args)
      local re = joinargs(args)
      local pat, why, kind = section_pattern(re)
      if not pat then
        if kind == "syntax" then
          print(format("ERROR: java.util.regex.PatternSyntaxException: %s\n%s", esc(why), esc(re)))
        else
          T.errors = T.errors + 1
          err_line(format("%s: lnetstat does not match %s: %s", which == "header" and "section_header_pattern"
            or "section_footer_pattern", why, re))
        end
        return
      end
      S.config[which] = pat
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
  -- like 0.3, section_size forgets the property: a failing assert prints
  -- no Property: line
  function D.section_size()
    ensure_parsed()
    S.property_names = nil
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
  asserts.add(D, {
    count = function() T.tested = T.tested + 1 end,
    values = function() return S.values end,
    joinargs = joinargs,
    failed = failed,
    warn_affix = function(name)
      if T.warned_fixed then return end
      T.warned_fixed = true
      print(format("WARN: %s checks the value here; Tstconfig %s passes assert_starts_with and "
        .. "assert_ends_with whatever the value", name, M.TSTCONFIG_VERSION))
    end,
  })

  -- A definition line: directive and arguments.
  function T.directive(tokens)
    local name = tokens[1]
    local args = { unpack(tokens, 2) }
    local fn = D[name]
    if not fn then
      print(format("ERROR: java.lang.NoSuchMethodException: com.softwareloop.tstconfig.Test.%s"
        .. "([Ljava.lang.String;)", esc(name)))
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

-- The options of run, and what each must be.
local RUN_OPTIONS = { exec_commands = "boolean", netns = "netns", strict = "boolean", exit_zero = "boolean",
  netstat = "function", ss = "function", exec = "function", data = "table" }

-- run's options, checked before any file is read: an unknown name (a
-- typo would quietly run without the behaviour asked for), a value of the
-- wrong type, a netns the data functions would refuse.
local function check_options(opts)
  local options = require "lnetstat.options"
  opts = options.check("run", opts, RUN_OPTIONS, 2)
  for k, v in pairs(opts) do
    local want = RUN_OPTIONS[k]
    if want == "netns" then
      options.netns("run", 2, v)
    elseif want == "boolean" then
      options.boolean("run", 2, k, v)
    elseif type(v) ~= want then
      lutil.argerror("run", 2, format("%s must be a %s, got %s", k, want, type(v)))
    end
  end
  return opts
end

--- Runs definition files.
-- @tparam table files paths
-- @tparam[opt] table opts exec_commands, netns, strict, exit_zero,
--   netstat (function(argv, opts) -> stdout, stderr, code; default
--   lnetstat.format.netstat), ss (likewise; default lnetstat.ss.render), exec
--   (function(argv) -> stdout, stderr, code), data (for lnetstat.ss)
-- @treturn string the report
-- @treturn number the exit code: 0 PASS, 1 an assertion failed, 2 an
--   error was counted (an unreadable or bad file, unreadable data); 0
--   whatever the report says with exit_zero
-- @treturn table counts {tested, passed, failed, errors}
function M.run(files, opts)
  if type(files) ~= "table" then
    error(format("bad argument #1 to 'run' (list of files expected, got %s)", type(files)), 2)
  end
  for i, file in ipairs(files) do
    if type(file) ~= "string" then
      error(format("bad argument #1 to 'run' (file #%d must be a path, got %s)", i, type(file)), 2)
    end
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(format("bad argument #2 to 'run' (options table expected, got %s)", type(opts)), 2)
  end
  opts = lutil.validate(check_options, opts)
  local out = {}
  local function print(s) out[#out + 1] = s end
  print(format("Tstconfig %s (lnetstat)", M.TSTCONFIG_VERSION))
  local T = new_test(opts, print)
  for _, file in ipairs(files) do
    print("")
    print(format("Reading definition file: %s", esc(file)))
    local text, err = read_file(file, M.MAX_FILE_SIZE)
    if not text then
      T.errors = T.errors + 1
      print("ERROR: cannot read file: " .. esc(file) .. " (" .. esc(err) .. ")")
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
  local code = (pass or opts.exit_zero) and 0 or T.errors > 0 and 2 or 1
  return concat(out, "\n") .. "\n", code,
    { tested = T.tested, passed = T.tested - T.failed, failed = T.failed, errors = T.errors }
end

local USAGE = [[
usage: lnetstat tstconfig FILE... [--exit-zero] [--exec-commands] [--netns NAME] [--strict]
  Runs Tstconfig definition files with Tstconfig's report.
  --exit-zero      exit 0 whatever the report says (Tstconfig 0.3 behaviour)
  --exec-commands  run `command` lines other than netstat and ss (netstat and ss
                   are answered by lnetstat itself, without sudo)
  --netns NAME     read the data of a network namespace (and run commands in it)
  --strict         count unknown directives as errors
Exit status: 0 PASS, 1 an assertion failed, 2 an error (an unreadable or bad
file, unreadable data) or a usage error; 0 whatever the report says with
--exit-zero.
]]

--- `lnetstat tstconfig ...`: returns the exit code (never exits).
-- @tparam table argv arguments after "tstconfig"
-- @tparam[opt] table opts for tests: stdout, stderr, netstat, ss, exec, data
function M.main(argv, opts)
  opts = opts or {}
  local stdout, stderr = opts.stdout or io.stdout, opts.stderr or io.stderr
  local cliargs = require "lnetstat.cliargs"
  local p = cliargs.parser("lnetstat tstconfig", "Runs Tstconfig definition files.")
  p:argument("files"):args("*")
  p:flag("--exit-zero")
  p:flag("--exec-commands")
  p:option("--netns")
  p:flag("--strict")
  argv = type(argv) == "table" and argv or {}
  local ok, a = p:pparse((function()
    local strings = {}
    for i, v in ipairs(argv) do strings[i] = tostring(v) end
    return strings
  end)())
  if not ok then
    local long = { ["--exit-zero"] = true, ["--exec-commands"] = true, ["--netns"] = true,
      ["--strict"] = true, ["--help"] = true }
    stderr:write("lnetstat tstconfig: ", cliargs.message(a, long), "\n", USAGE)
    return cliargs.USAGE
  end
  if a.help then
    stdout:write(USAGE)
    return cliargs.OK
  end
  if a.netns == "" then
    stderr:write("lnetstat tstconfig: --netns needs a value\n", USAGE)
    return cliargs.USAGE
  end
  local netns, netns_err = cliargs.check_netns(a.netns)
  if netns_err then
    stderr:write("lnetstat tstconfig: ", netns_err, "\n", USAGE)
    return cliargs.USAGE
  end
  local files = a.files
  local run_opts = { netstat = opts.netstat, ss = opts.ss, exec = opts.exec, data = opts.data,
    exit_zero = a.exit_zero, exec_commands = a.exec_commands, strict = a.strict,
    netns = netns }
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
