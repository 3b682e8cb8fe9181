--- Change events from netlink multicast groups: `ns.watch(kinds, opts)`.
--
-- rtnetlink's groups report links, addresses, routes and neighbours as the
-- kernel changes them; sock_diag's destroy groups report TCP and UDP
-- sockets as they close. Each event is
-- `{ kind = "link"|"address"|"route"|"neighbor"|"socket", action = "new"|"del",
-- change = true|nil, record = ... }`, its record built by the same code as
-- the records of interfaces(), addresses(), routes(), neighbors() and
-- sockets(). A receive queue that overflowed gives one event
-- `{ kind = "overflow", source = "rtnetlink"|"sock_diag", message = ... }`:
-- events were lost, the caller re-reads the state. A link event whose
-- addresses could not be read says so in `partial` (its addresses empty).
-- @module lnetstat.source.watch
local core = require "lnetstat.core"
local options = require "lnetstat.options"
local util = require "lnetstat.util"
local links = require "lnetstat.source.links"
local routes = require "lnetstat.source.routes"
local engine = require "lnetstat.source.engine"

local type, pairs, ipairs, next, tostring, error, pcall = type, pairs, ipairs, next, tostring, error, pcall
local setmetatable, getmetatable, rawget = setmetatable, getmetatable, rawget
local format, ceil, floor, huge = string.format, math.ceil, math.floor, math.huge
local open = io.open

local M = {}

-- The kinds a caller names, their event kind and their bit in the C core's
-- kinds mask.
local KINDS = {
  links = { kind = "link", bit = 1 },
  addresses = { kind = "address", bit = 2 },
  routes = { kind = "route", bit = 4 },
  neighbors = { kind = "neighbor", bit = 8 },
  sockets = { kind = "socket", bit = 16 },
}
M.KINDS = { "links", "addresses", "routes", "neighbors", "sockets" }

local OPTS = { netns = true, family = true, table = true, rcvbuf = true }
local FAMILIES = { inet = true, inet6 = true }

-- The socket record fields of sockets() (its default: every field but the
-- cookie), without uid and inode: the kernel's destroy messages leave them 0,
-- which would be a false answer. Bits of the C core's field mask.
local SOCKET_FIELDS = 131071 - 512 - 64 - 128

local function parse(fname, kinds, opts)
  if type(kinds) == "string" then kinds = { kinds } end
  if type(kinds) ~= "table" then
    options.argerror(fname, 1, "list of kinds expected (links, addresses, routes, neighbors, "
      .. "sockets), got " .. type(kinds))
  end
  -- options may come in the kinds table (ns.watch { "links", netns = "web" })
  -- or as the second argument; not both ways for one option. The kinds
  -- are its list part: indexes 1..n without a hole (ipairs would stop at
  -- one and drop the kinds after it)
  local merged, at, n, count = {}, {}, 0, 0
  for k, v in pairs(kinds) do
    if type(k) == "number" then
      if not util.is_integer(k) or k < 1 then
        options.argerror(fname, 1, format("kinds must be a list: key %s is not an index 1..n",
          tostring(k)))
      end
      count = count + 1
      if k > n then n = k end
    else
      merged[k], at[k] = v, 1
    end
  end
  if count ~= n then
    local i = 1
    while kinds[i] ~= nil do i = i + 1 end
    options.argerror(fname, 1, format("kinds must be a list: index %d is missing", i))
  end
  options.check(fname, merged, OPTS)
  if opts ~= nil then
    options.check(fname, opts, OPTS, 2)
    for k, v in pairs(opts) do
      if merged[k] ~= nil then
        options.argerror(fname, 2, format("option '%s' is given twice", tostring(k)))
      end
      merged[k], at[k] = v, 2
    end
  end
  if n == 0 then
    options.argerror(fname, 1, "list of kinds is empty (links, addresses, routes, neighbors, "
      .. "sockets)")
  end
  local q, mask, seen = { kinds = {} }, 0, {}
  for i = 1, n do
    local name = options.enum(fname, 1, "kind", kinds[i], KINDS)
    if not seen[name] then
      seen[name] = true
      mask = mask + KINDS[name].bit
      q.kinds[#q.kinds + 1] = name
    end
  end
  q.mask = mask
  q.sockets = seen.sockets == true
  -- The link group keeps the interface names of the events current. A
  -- watch of sockets alone subscribes to it too (the C core takes the
  -- route socket for a link kind only), and its link events, unasked
  -- for, are dropped.
  q.hide_links = mask == KINDS.sockets.bit
  if q.hide_links then q.mask = mask + KINDS.links.bit end
  -- an option's error names the argument it came in
  q.netns = options.netns(fname, at.netns or 1, merged.netns)
  if q.netns == options.ALL_NETNS then
    -- one subscription lives in one namespace
    options.argerror(fname, at.netns, "netns 'all' is not supported by watch; open one watch per namespace")
  end
  if merged.family ~= nil then
    q.family = options.enum(fname, at.family, "family", merged.family, FAMILIES)
  end
  q.table = routes.table_id(fname, merged.table, -1, at.table) -- default: every table
  if merged.rcvbuf ~= nil then
    local b = merged.rcvbuf
    if not util.is_integer(b) or b < 1 or b > 2147483647 then
      options.argerror(fname, at.rcvbuf, "rcvbuf must be a size in bytes 1..2147483647, got "
        .. tostring(b))
    end
    q.rcvbuf = b
  end
  return q
end

-- A copy of a plain record (its tables copied too), for a second event of
-- one link in a read: events never share tables.
local function copy(t)
  local c = {}
  for k, v in pairs(t) do
    c[k] = type(v) == "table" and copy(v) or v
  end
  return c
end

-- Completes the records of one read's events, in place. Link records get
-- what interfaces() adds in Lua: master and peer names, the /proc/net/dev
-- sums and their addresses (none once deleted); route records get their
-- netstat flag letters, as routes() gives them. The addresses of every
-- link reported new come from one address dump for the whole read (of
-- that interface alone when the read names one), however many link
-- events it holds.
local function complete(names, list)
  local wanted, events, indexes, distinct = {}, {}, {}, 0
  for _, ev in ipairs(list) do
    local r = ev.record
    if ev.kind == "route" then
      r.flags = routes.route_flags(r)
    elseif ev.kind == "link" then
      links.complete_links(names, { r })
      r.addresses = {}
      if ev.action == "new" then
        wanted[#wanted + 1] = r
        events[#events + 1] = ev
        if r.index ~= nil and not indexes[r.index] then
          indexes[r.index] = true
          distinct = distinct + 1
        end
      end
    end
  end
  if #wanted == 0 then return end
  local only = nil
  if distinct == 1 then only = next(indexes) end
  -- a dump the kernel flags interrupted is read again, as interfaces()
  -- does; one that fails or never settles is said on the events it touches
  local addrs, err = engine.retry("address", core.addrs, names, nil, only)
  local note = addrs and addrs.partial
  if not addrs then
    addrs, note = {}, "addresses unread: " .. tostring(err)
  end
  local by_index = {}
  for _, a in ipairs(addrs) do
    if a.index ~= nil then
      local l = by_index[a.index]
      if not l then
        l = {}
        by_index[a.index] = l
      end
      l[#l + 1] = a
    end
  end
  local used = {}
  for _, r in ipairs(wanted) do
    local l = r.index ~= nil and by_index[r.index] or {}
    if used[l] then
      local c = {}
      for i, a in ipairs(l) do c[i] = copy(a) end
      l = c
    end
    used[l] = true
    links.attach_addresses({ r }, l)
  end
  if note then
    for _, ev in ipairs(events) do ev.partial = note end
  end
end

local Watch = {}
Watch.__index = Watch

local function check(self, fname)
  if type(self) ~= "table" or getmetatable(self) ~= Watch then
    error(format("bad argument #1 to '%s' (watch expected, got %s)", fname, type(self)), 3)
  end
  if self.closed then
    error(format("bad argument #1 to '%s' (watch is closed)", fname), 3)
  end
end

-- What fill returns when the watch was closed while it read: a finalizer
-- the collector ran in the middle of the read (or of completing a link
-- record, which asks the names session) called close().
local CLOSED = {}

-- Milliseconds since boot from /proc/uptime (hundredths of seconds), or
-- nil when it cannot be read.
local function uptime_ms()
  local f = open("/proc/uptime", "r")
  if not f then return nil end
  local text = f:read("*l")
  f:close()
  local secs = tonumber(text and text:match("^(%d+%.?%d*)"))
  return secs and floor(secs * 1000 + 0.5) or nil
end

-- The events of a read a watch of sockets alone reports: the link group
-- only keeps the interface names current (a lost link event makes the core
-- forget them all, so its overflow is no loss of socket events).
local function asked_for(list)
  local kept = {}
  for _, ev in ipairs(list) do
    if ev.kind == "socket" or (ev.kind == "overflow" and ev.source ~= "rtnetlink") then
      kept[#kept + 1] = ev
    end
  end
  return kept
end

-- Reads what has arrived (waiting up to ms when nothing has: 0 not at all,
-- -1 without limit) into the queue. A wait a signal cut short goes on for
-- what is left of it, once Lua has run (so Ctrl-C ends a CLI at once).
-- Returns true, or CLOSED, or nil, message, errno.
local function fill(self, ms)
  -- a watch of sockets alone waits on through the link events it drops,
  -- for what is left of ms by the clock of /proc/uptime
  local start = self.hide_links and ms > 0 and uptime_ms() or nil
  local list
  while true do
    local interrupted, remaining
    list, interrupted, remaining = self.w:read(self.names, ms)
    while list and #list == 0 and interrupted and (ms < 0 or remaining > 0) and not self.closed do
      list, interrupted, remaining = self.w:read(self.names, ms < 0 and -1 or remaining)
    end
    if self.closed then return CLOSED end
    if not list then return nil, interrupted, remaining end
    if not self.hide_links or #list == 0 then break end
    list = asked_for(list)
    if #list > 0 or ms == 0 then break end
    if ms > 0 and start then
      local now = uptime_ms()
      if now then
        ms, start = ms - (now - start), now
        if ms <= 0 then break end -- the time is up: nothing to report
      end
    end
  end
  local ok, err = pcall(complete, self.names, list)
  if self.closed then return CLOSED end
  if not ok then error(err, 0) end
  local q, n = self.queue, self.tail
  for _, ev in ipairs(list) do
    n = n + 1
    q[n] = ev
  end
  self.tail = n
  return true
end

-- The next queued event (nil when none), taken off the queue.
local function shift(self)
  local head = self.head
  if head > self.tail then return nil end
  local ev = self.queue[head]
  self.queue[head] = nil
  if head == self.tail then
    self.head, self.tail = 1, 0
  else
    self.head = head + 1
  end
  return ev
end

--- The events that have arrived, without waiting: a list ({} when none).
-- @treturn table list of events, or nil, message, errno
function Watch:poll()
  check(self, "poll")
  local ok, err, errno = fill(self, 0)
  if ok == CLOSED then
    error("poll: the watch was closed by Lua code running inside the call (a finalizer)", 2)
  end
  if not ok then return nil, err, errno end
  local out, n = {}, 0
  for i = self.head, self.tail do
    n = n + 1
    out[n] = self.queue[i]
  end
  self.queue, self.head, self.tail = {}, 1, 0
  return out
end

-- The longest wait the C core takes in milliseconds (poll()'s int, about
-- 24.8 days): a longer timeout is no limit, as math.huge is.
local MAX_WAIT_MS = 2147483647

--- An iterator over the events: each step waits up to timeout seconds for
-- the next one (nil or math.huge: without limit; so is any timeout beyond
-- 2147483 seconds, about 24.8 days) and the loop ends when none came in
-- time. A receive failure raises an error.
-- @tparam[opt] number timeout seconds
function Watch:events(timeout)
  check(self, "events")
  if timeout ~= nil and timeout ~= huge
    and (not util.is_finite(timeout) or timeout < 0) then
    error("bad argument #1 to 'events' (timeout must be a number of seconds >= 0 or nil, got "
      .. (type(timeout) == "number" and tostring(timeout) or util.show(timeout)) .. ")", 2)
  end
  local ms = -1
  if timeout ~= nil and timeout * 1000 <= MAX_WAIT_MS then ms = ceil(timeout * 1000) end
  return function()
    if self.closed then return nil end
    local ev = shift(self)
    if ev then return ev end
    local ok, err = fill(self, ms)
    if ok == CLOSED then return nil end -- as at the next step: a closed watch ends the loop
    if not ok then error("watch: " .. tostring(err), 2) end
    return shift(self)
  end
end

--- A file descriptor that polls readable when events have arrived (an
-- epoll set of the watch's netlink sockets), for an event loop.
-- @treturn integer fd
function Watch:fd()
  check(self, "fd")
  return self.w:fd()
end

--- Closes the sockets; calling it again does nothing. Garbage collection
-- and Lua 5.4's to-be-closed variables close too.
function Watch:close()
  if type(self) ~= "table" or getmetatable(self) ~= Watch then
    error("bad argument #1 to 'close' (watch expected, got " .. type(self) .. ")", 2)
  end
  if self.closed then return end
  self.closed = true
  self.w:close()
  self.names:close()
  self.queue, self.head, self.tail = {}, 1, 0
end

Watch.__close = Watch.close
Watch.__gc = Watch.close
Watch.__tostring = function(self)
  return format("lnetstat.watch (%s)", rawget(self, "closed") and "closed" or "open")
end

--- Subscribes to change events.
-- @tparam table kinds a list of "links", "addresses", "routes",
--   "neighbors", "sockets"; may also hold the options
-- @tparam[opt] table opts netns (as everywhere), family ("inet" |
--   "inet6": the kernel sends only that family's address, route, neighbour
--   and socket events), table (route events of one table: "main", "local",
--   "default", an id; default every table, as `ip monitor`), rcvbuf (the
--   receive buffer in bytes; default 1 MiB, capped by net.core.rmem_max)
-- @treturn table a watch (events, poll, fd, close), or nil, message, errno
function M.watch(kinds, opts)
  local q = options.validate(parse, "watch", kinds, opts)
  local handles = { "route" }
  if q.sockets then handles[#handles + 1] = "diag" end
  local sub, err, errno = core.open(q.netns, handles)
  if not sub then return nil, err, errno end
  -- interface names come from a session of their own (see core.watch)
  local names
  names, err, errno = core.open(q.netns, { "route" })
  if not names then
    sub:close()
    return nil, err, errno
  end
  local w
  w, err, errno = core.watch(sub, q.mask, q.family, q.table, q.rcvbuf, { fields = SOCKET_FIELDS })
  sub:close()
  if not w then
    names:close()
    if errno == 1 and q.sockets and err:find("sock_diag", 1, true) then
      err = err .. " (this kernel wants CAP_NET_ADMIN for socket events)"
    end
    return nil, "watch: " .. err, errno
  end
  return setmetatable({ w = w, names = names, queue = {}, head = 1, tail = 0, kinds = q.kinds,
    hide_links = q.hide_links, closed = false }, Watch)
end

return M
