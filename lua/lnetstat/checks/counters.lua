--- lnetstat.check's counter assertions: counter_delta, counter.
-- (Check files call these assertions; they are documented in lnetstat.check.)
-- @submodule lnetstat.check
local q = require "lnetstat.query"
local util = require "lnetstat.checks.util"

local type, ipairs, format, concat =
  type, ipairs, string.format, table.concat
local describe = util.describe
local bad = util.bad
local data_error = util.data_error
local num = util.num
local check_common = util.check_common
local compare = util.compare
local check_op = util.check_op

local M = {}

-- Adds the assertions to the sandbox env of one check file.
-- @tparam table env the sandbox
-- @tparam table k the file's run, ctx, fetch, fetch_raw, run_check, refetcher
function M.install(env, kit)
  local fetch = kit.fetch
  local run_check = kit.run_check

  -- Counters ---------------------------------------------------------------------

  local function counter_paths(fname, paths)
    if type(paths) == "string" then paths = { paths } end
    if type(paths) ~= "table" or #paths == 0 then
      bad(fname, 1, "counter path (\"TcpExt.ListenOverflows\") or a list of them expected", 3)
    end
    for _, p in ipairs(paths) do
      if type(p) ~= "string" or not p:match("^[%w_]+%.[%w_%.]+$") then
        bad(fname, 1, format("counter path like \"Group.Name\" expected, got %s", describe(p)), 3)
      end
    end
    return paths
  end

  -- IcmpMsg.InType3, Icmp6.OutType135: a per-type ICMP counter, which the
  -- kernel prints only once it has counted one message of the type. The
  -- answer is the group whose presence says the file was read (Icmp for
  -- IcmpMsg, which is absent before the first message; Icmp6 itself).
  local PER_TYPE_FILE = { IcmpMsg = "Icmp", Icmp6 = "Icmp6" }
  local function per_type_file(path)
    local group, dir, n = path:match("^(%w+)%.(%a+)Type(%d+)$")
    if PER_TYPE_FILE[group] and (dir == "In" or dir == "Out") and #n <= 3 and tonumber(n) <= 255 then
      return PER_TYPE_FILE[group]
    end
  end

  local function counter_value(stats, path)
    -- with netns = "all", stats() answers a list of one table per namespace
    if type(stats) == "table" and stats[1] ~= nil then
      data_error(format("counter %s reads one namespace: stats() answered one table per "
        .. "namespace (netns = \"all\"); check counters with --netns NAME", path))
    end
    local v = q.get(stats, path)
    local file_group = v == nil and type(stats) == "table" and per_type_file(path)
    if file_group and type(stats[file_group]) == "table" then
      v = 0 -- a type the kernel has not counted yet
    end
    if type(v) ~= "number" then
      data_error(format("no counter %s in stats()", path))
    end
    return v
  end

  --- Counters must not grow by more than max (default 0), or must grow by
  -- at least min, over window seconds (two stats() snapshots); a counter
  -- that went down was reset: its increase counts from zero.
  -- @function counter_delta
  -- @param paths a dotted counter path ("TcpExt.ListenOverflows") or a list of them
  -- @tparam[opt] table opts window (seconds), max, min, max_rate, and the common options
  -- @treturn table the result of the check
  -- @usage counter_delta("TcpExt.ListenOverflows", { window = 2, max = 0 })
  function env.counter_delta(paths, opts)
    paths = counter_paths("counter_delta", paths)
    local o = check_common("counter_delta", 2, opts, { window = true, max = true, min = true, max_rate = true })
    util.check_window("counter_delta", 2, o.window)
    local window = o.window == nil and 5 or o.window
    for _, k in ipairs { "max", "min", "max_rate" } do util.check_limit("counter_delta", 2, k, o[k]) end
    local max = o.max
    if max == nil and o.min == nil and o.max_rate == nil then max = 0 end
    local limits = {}
    if max then limits[#limits + 1] = "<= " .. num(max) end
    if o.min then limits[#limits + 1] = ">= " .. num(o.min) end
    if o.max_rate then limits[#limits + 1] = "<= " .. num(o.max_rate) .. "/s" end
    local limit_text = concat(limits, " and ")
    return run_check({
      kind = "counter_delta",
      title = format("%s grows by %s in %ss", concat(paths, ", "), limit_text, num(window)),
      expected = "increase " .. limit_text,
      -- one pair of readings serves every window of the attempt: the
      -- runner sleeps the longest of them between before and after
      window = window,
      before = function()
        local s1 = fetch("stats")
        for _, p in ipairs(paths) do counter_value(s1, p) end
        return s1
      end,
      after = function(s1, seconds)
        local s2 = fetch("stats")
        local actual, failing = {}, {}
        for _, p in ipairs(paths) do
          local a, b = counter_value(s1, p), counter_value(s2, p)
          local d, note = b - a, ""
          if d < 0 then d, note = b, " (reset)" end
          local text = format("%s +%s in %ss%s", p, num(d), num(seconds), note)
          actual[#actual + 1] = text
          if (max and d > max) or (o.min and d < o.min) or (o.max_rate and d / seconds > o.max_rate) then
            failing[#failing + 1] = text
          end
        end
        if #failing > 0 then return "fail", concat(actual, "; "), failing end
        return "pass", concat(actual, "; ")
      end,
    }, o)
  end

  --- A counter's current value compares with n: `counter("Tcp.CurrEstab", "<", 5000)`.
  -- @function counter
  -- @tparam string path a dotted counter path
  -- @tparam string op "==", "~=", "<", "<=", ">" or ">="
  -- @tparam number n the number
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage counter("Tcp.CurrEstab", "<", 5000)
  function env.counter(path, op, n, opts)
    counter_paths("counter", path)
    check_op("counter", 2, op)
    if type(n) ~= "number" then bad("counter", 3, "number expected, got " .. type(n)) end
    if n ~= n then bad("counter", 3, "a number expected, got nan") end
    local o = check_common("counter", 4, opts)
    return run_check({
      kind = "counter",
      title = format("%s %s %s", path, op, num(n)),
      expected = format("%s %s", op, num(n)),
      eval = function()
        local v = counter_value(fetch("stats"), path)
        return compare(op, v, n) and "pass" or "fail", num(v)
      end,
    }, o)
  end
end

return M
