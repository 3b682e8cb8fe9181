--- The source engine every data function runs on: it opens a session (in
-- a network namespace or not) and closes it on every path, retries dumps
-- the kernel flags as interrupted, falls back from netlink to /proc by one
-- errno rule, and notes partial answers on the result.
--
-- The fallback rule: with source "auto", a netlink failure whose errno is
-- EPERM, ENOENT, EACCES, EPROTONOSUPPORT, EOPNOTSUPP or EAFNOSUPPORT means
-- "this netlink interface is not usable here" (refused by a sandbox, or no
-- handler in this kernel, like sock_diag for RAW sockets), and /proc
-- answers instead. A namespace that cannot be entered is never a reason to
-- fall back: /proc would be read in the same namespace.
--
-- netns = "all" (options.ALL_NETNS once validated): the call runs for the
-- caller's own namespace, then for each named one (/var/run/netns, by
-- name; a name for the caller's own namespace is not read twice). Each
-- record carries netns: the name, or nil for the caller's own. A named
-- namespace that cannot be read does not fail the call: list.partial says
-- "netns 'NAME' could not be read: ...", and list.netns_errors lists
-- { netns=, message=, errno= } for each. The caller's own namespace failing
-- fails the call, as it does without "all".
-- @module lnetstat.source.engine
local core = require "lnetstat.core"
local options = require "lnetstat.options"

local error, pcall, ipairs, pairs = error, pcall, ipairs, pairs
local format, sub = string.format, string.sub
local sort = table.sort

local M = {}

--- The errno values after which source "auto" reads /proc instead.
M.FALLBACK_ERRNO = {
  [1] = "EPERM", [2] = "ENOENT", [13] = "EACCES",
  [93] = "EPROTONOSUPPORT", [95] = "EOPNOTSUPP", [97] = "EAFNOSUPPORT",
}
local FALLBACK_ERRNO = M.FALLBACK_ERRNO

--- How many times a dump flagged NLM_F_DUMP_INTR is run again.
M.MAX_ATTEMPTS = 5

--- Adds reason to result.partial (a list or a summary); nil adds nothing.
function M.note(result, reason)
  if reason == nil then return end
  result.partial = result.partial and (result.partial .. "; " .. reason) or reason
end
local note = M.note

-- The C core words a failure to reach the namespace "netns '<path>': ..."
-- (open) or "setns: ..." (enter); anything else failed inside it.
local function namespace_failed(err)
  return sub(err, 1, 7) == "netns '" or sub(err, 1, 6) == "setns:"
end

--- True when source may answer from /proc after netlink failed with err,
-- errno: only "auto", only the errno values above, never a namespace
-- failure.
function M.falls_back(source, err, errno)
  return source == "auto" and FALLBACK_ERRNO[errno] ~= nil
    and not namespace_failed(err or "")
end

--- The note a /proc answer given instead of netlink carries.
function M.fallback_note(what, err)
  return format("%s failed (%s): read /proc instead", what, err)
end

-- Closes the session, then raises the error of pcall or returns its results.
local function finish(session, ok, ...)
  session:close()
  if not ok then error((...), 0) end
  return ...
end

--- Calls fn(session, ...) and closes the session on every path: a return,
-- a failure, or an error fn raises (raised again, unchanged, once the
-- sockets are closed). Returns what fn returns.
function M.run(session, fn, ...)
  return finish(session, pcall(fn, session, ...))
end
local run = M.run

--- Opens a session on handles (netlink sockets and /proc/net files, see
-- core.open) inside the namespace at path netns (nil: the caller's own),
-- then runs fn on it as M.run does. Returns what fn returns, or
-- nil, message, errno when the session cannot be opened.
function M.with_session(netns, handles, fn, ...)
  local session, err, errno = core.open(netns, handles)
  if not session then return nil, err, errno end
  return run(session, fn, ...)
end
local with_session = M.with_session

--- Opens the session of a query that reads netlink with /proc files at
-- hand: netlink plus proc handles, or only proc when source is "proc" or
-- when ("auto") netlink cannot be opened by the fallback rule.
-- Returns session, mode ("netlink" | "proc"), the netlink failure that
-- made it "proc" (or nil); or nil, message, errno.
function M.open(netns, source, netlink, proc)
  if source ~= "proc" then
    local handles = {}
    for _, h in ipairs(netlink) do handles[#handles + 1] = h end
    if source ~= "netlink" then
      for _, h in ipairs(proc) do handles[#handles + 1] = h end
    end
    local session, err, errno = core.open(netns, handles)
    if session then return session, "netlink" end
    if not M.falls_back(source, err, errno) then return nil, err, errno end
    local psession = core.open(netns, proc)
    if not psession then return nil, err, errno end -- the netlink reason is the real one
    return psession, "proc", err
  end
  local session, err, errno = core.open(netns, proc)
  if not session then return nil, err, errno end
  return session, "proc"
end

--- Runs attempt(...) until the kernel does not flag the dump interrupted
-- (NLM_F_DUMP_INTR: its tables changed while it ran), at most MAX_ATTEMPTS
-- times; attempt returns result, interrupted or nil, message, errno, and
-- builds a fresh result each time. When no attempt settles, the last
-- result comes back with a partial note.
function M.retry(what, attempt, ...)
  local result, interrupted, errno
  for _ = 1, M.MAX_ATTEMPTS do
    result, interrupted, errno = attempt(...)
    if not result then return nil, interrupted, errno end
    if not interrupted then return result end
  end
  note(result, format("the %s dump was interrupted %d times in a row (NLM_F_DUMP_INTR: the "
    .. "kernel's tables changed while it ran); it may be inconsistent", what, M.MAX_ATTEMPTS))
  return result
end

--- The list answer of a query q (q.netns, q.source): fetch(session, q) on a
-- session of the netlink handles, or proc(q) with source "proc", or with
-- "auto" when netlink fails by the fallback rule (the list then says why).
-- Both return a list or nil, message, errno; list.source names the one
-- that answered.
function M.netlink_or_proc(q, handles, fetch, proc)
  if q.source == "proc" then
    local list, err, errno = proc(q)
    if not list then return nil, err, errno end
    list.source = "proc"
    return list
  end
  local list, err, errno = with_session(q.netns, handles, fetch, q)
  if list then
    list.source = "netlink"
    return list
  end
  if not M.falls_back(q.source, err, errno) then return nil, err, errno end
  local plist = proc(q)
  if not plist then return nil, err, errno end -- the netlink reason is the real one
  plist.source = "proc"
  note(plist, M.fallback_note("rtnetlink", err))
  return plist
end

-- Every namespace at once ---------------------------------------------------

--- The namespaces netns = "all" reads: { {name=nil, path=nil} (the
-- caller's own), {name=, path=}, ... } (the named ones by name, without
-- those that are the caller's own); or nil, message, errno.
function M.all_namespaces()
  local named, err, errno = core.netns_list()
  if not named then return nil, err, errno end
  sort(named, function(a, b) return a.name < b.name end)
  local out = { {} }
  for _, r in ipairs(named) do
    if not r.current then out[#out + 1] = { name = r.name, path = r.path } end
  end
  return out
end

-- opts with netns replaced by path (a shallow copy; the caller's table is
-- not touched).
local function retarget(opts, path)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.netns = path
  return o
end

-- Notes a namespace that could not be read on result.
local function unreadable(result, name, err, errno)
  local errors = result.netns_errors or {}
  result.netns_errors = errors
  errors[#errors + 1] = { netns = name, message = err, errno = errno }
  note(result, format("netns '%s' could not be read: %s", name, err))
end

-- Carries what one namespace's answer says about itself to the result:
-- its partial note (prefixed with the name), and for the caller's own
-- namespace its source fields.
local function carry(result, name, part)
  if name == nil then
    result.source, result.sources = part.source, part.sources
    note(result, part.partial)
  elseif part.partial then
    note(result, format("netns '%s': %s", name, part.partial))
  end
end

--- Runs call(opts') for every namespace (opts' is opts with netns set to
-- each one) and returns one list of the records of every answer, each
-- tagged with netns. shape "list": call returns a list; "one": call
-- returns one table (stats, route_get), which becomes an entry of the
-- list. Returns the list, or nil, message, errno when the caller's own
-- namespace cannot be read.
function M.across(shape, call, opts)
  local targets, err, errno = M.all_namespaces()
  if not targets then return nil, err, errno end
  local out, n = {}, 0
  for _, t in ipairs(targets) do
    local part, perr, perrno = call(retarget(opts, t.path))
    if not part then
      if t.name == nil then return nil, perr, perrno end
      unreadable(out, t.name, perr, perrno)
    elseif shape == "one" then
      part.netns = t.name
      n = n + 1
      out[n] = part
    else
      for _, r in ipairs(part) do
        r.netns = t.name
        n = n + 1
        out[n] = r
      end
      carry(out, t.name, part)
    end
  end
  return out
end

--- The streaming form (each_socket, each_route): call(opts', fn') for
-- every namespace, where fn' tags each record with netns before fn sees
-- it. Returns the total count and one summary (source and sources of the
-- caller's own namespace, partial and netns_errors as for lists); or nil,
-- message, errno when the caller's own namespace cannot be read.
function M.stream_across(call, opts, fn)
  local targets, err, errno = M.all_namespaces()
  if not targets then return nil, err, errno end
  local summary, total = {}, 0
  for _, t in ipairs(targets) do
    local name = t.name
    local count, part, perrno = call(retarget(opts, t.path), function(r)
      r.netns = name
      return fn(r)
    end)
    if not count then
      if name == nil then return nil, part, perrno end
      unreadable(summary, name, part, perrno)
    else
      total = total + count
      carry(summary, name, part)
    end
  end
  return total, summary
end

--- True when a validated query asks for every namespace.
function M.is_all(q)
  return q.netns == options.ALL_NETNS
end

return M
