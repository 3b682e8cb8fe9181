--- The conventions every `lnetstat` subcommand follows on its command line:
-- one exit-code convention and one way of reading options (lua-argparse).
--
-- Options: `-fX` and `-f X`, `--format=X` and `--format X` are the same;
-- a long option is spelled out in full (no abbreviation: an unknown
-- option is a usage error that suggests the nearest name); `-h`/`--help`
-- prints the subcommand's help and exits 0; `--` ends the options.
--
-- Usage:
--
--   local cliargs = require "lnetstat.cliargs"
--   local p = cliargs.parser("lnetstat metrics", "Prometheus text of the counters.")
--   p:option("-o --output", "write FILE atomically"):argname "FILE"
--   local args, code = cliargs.parse(p, argv, { stdout = io.stdout, stderr = io.stderr })
--   if not args then return code end    -- help printed (0) or usage error shown (2)
--
-- @module lnetstat.cliargs
local type, ipairs, tostring, error, setmetatable, require, pcall =
  type, ipairs, tostring, error, setmetatable, require, pcall

local M = {}

-- parser -> the program name its messages start with
local NAMES = setmetatable({}, { __mode = "k" })

--- Exit codes of `lnetstat` and every subcommand.
M.OK = 0             -- success; every check passed
M.FAILED = 1         -- a check or assertion failed
M.ERROR = 2          -- usage error, or an error: data unreadable, a bad file
M.USAGE = 2          -- (the same code as ERROR)
M.INTERRUPTED = 130  -- stopped by SIGINT (Ctrl-C), as a shell reports it

--- The text `lnetstat -h`, the subcommands' help and the man page show.
M.EXIT_TEXT = [[
Exit status: 0 success (all checks passed), 1 a check or assertion failed,
2 usage error or an error (data unreadable, a bad file), 130 interrupted.
]]

--- A lua-argparse parser with the project's conventions: `name` is the
-- program name shown in usage lines ("lnetstat metrics"), `description`
-- its one-line summary; the epilog is the exit-code text. Help does not
-- call os.exit: `M.parse` handles it.
function M.parser(name, description, epilog)
  if type(name) ~= "string" then
    error("bad argument #1 to 'parser' (string expected, got " .. type(name) .. ")", 2)
  end
  -- loaded here: the exit codes alone (lnetstat.netstat.run) need no argparse
  local argparse = require "argparse"
  local p = argparse(name, description, epilog or M.EXIT_TEXT)
  p:add_help(false)
  p:flag("-h --help", "Show this help and exit.")
  p:help_max_width(79)
  NAMES[p] = name
  return p
end

-- Whether argv asks for help before any `--`.
local function wants_help(argv)
  for _, a in ipairs(argv) do
    if a == "--" then return false end
    if a == "-h" or a == "--help" then return true end
  end
  return false
end

--- A --netns value as the data functions take it: digits are a pid (a
-- number), anything else a name under /var/run/netns or a path
-- (lnetstat.options.netns_arg: the one place that decides).
function M.netns(value)
  return require("lnetstat.options").netns_arg(value)
end

--- A --netns value checked as every data function checks it: the value
-- (as M.netns gives it), or nil and a usage message ("--netns: netns pid
-- must be a positive integer, got 0") before anything is read. nil (no
-- --netns) is the caller's own namespace.
function M.check_netns(value)
  if value == nil then return nil end
  local v = M.netns(value)
  local ok, err = pcall(require("lnetstat.options").netns, "--netns", 1, v)
  if ok then return v end
  return nil, "--netns: " .. (tostring(err):match("^bad argument #%d+ to '[^']*' %((.*)%)$") or tostring(err))
end

--- argparse's usage error worded as the rest of the command words it:
-- "unknown option --x; did you mean '--y'?", "option --x needs a value".
-- long: the set of the subcommand's long option names, for the suggestion.
function M.message(msg, long)
  msg = tostring(msg)
  local opt = msg:match("^unknown option '([^']*)'")
  if opt then
    local lutil = require "lnetstat.util"
    return "unknown option " .. opt .. lutil.did_you_mean(opt:match("^[^=]*"), long or {})
  end
  opt = msg:match("^option '([^']*)' requires an argument")
  if opt then return "option " .. opt .. " needs a value" end
  return msg
end

-- The long option names of parser p (a set), for M.message's suggestion.
local function long_names(p)
  local set = {}
  for _, o in ipairs(p._options or {}) do
    for _, alias in ipairs(o._aliases or {}) do
      if alias:sub(1, 2) == "--" then set[alias] = true end
    end
  end
  return set
end

--- Parses argv with parser p. Returns the arguments table, or nil and the
-- exit code after writing the help (0) or the usage error (2; an unknown
-- option suggests the nearest long name, as M.message words it). opts:
-- stdout, stderr (file handles; default io.stdout, io.stderr).
function M.parse(p, argv, opts)
  if type(argv) ~= "table" then
    error("bad argument #2 to 'parse' (table expected, got " .. type(argv) .. ")", 2)
  end
  opts = opts or {}
  local stdout, stderr = opts.stdout or io.stdout, opts.stderr or io.stderr
  if wants_help(argv) then
    stdout:write(p:get_help(), "\n")
    return nil, M.OK
  end
  local strings = {}
  for i, a in ipairs(argv) do strings[i] = tostring(a) end
  local ok, result = p:pparse(strings)
  if ok then return result end
  local name = NAMES[p] or "lnetstat"
  stderr:write(name, ": ", M.message(result, long_names(p)), "\n",
    "Try '", name, " --help' for more information.\n")
  return nil, M.USAGE
end

--- A --netns value checked (M.check_netns) for a subcommand that takes
-- one namespace: the value, or nil and the exit code (2) after writing
-- the usage error to stderr, before anything is read.
function M.netns_or_usage(name, value, stderr)
  local v, err = M.check_netns(value)
  if err then
    stderr = stderr or io.stderr
    stderr:write(name, ": ", err, "\n", "Try '", name, " --help' for more information.\n")
    return nil, M.USAGE
  end
  return v
end

return M
