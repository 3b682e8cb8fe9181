-- Web server allow-list: on the network only sshd (22) and nginx (80, 443)
-- listen; anything else may listen on loopback only.
--
--   lnetstat check examples/audit/web.lua              (as root: owners of every socket)
--   lnetstat check examples/audit/web.lua --within 30  (services may still be starting)
--   lnetstat check examples/audit/web.lua --format junit --output web.xml
--
-- Check files are Lua run in a sandbox: the data functions (sockets,
-- listening, connections, interfaces, routes, stats ...), the matchers
-- (wildcard, loopback, cidr, range, not_ ...) and the assertions are
-- globals; io, os.execute, require and load are not there.

-- Exactly these listeners, none missing, none extra. `addr = wildcard`
-- accepts 0.0.0.0 and [::] (a dual-stack [::] serves IPv4 too). Owners are
-- checked: nginx on 80 must be nginx, not whatever grabbed the port; an
-- owner that cannot be read (not root) is an error, not a pass.
listening_only {
  { proto = "tcp", port = 22, program = "sshd", user = "root" },
  { proto = "tcp", port = { 80, 443 }, program = "nginx", addr = wildcard },
  ignore = { addr = loopback },          -- local-only services are not exposed
}

-- Both address families reach the web server: family = "inet" also
-- matches a dual-stack [::] listener.
is_listening { proto = "tcp", port = 443, family = "inet", title = "HTTPS reachable over IPv4" }
is_listening { proto = "tcp", port = 443, family = "inet6", title = "HTTPS reachable over IPv6" }

-- Databases, caches and mail never face the network (redundant with the
-- allow-list, but the report names them).
not_listening { port = { 25, 3306, 5432, 6379, 11211 }, addr = not_(loopback),
  title = "no database, cache or mail port on the network" }

-- No IRC: a classic botnet command channel.
no_connection { state = "ESTABLISHED", remote_port = { 6667, 6697 } }

-- Not drowning in half-closed or half-open connections.
expect_count(sockets { proto = "tcp", state = "TIME_WAIT" }, "<", 10000)
expect_count(sockets { proto = "tcp", state = "SYN_RECV" }, "<", 256,
  { title = "fewer than 256 half-open connections (SYN flood?)" })
