-- The UNIX domain socket table (netstat -x): records in, text out.
-- @module lnetstat.netstat.text.unix

local sformat, concat = string.format, table.concat
local util_mod = require "lnetstat.format.util"
local int, need_table, need_opts = util_mod.int, util_mod.need_table, util_mod.need_opts
local inet_mod = require "lnetstat.netstat.text.inet"
local program_field, cell = inet_mod.program_field, inet_mod.cell
local ordered_unix = require("lnetstat.netstat.rows").ordered_unix

local M = {}

-- UNIX sockets ---------------------------------------------------------------------

local UNIX_TYPE = { stream = "STREAM", dgram = "DGRAM", seqpacket = "SEQPACKET", raw = "RAW",
  rdm = "RDM" }

-- The kernel's sk_refcnt, which /proc/net/unix prints and sock_diag does not:
-- one for the socket, one for the hash table, one for each socket that has
-- this one as its peer. A client whose connection is not accepted yet is
-- also held by that embryo socket, which sock_diag does not list (its peer
-- shows as inode 0, like the peer of a socket whose other end is closed):
-- as many such clients as the listeners have pending connections count
-- one more. References held by descriptors in flight are not visible.
local function unix_refcounts(list)
  local refs, pending = {}, 0
  for i = 1, #list do
    local r = list[i]
    if r.proto == "unix" then
      if r.peer_inode and r.peer_inode ~= 0 then
        refs[r.peer_inode] = (refs[r.peer_inode] or 0) + 1
      elseif r.state == "LISTEN" then
        pending = pending + (r.recv_q or 0)
      end
    end
  end
  for i = 1, #list do
    if pending <= 0 then break end
    local r = list[i]
    if r.proto == "unix" and r.peer_inode == 0 and r.state == "ESTABLISHED" and (r.inode or 0) ~= 0 then
      refs[r.inode] = (refs[r.inode] or 0) + 1
      pending = pending - 1
    end
  end
  return refs
end

-- /proc/net/unix state: CONNECTED or unconnected ("" or LISTENING) for a
-- socket with a file, CONNECTING or DISCONNECTING for one without.
local function unix_state(r)
  local established = r.state == "ESTABLISHED"
  if (r.inode or 0) == 0 then
    return established and "CONNECTING" or "DISCONNECTING"
  end
  if established then return "CONNECTED" end
  if r.state == "LISTEN" then return "LISTENING" end
  return ""
end

--- The UNIX socket table (title and header included).
function M.unix_text(list, flags, opts)
  need_table("unix_text", 1, list, "list")
  need_table("unix_text", 2, flags)
  need_opts("unix_text", 3, opts)
  opts = opts or {}
  local out, n = {}, 0
  if opts.header ~= false then
    n = 1
    out[1] = concat {
      "Active UNIX domain sockets ",
      flags.all and "(servers and established)" or (flags.listening and "(only servers)" or "(w/o servers)"),
      "\nProto RefCnt Flags       Type       State         I-Node  ",
      flags.programs and sformat(" %-20s", "PID/Program name") or "",
      " Path\n",
    }
  end
  local refs = unix_refcounts(list)
  local programs = flags.programs
  local rows = ordered_unix(list, flags)
  for i = 1, #rows do
    local r = rows[i]
    local listening = r.state == "LISTEN"
    local inode = int(r.inode)
    local refcnt = 2 + (inode ~= 0 and refs[inode] or 0)
    if inode == 0 and r.state == "ESTABLISHED" then refcnt = refcnt + 1 end
    -- netstat reads the path with sscanf("%s"): up to the first blank;
    -- the rest escaped (see lnetstat.netstat.text.inet's cell). The NUL
    -- bytes of an abstract name are "@" there, as /proc/net/unix prints them.
    local path = r.path and cell((r.path:gsub("%z", "@")):match("^%S*")) or ""
    local line = sformat("%-5s %-6d %-11s %-10s %-13s %-8d", "unix", refcnt,
      listening and "[ ACC ]" or "[ ]", UNIX_TYPE[r.type] or "UNKNOWN", unix_state(r), inode)
    if programs then line = line .. sformat(" %-20s", program_field(r)) end
    n = n + 1
    out[n] = line .. " " .. path .. "\n"
  end
  return concat(out)
end

return M
