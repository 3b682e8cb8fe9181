-- Names without -n (see lnetstat.format): the texts of /etc/services,
-- /etc/protocols, /etc/hosts and /etc/networks, which the runner reads and
-- hands over, parsed once per view and only when a name is asked for.
-- Reads no file itself.
-- @module lnetstat.netstat.names

local ipairs, tonumber, setmetatable = ipairs, tonumber, setmetatable
local sformat, byte, sub, find = string.format, string.byte, string.sub, string.find
local concat, floor = table.concat, math.floor

local M = {}

-- Addresses as comparable keys ------------------------------------------------

-- "a.b.c.d" -> integer value, or nil.
local function ipv4_value(text)
  local a, b, c, d = text:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if a > 255 or b > 255 or c > 255 or d > 255 then return nil end
  return ((a * 256 + b) * 256 + c) * 256 + d
end

-- IPv6 text -> "h:h:h:h:h:h:h:h" (eight lowercase hex groups, no
-- compression), so that two spellings of one address compare equal.
local function ipv6_key(text)
  text = text:lower():gsub("%%.*$", "")
  local head, tail = text:match("^(.-)::(.*)$")
  local function groups(s)
    local out = {}
    if s == "" then return out end
    for part in (s .. ":"):gmatch("([^:]*):") do
      local v4 = ipv4_value(part)
      if v4 then
        out[#out + 1] = floor(v4 / 65536)
        out[#out + 1] = v4 % 65536
      else
        if not part:match("^%x%x?%x?%x?$") then return nil end
        out[#out + 1] = tonumber(part, 16)
      end
    end
    return out
  end
  local g
  if head then
    local h, t = groups(head), groups(tail)
    if not h or not t or #h + #t > 7 then return nil end
    g = h
    for _ = 1, 8 - #h - #t do g[#g + 1] = 0 end
    for _, v in ipairs(t) do g[#g + 1] = v end
  else
    g = groups(text)
    if not g or #g ~= 8 then return nil end
  end
  for i = 1, 8 do g[i] = sformat("%x", g[i]) end
  return concat(g, ":")
end

-- inet_network(3): "a[.b[.c[.d]]]", each part a byte, fewer parts give a
-- smaller number ("127" is 0x7f, not 127.0.0.0), as getnetbyaddr compares.
local function inet_network(text)
  local value, parts = 0, 0
  for part in text:gmatch("[^.]+") do
    local n = tonumber(part)
    if not n or n > 255 or not part:match("^%d+$") then return nil end
    value = value * 256 + n
    parts = parts + 1
  end
  if parts == 0 or parts > 4 then return nil end
  return value
end

-- Name tables: parsed once per view, only when a name is asked for.
local Names = {}
Names.__index = Names

--- A name table over the texts of the name files: texts = {services=,
-- protocols=, hosts=, networks=} (strings; a missing one names nothing).
local function new_names(texts)
  return setmetatable({ texts = texts or {}, host_cache = {}, net_cache = {} }, Names)
end

-- services: [proto][port] = name; the last line for a port wins, because
-- netstat prepends each getservent() entry to the list it searches.
function Names:load_services()
  local by = { tcp = {}, udp = {}, raw = {} }
  local text = self.texts.services or ""
  for line in text:gmatch("[^\n]+") do
    local name, port, proto = line:gsub("#.*$", ""):match("^%s*(%S+)%s+(%d+)/(%a+)")
    if name and by[proto] then by[proto][tonumber(port)] = name end
  end
  -- Raw sockets show their protocol in the port column: /etc/protocols
  -- names, read after the services and so searched before them.
  text = self.texts.protocols or ""
  for line in text:gmatch("[^\n]+") do
    local name, number = line:gsub("#.*$", ""):match("^%s*(%S+)%s+(%d+)")
    if name then by.raw[tonumber(number)] = name end
  end
  self.services = by
  return by
end

function Names:port_name(port, proto)
  local by = self.services or self:load_services()
  local t = by[proto]
  return t and t[port]
end

function Names:load_hosts()
  local v4, v6 = {}, {}
  local text = self.texts.hosts or ""
  for line in text:gmatch("[^\n]+") do
    local addr, name = line:gsub("#.*$", ""):match("^%s*(%S+)%s+(%S+)")
    if addr then
      local n4 = ipv4_value(addr)
      if n4 then
        if v4[n4] == nil then v4[n4] = name end
      elseif addr:find(":", 1, true) then
        local k = ipv6_key(addr)
        if k and v6[k] == nil then v6[k] = name end
      end
    end
  end
  self.hosts4, self.hosts6 = v4, v6
end

function Names:load_networks()
  local nets = {}
  local text = self.texts.networks or ""
  for line in text:gmatch("[^\n]+") do
    local name, number = line:gsub("#.*$", ""):match("^%s*(%S+)%s+(%S+)")
    local v = number and inet_network(number)
    if v and nets[v] == nil then nets[v] = name end
  end
  self.networks = nets
end

-- INET_rresolve: 0.0.0.0 is "default" (route destinations) or "0.0.0.0";
-- a host address (host_hint, or low byte set when the mask is /24 as for
-- sockets) is looked up in /etc/hosts, a network address in /etc/networks.
function Names:ipv4_name(addr, default_name, host_hint, netmask_value)
  if addr == "0.0.0.0" then return default_name or "0.0.0.0" end
  local v = ipv4_value(addr)
  if not v then return addr end
  local mask = netmask_value or 4294967040        -- 255.255.255.0
  local is_host = host_hint or (v % (4294967296 - mask)) ~= 0
  if is_host then
    if not self.hosts4 then self:load_hosts() end
    return self.hosts4[v] or addr
  end
  if not self.networks then self:load_networks() end
  return self.networks[v] or addr
end

-- INET6_rresolve: "::" is "[::]" (or "default"), else getnameinfo, which
-- for us is /etc/hosts only; IPv4-mapped addresses are not in it.
function Names:ipv6_name(addr, default_name)
  if addr == "::" then return default_name or "[::]" end
  local k = ipv6_key(addr)
  if not k then return addr end
  if not self.hosts6 then self:load_hosts() end
  return self.hosts6[k] or addr
end

-- netstat prints an IPv4-mapped IPv6 address as the IPv4 address
-- (fix_v4_address): from the first dot back to the colon before it.
local function strip_mapped(text)
  local dot = find(text, ".", 1, true)
  if not dot then return text end
  local i = dot
  while i > 1 and byte(text, i) ~= 58 do i = i - 1 end   -- 58 = ':'
  if byte(text, i) ~= 58 then return text end
  return sub(text, i + 1)
end

local function is_mapped(addr)
  return sub(addr, 1, 7) == "::ffff:" and find(addr, ".", 8, true) ~= nil
end

M.Names, M.new_names, M.strip_mapped, M.is_mapped = Names, new_names, strip_mapped, is_mapped
M.ipv4_value, M.ipv6_key, M.inet_network = ipv4_value, ipv6_key, inet_network

return M
