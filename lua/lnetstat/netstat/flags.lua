-- netstat's argument grammar (getopt_long rules) and its defaults: argv in,
-- the flags table the plan is made from.
-- @module lnetstat.netstat.flags

local type, ipairs, pairs, tonumber = type, ipairs, pairs, tonumber
local error, sformat, sub, concat = error, string.format, string.sub, table.concat
local sort = table.sort

local util = require "lnetstat.util"

local M = {}

-- Arguments ---------------------------------------------------------------------

-- Long options: name -> { short key, takes_argument }. Families given as
-- options (--inet, --inet6, --unix, --ip) are netstat's AFTRANS_OPTS.
local LONG = {
  version = { "V" }, interfaces = { "i" }, help = { "h" }, route = { "r" },
  masquerade = { "M" }, protocol = { "A", true }, tcp = { "t" }, sctp = { "S" },
  udp = { "u" }, udplite = { "U" }, raw = { "w" }, unix = { "x" }, l2cap = { "2" },
  rfcomm = { "f" }, listening = { "l" }, all = { "a" }, timers = { "o" },
  continuous = { "c" }, extend = { "e" }, programs = { "p" }, verbose = { "v" },
  statistics = { "s" }, wide = { "W" }, numeric = { "n" }, ["numeric-hosts"] = { "!" },
  ["numeric-ports"] = { "@" }, ["numeric-users"] = { "#" }, symbolic = { "N" },
  cache = { "C" }, fib = { "F" }, groups = { "g" }, context = { "Z" },
  inet = { "af:inet" }, inet6 = { "af:inet6" }, ip = { "af:inet" },
  ax25 = { "af:ax25" }, ipx = { "af:ipx" }, netrom = { "af:netrom" }, ddp = { "af:ddp" },
  x25 = { "af:x25" }, rose = { "af:rose" }, ash = { "af:ash" }, bluetooth = { "af:bluetooth" },
  econet = { "af:econet" },
  -- lnetstat's own
  json = { "json" }, netns = { "netns", true },
}
local LONG_NAMES = {}
for k in pairs(LONG) do LONG_NAMES[#LONG_NAMES + 1] = k end
sort(LONG_NAMES)

local SHORT_WITH_ARG = { A = true }
local SHORT_KNOWN = {}
for c in ("CFMacdeghilnNoprsStuUvVWwx64Z2f"):gmatch(".") do SHORT_KNOWN[c] = true end

-- Accepted by netstat, refused here (usage error). SCTP: lnetstat reads no
-- SCTP sockets, so an empty table would say there are none.
local UNSUPPORTED = {
  M = "masqueraded connections (-M)", Z = "SELinux contexts (-Z)",
  C = "the routing cache (-C)", ["2"] = "Bluetooth L2CAP sockets", f = "Bluetooth RFCOMM sockets",
  S = "SCTP sockets (-S)",
}
local AF_UNSUPPORTED = { ax25 = "AX25", ipx = "IPX", netrom = "NETROM", ddp = "APPLETALK",
  x25 = "X25", rose = "ROSE", ash = "ASH", bluetooth = "BLUETOOTH", econet = "ECONET" }

local function new_flags()
  return {
    all = false, listening = false, numeric_hosts = false, numeric_ports = false,
    numeric_users = false, extend = 0, programs = false, timers = false, wide = false,
    verbose = false, continuous = false, interval = 1, tcp = false, udp = false,
    udplite = false, raw = false, sctp = false, unix = false, groups = false,
    route = false, interfaces = false, statistics = false, inet = false, inet6 = false,
    json = false, netns = nil, help = false, version = false,
  }
end

-- Applies an address family list (-A/--protocol, --inet, -4, -6) and
-- appends each family to order, as netstat builds its family list (-s and
-- -r check it): every name counts, an empty one too ("-A inet," names the
-- family "", which netstat does not know).
local function set_family(flags, list, order)
  for af in (list .. ","):gmatch("([^,]*),") do
    if af == "inet" or af == "ip" then
      flags.inet = true
      order[#order + 1] = "inet"
    elseif af == "inet6" then
      flags.inet6 = true
      order[#order + 1] = "inet6"
    elseif af == "unix" then
      flags.unix = true
      order[#order + 1] = "unix"
    elseif AF_UNSUPPORTED[af] then
      return nil, sformat("lnetstat: address family `%s' is not supported.", af)
    else
      return nil, sformat("Unknown address family `%s'.", af)
    end
  end
  return true
end

local function apply(flags, key, value, order)
  if key == "a" then flags.all = true
  elseif key == "l" then flags.listening = true
  elseif key == "c" then
    flags.continuous = true
    if value then flags.interval = value end
  elseif key == "d" or key == "N" or key == "F" then
    return true                              -- debug, symbolic, FIB (the default): no effect
  elseif key == "g" then flags.groups = true
  elseif key == "e" then flags.extend = flags.extend + 1
  elseif key == "p" then flags.programs = true
  elseif key == "i" then flags.interfaces = true
  elseif key == "W" then flags.wide = true
  elseif key == "n" then flags.numeric_hosts, flags.numeric_ports, flags.numeric_users = true, true, true
  elseif key == "!" then flags.numeric_hosts = true
  elseif key == "@" then flags.numeric_ports = true
  elseif key == "#" then flags.numeric_users = true
  elseif key == "o" then flags.timers = true
  elseif key == "6" then return set_family(flags, "inet6", order)
  elseif key == "4" then return set_family(flags, "inet", order)
  elseif key == "V" then flags.version = true
  elseif key == "v" then flags.verbose = true
  elseif key == "r" then flags.route = true
  elseif key == "t" then flags.tcp = true
  elseif key == "u" then flags.udp = true
  elseif key == "U" then flags.udplite = true
  elseif key == "w" then flags.raw = true
  elseif key == "x" then return set_family(flags, "unix", order)
  elseif key == "h" then flags.help = true
  elseif key == "s" then flags.statistics = true
  elseif key == "A" then return set_family(flags, value, order)
  elseif key == "json" then flags.json = true
  elseif key == "netns" then flags.netns = value:match("^%d+$") and tonumber(value) or value  -- a pid
  elseif sub(key, 1, 3) == "af:" then return set_family(flags, sub(key, 4), order)
  elseif UNSUPPORTED[key] then
    return nil, sformat("lnetstat: %s: not supported", UNSUPPORTED[key])
  end
  return true
end

-- The long option names that start with name, as getopt_long finds them.
local function prefixed(name)
  local matches = {}
  for _, k in ipairs(LONG_NAMES) do
    if sub(k, 1, #name) == name then matches[#matches + 1] = k end
  end
  return matches
end

--- The options the parser accepts, for documentation and its specs:
-- { long = { names without "--", sorted }, short = { letters, sorted },
-- unsupported = { the short letters and long names refused as not
-- supported } } (fresh tables).
function M.options()
  local short, unsupported = {}, {}
  for c in pairs(SHORT_KNOWN) do short[#short + 1] = c end
  for c in pairs(SHORT_WITH_ARG) do short[#short + 1] = c end
  sort(short)
  local long = {}
  for i, k in ipairs(LONG_NAMES) do
    long[i] = k
    local key = LONG[k][1]
    if UNSUPPORTED[key] or AF_UNSUPPORTED[key:match("^af:(.*)$") or ""] then
      unsupported[#unsupported + 1] = "--" .. k
    end
  end
  for c in pairs(UNSUPPORTED) do unsupported[#unsupported + 1] = "-" .. c end
  sort(unsupported)
  return { long = long, short = short, unsupported = unsupported }
end

--- Parses netstat arguments (getopt_long rules). Returns a flags table, or
-- nil, message, exit_code (3: usage error, 1: unknown address family, as
-- netstat). opts.exact = true: a long option must be spelled out in full
-- (the lnetstat command's convention; an abbreviation is an error that
-- names the options it could stand for).
function M.parse_args(argv, opts)
  if type(argv) ~= "table" then
    error("bad argument #1 to 'parse_args' (table expected, got " .. type(argv) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'parse_args' (table or nil expected, got " .. type(opts) .. ")", 2)
  end
  local exact = opts and opts.exact
  local flags = new_flags()
  local order = {}   -- the address families in the order given
  local i, n = 1, #argv
  if n > 0 and type(argv[1]) == "string" and (argv[1] == "netstat" or argv[1]:match("/netstat$")) then
    i = 2
  end
  local function usage_error(msg) return nil, msg, 3 end
  while i <= n do
    local a = argv[i]
    if type(a) ~= "string" then
      error(sformat("bad argument #1 to 'parse_args' (argument %d is a %s, not a string)", i, type(a)), 2)
    end
    if a == "--" then
      break                                  -- the rest are operands: netstat ignores them
    elseif sub(a, 1, 2) == "--" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or sub(a, 3)
      local spec = LONG[name]
      if not spec and exact then
        local matches = prefixed(name)
        for j, k in ipairs(matches) do matches[j] = "'--" .. k .. "'" end
        local hint = ""
        if #matches > 0 then
          hint = (#matches == 1 and "; did you mean " or "; did you mean one of ") .. concat(matches, ", ") .. "?"
        else
          local near = util.suggest(name, LONG)
          if near then hint = sformat("; did you mean '--%s'?", near) end
        end
        return usage_error(sformat("lnetstat: unrecognized option '%s'%s", a, hint))
      end
      if not spec then
        local matches = prefixed(name)
        if #matches == 0 then
          return usage_error(sformat("lnetstat: unrecognized option '%s'", a))
        elseif #matches > 1 then
          for j, k in ipairs(matches) do matches[j] = "'--" .. k .. "'" end
          return usage_error(sformat("lnetstat: option '%s' is ambiguous; possibilities: %s",
            "--" .. name, concat(matches, " ")))
        end
        name = matches[1]
        spec = LONG[name]
      end
      if spec[2] then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then
            return usage_error(sformat("lnetstat: option '--%s' requires an argument", name))
          end
        end
      elseif value ~= nil and name == "continuous" and value:match("^%d+$") then
        value = tonumber(value)
      elseif value ~= nil then
        return usage_error(sformat("lnetstat: option '--%s' doesn't allow an argument", name))
      end
      local ok, err = apply(flags, spec[1], value, order)
      if not ok then return nil, err, err:match("^Unknown") and 1 or 3 end
    elseif sub(a, 1, 1) == "-" and #a > 1 then
      local j = 2
      while j <= #a do
        local c = sub(a, j, j)
        if SHORT_WITH_ARG[c] then
          local value = sub(a, j + 1)
          if value == "" then
            i = i + 1
            value = argv[i]
            if value == nil then
              return usage_error(sformat("lnetstat: option requires an argument -- '%s'", c))
            end
          end
          local ok, err = apply(flags, c, value, order)
          if not ok then return nil, err, err:match("^Unknown") and 1 or 3 end
          break
        elseif c == "c" then
          -- lnetstat extension: -cN refreshes every N seconds.
          local digits = a:match("^%d+", j + 1)
          apply(flags, "c", digits and tonumber(digits), order)
          j = j + (digits and #digits or 0)
        elseif SHORT_KNOWN[c] then
          local ok, err = apply(flags, c, nil, order)
          if not ok then return usage_error(err) end
        else
          return usage_error(sformat("lnetstat: invalid option -- '%s'", c))
        end
        j = j + 1
      end
    end
    -- other operands are ignored, as netstat does
    i = i + 1
  end
  local modes = (flags.interfaces and 1 or 0) + (flags.route and 1 or 0) + (flags.statistics and 1 or 0)
  if modes > 1 then
    return usage_error("lnetstat: -i, -r and -s cannot be combined")
  end
  -- netstat -s reads the counters of one family: inet or inet6, named
  -- once; -r has no table for unix
  if flags.statistics and #order > 0
    and not (#order == 1 and (order[1] == "inet" or order[1] == "inet6")) then
    return nil, "lnetstat: No statistics support for specified address family: " .. concat(order, ","), 1
  end
  if flags.route and flags.unix then
    return usage_error("No routing for address family `unix'.")
  end
  -- netstat's defaults: a family (or -s) without a socket type means every
  -- inet type (SCTP aside: flags.sctp stays false, lnetstat reads no SCTP
  -- sockets); an inet type without a family means both families.
  if (flags.inet or flags.inet6 or flags.statistics)
    and not (flags.tcp or flags.udp or flags.udplite or flags.raw) then
    flags.tcp, flags.udp, flags.udplite, flags.raw = true, true, true, true
  end
  if (flags.tcp or flags.udp or flags.udplite or flags.raw or flags.groups)
    and not (flags.inet or flags.inet6) then
    flags.inet, flags.inet6 = true, true
  end
  -- the families named, in their order (each time named): -r shows a
  -- table for each
  flags.families = order
  flags.any_type = flags.tcp or flags.udp or flags.udplite or flags.raw
    or flags.unix or flags.groups
  return flags
end

return M
