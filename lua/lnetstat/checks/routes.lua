--- lnetstat.check's route assertions: default_route, route_present, route_to.
-- (Check files call these assertions; they are documented in lnetstat.check.)
-- @submodule lnetstat.check
local q = require "lnetstat.query"
local util = require "lnetstat.checks.util"
local show = require("lnetstat.util").show

local type, pairs, ipairs, tostring, tonumber, format, find, concat =
  type, pairs, ipairs, tostring, tonumber, string.format, string.find, table.concat
local describe = util.describe
local bad = util.bad
local data_error = util.data_error
local num = util.num
local check_common = util.check_common
local split_pattern = util.split_pattern

local M = {}

-- Adds the assertions to the sandbox env of one check file.
-- @tparam table env the sandbox
-- @tparam table k the file's run, ctx, fetch, fetch_raw, run_check, refetcher
function M.install(env, kit)
  local fetch = kit.fetch
  local fetch_raw = kit.fetch_raw
  local run_check = kit.run_check

  -- Routes --------------------------------------------------------------------------

  local function same_prefix(a, b)
    if a == b then return true end
    if a == "default" then a = find(tostring(b), ":", 1, true) and "::/0" or "0.0.0.0/0" end
    if b == "default" then b = find(tostring(a), ":", 1, true) and "::/0" or "0.0.0.0/0" end
    local an, al = tostring(a):match("^(.-)/(%d+)$")
    local bn, bl = tostring(b):match("^(.-)/(%d+)$")
    an, bn = an or a, bn or b
    local fa = find(an, ":", 1, true) and 128 or 32
    local fb = find(bn, ":", 1, true) and 128 or 32
    return q.same_addr(an, bn) and (tonumber(al) or fa) == (tonumber(bl) or fb)
  end

  local function gateways(r)
    local out = {}
    if r.gateway then out[#out + 1] = r.gateway end
    if type(r.nexthops) == "table" then
      for _, h in ipairs(r.nexthops) do if h.gateway then out[#out + 1] = h.gateway end end
    end
    return out
  end

  local function devices(r)
    local out = {}
    if r.interface then out[#out + 1] = r.interface end
    if type(r.nexthops) == "table" then
      for _, h in ipairs(r.nexthops) do if h.interface then out[#out + 1] = h.interface end end
    end
    return out
  end

  local function via_ok(r, via)
    if via == nil then return true end
    for _, g in ipairs(gateways(r)) do
      if type(via) == "string" and q.same_addr(g, via) then return true end
      if type(via) ~= "string" and q.test(via, g, r, "gateway") then return true end
    end
    return false
  end

  local function dev_ok(r, dev)
    if dev == nil then return true end
    for _, d in ipairs(devices(r)) do
      if q.test(dev, d, r, "interface") then return true end
    end
    return false
  end

  local function route_text(r)
    local parts = { tostring(r.dst) }
    if r.type and r.type ~= "unicast" then table.insert(parts, 1, r.type) end
    local g = gateways(r)
    if #g > 0 then parts[#parts + 1] = "via " .. concat(g, ",") end
    local d = devices(r)
    if #d > 0 then parts[#parts + 1] = "dev " .. concat(d, ",") end
    if r.metric then parts[#parts + 1] = "metric " .. num(r.metric) end
    if r.table_name or r.table then parts[#parts + 1] = "table " .. tostring(r.table_name or r.table) end
    return concat(parts, " ")
  end

  local ROUTE_EXTRA = { via = true, interface = true, family = true, table = true, metric = true }

  local function route_fields(pat)
    local parts = {}
    for _, k in ipairs { "dst", "via", "interface", "metric", "table", "type" } do
      if pat[k] ~= nil then parts[#parts + 1] = (k == "dst" and "" or (k .. " ")) .. describe(pat[k]) end
    end
    return concat(parts, " ")
  end

  --- A default route exists (via a gateway, through an interface, if given).
  -- @function default_route
  -- @tparam[opt] table opts via, interface, family, table, metric, and the common options
  -- @treturn table the result of the check
  -- @usage default_route { via = "198.51.100.254", interface = "eth0" }
  function env.default_route(opts)
    local o = check_common("default_route", 1, opts, ROUTE_EXTRA)
    if o.via ~= nil and type(o.via) == "string" and not q.parse_addr(o.via) then
      bad("default_route", 1, format("via must be an address, got %s", show(o.via)))
    end
    local family = o.family or (type(o.via) == "string" and find(o.via, ":", 1, true) and "inet6") or "inet"
    if family ~= "inet" and family ~= "inet6" then bad("default_route", 1, "family must be inet or inet6") end
    local want = route_fields { via = o.via, interface = o.interface, metric = o.metric }
    return run_check({
      kind = "default_route",
      title = "default route" .. (want ~= "" and (" " .. want) or " exists") .. (family == "inet6" and " (IPv6)" or ""),
      expected = "default " .. (want ~= "" and want or "route"),
      eval = function()
        local ropts = { family = family }
        if o.table ~= nil then ropts.table = o.table end
        local list = fetch("routes", ropts)
        local defaults, hits = {}, {}
        for _, r in ipairs(list) do
          if (r.dst == "default" or r.dst == "0.0.0.0/0" or r.dst == "::/0")
            and (r.type == nil or r.type == "unicast")
            and (r.family == nil or r.family == family) then
            defaults[#defaults + 1] = route_text(r)
            if via_ok(r, o.via) and dev_ok(r, o.interface)
              and (o.metric == nil or q.test(o.metric, r.metric, r, "metric")) then
              hits[#hits + 1] = route_text(r)
            end
          end
        end
        if #hits > 0 then return "pass", concat(hits, "; ") end
        return "fail", #defaults > 0 and concat(defaults, "; ") or "no default route"
      end,
    }, o)
  end

  --- A route exists: `route_present { dst = "203.0.113.0/24", via = "198.51.100.254" }`.
  -- @function route_present
  -- @tparam table pat dst, via, interface, table, ... (route fields)
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage route_present { dst = "203.0.113.0/24", via = "198.51.100.254" }
  function env.route_present(pat, opts)
    if type(pat) ~= "table" or q.is_matcher(pat) then bad("route_present", 1, "pattern table expected") end
    if type(pat.dst) ~= "string" then bad("route_present", 1, "the pattern needs dst (CIDR text)") end
    local fields, o = split_pattern("route_present", pat, opts)
    local family = fields.family or (find(fields.dst, ":", 1, true) and "inet6" or "inet")
    local desc = route_fields(fields)
    return run_check({
      kind = "route_present",
      title = "route " .. desc,
      expected = desc,
      eval = function()
        local ropts = { family = family }
        if fields.table ~= nil then ropts.table = fields.table end
        local list = fetch("routes", ropts)
        local same_dst, hits = {}, {}
        for _, r in ipairs(list) do
          if same_prefix(r.dst, fields.dst) then
            same_dst[#same_dst + 1] = route_text(r)
            local ok = via_ok(r, fields.via) and dev_ok(r, fields.interface)
            for k, v in pairs(fields) do
              if ok and not ROUTE_EXTRA[k] and k ~= "dst" then ok = q.test(v, q.get(r, k), r, k) end
            end
            if ok and fields.metric ~= nil then ok = q.test(fields.metric, r.metric, r, "metric") end
            if ok then hits[#hits + 1] = route_text(r) end
          end
        end
        if #hits > 0 then return "pass", concat(hits, "; ") end
        return "fail", #same_dst > 0 and concat(same_dst, "; ") or ("no route to " .. fields.dst)
      end,
    }, o)
  end

  -- errno values route_get answers with when there is no usable route.
  local NO_ROUTE = { [101] = "unreachable", [113] = "unreachable", [13] = "prohibit", [22] = "blackhole" }

  --- The route the kernel would use for addr: `route_to("203.0.113.5",
  -- { interface = "eth0", via = "198.51.100.254", src = ..., type = ... })`.
  -- With type = "unreachable" (or "blackhole", "prohibit") the address must
  -- have no usable route.
  -- @function route_to
  -- @tparam string addr the destination
  -- @tparam[opt] table opts interface, via, src, type, and the common options
  -- @treturn table the result of the check
  -- @usage route_to("127.0.0.1", { interface = "lo" })
  function env.route_to(addr, opts)
    if type(addr) ~= "string" or not q.parse_addr(addr) then
      bad("route_to", 1, "address expected, got " .. describe(addr))
    end
    local o = check_common("route_to", 2, opts, { interface = true, via = true, src = true, type = true })
    local desc = route_fields { via = o.via, interface = o.interface, type = o.type }
    if o.src then desc = desc .. " src " .. describe(o.src) end
    return run_check({
      kind = "route_to",
      title = format("route to %s%s", addr, desc ~= "" and (": " .. desc) or ""),
      expected = desc ~= "" and desc or "a route",
      eval = function()
        local r, err, errno = fetch_raw("route_get", addr)
        if r == nil then
          local kind = NO_ROUTE[errno]
          if not kind then data_error(format("route_get(%s): %s", addr, tostring(err))) end
          if o.type ~= nil and q.test(o.type, kind, nil, "type") then return "pass", "no route: " .. tostring(err) end
          return "fail", "no route: " .. tostring(err)
        end
        if r[1] ~= nil then   -- netns = "all": one answer per namespace
          data_error(format("route_to(%s) reads one namespace: route_get answered one route per "
            .. "namespace (netns = \"all\"); check routes with --netns NAME", addr))
        end
        local text = route_text(r)
        if r.prefsrc then text = text .. " src " .. tostring(r.prefsrc) end
        local rtype = r.type or "unicast"
        if o.type ~= nil then
          if not q.test(o.type, rtype, r, "type") then return "fail", text end
        elseif rtype ~= "unicast" and rtype ~= "local" then
          return "fail", text
        end
        if not via_ok(r, o.via) or not dev_ok(r, o.interface) then return "fail", text end
        if o.src ~= nil then
          local ok = type(o.src) == "string" and q.same_addr(r.prefsrc, o.src) or
            (type(o.src) ~= "string" and q.test(o.src, r.prefsrc, r, "prefsrc"))
          if not ok then return "fail", text end
        end
        return "pass", text
      end,
    }, o)
  end
end

return M
