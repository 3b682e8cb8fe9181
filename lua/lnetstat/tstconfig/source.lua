--- Where Tstconfig's text comes from: files, and commands (run only when
-- allowed, arguments quoted one by one).
-- @module lnetstat.tstconfig.source
local ipairs, tostring, tonumber, require, format, gsub, concat =
  ipairs, tostring, tonumber, require, string.format, string.gsub, table.concat

local M = {}

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

local read_file = require("lnetstat.util").read_file

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

-- `command ss ...` is answered by lnetstat.ss, which has its own module;
-- its renderer stays reachable here under its former name.
M.render_ss = function(argv, opts) return require("lnetstat.ss").render(argv, opts) end

M.split_lines_file, M.read_file = split_lines_file, read_file

return M
