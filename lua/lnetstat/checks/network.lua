--- lnetstat.check's interface and address assertions: interface_up,
-- interface, no_interface_errors, address_present, address_absent.
-- (Check files call these assertions; they are documented in lnetstat.check.)
-- @submodule lnetstat.check
local q = require "lnetstat.query"
local util = require "lnetstat.checks.util"
local show = require("lnetstat.util").show
local suggest = require("lnetstat.util").suggest
local links = require "lnetstat.source.links"

local type, pairs, ipairs, tostring, tonumber, error, format, sub, upper, concat, sort =
  type, pairs, ipairs, tostring, tonumber, error, string.format, string.sub, string.upper, table.concat, table.sort
local describe = util.describe
local bad = util.bad
local is_list = util.is_list
local num = util.num
local check_common = util.check_common
local split_pattern = util.split_pattern

local M = {}

-- Adds the assertions to the sandbox env of one check file.
-- @tparam table env the sandbox
-- @tparam table k the file's run, ctx, fetch, fetch_raw, run_check, refetcher
function M.install(env, kit)
  local fetch = kit.fetch
  local run_check = kit.run_check

  -- Interfaces -------------------------------------------------------------------

  local function flag_set(flags)
    if type(flags) ~= "table" then return {} end
    if #flags > 0 then
      local s = {}
      for _, f in ipairs(flags) do s[f] = true end
      return s
    end
    return flags
  end

  local function is_up(r)
    local flags = flag_set(r.flags)
    local oper = upper(tostring(r.operstate or ""))
    local link = oper == "UP" or ((oper == "UNKNOWN" or oper == "") and (flags.RUNNING or flags.LOWER_UP))
    return flags.UP == true and link and true or false
  end

  local function flags_text(r)
    local names = {}
    for k, v in pairs(flag_set(r.flags)) do if v then names[#names + 1] = tostring(k) end end
    sort(names)
    return format("flags %s, operstate %s", #names > 0 and concat(names, ",") or "-", tostring(r.operstate))
  end

  local function interfaces_named(name_spec, with_addresses)
    local list = fetch("interfaces", { addresses = with_addresses and true or false })
    local hits, names = {}, {}
    for _, r in ipairs(list) do
      names[#names + 1] = tostring(r.name)
      if name_spec == nil or q.test(name_spec, r.name, r, "name") then hits[#hits + 1] = r end
    end
    return hits, names
  end

  local function name_arg(fname, name)
    if name == nil then return end
    if type(name) ~= "string" and not q.is_matcher(name) and type(name) ~= "function" and not is_list(name) then
      bad(fname, 1, "interface name or matcher expected, got " .. type(name), 3)
    end
  end

  --- The interface is administratively up and its link is up
  -- (operstate UP, or UNKNOWN with carrier as on lo).
  -- @function interface_up
  -- @tparam string name the interface
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage interface_up "lo"
  function env.interface_up(name, opts)
    if type(name) ~= "string" then bad("interface_up", 1, "interface name expected, got " .. type(name)) end
    local o = check_common("interface_up", 2, opts)
    return run_check({
      kind = "interface_up",
      title = format("interface %s is up", name),
      expected = "flags UP and operstate UP (or UNKNOWN with carrier)",
      eval = function()
        local hits, names = interfaces_named(name, false)
        if #hits == 0 then return "fail", format("no interface %s (have: %s)", name, concat(names, ", ")) end
        local r = hits[1]
        return is_up(r) and "pass" or "fail", flags_text(r)
      end,
    }, o)
  end

  -- Interface fields whose records hold numbers (every stats.* counter
  -- too) or a boolean: a plain value of another type ("1500", 1) could
  -- never be equal, a check that fails with "mtu is 1500, expected 1500".
  local NUMERIC = { index = true, mtu = true, txqlen = true, ifindex = true }
  -- A counter name with a typo could only ever fail ("stats.rx_errorz is
  -- nil"): the check file is wrong, and says so where it is written.
  local stat_names
  local function check_stat_name(name)
    stat_names = stat_names or links.stat_names()
    if not stat_names[name] then
      local best = suggest(tostring(name), stat_names)
      bad("interface", 1, format("unknown interface counter %s%s", show("stats." .. tostring(name)),
        best and format("; did you mean 'stats.%s'?", best) or ""))
    end
  end
  local function check_field_value(k, v)
    if k == "stats" and type(v) == "table" and not q.is_matcher(v) then
      -- (array entries test the whole stats table: no names to check)
      for name in pairs(v) do
        if type(name) == "string" then check_stat_name(name) end
      end
    elseif sub(k, 1, 6) == "stats." then
      check_stat_name(sub(k, 7))
    end
    local want
    if NUMERIC[k] or sub(k, 1, 6) == "stats." then want = "number"
    elseif k == "up" then want = "boolean" end
    if not want or type(v) == "function" or q.is_matcher(v) then return end
    local values = type(v) == "table" and v or { v }
    for _, x in ipairs(values) do
      if type(x) ~= want then
        bad("interface", 1, format("%s must be a %s, a list of them or a matcher, got %s", k, want,
          type(x) == "string" and show(x) or type(x)))
      end
    end
  end

  --- Interface fields: `interface { name = "eth0", mtu = 1500, ["stats.rx_errors"] = 0, up = true }`.
  -- @function interface
  -- @tparam table pat name and the fields expected (dotted paths too)
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage interface { name = "lo", mtu = 65536 }
  function env.interface(pat, opts)
    if type(pat) ~= "table" or q.is_matcher(pat) then
      bad("interface", 1, "pattern table expected, got " .. type(pat))
    end
    local fields, o = split_pattern("interface", pat, opts)
    if fields.name == nil then bad("interface", 1, "the pattern needs a name (a name or a matcher)") end
    name_arg("interface", fields.name)
    local with_addr = false
    local checks = {}
    for k in pairs(fields) do
      if k ~= "name" then
        if type(k) ~= "string" then bad("interface", 1, "pattern keys must be field names") end
        if sub(k, 1, 9) == "addresses" then with_addr = true end
        checks[#checks + 1] = k
      end
    end
    sort(checks)
    for _, k in ipairs(checks) do check_field_value(k, fields[k]) end
    local parts = {}
    for _, k in ipairs(checks) do parts[#parts + 1] = k .. "=" .. describe(fields[k]) end
    local desc = concat(parts, " ")
    return run_check({
      kind = "interface",
      title = format("interface %s%s", describe(fields.name), desc ~= "" and (": " .. desc) or " exists"),
      expected = desc ~= "" and desc or "exists",
      eval = function()
        local hits, names = interfaces_named(fields.name, with_addr)
        if #hits == 0 then
          return "fail", format("no interface %s (have: %s)", describe(fields.name), concat(names, ", "))
        end
        local failing, actual = {}, {}
        for _, r in ipairs(hits) do
          local got = {}
          for _, k in ipairs(checks) do
            local v
            if k == "up" then v = is_up(r) else v = q.get(r, k) end
            got[#got + 1] = k .. "=" .. describe(v)
            if not q.test(fields[k], v, r, k) then
              failing[#failing + 1] = format("%s: %s is %s, expected %s", tostring(r.name), k,
                describe(v), describe(fields[k]))
            end
          end
          actual[#actual + 1] = tostring(r.name) .. (#got > 0 and (" " .. concat(got, " ")) or "")
        end
        if #failing > 0 then return "fail", concat(failing, "; "), failing end
        return "pass", concat(actual, "; ")
      end,
    }, o)
  end

  local ERROR_FIELDS = { "rx_errors", "tx_errors" }
  local DROP_FIELDS = { "rx_dropped", "tx_dropped" }

  --- No errors (and, unless drops = false, no drops) on an interface (or
  -- on every interface with name nil or a matcher); with window = seconds,
  -- none added over that window; max = n allows up to n.
  -- @function no_interface_errors
  -- @param[opt] name an interface name or a matcher; nil: every interface
  -- @tparam[opt] table opts drops, window, max, and the common options
  -- @treturn table the result of the check
  -- @usage no_interface_errors("eth0", { window = 5 })
  function env.no_interface_errors(name, opts)
    name_arg("no_interface_errors", name)
    local o = check_common("no_interface_errors", 2, opts, { drops = true, window = true, max = true })
    util.check_window("no_interface_errors", 2, o.window)
    util.check_limit("no_interface_errors", 2, "max", o.max)
    local fields = {}
    for _, f in ipairs(ERROR_FIELDS) do fields[#fields + 1] = f end
    if o.drops ~= false then for _, f in ipairs(DROP_FIELDS) do fields[#fields + 1] = f end end
    local max = o.max or 0
    local what = o.drops ~= false and "errors or drops" or "errors"
    local where_ = name == nil and "any interface" or describe(name)
    local window = o.window
    local function compare_counters(before, after, seconds)
      local prev = {}
      for _, r in ipairs(before) do prev[r.name] = r end
      local failing, seen = {}, {}
      for _, r in ipairs(after) do
        local p = prev[r.name]
        if p then
          for _, f in ipairs(fields) do
            local v = q.get(r, "stats." .. f)
            if v == nil then error(format("interface %s has no stats.%s", tostring(r.name), f), 0) end
            if seconds then
              local pv = q.get(p, "stats." .. f) or 0
              v = v >= pv and v - pv or v
            end
            seen[#seen + 1] = format("%s %s=%s", tostring(r.name), f, num(v))
            if v > max then failing[#failing + 1] = format("%s %s %s%s", tostring(r.name), f,
              seconds and "+" or "", num(v)) end
          end
        end
      end
      if #failing > 0 then return "fail", concat(failing, "; "), failing end
      -- nothing measured (the interface went away during the window) is
      -- no evidence of a clean interface
      if #seen == 0 then return "error", format("no interface %s at both readings", where_) end
      return "pass", format("%d counters <= %s", #seen, num(max))
    end
    -- No interface to read: the counters cannot be checked, an error (as
    -- a counter stats() does not have), never a pass.
    local function missing(names)
      return "error", format("no interface %s (have: %s)", where_, concat(names, ", "))
    end
    return run_check({
      kind = "no_interface_errors",
      title = format("no %s on %s%s", what, where_, window and format(" in %ss", num(window)) or ""),
      expected = format("%s <= %s%s", concat(fields, ", "), num(max), window and " (increase)" or ""),
      window = window,
      before = function()
        local hits, names = interfaces_named(name, false)
        return { hits = hits, names = names }
      end,
      after = function(before, seconds)
        if #before.hits == 0 then return missing(before.names) end
        return compare_counters(before.hits, interfaces_named(name, false), seconds)
      end,
      eval = function()
        local before, names = interfaces_named(name, false)
        if #before == 0 then return missing(names) end
        return compare_counters(before, before, nil)
      end,
    }, o)
  end

  -- Addresses --------------------------------------------------------------------

  local function parse_addr_arg(fname, text)
    if type(text) ~= "string" then bad(fname, 1, "address or CIDR text expected, got " .. type(text), 3) end
    local a, len = text:match("^(.-)/(%d+)$")
    a = a or text
    if not q.parse_addr(a) then bad(fname, 1, format("malformed address %s", show(text)), 3) end
    return a, len and tonumber(len)
  end

  local function addr_text(r)
    return format("%s/%s on %s", tostring(r.addr), tostring(r.prefixlen), tostring(r.interface))
  end

  local function find_addresses(a, len, iface)
    local list = fetch("addresses")
    local hits, elsewhere = {}, {}
    for _, r in ipairs(list) do
      if q.same_addr(r.addr, a) then
        if (len == nil or r.prefixlen == len) and (iface == nil or q.test(iface, r.interface, r, "interface")) then
          hits[#hits + 1] = r
        else
          elsewhere[#elsewhere + 1] = addr_text(r)
        end
      end
    end
    return hits, elsewhere
  end

  local function address_check(fname, present, text, opts)
    local a, len = parse_addr_arg(fname, text)
    local o = check_common(fname, 2, opts, { interface = true })
    local on = o.interface ~= nil and (" on " .. describe(o.interface)) or ""
    return run_check({
      kind = fname,
      title = format("address %s %s%s", text, present and "is present" or "is absent", on),
      expected = format("%s%s%s", present and "" or "no ", text, on),
      eval = function()
        local hits, elsewhere = find_addresses(a, len, o.interface)
        local got = {}
        for _, r in ipairs(hits) do got[#got + 1] = addr_text(r) end
        if present then
          if #hits > 0 then return "pass", concat(got, "; ") end
          return "fail", #elsewhere > 0 and concat(elsewhere, "; ") or "not found"
        end
        if #hits > 0 then return "fail", concat(got, "; ") end
        return "pass", "not found" .. (#elsewhere > 0 and (" (" .. concat(elsewhere, "; ") .. ")") or "")
      end,
    }, o)
  end

  --- The address (with its prefix length, if given) is configured.
  -- @function address_present
  -- @tparam string text an address, or address/prefixlen
  -- @tparam[opt] table opts interface, and the common options
  -- @treturn table the result of the check
  -- @usage address_present("127.0.0.1/8", { interface = "lo" })
  function env.address_present(text, opts) return address_check("address_present", true, text, opts) end
  --- The address is not configured.
  -- @function address_absent
  -- @tparam string text an address, or address/prefixlen
  -- @tparam[opt] table opts interface, and the common options
  -- @treturn table the result of the check
  -- @usage address_absent "198.51.100.7"
  function env.address_absent(text, opts) return address_check("address_absent", false, text, opts) end
end

return M
