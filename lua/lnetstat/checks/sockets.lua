--- lnetstat.check's socket assertions: listening_only, is_listening,
-- not_listening, no_connection, has_connection.
-- (Check files call these assertions; they are documented in lnetstat.check.)
-- @submodule lnetstat.check
local q = require "lnetstat.query"
local util = require "lnetstat.checks.util"
local patterns = require "lnetstat.checks.patterns"

local type, pairs, ipairs, tostring, format, concat =
  type, pairs, ipairs, tostring, string.format, table.concat
local describe = util.describe
local is_integer = require("lnetstat.util").is_integer
local bad = util.bad
local is_list = util.is_list
local describe_socket = util.describe_socket
local LISTEN_ALIASES = util.LISTEN_ALIASES
local COMMON_OPTS = util.COMMON_OPTS
local check_common = util.check_common
local compile_socket_pattern = patterns.compile_socket_pattern
local match_socket = patterns.match_socket
local LISTEN_STATES = patterns.LISTEN_STATES
local protos_of = patterns.protos_of
local in_protos = patterns.in_protos
local owner_note = patterns.owner_note

local M = {}

-- Adds the assertions to the sandbox env of one check file.
-- @tparam table env the sandbox
-- @tparam table k the file's run, ctx, fetch, fetch_raw, run_check, refetcher
function M.install(env, kit)
  local fetch = kit.fetch
  local run_check = kit.run_check

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
      if match_socket(c, r, true) == "match" then return true end
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

  --- Exactly these listeners, no other and none missing. A listener
  -- several processes hold matches an entry (or the ignore) only when
  -- each of them has an owner the entry allows.
  -- @function listening_only
  -- @tparam table spec a list of socket patterns (proto, port, addr, program,
  --   user, ... ; optional = true, required = true), plus ignore (a pattern of
  --   listeners left out) and proto (the protocols audited, default tcp and udp)
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage listening_only {
  --   { proto = "tcp", port = 22, program = "sshd" },
  --   ignore = { addr = loopback },
  -- }
  function env.listening_only(spec, opts)
    local entries, o = split_entries("listening_only", spec, opts, LISTEN_EXTRA)
    local scope = o.proto and patterns.check_protos("listening_only", 1, "proto", o.proto, 2) or { "tcp", "udp" }
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
    kit.need_sockets(scope, true)
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
              local m = match_socket(c, r, true)
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
              local stray = patterns.stray_owners(r, first_wrong.owner)
              wrong[#wrong + 1] = format("wrong owner: %s; expected %s%s", describe_socket(r), first_wrong.desc,
                #stray > 0 and #stray < #(patterns.owners_of(r) or {}) and ("; also held by " .. concat(stray, ", "))
                or "")
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
    local c, o = socket_pattern_arg(fname, pat, opts, which == "listening" and LISTEN_ALIASES or util.CONN_ALIASES,
      nil)
    local title = which == "listening" and ("nothing listens on " .. c.desc) or ("no connection " .. c.desc)
    kit.need_sockets(protos_of(c), true, which ~= "listening")
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
    local c, o = socket_pattern_arg(fname, pat, opts, which == "listening" and LISTEN_ALIASES or util.CONN_ALIASES,
      { count = true })
    if o.count ~= nil and not (is_integer(o.count) and o.count >= 1) then
      bad(fname, 1, "count must be an integer >= 1, got " .. describe(o.count), 2)
    end
    local need = o.count or 1
    kit.need_sockets(protos_of(c), true, which ~= "listening")
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
  -- @function not_listening
  -- @param pat a socket pattern, or a port number
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage not_listening { port = 25, addr = not_(loopback) }
  function env.not_listening(pat, opts)
    return absence_check("not_listening", "listening", "listener", pat, opts)
  end
  --- At least one listener (or `count = n`) matches the pattern.
  -- @function is_listening
  -- @param pat a socket pattern (count = n: at least n of them), or a port number
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage is_listening { proto = "tcp", port = 443, program = "nginx" }
  function env.is_listening(pat, opts)
    return presence_check("is_listening", "listening", "listener", pat, opts)
  end
  --- No connection (a socket that is not listening) matches the pattern;
  -- port and addr match either end (local_port, remote_port pick one).
  -- @function no_connection
  -- @param pat a socket pattern, or a port number
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage no_connection { state = "ESTABLISHED", remote_port = 6667 }
  function env.no_connection(pat, opts)
    return absence_check("no_connection", "connected", "connection", pat, opts)
  end
  --- At least one connection matches the pattern.
  -- @function has_connection
  -- @param pat a socket pattern, or a port number
  -- @tparam[opt] table opts id, title, within (seconds to retry until it passes), every, stable, skip
  -- @treturn table the result of the check
  -- @usage has_connection { remote_addr = "127.0.0.1", remote_port = 5432 }
  function env.has_connection(pat, opts)
    return presence_check("has_connection", "connected", "connection", pat, opts)
  end
end

return M
