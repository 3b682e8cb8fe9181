--- What the server embeddings (lnetstat.openresty, lnetstat.haproxy) serve,
-- without anything of either server: a snapshot, the live listeners, the
-- Prometheus text of `lnetstat metrics` and an audit run, each a plain
-- table or string, with the JSON texts they answer.
--
-- Every function here is a short blocking call into the kernel (netlink,
-- /proc/net) or, for audit, the run of one check file.
--
-- Requiring this module loads every module listeners, snapshot and metrics
-- use (lnetstat loads its data modules on their first call otherwise): a
-- server that requires it at start reads no Lua file at run time, where
-- HAProxy forbids blocking file I/O and a chrooted process finds none.
-- @module lnetstat.embed
local ns = require "lnetstat"
local json = require "lnetstat.encode.json"
local options = require "lnetstat.options"
local sockets = require "lnetstat.source.sockets"
require "lnetstat.source.counters"
require "lnetstat.source.links"
local prometheus = require("lnetstat.format.prometheus").prometheus

local type, pairs, ipairs, tostring, pcall, error = type, pairs, ipairs, tostring, pcall, error

local M = {}

-- The options each function takes.
local KNOWN = {
  listeners = { netns = true, proto = true },
  snapshot = { netns = true },
  metrics = { netns = true, prefix = true },
  audit = { netns = true, file = true },
}

-- Validates opts (nil or a table) as the function kind of this module
-- would, as the data functions it calls would, so that an error names
-- fname, the function the caller called; extra: a set of further option
-- names fname takes (checked by the caller). Returns the options, proto as
-- a list.
local function parse(kind, fname, opts, extra, n)
  n = n or 1
  local known = KNOWN[kind]
  if extra then
    known = {}
    for k in pairs(KNOWN[kind]) do known[k] = true end
    for k in pairs(extra) do known[k] = true end
  end
  opts = options.check(fname, opts, known, n)
  local out = { netns = opts.netns, prefix = opts.prefix, file = opts.file }
  local netns = options.netns(fname, n, opts.netns)
  if opts.proto ~= nil then
    out.proto = options.enum_list(fname, n, "proto", opts.proto, sockets.PROTOS)
  end
  if kind == "metrics" then
    if netns == options.ALL_NETNS then
      options.argerror(fname, n, "netns 'all' is not supported: one namespace per scrape")
    end
    local p = opts.prefix
    if p ~= nil and (type(p) ~= "string" or not p:match("^[%a_:][%w_:]*$")) then
      options.argerror(fname, n, "prefix must be a metric name prefix, got " .. options.show(p))
    end
  elseif kind == "audit" and type(opts.file) ~= "string" then
    options.argerror(fname, n, "file must be the path of a check file")
  end
  return out
end

-- opts for the public function embed.kind, validated; errors are raised at
-- the caller's line.
local function check_opts(kind, opts)
  return options.validate(parse, kind, "embed." .. kind, opts)
end

--- Validates the options a server helper takes before it calls kind
-- ("listeners", "snapshot", "metrics" or "audit") with them, as kind would
-- check them, with errors naming fname (the function the caller called)
-- at the caller's line: a configuration mistake shows when the server
-- loads its configuration, not at the first request or sample.
-- @tparam string kind the function of this module the options are for
-- @tparam string fname the name errors give
-- @param opts nil or a table of options
-- @tparam[opt] table extra a set of further option names fname takes
-- @tparam[opt=1] integer n the argument number opts is to fname
-- @treturn table the options, proto as a list
function M.check_options(kind, fname, opts, extra, n)
  if not KNOWN[kind] then
    error("bad argument #1 to 'check_options' (listeners, snapshot, metrics or audit expected, got "
      .. options.show(kind) .. ")", 2)
  end
  return options.validate(parse, kind, fname, opts, extra, n)
end

-- The fields the endpoints show (proto, family and state always come).
local FIELDS = { "local_addr", "local_port" }

-- What the endpoints show of a listening socket.
local function brief(list)
  local out = {}
  for i, s in ipairs(list) do
    out[i] = { proto = s.proto, family = s.family, state = s.state, local_addr = s.local_addr,
      local_port = s.local_port, netns = s.netns }
  end
  return out
end

--- The listening TCP and UDP sockets, briefly: a list of {proto, family,
-- state, local_addr, local_port, netns}, with partial when the answer is.
-- @tparam[opt] table opts netns (a name, a path, a pid or "all"), proto
--   (default {"tcp", "udp"})
-- @treturn table the list, or nil, message
function M.listeners(opts)
  opts = check_opts("listeners", opts)
  local protos = opts.proto or { "tcp", "udp" }
  -- TCP asked for LISTEN alone: the kernel then walks only its listening
  -- hash (state "listening" would add CLOSE, which walks every
  -- connection's: twenty times the cost on a big host); the datagram
  -- protocols for UNCONN
  local tcp, other = {}, {}
  for _, p in ipairs(protos) do
    if p == "tcp" then tcp[1] = p else other[#other + 1] = p end
  end
  local out, partial = {}, nil
  for _, q in ipairs { { tcp, "LISTEN" }, { other, "UNCONN" } } do
    if #q[1] > 0 then
      local list, err = ns.sockets { proto = q[1], state = q[2], netns = opts.netns, fields = FIELDS }
      if not list then return nil, "listening: " .. tostring(err) end
      for _, r in ipairs(brief(list)) do out[#out + 1] = r end
      if list.partial then partial = partial and (partial .. "; " .. list.partial) or list.partial end
    end
  end
  out.partial = partial
  return out
end

--- One snapshot: {time (epoch seconds), listening (as listeners()),
-- counters = {CurrEstab, ActiveOpens, PassiveOpens, ListenOverflows,
-- ListenDrops}, partial}. With netns = "all", counters are those of the
-- caller's own namespace.
-- @tparam[opt] table opts netns
-- @treturn table the snapshot, or nil, message
function M.snapshot(opts)
  opts = check_opts("snapshot", opts)
  local list, err = M.listeners { netns = opts.netns }
  if not list then return nil, err end
  local netns = opts.netns ~= "all" and opts.netns or nil
  local st, serr = ns.stats { only = { "Tcp", "TcpExt" }, netns = netns }
  if not st then return nil, "stats: " .. tostring(serr) end
  local tcp, ext = st.Tcp or {}, st.TcpExt or {}
  -- counters that did not come (a chrooted server has no /proc/net) are
  -- said so, not left for the reader to notice
  local partial = list.partial
  local function note(text) partial = partial and (partial .. "; " .. text) or text end
  if st.partial then note("stats: " .. tostring(st.partial)) end
  if not st.Tcp or not st.TcpExt then note("stats: no Tcp or TcpExt counters (is /proc/net readable?)") end
  return {
    time = os.time(),
    listening = list,
    counters = { CurrEstab = tcp.CurrEstab, ActiveOpens = tcp.ActiveOpens,
      PassiveOpens = tcp.PassiveOpens, ListenOverflows = ext.ListenOverflows,
      ListenDrops = ext.ListenDrops },
    partial = partial,
  }
end

--- The Prometheus text of `lnetstat metrics`: the counters and the
-- interfaces of one namespace, the same families.
-- @tparam[opt] table opts netns, prefix ("lnetstat" default | "node")
-- @treturn string the text, or nil, message
function M.metrics(opts)
  opts = check_opts("metrics", opts)
  local stats, err = ns.stats { netns = opts.netns }
  if not stats then return nil, "stats: " .. tostring(err) end
  local ifs
  ifs, err = ns.interfaces { netns = opts.netns, addresses = false }
  if not ifs then return nil, "interfaces: " .. tostring(err) end
  local ok, text = pcall(prometheus, { stats = stats, interfaces = ifs }, { prefix = opts.prefix })
  if not ok then return nil, tostring(text) end
  return text
end

--- Runs one check file (see lnetstat.check) in this process. Returns
-- passed (true when every check passed), the run, and its JSON report (the
-- report of `lnetstat check --format json`).
-- @tparam table opts file (the check file), netns; sleep(seconds) for the
--   checks that retry
function M.audit(opts, sleep)
  opts = check_opts("audit", opts)
  local check = require "lnetstat.check"
  local run = check.run({ opts.file }, { netns = opts.netns, sleep = sleep })
  return run.exit_code == 0, run, check.report(run, "json")
end

--- JSON text of a Lua value (lnetstat.encode.json).
M.json = json.encode

return M
