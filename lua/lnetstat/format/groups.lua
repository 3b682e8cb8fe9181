-- netstat -g: multicast group memberships.
-- @module lnetstat.format.groups

local ipairs, sformat, sub, concat = ipairs, string.format, string.sub, table.concat
local util_mod = require "lnetstat.format.util"
local int, need_table, need_opts = util_mod.int, util_mod.need_table, util_mod.need_opts
local names_mod = require "lnetstat.format.names"
local new_names, is_mapped, strip_mapped = names_mod.new_names, names_mod.is_mapped, names_mod.strip_mapped

local M = {}

-- Multicast groups -------------------------------------------------------------------

--- The memberships netstat -g would show: IPv4, then IPv6 (-4 and -6
-- select), each in the kernel's order.
function M.select_groups(list, flags)
  need_table("select_groups", 1, list, "list")
  need_table("select_groups", 2, flags)
  local out = {}
  for _, fam in ipairs { "inet", "inet6" } do
    if (fam == "inet" and flags.inet ~= false) or (fam == "inet6" and flags.inet6 ~= false) then
      for _, g in ipairs(list) do
        if g.family == fam then out[#out + 1] = g end
      end
    end
  end
  return out
end

--- The netstat -g table: IPv4 memberships, then IPv6.
function M.groups_text(list, flags, opts)
  need_table("groups_text", 1, list, "list")
  need_table("groups_text", 2, flags)
  need_opts("groups_text", 3, opts)
  opts = opts or {}
  local names = (not flags.numeric_hosts) and (opts.names or new_names(opts.files)) or nil
  local out = { "IPv6/IPv4 Group Memberships\nInterface       RefCnt Group\n",
    "--------------- ------ ---------------------\n" }
  for _, g in ipairs(M.select_groups(list, flags)) do
    local iface, group = g.interface or "", g.group or ""
    if g.family == "inet" then
      -- netstat reads /proc/net/igmp's device column as 10 characters
      iface = sub(iface, 1, 10)
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
