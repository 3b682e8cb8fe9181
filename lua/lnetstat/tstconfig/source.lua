--- Where Tstconfig's text comes from: files, commands (run only when
-- allowed, arguments quoted one by one), and a minimal ss renderer that
-- answers `command ss ...` from lnetstat's records.
-- @module lnetstat.tstconfig.source
local ipairs, tostring, tonumber, require, format, sub, find, gsub =
  ipairs, tostring, tonumber, require, string.format, string.sub, string.find, string.gsub
local rep, concat =
  string.rep, table.concat

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

M.split_lines_file, M.read_file = split_lines_file, read_file

return M
