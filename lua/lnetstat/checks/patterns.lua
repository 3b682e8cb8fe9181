-- Socket patterns of lnetstat.check: compiling them, matching sockets and
-- their owners.
-- @module lnetstat.checks.patterns
local q = require "lnetstat.query"
local util = require "lnetstat.checks.util"

local type, pairs, ipairs, tostring, next, format, find, concat, sort, insert =
  type, pairs, ipairs, tostring, next, string.format, string.find, table.concat, table.sort, table.insert
local describe = util.describe
local bad = util.bad
local is_list = util.is_list
local to_list = util.to_list
local SOCKET_FIELDS = util.SOCKET_FIELDS
local OWNER_FIELDS = util.OWNER_FIELDS
local suggest = util.suggest

local M = {}

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

M.compile_socket_pattern = compile_socket_pattern
M.owners_of = owners_of
M.ownerless = ownerless
M.owner_state = owner_state
M.sock_matches = sock_matches
M.match_socket = match_socket
M.LISTEN_STATES = LISTEN_STATES
M.protos_of = protos_of
M.in_protos = in_protos
M.owner_note = owner_note

return M
