-- Socket patterns of lnetstat.check: compiling them, matching sockets and
-- their owners.
-- @module lnetstat.checks.patterns
local core = require "lnetstat.core"
local q = require "lnetstat.query"
local util = require "lnetstat.checks.util"
local lutil = require "lnetstat.util"

local type, pairs, ipairs, tostring, next, pcall, format, find, sub, concat, sort, insert =
  type, pairs, ipairs, tostring, next, pcall, string.format, string.find, string.sub, table.concat, table.sort,
  table.insert
local is_integer, show = lutil.is_integer, lutil.show
local describe = util.describe
local bad = util.bad
local is_list = util.is_list
local to_list = util.to_list
local SOCKET_FIELDS = util.SOCKET_FIELDS
local OWNER_FIELDS = util.OWNER_FIELDS
local suggest = util.suggest

local M = {}

-- Socket patterns ----------------------------------------------------------------

-- The vocabularies of the data functions (see lnetstat's sockets()).
local PROTOS = { tcp = true, udp = true, udplite = true, raw = true, unix = true, packet = true,
  netlink = true }
local FAMILIES = { inet = true, inet6 = true }
-- State names as records carry them: the kernel's (core.socket_states;
-- NEW_SYN_RECV is reported as SYN_RECV, BOUND_INACTIVE never) and UNCONN.
local STATES = { UNCONN = true }
for name in pairs(core.socket_states) do
  if name ~= "NEW_SYN_RECV" and name ~= "BOUND_INACTIVE" then STATES[name] = true end
end
-- ss spellings, as sockets() accepts them.
local STATE_ALIASES = { ESTAB = "ESTABLISHED", FIN_WAIT_1 = "FIN_WAIT1", FIN_WAIT_2 = "FIN_WAIT2",
  UNCONNECTED = "UNCONN" }

-- A value as an error message names it: strings quoted, numbers as numbers.
local function shown(v)
  if type(v) == "string" then return show(v) end
  if type(v) == "table" then return "a table" end
  return describe(v)
end

local function names_of(set)
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  sort(out)
  return concat(out, ", ")
end

-- Validators of plain pattern values, by field: each returns the value to
-- match with (a state in its canonical spelling, a CIDR as a matcher ...)
-- or nil, what the field takes.
local function port_value(v)
  if is_integer(v) and v >= 0 and v <= 65535 then return v end
  return nil, "a port 0..65535, a list of them or a matcher (range(lo, hi) for a range)"
end

local function enum_value(set)
  local what = "one of " .. names_of(set)
  return function(v)
    if type(v) == "string" and set[v] then return v end
    return nil, what, set
  end
end

local STATE_WHAT = "a state name (" .. names_of(STATES) .. "; ss spellings too)"
local function state_value(v)
  if type(v) ~= "string" then return nil, STATE_WHAT end
  local name = v:upper():gsub("-", "_")
  name = STATE_ALIASES[name] or name
  if STATES[name] then return name end
  return nil, STATE_WHAT, STATES, name
end

-- A plain address compares addresses, not spellings (an IPv4 address and
-- its IPv4-mapped form are the same); for local_addr "0.0.0.0" also
-- matches a dual-stack [::] (it accepts IPv4 on every address) unless
-- strict_family is set. A CIDR matches the addresses it holds, an IPv4
-- CIDR their IPv4-mapped forms too (as q.cidr).
local function addr_value(is_local, strict)
  local what = "an address or CIDR text"
  return function(text)
    if type(text) ~= "string" then return nil, what end
    if find(text, "/", 1, true) then
      local ok, m = pcall(q.cidr, text)
      if not ok then return nil, what end
      return m
    end
    if not q.parse_addr(text) then return nil, what end
    local wild4 = is_local and not strict and q.wildcard(text) and not find(text, ":", 1, true)
    return q.matcher(text, function(value, record)
      if q.same_addr(value, text) then return true end
      return wild4 and q.wildcard4(value, record) or false
    end)
  end
end

local function integer_value(min, what)
  return function(v)
    if is_integer(v) and v >= min then return v end
    return nil, what
  end
end
local COUNT = integer_value(0, "an integer >= 0")

local function string_value(v)
  if type(v) == "string" then return v end
  return nil, "a string"
end

-- The kernel keeps a process name (comm, what records carry as program)
-- in 16 bytes with the NUL: "systemd-resolved" runs as "systemd-resolve".
-- A longer program name matches that comm exactly as well as its own.
local COMM_MAX = 15
local function program_value(v)
  if type(v) ~= "string" then return nil, "a string" end
  if #v <= COMM_MAX then return v end
  local comm = sub(v, 1, COMM_MAX)
  return q.matcher(v, function(value)
    return value == v or value == comm
  end)
end

local VALIDATORS = {
  proto = enum_value(PROTOS),
  state = state_value,
  local_port = port_value, remote_port = port_value,
  uid = COUNT, inode = COUNT, ifindex = COUNT, recv_q = COUNT, send_q = COUNT, retransmits = COUNT,
  protocol = COUNT, peer_inode = COUNT, portid = COUNT, dst_portid = COUNT, timer_expires_ms = COUNT,
  pid = integer_value(1, "a pid (an integer >= 1)"),
  program = program_value, command = string_value, path = string_value, interface = string_value,
  type = string_value, timer = string_value,
  user = function(v)
    if type(v) == "string" or (is_integer(v) and v >= 0) then return v end
    return nil, "a user name or a uid (an integer >= 0)"
  end,
  v6only = function(v)
    if type(v) == "boolean" then return v end
    return nil, "a boolean"
  end,
}

-- family "inet" matches every socket serving IPv4 (a dual-stack [::] too)
-- unless strict_family is set.
local function family_value(strict)
  local valid = enum_value(FAMILIES)
  return function(v)
    local ok, what, names = valid(v)
    if not ok then return nil, what, names end
    if v == "inet" and not strict then return q.ipv4 end
    return v
  end
end

-- The expectation of a pattern field, its plain values validated (and
-- compiled by validate): a matcher or function as it is, a list element by
-- element. key is the name the file wrote (port for local_port).
local function checked_spec(fname, n, key, v, validate, level)
  level = level + 1
  if type(v) == "function" or q.is_matcher(v) then return v end
  if type(v) == "table" then
    if #v == 0 then
      bad(fname, n, format("%s must be a value, a list of them or a matcher, got a table without a list part",
        key), level)
    end
    local out = {}
    for i, x in ipairs(v) do out[i] = checked_spec(fname, n, key, x, validate, level) end
    return out
  end
  local value, what, names, spelled = validate(v)
  if value == nil then
    bad(fname, n, format("%s must be %s, got %s%s", key, what, shown(v),
      names and suggest(spelled or v, names) or ""), level)
  end
  return value
end

-- Validates a proto option (a protocol or a list of them): returns the list.
local function check_protos(fname, n, key, v, level)
  if type(v) ~= "table" or q.is_matcher(v) then v = { v } end
  if #v == 0 then
    bad(fname, n, format("%s must be a protocol or a list of them, got an empty list", key), level + 1)
  end
  local valid = enum_value(PROTOS)
  for _, p in ipairs(v) do
    local ok, what, names = valid(p)
    if not ok then
      bad(fname, n, format("%s must be %s, got %s%s", key, what, shown(p), suggest(p, names)), level + 1)
    end
  end
  return v
end

-- Adds the field k (the record field field) of a pattern to c.
local function compile_field(c, fname, n, k, field, v, strict, level)
  level = level + 1
  local validate
  if field == "local_addr" then validate = addr_value(true, strict)
  elseif field == "remote_addr" then validate = addr_value(false, strict)
  elseif field == "family" then validate = family_value(strict)
  else validate = VALIDATORS[field] end
  local spec = v
  if validate then spec = checked_spec(fname, n, k, v, validate, level) end
  if OWNER_FIELDS[field] then
    c.owner = c.owner or {}
    c.owner[field] = spec
    return
  end
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

-- Compiles a socket pattern: { sock = pattern, owner = pattern or nil,
-- protos = list or nil, desc = text, ports = list of concrete ports or nil }.
local function compile_socket_pattern(fname, n, pat, aliases, extra_keys, level)
  level = (level or 1) + 1
  if type(pat) ~= "table" or q.is_matcher(pat) then
    bad(fname, n, "pattern table expected, got " .. type(pat), level)
  end
  local c = { sock = {}, desc_parts = {} }
  for _, k in ipairs { "strict_family", "optional", "required" } do
    if extra_keys and extra_keys[k] and pat[k] ~= nil and type(pat[k]) ~= "boolean" then
      bad(fname, n, format("%s must be a boolean, got %s", k, shown(pat[k])), level)
    end
  end
  local strict = pat.strict_family == true
  -- shown: without it the same pattern reads the same and matches more
  if strict then c.desc_parts[#c.desc_parts + 1] = "strict_family=true" end
  for k, v in pairs(pat) do
    if type(k) == "number" then
      -- array entries are record predicates
      if type(v) ~= "function" and type(v) ~= "table" then
        bad(fname, n, format("a pattern's list entries must be predicates (functions or matchers), got %s",
          shown(v)), level)
      end
      c.sock[#c.sock + 1] = v
    elseif type(k) ~= "string" then
      bad(fname, n, "pattern keys must be field names", level)
    elseif not (extra_keys and extra_keys[k]) then
      local field = aliases and aliases[k] or k
      if type(field) ~= "table" and not SOCKET_FIELDS[field] and not find(field, ".", 1, true) then
        bad(fname, n, format("unknown field '%s'%s", k, suggest(k, SOCKET_FIELDS, aliases or {})), level)
      end
      if type(v) == "table" and not q.is_matcher(v) and next(v) == nil then
        bad(fname, n, format("empty list for '%s'", k), level)
      end
      c.desc_parts[#c.desc_parts + 1] = k .. "=" .. describe(v)
      if type(field) == "table" then
        -- either end of a connection: port = 6667 is local_port or remote_port
        local a, b = field[1], field[2]
        local validate = a == "local_addr" and addr_value(false, strict) or VALIDATORS[a]
        local spec = checked_spec(fname, n, k, v, validate, level)
        c.sock[#c.sock + 1] = function(r)
          return q.test(spec, r[a], r, a) or q.test(spec, r[b], r, b)
        end
      else
        compile_field(c, fname, n, k, field, v, strict, level)
      end
    end
  end
  -- "tcp/{80, 443} addr=wildcard program=nginx"
  local proto, port = pat.proto, pat.local_port
  if aliases and aliases.port == "local_port" then port = port or pat.port end
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

-- True when the process p (an entry of a record's owners) is one owner
-- asks for (program, pid, command).
local function proc_matches(owner, p, r)
  return (owner.program == nil or q.test(owner.program, p.program, r, "program"))
    and (owner.pid == nil or q.test(owner.pid, p.pid, r, "pid"))
    and (owner.command == nil or q.test(owner.command, p.command, r, "command"))
end

-- "match", "mismatch" or "unknown": does the record's owner satisfy owner?
-- A socket held by several processes (a pre-fork server, a listener a
-- child inherited) satisfies it when one of them matches, or with every
-- = true only when all of them match: an allow-list lets no other process
-- hold an allowed socket.
local function owner_state(r, owner, every)
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
    local ok = proc_matches(owner, p, r)
    if ok and not every then return "match" end
    if not ok and every then return "mismatch" end
  end
  return every and "match" or "mismatch"
end

-- The owners of r that owner does not ask for, as "name (pid N)" texts.
local function stray_owners(r, owner)
  local out = {}
  if not owner then return out end
  for _, p in ipairs(owners_of(r) or {}) do
    if not proc_matches(owner, p, r) then
      out[#out + 1] = format("%s (pid %s)", tostring(p.program or "?"), tostring(p.pid or "?"))
    end
  end
  return out
end

local function sock_matches(c, r)
  return q.matches(r, c.sock)
end

-- Full match: "match", "mismatch" (socket matches, owner does not),
-- "unknown" (socket matches, owner unknown) or nil (socket does not match).
local function match_socket(c, r, every)
  if not sock_matches(c, r) then return nil end
  return owner_state(r, c.owner, every)
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

M.compile_socket_pattern = compile_socket_pattern
M.check_protos = check_protos
M.owners_of = owners_of
M.ownerless = ownerless
M.owner_state = owner_state
M.stray_owners = stray_owners
M.COMM_MAX = COMM_MAX
M.sock_matches = sock_matches
M.match_socket = match_socket
M.LISTEN_STATES = LISTEN_STATES
M.protos_of = protos_of
M.in_protos = in_protos
M.owner_note = owner_note

return M
