--- Routes: the routing tables (`routes`) and the route the kernel would use
-- for one address (`route_get`), from rtnetlink, with /proc/net/route and
-- /proc/net/ipv6_route as fallback.
-- @module lnetstat.source.routes
local core = require "lnetstat.core"
local options = require "lnetstat.options"
local engine = require "lnetstat.source.engine"

local type, ipairs, pairs, tostring, tonumber, error = type, ipairs, pairs, tostring, tonumber, error
local setmetatable = setmetatable
local concat = table.concat
local floor = math.floor
local find, match, format = string.find, string.match, string.format

local is_integer = options.is_integer

local M = {}

-- Test seams: the specs replace these to simulate an interrupted dump.
M._hooks = { dump = core.route_dump }

local FAMILIES = { inet = true, inet6 = true }
-- Named tables; "all" (-1) lists every table.
local TABLES = { main = 254, ["local"] = 255, default = 253, all = -1 }
local MAIN = 254

local ROUTE_OPTS = {
  family = true, table = true, netns = true, source = true, fields = true, null_entries = true,
}

-- The route vocabulary of the C core: field bits, RTF_* bits, type names.
local VOCAB = core.route_vocab
local RTF = VOCAB.rtf

-- opts.fields: the record fields to build (the C core's want bits, from
-- core.route_vocab.fields); family and dst always come. Fewer fields make
-- lighter records for a big table. flags has no bit: its letters are
-- computed here. Over rtnetlink the C core hands them over from the facts
-- of each message (see letters_by_facts); a /proc record needs the facts
-- in FLAG_FACTS as fields.
local FIELD_BITS = {}
for name, bit in pairs(VOCAB.fields) do
  if name ~= "rtf" then FIELD_BITS[name] = bit end
end
-- /proc records: the set of the RTF_* names of the file's flags column
FIELD_BITS.rtf_flags = VOCAB.fields.rtf
FIELD_BITS.cache = FIELD_BITS.cloned -- set together
local NO_BIT = { family = true, dst = true, flags = true } -- fields without a C bit
local FLAG_FACTS = { "interface", "rtf" } -- what proc_flags reads besides family and dst

-- Returns the want mask of the fields in list, whether flags is wanted,
-- and for /proc: the want mask with the facts of the flags, and those
-- fact fields (removed from its records once flags is set).
local function field_mask(fname, list)
  if type(list) ~= "table" then
    options.argerror(fname, 1, "fields must be a list of field names, got " .. type(list))
  end
  local allowed, asked, bits = {}, {}, { [VOCAB.fields.family] = true, [VOCAB.fields.dst] = true }
  for k in pairs(FIELD_BITS) do allowed[k] = true end
  for k in pairs(NO_BIT) do allowed[k] = true end
  for i = 1, options.list(fname, 1, "fields", list) do
    local name = list[i]
    options.enum(fname, 1, "fields entry", name, allowed)
    asked[name] = true
    if FIELD_BITS[name] then bits[FIELD_BITS[name]] = true end
  end
  local mask = 0
  for bit in pairs(bits) do mask = mask + bit end
  local drop = nil
  if asked.flags then
    for _, name in ipairs(FLAG_FACTS) do
      if not asked[name] then
        drop = drop or {}
        drop[#drop + 1] = name
        bits[VOCAB.fields[name]] = true
      end
    end
    -- the facts of the letters bring the RTF_* names along
    if not asked.rtf_flags then
      drop = drop or {}
      drop[#drop + 1] = "rtf_flags"
    end
  end
  local proc_mask = 0
  for bit in pairs(bits) do proc_mask = proc_mask + bit end
  return mask, asked.flags == true, proc_mask, drop
end

-- netstat -r letters in net-tools' order, with their RTF_* bits.
local LETTERS = {
  { RTF.UP, "U" }, { RTF.GATEWAY, "G" }, { RTF.HOST, "H" }, { RTF.REINSTATE, "R" },
  { RTF.DYNAMIC, "D" }, { RTF.MODIFIED, "M" }, { RTF.ADDRCONF, "A" }, { RTF.CACHE, "C" },
  { RTF.REJECT, "!" },
}
-- Route types the kernel's IPv6 code marks RTF_REJECT (its IPv4 /proc file
-- marks unreachable and prohibit only): "!" for all of them, both families.
local REJECT_TYPES = { blackhole = true, unreachable = true, prohibit = true, throw = true }
local HOST_SUFFIX = { inet = "/32", inet6 = "/128" }

local function has(bits, bit) return bits % (bit * 2) >= bit end
local function with(bits, bit)
  if has(bits, bit) then return bits end
  return bits + bit
end

-- Most routes of a big table have the same letters: the text of each bit
-- set is made once.
local letters_of = setmetatable({}, { __index = function(cache, bits)
  local out = {}
  for _, l in ipairs(LETTERS) do
    if has(bits, l[1]) then out[#out + 1] = l[2] end
  end
  local text = concat(out)
  cache[bits] = text
  return text
end })

local UP, GATEWAY, HOST, REJECT = RTF.UP, RTF.GATEWAY, RTF.HOST, RTF.REJECT
local DYNAMIC, ADDRCONF = RTF.DYNAMIC, RTF.ADDRCONF

-- The letters of a record read from /proc: the file's RTF_* bits, with
-- the H, U and ! rules applied. The kernel sets RTF_HOST for IPv4 only,
-- clears RTF_UP on IPv6 reject routes, and sets RTF_REJECT on two IPv4
-- reject types only (an IPv4 route without a device or gateway is one of
-- them).
local function proc_flags(r, bits)
  local fam, dst = r.family, r.dst
  local suffix = HOST_SUFFIX[fam]
  if suffix ~= nil and type(dst) == "string" and find(dst, suffix, -#suffix, true) then
    bits = with(bits, HOST)
  end
  if fam == "inet6" and has(bits, REJECT) then bits = with(bits, UP) end
  if fam == "inet" and r.interface == nil and not has(bits, GATEWAY) then
    bits = with(bits, REJECT)
  end
  return letters_of[bits]
end

-- The facts the letters of an rtnetlink route depend on, as the C core
-- packs them (core.route_vocab.flag_facts: each fact times its multiplier;
-- a fact runs up to the next multiplier).
local FACTS = VOCAB.flag_facts
local FACT_RANGE = {}
for name, mult in pairs(FACTS) do
  local next_mult = FACTS.limit
  for _, m in pairs(FACTS) do
    if m > mult and m < next_mult then next_mult = m end
  end
  FACT_RANGE[name] = next_mult / mult
end
local function fact(facts, name)
  return floor(facts / FACTS[name]) % FACT_RANGE[name]
end

local PROTOCOLS, TYPES = VOCAB.protocols, VOCAB.types
local REDIRECT, RA = PROTOCOLS.redirect, PROTOCOLS.ra
local REJECT_TYPE_IDS = {}
for name in pairs(REJECT_TYPES) do REJECT_TYPE_IDS[TYPES[name]] = true end
local FULL_LEN = { [0] = 32, [1] = 128 } -- by the inet6 fact

-- The one rule for rtnetlink routes: the letters of packed facts. U
-- (every route), G (a gateway, or one on the first hop), H (a host
-- prefix), D (learned from a redirect), A (IPv6, learned from a router
-- advertisement), ! (a reject type).
local function letters_of_facts(facts)
  local inet6 = fact(facts, "inet6")
  local bits = UP
  if fact(facts, "gateway") == 1 or fact(facts, "hop_gateway") == 1 then bits = bits + GATEWAY end
  if fact(facts, "dst_len") == FULL_LEN[inet6] then bits = bits + HOST end
  local proto = fact(facts, "protocol")
  if proto == REDIRECT then
    bits = bits + DYNAMIC
  elseif proto == RA and inet6 == 1 then
    bits = bits + ADDRCONF
  end
  if REJECT_TYPE_IDS[fact(facts, "type")] then bits = bits + REJECT end
  return letters_of[bits]
end

-- The letters by packed facts, each made once: the C core looks each
-- route's facts up here (core.route_dump's letters), so a full table costs
-- a table read per route, not a Lua call. A table has few distinct facts;
-- past LETTERS_KEPT of them (a long-lived state shown odd tables) the text
-- is made each time instead of kept.
local LETTERS_KEPT = 4096
local letters_kept = 0
local letters_by_facts = setmetatable({}, { __index = function(cache, facts)
  if type(facts) ~= "number" or facts < 0 or facts >= FACTS.limit or facts % 1 ~= 0 then
    return nil
  end
  local text = letters_of_facts(facts)
  if letters_kept < LETTERS_KEPT then
    cache[facts] = text
    letters_kept = letters_kept + 1
  end
  return text
end })

-- The number behind a record's field as the C core sets it: a name found
-- in names, or the number itself when the kernel's value has no name; 0
-- when the field is absent.
local function number_of(value, names)
  if type(value) == "number" then return value end
  return value ~= nil and names[value] or 0
end

-- The packed facts of a record from rtnetlink (no rtf), for one record at
-- a time (route_flags, watch events): what the C core packs for a dump.
local function facts_of_record(r)
  local inet6 = r.family == "inet6" and 1 or 0
  local facts = inet6 * FACTS.inet6
  if r.gateway ~= nil then facts = facts + FACTS.gateway end
  local hops = r.nexthops
  local first = hops and hops[1]
  if first and first.gateway ~= nil then facts = facts + FACTS.hop_gateway end
  local len = type(r.dst) == "string" and tonumber(match(r.dst, "/(%d+)$"))
  if len and len < FACT_RANGE.dst_len then facts = facts + len * FACTS.dst_len end
  local proto = number_of(r.protocol, PROTOCOLS)
  if proto < FACT_RANGE.protocol then facts = facts + proto * FACTS.protocol end
  local rtype = number_of(r.type, TYPES)
  if rtype < FACT_RANGE.type then facts = facts + rtype * FACTS.type end
  return facts
end

--- The netstat -r flag letters of a route record, from its kernel facts:
-- U (every route), G (a gateway, or one on the first nexthop), H (a host
-- prefix), D (learned from a redirect), A (IPv6, learned from a router
-- advertisement), ! (a reject type). A /proc record brings the file's
-- RTF_* bits (field rtf), to which the same H, U and ! rules are applied.
-- @tparam table r a route record as the C core builds it
-- @treturn string the letters, e.g. "UG"
function M.route_flags(r)
  local rtf = r.rtf
  if rtf then return proc_flags(r, rtf) end
  return letters_by_facts[facts_of_record(r)]
end

-- Completes a /proc record: flags from the file's bits, the bits
-- themselves removed (rtf_flags names them), and the facts asked for the
-- flags only removed. (Records from rtnetlink come complete.)
local function finish_proc(q, r)
  if q.flags then r.flags = M.route_flags(r) end
  r.rtf = nil
  local drop = q.drop
  if drop then
    for i = 1, #drop do r[drop[i]] = nil end
  end
  return r
end

-- finish_proc over a list from /proc.
local function finish_list(q, list, ...)
  if list and list.source == "proc" then
    for i = 1, #list do finish_proc(q, list[i]) end
  end
  return list, ...
end

local GET_OPTS = { netns = true, from = true, oif = true, mark = true }

--- The table option of routes() and watch(): a name ("main", "local",
-- "default", "all" = -1) or an id 1..4294967295 as the table number;
-- default when t is nil. Raises fname's argument error otherwise, for
-- argument n (default 1).
function M.table_id(fname, t, default, n)
  n = n or 1
  if t == nil then return default end
  if type(t) == "number" then
    if not is_integer(t) or t < 1 or t > 4294967295 then
      options.argerror(fname, n, format("table must be a table name or an id 1..4294967295, got %s",
        tostring(t)))
    end
    return t
  end
  return TABLES[options.enum(fname, n, "table", t, TABLES)]
end

local function parse_routes_opts(fname, opts)
  opts = options.check(fname, opts, ROUTE_OPTS)
  local q = {}
  q.families = opts.family == nil and { "inet", "inet6" }
    or { options.enum(fname, 1, "family", opts.family, FAMILIES) }
  q.table = M.table_id(fname, opts.table, MAIN)
  q.source = options.source(fname, 1, opts.source)
  q.netns = options.netns(fname, 1, opts.netns)
  q.flags = true
  if opts.fields ~= nil then
    q.want, q.flags, q.proc_want, q.drop = field_mask(fname, opts.fields)
  end
  q.letters = q.flags and letters_by_facts or nil
  if opts.null_entries ~= nil and type(opts.null_entries) ~= "boolean" then
    options.argerror(fname, 1, "null_entries must be a boolean, got " .. type(opts.null_entries))
  end
  q.null_entries = opts.null_entries == true
  return q
end

-- One attempt: every family's dump into sink. Returns the count and
-- whether the kernel flagged a dump as interrupted, or nil, err, errno and
-- the count handed over before the failure.
local function dump_once(session, q, sink)
  local total, interrupted = 0, false
  for _, fam in ipairs(q.families) do
    local ok, intr, count = M._hooks.dump(session, sink, fam, q.table, q.want, q.letters)
    if not ok then return nil, intr, count, total end
    if intr then interrupted = true end
    total = total + count
  end
  return total, interrupted
end

-- One attempt of the list: a fresh list, filled.
local function list_once(session, q)
  local list = {}
  local count, interrupted, errno = dump_once(session, q, list)
  if not count then return nil, interrupted, errno end -- interrupted is the message here
  return list, interrupted
end

-- The list over rtnetlink, retried by the engine while interrupted.
local function list_netlink(session, q)
  return engine.retry("route", list_once, session, q)
end

-- Streams one netlink dump into fn. Routes already handed over cannot be
-- taken back, so an interrupted dump is not retried: the summary says so.
-- Returns the count, or nil, err, errno and the count handed over.
local function stream_netlink(session, q, fn, summary)
  local count, interrupted, errno, handed = dump_once(session, q, fn)
  if not count then return nil, interrupted, errno, handed end
  summary.source = "netlink"
  if interrupted then
    engine.note(summary, "the route dump was interrupted by concurrent changes: some routes may "
      .. "be missing or handed over twice (routes() retries; a stream cannot)")
  end
  return count
end

-- /proc/net/route is IPv4 table main only; /proc/net/ipv6_route has every
-- table, without saying which. Hands the routes to sink; notes go to
-- result.partial. Returns the count, or nil, err, errno.
local function from_proc(q, sink, result)
  local want_v4, want_v6, notes = false, false, {}
  for _, fam in ipairs(q.families) do
    if fam == "inet" then want_v4 = true else want_v6 = true end
  end
  local v4 = want_v4 and (q.table == MAIN or q.table == -1)
  if want_v4 and not v4 then
    notes[#notes + 1] = "/proc/net/route lists only table main: no IPv4 routes of this table"
  elseif v4 and q.table == -1 then
    notes[#notes + 1] = "/proc/net/route lists only table main (no local, default or custom tables)"
  end
  if want_v6 and q.table ~= -1 then
    notes[#notes + 1] = "/proc/net/ipv6_route does not name tables: IPv6 routes of every table "
      .. "are listed, with table nil"
  end
  local handles = {}
  if v4 then handles[#handles + 1] = "proc:route" end
  if want_v6 then handles[#handles + 1] = "proc:ipv6_route" end
  local total = 0
  if #handles > 0 then
    local skipped, err, errno = engine.with_session(q.netns, handles, function(session)
      local skip = 0
      for _, fam in ipairs(q.families) do
        if fam == "inet6" or v4 then
          local ok, n, count = core.proc_routes(session, sink, fam, q.proc_want or q.want,
            fam == "inet6" and q.null_entries)
          if not ok then
            -- No /proc/net/ipv6_route: IPv6 is disabled, so it has no routes;
            -- an explicit family = "inet6" still gets the error.
            if not (fam == "inet6" and count == 2 and #q.families > 1) then
              return nil, n, count
            end
          else
            skip = skip + n
            total = total + count
          end
        end
      end
      return skip
    end)
    if not skipped then return nil, err, errno end
    if skipped > 0 then
      notes[#notes + 1] = format("%d malformed lines skipped", skipped)
    end
  end
  if #notes > 0 then engine.note(result, concat(notes, "; ")) end
  result.source = "proc"
  return total
end

local function list_from_proc(q)
  local list = {}
  local count, err, errno = from_proc(q, list, list)
  if not count then return nil, err, errno end
  return list
end

--- The routing tables.
-- @tparam[opt] table opts family ("inet"|"inet6", default both), table
--   ("main" default | "local" | "default" | "all" | an id), netns, source
--   ("auto" default | "netlink" | "proc"), fields, null_entries (true: a
--   /proc answer keeps the placeholder lines of /proc/net/ipv6_route, each
--   marked null_entry = true, where netstat -r -6 shows them)
-- @treturn table list of route records, or nil, message, errno
function M.routes(opts)
  local q = options.validate(parse_routes_opts, "routes", opts)
  if engine.is_all(q) then return engine.across("list", M.routes, opts) end
  return finish_list(q, engine.netlink_or_proc(q, { "route" }, list_netlink, list_from_proc))
end

--- Streams routes: calls fn(record) for each route as the kernel hands it
-- over, without holding them all (a full Internet table of a million routes
-- would take half a GiB as a list). Same options as routes(). A dump the
-- kernel flags as interrupted is not retried (the routes are already
-- handed over): summary.partial says so.
-- @treturn integer count, table summary {source=, partial=}; or nil, message, errno
function M.each_route(opts, fn)
  local q = options.validate(parse_routes_opts, "each_route", opts)
  if type(fn) ~= "function" then
    error("bad argument #2 to 'each_route' (function expected, got " .. type(fn) .. ")", 2)
  end
  if engine.is_all(q) then return engine.stream_across(M.each_route, opts, fn) end
  local summary = {}
  -- records from rtnetlink come complete; /proc records are finished here
  local proc_fn = function(r) return fn(finish_proc(q, r)) end
  if q.source == "proc" then
    local count, err, errno = from_proc(q, proc_fn, summary)
    if not count then return nil, err, errno end
    return count, summary
  end
  -- an error raised by fn closes the socket at once, not at collection
  local count, err, errno, handed = engine.with_session(q.netns, { "route" }, stream_netlink,
    q, fn, summary)
  if count then return count, summary end
  -- /proc instead only when rtnetlink refused before any route was handed
  -- over: the stream cannot take routes back
  if not engine.falls_back(q.source, err, errno) or (handed or 0) > 0 then
    return nil, err, errno
  end
  local pcount = from_proc(q, proc_fn, summary)
  if not pcount then return nil, err, errno end
  engine.note(summary, engine.fallback_note("rtnetlink", err))
  return pcount, summary
end

local function parse_get_args(fname, addr, opts)
  if type(addr) ~= "string" then
    options.argerror(fname, 1, "address expected, got " .. type(addr))
  end
  options.no_nul(fname, 1, "address", addr)
  local fam = core.parse_cidr(addr)
  if not fam or addr:find("/", 1, true) then
    options.argerror(fname, 1, format("address expected, got %s", options.show(addr)))
  end
  opts = options.check(fname, opts, GET_OPTS, 2)
  local q = { addr = addr }
  if opts.from ~= nil then
    options.no_nul(fname, 2, "from", opts.from)
    local ffam = type(opts.from) == "string" and not opts.from:find("/", 1, true)
      and core.parse_cidr(opts.from)
    if not ffam then
      options.argerror(fname, 2, format("from must be an address, got %s", options.show(opts.from)))
    end
    if ffam ~= fam then
      options.argerror(fname, 2, format("from must be an %s address like the destination, got %s",
        fam == "inet" and "IPv4" or "IPv6", options.show(opts.from)))
    end
    q.from = opts.from
  end
  if opts.oif ~= nil then
    options.no_nul(fname, 2, "oif", opts.oif)
    -- a name (up to 15 bytes) or an alternative name (up to 127)
    if type(opts.oif) ~= "string" or opts.oif == "" or #opts.oif > 127 then
      options.argerror(fname, 2, "oif must be an interface name, got " .. options.show(opts.oif))
    end
    q.oif = opts.oif
  end
  if opts.mark ~= nil then
    if not is_integer(opts.mark) or opts.mark < 0 or opts.mark > 4294967295 then
      options.argerror(fname, 2, "mark must be an integer 0..4294967295")
    end
    q.mark = opts.mark
  end
  q.netns = options.netns(fname, 2, opts.netns)
  return q
end

--- The route the kernel would use for addr, like `ip route get`.
-- @tparam string addr an IPv4 or IPv6 address
-- @tparam[opt] table opts netns, from (source address), oif (interface
--   name or alternative name), mark (fwmark)
-- @treturn table one route record, or nil, message, errno (ENETUNREACH,
--   EHOSTUNREACH, ... when there is no usable route)
function M.route_get(addr, opts)
  local q = options.validate(parse_get_args, "route_get", addr, opts)
  if engine.is_all(q) then
    return engine.across("one", function(o) return M.route_get(addr, o) end, opts)
  end
  return engine.with_session(q.netns, { "route" }, function(session)
    return core.route_get(session, q.addr, q.from, q.oif, q.mark, letters_by_facts)
  end)
end

return M
