--- Audit checks: check files are plain Lua run in a sandbox that offers
-- lnetstat's data functions, the query helpers and matchers, and the
-- assertions below; each assertion records one result
-- `{id, title, status, expected, actual, details, source, duration, attempts}`
-- with status "pass", "fail", "error" or "skip".
--
-- Assertions (every one also takes the options id, title, within, every,
-- stable and skip):
--
--   listening_only { {proto="tcp", port=22, program="sshd", user="root"},
--                    {proto="tcp", port={80, 443}, program="nginx", addr=wildcard},
--                    ignore = {addr = loopback}, proto = {"tcp", "udp"} }
--   is_listening { port = 22 }          not_listening { port = 25 }
--   no_connection { state = "ESTABLISHED", remote_port = 6667 }   has_connection {...}
--   expect_count(sockets{state = "TIME_WAIT"}, "<", 10000)
--   expect(value_or_function, op_or_matcher[, expected])
--   interface_up "eth0"                 interface { name = "eth0", mtu = 1500, ["stats.rx_errors"] = 0 }
--   no_interface_errors("eth0", { drops = true, window = 5 })
--   address_present("198.51.100.1/24", { interface = "eth0" })     address_absent(...)
--   default_route { via = "198.51.100.254" }   route_present { dst = "203.0.113.0/24" }
--   route_to("203.0.113.5", { interface = "eth0", via = "198.51.100.254" })
--   counter_delta("TcpExt.ListenOverflows", { window = 5, max = 0 })
--   counter("Tcp.CurrEstab", "<", 5000)
--   check("title", function() return ok, actual end)
--   defaults { within = 30, every = 1 }  -- retries for the checks that follow
--
-- Owners: an assertion that names an owner (program, user, pid, command)
-- of a socket whose owner is unknown (not readable without root: the list
-- is `partial`; or in another pid namespace) is an error, never a pass.
-- @module lnetstat.check
local q = require "lnetstat.query"

local type, pairs, ipairs, tostring, tonumber, select, error, pcall, next =
  type, pairs, ipairs, tostring, tonumber, select, error, pcall, next
local setmetatable = setmetatable
local format, find, sub, upper = string.format, string.find, string.sub, string.upper
local concat, sort, insert = table.concat, table.sort, table.insert
local floor, min = math.floor, math.min
local unpack = rawget(table, "unpack") or rawget(_G, "unpack")

local M = { _NAME = "lnetstat.check" }

M.FORMATS = { "human", "tap", "junit", "json", "prometheus" }

--- The assertions a check file can call.
M.ASSERTIONS = { "listening_only", "is_listening", "not_listening", "no_connection", "has_connection",
  "expect_count", "expect", "check", "defaults", "interface_up", "interface", "no_interface_errors",
  "address_present", "address_absent", "default_route", "route_present", "route_to",
  "counter_delta", "counter" }

-- Utilities ------------------------------------------------------------------

local describe = q.describe

local function argerror(fname, n, msg, level)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), (level or 1) + 2)
end

-- Argument errors of the sandbox's functions: raised as a table and
-- re-raised by api() at the line of the check file that made the call.
local ArgError = {}
ArgError.__tostring = function(e) return e.msg end

local function bad(fname, n, msg)
  error(setmetatable({ msg = format("bad argument #%d to '%s' (%s)", n, fname, msg) }, ArgError), 0)
end

local pack = rawget(table, "pack") or function(...) return { n = select("#", ...), ... } end

-- Wraps a sandbox function: its argument errors point at the caller.
local function api(fn)
  return function(...)
    local res = pack(pcall(fn, ...))
    if not res[1] then
      local e = res[2]
      if getmetatable(e) == ArgError then error(e.msg, 2) end
      error(e, 0)
    end
    return unpack(res, 2, res.n)
  end
end

local function copy(t)
  local out = {}
  if t then for k, v in pairs(t) do out[k] = v end end
  return out
end

local function strip_position(msg)
  if type(msg) ~= "string" then return tostring(msg) end
  return (msg:gsub("^[^\n:]-:%d+: ", ""))
end

-- Data errors raised inside the sandbox: a table, so that an assertion can
-- tell "the data could not be read" from a bug in the check file.
local DataError = {}
DataError.__index = DataError
DataError.__tostring = function(e) return e.message end

local function data_error(msg)
  error(setmetatable({ message = msg }, DataError), 0)
end

local function errmsg(e)
  if getmetatable(e) == DataError then return e.message end
  return tostring(e)
end

local function is_list(t)
  return type(t) == "table" and not q.is_matcher(t) and #t > 0
end

local function to_list(v)
  if v == nil then return nil end
  if type(v) == "table" and not q.is_matcher(v) then return v end
  return { v }
end

local function num(v)
  if type(v) ~= "number" then return tostring(v) end
  if v == floor(v) and v > -1e15 and v < 1e15 then return format("%d", v) end
  return format("%.6g", v)
end

local function endpoint(addr, port)
  if addr == nil then addr = "*" end
  if find(addr, ":", 1, true) then addr = "[" .. addr .. "]" end
  return format("%s:%s", addr, port == nil and "*" or num(port))
end

--- One line describing a socket record and its owner:
-- "tcp 0.0.0.0:22 (sshd, pid 812, user root)".
function M.describe_socket(r)
  local parts = { r.proto or "?" }
  if r.proto == "unix" then
    parts[#parts + 1] = r.path or "*"
  else
    parts[#parts + 1] = endpoint(r.local_addr, r.local_port)
    if r.remote_port and r.remote_port ~= 0 then
      parts[#parts + 1] = "-> " .. endpoint(r.remote_addr, r.remote_port)
    end
  end
  if r.state and r.state ~= "LISTEN" and r.state ~= "UNCONN" then parts[#parts + 1] = r.state end
  if r.family == "inet6" and r.v6only == false and q.wildcard(r.local_addr) then
    parts[#parts + 1] = "dual-stack"
  end
  local owner = {}
  if r.program or r.pid then
    owner[#owner + 1] = r.program or "?"
    if r.pid then owner[#owner + 1] = "pid " .. num(r.pid) end
    local procs = r.processes
    if type(procs) == "table" and #procs > 1 then owner[#owner + 1] = format("+%d more", #procs - 1) end
  elseif r.inode == 0 or r.state == "TIME_WAIT" then
    owner[#owner + 1] = "no owner"
  else
    owner[#owner + 1] = "owner unknown"
  end
  if r.user then owner[#owner + 1] = "user " .. r.user
  elseif r.uid then owner[#owner + 1] = "uid " .. num(r.uid) end
  return concat(parts, " ") .. " (" .. concat(owner, ", ") .. ")"
end
local describe_socket = M.describe_socket

-- Clock and sleep --------------------------------------------------------------

local function read_uptime()
  local f = io.open("/proc/uptime", "r")
  if not f then return nil end
  local s = f:read("*l")
  f:close()
  return s and tonumber(s:match("^(%d+%.?%d*)"))
end

-- Seconds, monotonic: /proc/uptime (10 ms), else CPU time plus slept time.
local function default_clock_and_sleep()
  local slept = 0
  local use_uptime = read_uptime() ~= nil
  local function clock()
    if use_uptime then
      local t = read_uptime()
      if t then return t end
    end
    return os.clock() + slept
  end
  local function sleep(seconds)
    if seconds <= 0 then return end
    os.execute(format("sleep %.3f", seconds))
    slept = slept + seconds
  end
  return clock, sleep
end

-- Field sets ---------------------------------------------------------------------

local SOCKET_FIELDS = {}
for _, f in ipairs { "proto", "family", "state", "recv_q", "send_q", "local_addr", "local_port",
  "remote_addr", "remote_port", "uid", "inode", "interface", "ifindex", "cookie", "v6only", "timer",
  "timer_expires_ms", "retransmits", "protocol", "path", "type", "peer_inode", "portid",
  "dst_portid", "processes", "info", "pid", "program", "user", "command" } do
  SOCKET_FIELDS[f] = true
end
local OWNER_FIELDS = { program = true, user = true, pid = true, command = true }
local LISTEN_ALIASES = { port = "local_port", addr = "local_addr" }
local COMMON_OPTS = { id = true, title = true, within = true, every = true, stable = true, skip = true }

local function distance(a, b)
  local prev, cur = {}, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    cur[0] = i
    for j = 1, #b do
      local cost = sub(a, i, i) == sub(b, j, j) and 0 or 1
      cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev, cur = cur, prev
  end
  return prev[#b]
end

local function suggest(name, ...)
  local best, best_d
  for i = 1, select("#", ...) do
    local names = {}
    for k in pairs((select(i, ...))) do names[#names + 1] = k end
    sort(names)
    for _, k in ipairs(names) do
      local d = distance(name, k)
      if d <= 2 and (not best_d or d < best_d) then best, best_d = k, d end
    end
  end
  return best and format("; did you mean '%s'?", best) or ""
end

-- Validates the common options; returns a fresh table of them.
local function check_common(fname, n, opts, extra, level)
  level = (level or 1) + 1
  if opts == nil then return {} end
  if type(opts) ~= "table" then bad(fname, n, "options table expected, got " .. type(opts), level) end
  local out = {}
  for k, v in pairs(opts) do
    if type(k) == "string" then
      if not COMMON_OPTS[k] and not (extra and extra[k]) then
        bad(fname, n, format("unknown option '%s'%s", k, suggest(k, COMMON_OPTS, extra or {})), level)
      end
      out[k] = v
    end
  end
  for _, k in ipairs { "within", "every" } do
    if out[k] ~= nil and (type(out[k]) ~= "number" or out[k] < 0) then
      bad(fname, n, format("%s must be a number of seconds >= 0, got %s", k, describe(out[k])), level)
    end
  end
  if out.stable ~= nil and (type(out.stable) ~= "number" or out.stable < 1 or out.stable ~= floor(out.stable)) then
    bad(fname, n, "stable must be an integer >= 1", level)
  end
  if out.id ~= nil and type(out.id) ~= "string" then bad(fname, n, "id must be a string", level) end
  if out.title ~= nil and type(out.title) ~= "string" then bad(fname, n, "title must be a string", level) end
  if out.skip ~= nil and type(out.skip) ~= "string" and type(out.skip) ~= "boolean" then
    bad(fname, n, "skip must be a reason (string) or a boolean", level)
  end
  return out
end

-- Socket patterns ----------------------------------------------------------------

-- A plain address string in a pattern compares addresses, not spellings;
-- for local_addr "0.0.0.0" also matches a dual-stack [::] (it accepts IPv4
-- on every address) unless strict_family is set.
local function addr_spec(spec, is_local, strict)
  if type(spec) == "string" then
    local text = spec
    if not q.parse_addr(text) then return spec end
    local wild4 = is_local and not strict and q.wildcard(text) and not find(text, ":", 1, true)
    return q.matcher(text, function(value, record)
      if q.same_addr(value, text) then return true end
      return wild4 and q.wildcard4(value, record) or false
    end)
  elseif is_list(spec) then
    local out = {}
    for i, s in ipairs(spec) do out[i] = addr_spec(s, is_local, strict) end
    return out
  end
  return spec
end

-- family "inet" matches every socket serving IPv4 (a dual-stack [::] too)
-- unless strict_family is set.
local function family_spec(spec, strict)
  if strict then return spec end
  if spec == "inet" then return q.ipv4 end
  if is_list(spec) then
    local out = {}
    for i, s in ipairs(spec) do out[i] = family_spec(s, strict) end
    return out
  end
  return spec
end

-- Compiles a socket pattern: { sock = pattern, owner = pattern or nil,
-- protos = list or nil, desc = text, ports = list of concrete ports or nil }.
local function compile_socket_pattern(fname, n, pat, aliases, extra_keys, level)
  level = (level or 1) + 1
  if type(pat) ~= "table" or q.is_matcher(pat) then
    bad(fname, n, "pattern table expected, got " .. type(pat), level)
  end
  local c = { sock = {}, desc_parts = {} }
  local strict = pat.strict_family == true
  for k, v in pairs(pat) do
    if type(k) == "number" then
      -- array entries are record predicates
      c.sock[#c.sock + 1] = v
    elseif type(k) ~= "string" then
      bad(fname, n, "pattern keys must be field names", level)
    elseif not (extra_keys and extra_keys[k]) then
      local field = aliases and aliases[k] or k
      if not SOCKET_FIELDS[field] and not find(field, ".", 1, true) then
        bad(fname, n, format("unknown field '%s'%s", k, suggest(k, SOCKET_FIELDS, aliases or {})), level)
      end
      if type(v) == "table" and not q.is_matcher(v) and next(v) == nil then
        bad(fname, n, format("empty list for '%s'", k), level)
      end
      c.desc_parts[#c.desc_parts + 1] = k .. "=" .. describe(v)
      if OWNER_FIELDS[field] then
        c.owner = c.owner or {}
        c.owner[field] = v
      else
        local spec = v
        if field == "local_addr" then spec = addr_spec(v, true, strict)
        elseif field == "remote_addr" then spec = addr_spec(v, false, strict)
        elseif field == "family" then spec = family_spec(v, strict) end
        c.sock[field] = spec
        if field == "proto" then c.protos = to_list(v) end
        if field == "local_port" then
          if type(v) == "number" then c.ports = { v }
          elseif is_list(v) then
            local ports = {}
            for _, p in ipairs(v) do
              if type(p) == "number" then ports[#ports + 1] = p else ports = nil; break end
            end
            c.ports = ports
          end
        end
      end
    end
  end
  -- "tcp/{80, 443} addr=wildcard program=nginx"
  local proto, port = pat.proto, pat.port or pat.local_port
  local head
  if type(proto) == "string" and port ~= nil then
    head = proto .. "/" .. describe(port)
    local skip = { ["proto=" .. describe(proto)] = true, ["port=" .. describe(port)] = true,
      ["local_port=" .. describe(port)] = true }
    local rest = {}
    for _, p in ipairs(c.desc_parts) do if not skip[p] then rest[#rest + 1] = p end end
    c.desc_parts = rest
  end
  sort(c.desc_parts)
  if head then insert(c.desc_parts, 1, head) end
  c.desc = concat(c.desc_parts, " ")
  if c.desc == "" then c.desc = "any" end
  if c.protos then
    for _, p in ipairs(c.protos) do
      if type(p) ~= "string" then c.protos = nil; break end
    end
  end
  return c
end

-- The owners of a socket record as a list of {pid, program, command}.
local function owners_of(r)
  if type(r.processes) == "table" and #r.processes > 0 then return r.processes end
  if r.pid or r.program then return { { pid = r.pid, program = r.program, command = r.command } } end
  return nil
end

-- True for sockets no process owns (TIME_WAIT, not yet accepted: inode 0).
local function ownerless(r)
  return r.inode == 0 or r.state == "TIME_WAIT"
end

-- "match", "mismatch" or "unknown": does the record's owner satisfy owner?
local function owner_state(r, owner)
  if not owner then return "match" end
  if ownerless(r) and not owners_of(r) then return "mismatch" end
  if owner.user ~= nil then
    local spec = owner.user
    if type(spec) == "number" then
      if r.uid == nil then return "unknown" end
      if r.uid ~= spec then return "mismatch" end
    else
      if r.user == nil then return "unknown" end
      if not q.test(spec, r.user, r, "user") then return "mismatch" end
    end
  end
  if owner.program == nil and owner.pid == nil and owner.command == nil then return "match" end
  local procs = owners_of(r)
  if not procs then return "unknown" end
  for _, p in ipairs(procs) do
    if (owner.program == nil or q.test(owner.program, p.program, r, "program"))
      and (owner.pid == nil or q.test(owner.pid, p.pid, r, "pid"))
      and (owner.command == nil or q.test(owner.command, p.command, r, "command")) then
      return "match"
    end
  end
  return "mismatch"
end

local function sock_matches(c, r)
  return q.matches(r, c.sock)
end

-- Full match: "match", "mismatch" (socket matches, owner does not),
-- "unknown" (socket matches, owner unknown) or nil (socket does not match).
local function match_socket(c, r)
  if not sock_matches(c, r) then return nil end
  return owner_state(r, c.owner)
end

local LISTEN_STATES = { LISTEN = true, UNCONN = true }

-- Protocols a pattern (or a scope) asks for; nil = the default tcp+udp.
local function protos_of(c, scope)
  return c and c.protos or scope or { "tcp", "udp" }
end

local function in_protos(r, protos)
  for _, p in ipairs(protos) do if r.proto == p then return true end end
  return false
end

local function owner_note(list)
  return list and list.partial and (" (" .. tostring(list.partial) .. ")") or ""
end

-- The sandbox ---------------------------------------------------------------------

local DATA_FUNCTIONS = { "sockets", "listening", "connections", "routes", "route_get", "interfaces",
  "addresses", "neighbors", "stats" }

-- A check run: results plus how to get data, sleep and tell time.
local function new_run(opts)
  opts = opts or {}
  local clock, sleep = default_clock_and_sleep()
  local run = {
    results = {},
    files = {},
    data = opts.data,
    netns = opts.netns,
    clock = opts.clock or clock,
    sleep = opts.sleep or sleep,
    log = opts.log or function(s) io.stderr:write(s, "\n") end,
    defaults = copy(opts.defaults),
    origins = setmetatable({}, { __mode = "k" }),
    started = os.time(),
  }
  return run
end

local function make_env(run, file)
  local ctx = {
    run = run,
    file = file,
    chunkname = "@" .. file,
    stem = (file:match("([^/]+)$") or file):gsub("%.lua$", ""),
    n = 0,
    defaults = copy(run.defaults),
  }
  local env = {}
  local origins = run.origins

  -- Where in the check file the current assertion was called.
  local function source()
    for level = 3, 40 do
      local info = debug.getinfo(level, "Sl")
      if not info then break end
      if info.source == ctx.chunkname then
        return format("%s:%d", file, info.currentline or 0), info.currentline
      end
    end
    return file, nil
  end

  -- Data -------------------------------------------------------------------
  local function call_data(fname, a1, a2)
    local data = run.data
    local fn = data and data[fname]
    if type(fn) ~= "function" then data_error(fname .. "() is not available from this data source") end
    local opts
    if fname == "route_get" then opts = a2 else opts = a1 end
    if opts ~= nil and type(opts) ~= "table" then
      error(format("bad argument #%d to '%s' (options table expected, got %s)",
        fname == "route_get" and 2 or 1, fname, type(opts)), 0)
    end
    opts = copy(opts)
    if run.netns ~= nil and opts.netns == nil then opts.netns = run.netns end
    if fname == "route_get" then return fn(a1, opts) end
    return fn(opts)
  end

  -- Fetches or raises a DataError; argument errors keep their text.
  local function fetch(fname, a1, a2)
    local ok, res, err = pcall(call_data, fname, a1, a2)
    if not ok then
      if getmetatable(res) == DataError then error(res, 0) end
      error(strip_position(res), 0)
    end
    if res == nil then
      data_error(format("%s(): %s", fname, tostring(err or "no data")))
    end
    return res
  end

  local function fetch_raw(fname, a1, a2)
    local ok, res, err, errno = pcall(call_data, fname, a1, a2)
    if not ok then
      if getmetatable(res) == DataError then error(res, 0) end
      error(strip_position(res), 0)
    end
    return res, err, errno
  end

  for _, fname in ipairs(DATA_FUNCTIONS) do
    env[fname] = function(a1, a2)
      local ok, res = pcall(fetch, fname, a1, a2)
      if not ok then error(res, 2) end
      if type(res) == "table" then
        local desc
        if fname == "route_get" then
          desc = format("route_get(%s)", describe(a1))
        else
          desc = fname .. (a1 and describe(a1) or "()")
        end
        origins[res] = { desc = desc, refetch = function() return fetch(fname, a1, a2) end }
      end
      return res
    end
  end

  -- The query layer, with origins kept so that retries re-read.
  for k, v in pairs(q) do
    if type(k) == "string" and sub(k, 1, 1) ~= "_" then env[k] = v end
  end
  env.q = copy(q)
  env.test, env.matcher = nil, nil
  env.q.matcher = q.matcher
  env.matcher = q.matcher
  env.describe = nil
  for _, fname in ipairs { "where", "filter", "sort_by" } do
    local f = q[fname]
    env[fname] = function(list, a, b)
      local ok, res = pcall(f, list, a, b)
      if not ok then error(strip_position(res), 2) end
      local o = origins[list]
      if o then
        origins[res] = {
          desc = format("%s(%s, %s)", fname, o.desc, describe(a)),
          refetch = function() return f(o.refetch(), a, b) end,
        }
      end
      return res
    end
    env.q[fname] = env[fname]
  end

  -- Safe basics -------------------------------------------------------------
  for _, k in ipairs { "pairs", "ipairs", "type", "tostring", "tonumber", "select", "error",
    "pcall", "assert", "next", "rawequal", "xpcall" } do
    env[k] = _G[k]
  end
  env.unpack = unpack
  local function copy_lib(lib, drop)
    local out = {}
    for k, v in pairs(lib) do if not (drop and drop[k]) then out[k] = v end end
    return out
  end
  env.string = copy_lib(string, { dump = true })
  env.table = copy_lib(table)
  env.math = copy_lib(math, { randomseed = true })
  env.os = { time = os.time, clock = os.clock, date = os.date }
  env.print = function(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
    run.log(concat(parts, "\t"))
  end
  env._G = env

  -- Running one check ---------------------------------------------------------
  -- c = { title, expected, eval = function() -> status, actual, details }
  local function run_check(c, opts)
    local src, line = source()
    ctx.n = ctx.n + 1
    local result = {
      id = opts.id or format("%s.%d", ctx.stem, ctx.n),
      title = opts.title or c.title,
      kind = c.kind,
      file = file,
      line = line,
      source = src,
      expected = c.expected,
      attempts = 0,
      duration = 0,
    }
    if opts.skip then
      result.status = "skip"
      result.actual = type(opts.skip) == "string" and opts.skip or "skipped"
      run.results[#run.results + 1] = result
      return false, result
    end
    local within = opts.within
    if within == nil then within = ctx.defaults.within end
    local every = opts.every or ctx.defaults.every or 1
    local stable = opts.stable or ctx.defaults.stable or 1
    local clock, sleep = run.clock, run.sleep
    local t0 = clock()
    local passes = 0
    local status, actual, details
    while true do
      result.attempts = result.attempts + 1
      local ok, s, a, d = pcall(c.eval, result.attempts)
      if ok then
        status, actual, details = s, a, d
      else
        status, actual, details = "error", strip_position(errmsg(s)), nil
      end
      if status == "pass" then passes = passes + 1 else passes = 0 end
      if status == "skip" or (status == "pass" and passes >= stable) then break end
      if status ~= "pass" and stable > 1 and not within then break end
      local elapsed = clock() - t0
      if not within then
        if status ~= "pass" then break end
      elseif elapsed >= within then
        break
      end
      local wait = every
      if within then wait = min(every, within - elapsed) end
      sleep(wait)
    end
    if status == "pass" and passes < stable then
      status = "fail"
      actual = format("%s (passed %d consecutive samples of the %d needed)", tostring(actual), passes, stable)
    end
    result.status = status
    result.actual = actual
    if type(details) == "table" and #details > 0 then result.details = details end
    result.duration = clock() - t0
    run.results[#run.results + 1] = result
    return status == "pass", result
  end

  local function refetcher(list)
    local o = origins[list]
    return o and o.refetch, o and o.desc
  end

  -- Assertions --------------------------------------------------------------------

  -- Splits a table of entries and options: returns entries, options.
  local function split_entries(fname, t, opts, extra)
    if type(t) ~= "table" or q.is_matcher(t) then bad(fname, 1, "table expected, got " .. type(t), 2) end
    local entries, inline = {}, {}
    for k, v in pairs(t) do
      if type(k) == "number" then entries[k] = v else inline[k] = v end
    end
    local merged = check_common(fname, 1, inline, extra, 2)
    for k, v in pairs(check_common(fname, 2, opts, extra, 2)) do merged[k] = v end
    return entries, merged
  end

  local LISTEN_EXTRA = { ignore = true, proto = true }
  local ENTRY_KEYS = { optional = true, required = true, strict_family = true }

  local function compile_ignore(fname, ig)
    if ig == nil then return {} end
    if type(ig) ~= "table" or q.is_matcher(ig) then bad(fname, 1, "ignore must be a pattern or a list of them", 3) end
    local list = is_list(ig) and type(ig[1]) == "table" and not q.is_matcher(ig[1]) and ig or { ig }
    local out = {}
    for i, p in ipairs(list) do
      out[i] = compile_socket_pattern(fname, 1, p, LISTEN_ALIASES, ENTRY_KEYS, 3)
    end
    return out
  end

  local function ignored(ignores, r)
    for _, c in ipairs(ignores) do
      if match_socket(c, r) == "match" then return true end
    end
    return false
  end

  local function listeners(protos, process)
    local list = fetch("listening", { proto = protos, process = process })
    local out = {}
    for _, r in ipairs(list) do
      if in_protos(r, protos) and (r.state == nil or LISTEN_STATES[r.state]) then out[#out + 1] = r end
    end
    out.partial = list.partial
    return out
  end

  --- Exactly these listeners, no other and none missing.
  function env.listening_only(spec, opts)
    local entries, o = split_entries("listening_only", spec, opts, LISTEN_EXTRA)
    local scope = o.proto and to_list(o.proto) or { "tcp", "udp" }
    local compiled, descs = {}, {}
    for i = 1, #entries do
      local e = entries[i]
      if e == nil then bad("listening_only", 1, "entries must be a list", 2) end
      local c = compile_socket_pattern("listening_only", 1, e, LISTEN_ALIASES, ENTRY_KEYS, 2)
      c.optional = e.optional == true
      c.required = e.required == true
      c.index = i
      compiled[i] = c
      descs[i] = c.desc
    end
    local ignores = compile_ignore("listening_only", o.ignore)
    local ig_desc = o.ignore and (" ignoring " .. describe(o.ignore)) or ""
    local expected = "only " .. (#descs > 0 and concat(descs, "; ") or "nothing") .. ig_desc
    return run_check({
      kind = "listening_only",
      title = format("only the allowed sockets listen (%s)", concat(scope, "/")),
      expected = expected,
      eval = function()
        local list = listeners(scope, true)
        local unexpected, wrong, unknown, present = {}, {}, {}, {}
        local seen = {}   -- satisfied requirements per entry: [index][key] = true
        for _, c in ipairs(compiled) do seen[c.index] = {} end
        for _, r in ipairs(list) do
          if not ignored(ignores, r) then
            local verdict, first_wrong, first_unknown
            for _, c in ipairs(compiled) do
              local m = match_socket(c, r)
              if m then
                local sat = seen[c.index]
                sat[(r.proto or "?") .. "/" .. tostring(r.local_port)] = true
                sat["*/" .. tostring(r.local_port)] = true
                sat["*"] = true
                if m == "match" then verdict = "ok"; break end
                if m == "unknown" then first_unknown = first_unknown or c
                else first_wrong = first_wrong or c end
              end
            end
            if verdict == "ok" then
              present[#present + 1] = describe_socket(r)
            elseif first_unknown then
              unknown[#unknown + 1] = format("owner unknown: %s; expected %s%s", describe_socket(r),
                first_unknown.desc, owner_note(list))
            elseif first_wrong then
              wrong[#wrong + 1] = format("wrong owner: %s; expected %s", describe_socket(r), first_wrong.desc)
            else
              unexpected[#unexpected + 1] = "unexpected: " .. describe_socket(r)
            end
          end
        end
        local missing = {}
        for _, c in ipairs(compiled) do
          if not c.optional then
            local sat = seen[c.index]
            if c.ports then
              for _, p in ipairs(c.ports) do
                if c.protos then
                  for _, proto in ipairs(c.protos) do
                    if not sat[proto .. "/" .. p] then
                      missing[#missing + 1] = format("missing: %s/%d (entry: %s)", proto, p, c.desc)
                    end
                  end
                elseif not sat["*/" .. p] then
                  missing[#missing + 1] = format("missing: port %d (entry: %s)", p, c.desc)
                end
              end
            elseif c.required and not sat["*"] then
              missing[#missing + 1] = format("missing: %s", c.desc)
            end
          end
        end
        local details = {}
        for _, group in ipairs { unexpected, wrong, unknown, missing } do
          for _, line in ipairs(group) do details[#details + 1] = line end
        end
        if #details == 0 then
          return "pass", #present > 0 and concat(present, "; ") or "nothing listens"
        end
        local counts = {}
        if #unexpected > 0 then counts[#counts + 1] = #unexpected .. " unexpected" end
        if #wrong > 0 then counts[#counts + 1] = #wrong .. " with the wrong owner" end
        if #unknown > 0 then counts[#counts + 1] = #unknown .. " with an unknown owner" end
        if #missing > 0 then counts[#counts + 1] = #missing .. " missing" end
        return #unknown > 0 and "error" or "fail", concat(counts, ", ") .. ": " .. concat(details, "; "), details
      end,
    }, o)
  end

  -- A socket pattern argument: a table, or a port number.
  local function socket_pattern_arg(fname, pat, opts, aliases, extra)
    if type(pat) == "number" then pat = { port = pat } end
    local _, o = split_entries(fname, {}, opts, extra)
    if type(pat) ~= "table" or q.is_matcher(pat) then
      bad(fname, 1, "pattern table expected, got " .. type(pat), 2)
    end
    local inline = {}
    for k, v in pairs(pat) do if COMMON_OPTS[k] or (extra and extra[k]) then inline[k] = v end end
    for k, v in pairs(check_common(fname, 1, inline, extra, 2)) do if o[k] == nil then o[k] = v end end
    local fields = {}
    for k, v in pairs(pat) do if not (COMMON_OPTS[k] or (extra and extra[k])) then fields[k] = v end end
    local c = compile_socket_pattern(fname, 1, fields, aliases, ENTRY_KEYS, 2)
    return c, o
  end

  -- Sockets matching c among listeners or connections; returns the
  -- matches, the owner-unknown ones and the list.
  local function find_sockets(c, which, scope)
    local protos = protos_of(c, scope)
    local list
    if which == "listening" then
      list = listeners(protos, true)
    else
      list = fetch("connections", { proto = protos, process = true })
    end
    local hits, unknown = {}, {}
    for _, r in ipairs(list) do
      if which == "listening" or in_protos(r, protos) then
        local m = match_socket(c, r)
        if m == "match" then hits[#hits + 1] = r
        elseif m == "unknown" then unknown[#unknown + 1] = r end
      end
    end
    return hits, unknown, list
  end

  local function lines_of(list)
    local out = {}
    for i, r in ipairs(list) do out[i] = describe_socket(r) end
    return out
  end

  local function absence_check(fname, which, what, pat, opts)
    local c, o = socket_pattern_arg(fname, pat, opts, which == "listening" and LISTEN_ALIASES or nil,
      nil)
    local title = which == "listening" and ("nothing listens on " .. c.desc) or ("no connection " .. c.desc)
    return run_check({
      kind = fname,
      title = title,
      expected = format("no %s matching %s", what, c.desc),
      eval = function()
        local hits, unknown, list = find_sockets(c, which)
        local details = lines_of(hits)
        for _, r in ipairs(unknown) do
          details[#details + 1] = "owner unknown: " .. describe_socket(r) .. owner_note(list)
        end
        if #hits > 0 then return "fail", concat(lines_of(hits), "; "), details end
        if #unknown > 0 then
          return "error", format("%d matching sockets whose owner is unknown", #unknown), details
        end
        return "pass", "none"
      end,
    }, o)
  end

  local function presence_check(fname, which, what, pat, opts)
    local c, o = socket_pattern_arg(fname, pat, opts, which == "listening" and LISTEN_ALIASES or nil,
      { count = true })
    if o.count ~= nil and (type(o.count) ~= "number" or o.count < 1) then
      bad(fname, 1, "count must be a number >= 1", 2)
    end
    local need = o.count or 1
    local title = which == "listening" and ("something listens on " .. c.desc) or ("a connection " .. c.desc)
    return run_check({
      kind = fname,
      title = title,
      expected = format("%s%s matching %s", need > 1 and (need .. " ") or "", what, c.desc),
      eval = function()
        local hits, unknown, list = find_sockets(c, which)
        if #hits >= need then return "pass", concat(lines_of(hits), "; "), lines_of(hits) end
        if #unknown > 0 then
          local details = {}
          for _, r in ipairs(unknown) do
            details[#details + 1] = "owner unknown: " .. describe_socket(r) .. owner_note(list)
          end
          return "error", format("%d matching, %d more whose owner is unknown", #hits, #unknown), details
        end
        return "fail", #hits == 0 and "none" or concat(lines_of(hits), "; "), lines_of(hits)
      end,
    }, o)
  end

  --- Nothing listens matching the pattern (`not_listening { port = 25 }` or `not_listening(25)`).
  function env.not_listening(pat, opts)
    return absence_check("not_listening", "listening", "listener", pat, opts)
  end
  --- At least one listener (or `count = n`) matches the pattern.
  function env.is_listening(pat, opts)
    return presence_check("is_listening", "listening", "listener", pat, opts)
  end
  --- No connection (a socket that is not listening) matches the pattern.
  function env.no_connection(pat, opts)
    return absence_check("no_connection", "connected", "connection", pat, opts)
  end
  --- At least one connection matches the pattern.
  function env.has_connection(pat, opts)
    return presence_check("has_connection", "connected", "connection", pat, opts)
  end

  -- Comparisons ----------------------------------------------------------------
  local OPS = {
    ["=="] = function(a, b) return a == b end, ["="] = function(a, b) return a == b end,
    ["~="] = function(a, b) return a ~= b end, ["!="] = function(a, b) return a ~= b end,
    ["<"] = function(a, b) return a < b end, ["<="] = function(a, b) return a <= b end,
    [">"] = function(a, b) return a > b end, [">="] = function(a, b) return a >= b end,
  }
  local ORDERED = { ["<"] = true, ["<="] = true, [">"] = true, [">="] = true }

  local function compare(op, a, b)
    if ORDERED[op] and (type(a) ~= type(b) or (type(a) ~= "number" and type(a) ~= "string")) then
      return false
    end
    return OPS[op](a, b)
  end

  local function check_op(fname, n, op)
    if not OPS[op] then
      bad(fname, n, format("comparison operator expected (== ~= < <= > >=), got %s", describe(op)), 3)
    end
  end

  --- The number of records (a list from a data function, a function
  -- returning a list or a number, or a number) compares with n.
  function env.expect_count(subject, op, n, opts)
    local ts = type(subject)
    if ts ~= "table" and ts ~= "function" and ts ~= "number" then
      bad("expect_count", 1, "list, function or number expected, got " .. ts)
    end
    check_op("expect_count", 2, op)
    if type(n) ~= "number" then bad("expect_count", 3, "number expected, got " .. type(n)) end
    local o = check_common("expect_count", 4, opts)
    local refetch, desc
    if ts == "table" then refetch, desc = refetcher(subject) end
    desc = desc or (ts == "function" and "<function>" or (ts == "table" and "<list>" or num(subject)))
    local first = true
    return run_check({
      kind = "expect_count",
      title = format("count(%s) %s %s", desc, op, num(n)),
      expected = format("%s %s", op, num(n)),
      eval = function()
        local v
        if ts == "number" then v = subject
        elseif ts == "function" then v = subject()
        elseif first or not refetch then v = subject
        else v = refetch() end
        first = false
        if type(v) == "table" then v = #v end
        if type(v) ~= "number" then return "error", "the query gave " .. type(v) .. ", not a list or a number" end
        return compare(op, v, n) and "pass" or "fail", num(v)
      end,
    }, o)
  end

  --- A value (or the result of a function, re-run on every attempt)
  -- compares with expected (`expect(x, "<", 5)`) or matches
  -- (`expect(x, q.range(1, 5))`).
  function env.expect(subject, op, expected, opts)
    local matcher_form = not (type(op) == "string" and OPS[op])
    if matcher_form then
      if op == nil then bad("expect", 2, "operator or matcher expected, got nil") end
      opts = expected
    end
    local o = check_common("expect", matcher_form and 3 or 4, opts)
    local exp_desc = matcher_form and describe(op) or (op .. " " .. describe(expected))
    local subj = type(subject) == "function" and "<function>" or describe(subject)
    return run_check({
      kind = "expect",
      title = format("%s %s", subj, exp_desc),
      expected = exp_desc,
      eval = function()
        local v = subject
        if type(subject) == "function" then v = subject() end
        local ok
        if matcher_form then ok = q.test(op, v, v, nil) else ok = compare(op, v, expected) end
        return ok and "pass" or "fail", describe(v)
      end,
    }, o)
  end

  --- A custom check: fn() returns ok (boolean, or a status string), actual,
  -- expected; errors it raises make an error result.
  function env.check(title, fn, opts)
    if type(title) ~= "string" then bad("check", 1, "title (string) expected, got " .. type(title)) end
    if type(fn) ~= "function" then bad("check", 2, "function expected, got " .. type(fn)) end
    local o = check_common("check", 3, opts)
    local res = { kind = "check", title = title, expected = nil }
    res.eval = function()
      local ok, actual, expected = fn()
      if expected ~= nil then res.expected = tostring(expected) end
      local status
      if ok == "pass" or ok == "fail" or ok == "skip" or ok == "error" then status = ok
      else status = ok and "pass" or "fail" end
      if actual ~= nil and type(actual) ~= "string" then actual = describe(actual) end
      return status, actual
    end
    local passed, result = run_check(res, o)
    result.expected = res.expected
    return passed, result
  end

  --- Default retry options for the checks that follow in this file.
  function env.defaults(t)
    local o = check_common("defaults", 1, t)
    for _, k in ipairs { "id", "title", "skip" } do
      if o[k] ~= nil then bad("defaults", 1, "option '" .. k .. "' cannot be a default") end
    end
    for k, v in pairs(o) do ctx.defaults[k] = v end
  end

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

  --- Interface fields: `interface { name = "eth0", mtu = 1500, ["stats.rx_errors"] = 0, up = true }`.
  function env.interface(pat, opts)
    if type(pat) ~= "table" or q.is_matcher(pat) then
      bad("interface", 1, "pattern table expected, got " .. type(pat))
    end
    local fields, inline = {}, {}
    for k, v in pairs(pat) do
      if COMMON_OPTS[k] then inline[k] = v else fields[k] = v end
    end
    if fields.name == nil then bad("interface", 1, "the pattern needs a name (a name or a matcher)") end
    name_arg("interface", fields.name)
    local o = check_common("interface", 1, inline)
    for k, v in pairs(check_common("interface", 2, opts)) do o[k] = v end
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
  function env.no_interface_errors(name, opts)
    name_arg("no_interface_errors", name)
    local o = check_common("no_interface_errors", 2, opts, { drops = true, window = true, max = true })
    if o.window ~= nil and (type(o.window) ~= "number" or o.window <= 0) then
      bad("no_interface_errors", 2, "window must be a number of seconds > 0")
    end
    if o.max ~= nil and type(o.max) ~= "number" then bad("no_interface_errors", 2, "max must be a number") end
    local fields = {}
    for _, f in ipairs(ERROR_FIELDS) do fields[#fields + 1] = f end
    if o.drops ~= false then for _, f in ipairs(DROP_FIELDS) do fields[#fields + 1] = f end end
    local max = o.max or 0
    local what = o.drops ~= false and "errors or drops" or "errors"
    local where_ = name == nil and "any interface" or describe(name)
    local window = o.window
    return run_check({
      kind = "no_interface_errors",
      title = format("no %s on %s%s", what, where_, window and format(" in %ss", num(window)) or ""),
      expected = format("%s <= %s%s", concat(fields, ", "), num(max), window and " (increase)" or ""),
      eval = function()
        local before = interfaces_named(name, false)
        if #before == 0 then return "fail", "no interface " .. where_ end
        local after = before
        if window then
          run.sleep(window)
          after = interfaces_named(name, false)
        end
        local prev = {}
        for _, r in ipairs(before) do prev[r.name] = r end
        local failing, seen = {}, {}
        for _, r in ipairs(after) do
          local p = prev[r.name]
          if p then
            for _, f in ipairs(fields) do
              local v = q.get(r, "stats." .. f)
              if v == nil then error(format("interface %s has no stats.%s", tostring(r.name), f), 0) end
              if window then
                local pv = q.get(p, "stats." .. f) or 0
                v = v >= pv and v - pv or v
              end
              seen[#seen + 1] = format("%s %s=%s", tostring(r.name), f, num(v))
              if v > max then failing[#failing + 1] = format("%s %s %s%s", tostring(r.name), f,
                window and "+" or "", num(v)) end
            end
          end
        end
        if #failing > 0 then return "fail", concat(failing, "; "), failing end
        return "pass", #seen > 0 and format("%d counters <= %s", #seen, num(max)) or "no counters"
      end,
    }, o)
  end

  -- Addresses --------------------------------------------------------------------

  local function parse_addr_arg(fname, text)
    if type(text) ~= "string" then bad(fname, 1, "address or CIDR text expected, got " .. type(text), 3) end
    local a, len = text:match("^(.-)/(%d+)$")
    a = a or text
    if not q.parse_addr(a) then bad(fname, 1, format("malformed address '%s'", text), 3) end
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
  function env.address_present(text, opts) return address_check("address_present", true, text, opts) end
  --- The address is not configured.
  function env.address_absent(text, opts) return address_check("address_absent", false, text, opts) end

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
  function env.default_route(opts)
    local o = check_common("default_route", 1, opts, ROUTE_EXTRA)
    if o.via ~= nil and type(o.via) == "string" and not q.parse_addr(o.via) then
      bad("default_route", 1, format("via must be an address, got '%s'", o.via))
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
  function env.route_present(pat, opts)
    if type(pat) ~= "table" or q.is_matcher(pat) then bad("route_present", 1, "pattern table expected") end
    if type(pat.dst) ~= "string" then bad("route_present", 1, "the pattern needs dst (CIDR text)") end
    local fields, inline = {}, {}
    for k, v in pairs(pat) do
      if COMMON_OPTS[k] then inline[k] = v else fields[k] = v end
    end
    local o = check_common("route_present", 1, inline)
    for k, v in pairs(check_common("route_present", 2, opts)) do o[k] = v end
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

  local function counter_value(stats, path)
    local v = q.get(stats, path)
    if type(v) ~= "number" then
      data_error(format("no counter %s in stats()", path))
    end
    return v
  end

  --- Counters must not grow by more than max (default 0), or must grow by
  -- at least min, over window seconds (two stats() snapshots); a counter
  -- that went down was reset: its increase counts from zero.
  function env.counter_delta(paths, opts)
    paths = counter_paths("counter_delta", paths)
    local o = check_common("counter_delta", 2, opts, { window = true, max = true, min = true, max_rate = true })
    local window = o.window == nil and 5 or o.window
    if type(window) ~= "number" or window <= 0 then
      bad("counter_delta", 2, "window must be a number of seconds > 0")
    end
    for _, k in ipairs { "max", "min", "max_rate" } do
      if o[k] ~= nil and type(o[k]) ~= "number" then bad("counter_delta", 2, k .. " must be a number") end
    end
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
      eval = function()
        local s1 = fetch("stats")
        for _, p in ipairs(paths) do counter_value(s1, p) end
        run.sleep(window)
        local s2 = fetch("stats")
        local actual, failing = {}, {}
        for _, p in ipairs(paths) do
          local a, b = counter_value(s1, p), counter_value(s2, p)
          local d, note = b - a, ""
          if d < 0 then d, note = b, " (reset)" end
          local text = format("%s +%s in %ss%s", p, num(d), num(window), note)
          actual[#actual + 1] = text
          if (max and d > max) or (o.min and d < o.min) or (o.max_rate and d / window > o.max_rate) then
            failing[#failing + 1] = text
          end
        end
        if #failing > 0 then return "fail", concat(actual, "; "), bad end
        return "pass", concat(actual, "; ")
      end,
    }, o)
  end

  --- A counter's current value compares with n: `counter("Tcp.CurrEstab", "<", 5000)`.
  function env.counter(path, op, n, opts)
    counter_paths("counter", path)
    check_op("counter", 2, op)
    if type(n) ~= "number" then bad("counter", 3, "number expected, got " .. type(n)) end
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

  for _, name in ipairs(M.ASSERTIONS) do env[name] = api(env[name]) end
  return env, ctx
end

-- Loading and running files -------------------------------------------------------

local function load_chunk(src, chunkname, env)
  if sub(src, 1, 1) == "\27" then return nil, "binary chunks are not allowed" end
  local setfenv = rawget(_G, "setfenv")
  if setfenv then
    local fn, err = loadstring(src, chunkname) -- luacheck: ignore 113
    if not fn then return nil, err end
    setfenv(fn, env)
    return fn
  end
  return load(src, chunkname, "t", env)
end

local function add_file_error(run, file, msg, stem)
  local line = tonumber(tostring(msg):match(":(%d+):"))
  run.results[#run.results + 1] = {
    id = (stem or file) .. ".file",
    title = "check file " .. file .. " runs",
    kind = "file",
    file = file,
    line = line,
    source = line and format("%s:%d", file, line) or file,
    status = "error",
    expected = "the check file loads and runs",
    actual = tostring(msg),
    attempts = 1,
    duration = 0,
  }
end

--- Runs the check source text src, named name (for results and sources).
function M.run_source(run, src, name)
  if type(src) ~= "string" then argerror("run_source", 2, "string expected, got " .. type(src)) end
  if type(name) ~= "string" then argerror("run_source", 3, "string expected, got " .. type(name)) end
  run.files[#run.files + 1] = name
  local env, ctx = make_env(run, name)
  local fn, err = load_chunk(src, "@" .. name, env)
  if not fn then
    add_file_error(run, name, err, ctx.stem)
    return run
  end
  local before = #run.results
  local ok, e = pcall(fn)
  if not ok then
    local msg = errmsg(e)
    add_file_error(run, name, msg, ctx.stem)
  elseif #run.results == before then
    add_file_error(run, name, name .. ": no checks in this file", ctx.stem)
  end
  return run
end

local function finish(run, t0)
  local s = { total = 0, pass = 0, fail = 0, error = 0, skip = 0 }
  for _, r in ipairs(run.results) do
    s.total = s.total + 1
    s[r.status] = (s[r.status] or 0) + 1
  end
  run.summary = s
  run.duration = run.clock() - t0
  run.exit_code = s.error > 0 and 2 or (s.fail > 0 and 1 or 0)
  return run
end

--- Runs check files.
-- @tparam table files paths ("-" reads standard input)
-- @tparam[opt] table opts data (a table of data functions; default the
--   lnetstat module), netns, sleep(seconds), clock() -> seconds, log(text),
--   defaults = {within, every, stable}
-- @treturn table the run: results, summary {total, pass, fail, error, skip},
--   files, duration, exit_code (0 pass, 1 a check failed, 2 an error)
function M.run(files, opts)
  if type(files) ~= "table" then argerror("run", 1, "list of files expected, got " .. type(files)) end
  if opts ~= nil and type(opts) ~= "table" then argerror("run", 2, "options table expected, got " .. type(opts)) end
  opts = copy(opts)
  local run = new_run(opts)
  local t0 = run.clock()
  if run.data == nil then
    local ok, ns = pcall(require, "lnetstat")
    if ok then
      run.data = ns
      run.version = ns._VERSION
    else
      run.data = {}
      run.data_error = "cannot load lnetstat: " .. tostring(ns)
    end
  else
    run.version = run.data._VERSION
  end
  for _, file in ipairs(files) do
    local src, err
    if file == "-" then
      src = io.stdin:read("*a")
    else
      local f
      f, err = io.open(file, "r")
      if f then
        src = f:read("*a")
        f:close()
      end
    end
    if not src then
      run.files[#run.files + 1] = file
      add_file_error(run, file, "cannot read: " .. tostring(err))
    else
      M.run_source(run, src, file == "-" and "stdin" or file)
    end
  end
  return finish(run, t0)
end

--- Runs check source text (for embedding and tests); opts as for run.
function M.run_string(src, name, opts)
  if opts ~= nil and type(opts) ~= "table" then argerror("run_string", 3, "options table expected") end
  opts = copy(opts)
  local run = new_run(opts)
  local t0 = run.clock()
  if run.data == nil then
    local ok, ns = pcall(require, "lnetstat")
    run.data = ok and ns or {}
    run.version = ok and ns._VERSION or nil
  else
    run.version = run.data._VERSION
  end
  M.run_source(run, src, name or "check")
  return finish(run, t0)
end

--- The report of a run in one of M.FORMATS.
function M.report(run, fmt)
  fmt = fmt or "human"
  if type(run) ~= "table" or type(run.results) ~= "table" then argerror("report", 1, "run expected") end
  local known = false
  for _, f in ipairs(M.FORMATS) do if f == fmt then known = true end end
  if not known then
    argerror("report", 2, format("format must be one of %s, got %s", concat(M.FORMATS, ", "), describe(fmt)))
  end
  return require("lnetstat.report." .. fmt).render(run)
end

-- Command line -----------------------------------------------------------------------

local USAGE = [[
usage: lnetstat check FILE... [--format human|tap|junit|json|prometheus]
                              [--netns NAME] [--output FILE]
                              [--within SECONDS] [--every SECONDS]
  Runs check files (Lua; see lnetstat.check). FILE "-" reads standard input.
  --format, -f   report format (default human)
  --netns NAME   read the data of a network namespace (name, path or pid)
  --output, -o   write the report to FILE (atomically) instead of stdout
  --within S     retry failing checks for up to S seconds (default: no retry)
  --every S      seconds between retries (default 1)
Exit status: 0 all checks passed, 1 a check failed, 2 an error (a bad check
file, data that could not be read, an owner that could not be identified).
]]

-- Writes text to path through a temporary file and a rename (a Prometheus
-- textfile collector never reads half a file).
local function write_atomic(path, text)
  local tmp = format("%s.tmp.%d", path, floor(os.clock() * 1e6) % 1000000)
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  f:close()
  if not ok then os.remove(tmp); return nil, werr end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp); return nil, rerr end
  return true
end

--- `lnetstat check ...`: returns the exit code (never exits).
-- @tparam table argv the arguments after "check"
-- @tparam[opt] table opts for embedding and tests: data, sleep, clock, stdout, stderr
function M.main(argv, opts)
  opts = opts or {}
  local stdout, stderr = opts.stdout or io.stdout, opts.stderr or io.stderr
  if type(argv) ~= "table" then argv = {} end
  local files, fmt, netns, output = {}, "human", nil, nil
  local defaults = {}
  local i = 1
  local function value(name)
    i = i + 1
    local v = argv[i]
    if v == nil then error({ usage = "option " .. name .. " needs a value" }) end
    return v
  end
  local ok, err = pcall(function()
    while i <= #argv do
      local a = argv[i]
      local name, inline = tostring(a):match("^(%-%-[%w%-]+)=(.*)$")
      if name then a = name end
      local function v() if inline then return inline end return value(a) end
      if a == "-h" or a == "--help" then
        error({ help = true })
      elseif a == "--format" or a == "-f" then
        fmt = v()
      elseif a == "--netns" then
        netns = v()
      elseif a == "--output" or a == "-o" then
        output = v()
      elseif a == "--within" or a == "--every" then
        local n = tonumber(v())
        if not n or n < 0 then error({ usage = a .. " needs a number of seconds" }) end
        defaults[sub(a, 3)] = n
      elseif a == "--" then
        for j = i + 1, #argv do files[#files + 1] = argv[j] end
        break
      elseif a ~= "-" and sub(a, 1, 1) == "-" then
        error({ usage = "unknown option " .. a })
      else
        files[#files + 1] = a
      end
      i = i + 1
    end
  end)
  if not ok then
    if type(err) == "table" and err.help then stdout:write(USAGE); return 0 end
    local msg = type(err) == "table" and err.usage or tostring(err)
    stderr:write("lnetstat check: ", msg, "\n", USAGE)
    return 2
  end
  local known = false
  for _, f in ipairs(M.FORMATS) do if f == fmt then known = true end end
  if not known then
    stderr:write("lnetstat check: unknown format '", fmt, "' (", concat(M.FORMATS, ", "), ")\n")
    return 2
  end
  if #files == 0 then
    stderr:write("lnetstat check: no check file given\n", USAGE)
    return 2
  end
  if netns and tonumber(netns) then netns = tonumber(netns) end
  if output then
    -- fail before the checks run (and sleep through their windows)
    local probe = format("%s.tmp.probe", output)
    local f, perr = io.open(probe, "w")
    if not f then
      stderr:write("lnetstat check: cannot write ", output, ": ", tostring(perr), "\n")
      return 2
    end
    f:close()
    os.remove(probe)
  end
  local run = M.run(files, {
    data = opts.data, netns = netns, sleep = opts.sleep, clock = opts.clock,
    log = opts.log or function(s) stderr:write(s, "\n") end, defaults = defaults,
  })
  if run.data_error then stderr:write("lnetstat check: ", run.data_error, "\n") end
  local text = M.report(run, fmt)
  if output then
    local wok, werr = write_atomic(output, text)
    if not wok then
      stderr:write("lnetstat check: cannot write ", output, ": ", tostring(werr), "\n")
      return 2
    end
  else
    stdout:write(text)
  end
  return run.exit_code
end

return M
