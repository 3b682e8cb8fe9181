--- The `lnetstat` command. This first version lists sockets; the
-- netstat-compatible flags arrive with the command-line issue.
-- @module lnetstat.cli
local ns = require "lnetstat"

local format = string.format
local concat = table.concat

local M = {}

local USAGE = [[
usage: lnetstat [-l] [--netns NAME] [-h]
  -l            only listening sockets (TCP LISTEN, unconnected UDP)
  --netns NAME  read the sockets of a named network namespace
  -h, --help    this text
]]

local function endpoint(addr, port)
  if addr and addr:find(":", 1, true) then addr = "[" .. addr .. "]" end
  return format("%s:%s", addr or "*", port == nil and "*" or (port == 0 and "*" or port))
end

--- Prints a socket table: proto, state, local, remote, owners.
function M.print_sockets(list, out)
  out = out or io.stdout
  out:write(format("%-6s %-12s %-40s %-40s %s\n", "Proto", "State", "Local", "Remote", "Owners"))
  for _, r in ipairs(list) do
    local owners = {}
    for _, p in ipairs(r.processes or {}) do
      owners[#owners + 1] = format("%s[%d]", p.program or "?", p.pid)
    end
    local remote = r.remote_port == 0 and "*" or endpoint(r.remote_addr, r.remote_port)
    out:write(format("%-6s %-12s %-40s %-40s %s\n", r.proto, r.state,
      endpoint(r.local_addr, r.local_port), remote,
      #owners > 0 and concat(owners, ",") or (r.user and ("user " .. r.user) or "-")))
  end
  if list.partial then out:write("note: ", list.partial, "\n") end
end

function M.main(argv)
  local opts = { proto = { "tcp", "udp" }, process = true }
  local listening = false
  local i = 1
  while argv[i] do
    local a = argv[i]
    if a == "-h" or a == "--help" then
      io.stdout:write(USAGE)
      return 0
    elseif a == "-l" then
      listening = true
    elseif a == "--netns" and argv[i + 1] then
      opts.netns = argv[i + 1]
      i = i + 1
    else
      io.stderr:write("lnetstat: unknown argument '", a, "'\n", USAGE)
      return 2
    end
    i = i + 1
  end
  local list, err = (listening and ns.listening or ns.sockets)(opts)
  if not list then
    io.stderr:write("lnetstat: ", err, "\n")
    return 1
  end
  M.print_sockets(list)
  return 0
end

return M
