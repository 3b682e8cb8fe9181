--- What the server embeddings (lnetstat.openresty, lnetstat.haproxy) serve,
-- without anything of either server: a snapshot, the live listeners, the
-- Prometheus text of `lnetstat metrics` and an audit run, each a plain
-- table or string, with the JSON texts they answer.
--
-- Every function here is a short blocking call into the kernel (netlink,
-- /proc/net) or, for audit, the run of one check file.
-- @module lnetstat.embed
local ns = require "lnetstat"
local json = require "lnetstat.encode.json"
local options = require "lnetstat.options"
local sockets = require "lnetstat.source.sockets"

local type, ipairs, tostring, pcall = type, ipairs, tostring, pcall

local M = {}

-- The options each function takes.
local KNOWN = {
  ["embed.listeners"] = { netns = true, proto = true },
  ["embed.snapshot"] = { netns = true },
  ["embed.metrics"] = { netns = true, prefix = true },
  ["embed.audit"] = { netns = true, file = true },
}

-- Validates opts (nil or a table of fname's options) for the public
-- function fname, as the data functions it calls would, so that an error
-- names the function the caller called; returns the options, proto as a
-- list.
local function parse(fname, opts)
  opts = options.check(fname, opts, KNOWN[fname])
  local out = { netns = opts.netns, prefix = opts.prefix, file = opts.file }
  local netns = options.netns(fname, 1, opts.netns)
  if opts.proto ~= nil then
    out.proto = options.enum_list(fname, 1, "proto", opts.proto, sockets.PROTOS)
  end
  if fname == "embed.metrics" then
    if netns == options.ALL_NETNS then
      options.argerror(fname, 1, "netns 'all' is not supported: one namespace per scrape")
    end
    local p = opts.prefix
    if p ~= nil and (type(p) ~= "string" or not p:match("^[%a_:][%w_:]*$")) then
      options.argerror(fname, 1, "prefix must be a metric name prefix, got " .. options.show(p))
    end
  elseif fname == "embed.audit" and type(opts.file) ~= "string" then
    options.argerror(fname, 1, "file must be the path of a check file")
  end
  return out
end

-- opts for the public function fname, validated; errors are raised at the
-- caller's line.
local function check_opts(fname, opts)
  return options.validate(parse, fname, opts)
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
  opts = check_opts("embed.listeners", opts)
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
  opts = check_opts("embed.snapshot", opts)
  local list, err = M.listeners { netns = opts.netns }
  if not list then return nil, err end
  local netns = opts.netns ~= "all" and opts.netns or nil
  local st, serr = ns.stats { only = { "Tcp", "TcpExt" }, netns = netns }
  if not st then return nil, "stats: " .. tostring(serr) end
  local tcp, ext = st.Tcp or {}, st.TcpExt or {}
  return {
    time = os.time(),
    listening = list,
    counters = { CurrEstab = tcp.CurrEstab, ActiveOpens = tcp.ActiveOpens,
      PassiveOpens = tcp.PassiveOpens, ListenOverflows = ext.ListenOverflows,
      ListenDrops = ext.ListenDrops },
    partial = list.partial,
  }
end

--- The Prometheus text of `lnetstat metrics`: the counters and the
-- interfaces of one namespace, the same families.
-- @tparam[opt] table opts netns, prefix ("lnetstat" default | "node")
-- @treturn string the text, or nil, message
function M.metrics(opts)
  opts = check_opts("embed.metrics", opts)
  local stats, err = ns.stats { netns = opts.netns }
  if not stats then return nil, "stats: " .. tostring(err) end
  local ifs
  ifs, err = ns.interfaces { netns = opts.netns, addresses = false }
  if not ifs then return nil, "interfaces: " .. tostring(err) end
  local format_mod = require "lnetstat.format"
  local ok, text = pcall(format_mod.prometheus, { stats = stats, interfaces = ifs }, { prefix = opts.prefix })
  if not ok then return nil, tostring(text) end
  return text
end

--- Runs one check file (see lnetstat.check) in this process. Returns
-- passed (true when every check passed), the run, and its JSON report (the
-- report of `lnetstat check --format json`).
-- @tparam table opts file (the check file), netns; sleep(seconds) for the
--   checks that retry
function M.audit(opts, sleep)
  opts = check_opts("embed.audit", opts)
  local check = require "lnetstat.check"
  local run = check.run({ opts.file }, { netns = opts.netns, sleep = sleep })
  return run.exit_code == 0, run, check.report(run, "json")
end

--- JSON text of a Lua value (lnetstat.encode.json).
M.json = json.encode

return M
