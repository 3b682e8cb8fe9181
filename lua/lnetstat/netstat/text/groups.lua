-- netstat -g: multicast group memberships; records and a name table in,
-- text out.
-- @module lnetstat.netstat.text.groups

local ipairs, sformat, concat = ipairs, string.format, table.concat
local util_mod = require "lnetstat.format.util"
local int, need_table, need_opts = util_mod.int, util_mod.need_table, util_mod.need_opts
local names_mod = require "lnetstat.netstat.names"
local select_groups = require("lnetstat.netstat.rows").select_groups
local inet_mod = require "lnetstat.netstat.text.inet"
local cell = inet_mod.cell
local new_names, is_mapped, strip_mapped = names_mod.new_names, names_mod.is_mapped, names_mod.strip_mapped

local M = {}

-- Multicast groups -------------------------------------------------------------------

--- The netstat -g table: IPv4 memberships, then IPv6.
function M.groups_text(list, flags, opts)
  need_table("groups_text", 1, list, "list")
  need_table("groups_text", 2, flags)
  need_opts("groups_text", 3, opts)
  opts = opts or {}
  local names = (not flags.numeric_hosts) and (opts.names or new_names()) or nil
  local out = { "IPv6/IPv4 Group Memberships\nInterface       RefCnt Group\n",
    "--------------- ------ ---------------------\n" }
  for _, g in ipairs(select_groups(list, flags)) do
    -- the name escaped (see lnetstat.netstat.text.inet's cell)
    local iface, group = cell(g.interface or ""), g.group or ""
    if g.family == "inet" then
      -- netstat reads /proc/net/igmp's device column as 15 characters, up
      -- to its colon: the whole name (at most 15 bytes), never cut
      if names then group = names:ipv4_name(group) end
    elseif names then
      group = names:ipv6_name(group)
      if is_mapped(g.group) then group = strip_mapped(group) end
    end
    out[#out + 1] = sformat("%-15s %-6d %s\n", iface, int(g.users), group)
  end
  return concat(out)
end

return M
