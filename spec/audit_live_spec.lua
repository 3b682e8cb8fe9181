-- lnetstat.check against real sockets in a private network namespace: the
-- questions an operator's audit asks (only 22, 80, 443 listen; 22 is
-- sshd; nothing talks to port 6667; eth0 has no errors) answered the way
-- the kernel sees them: dual-stack listeners, truncated process names,
-- sockets held by several processes, both ends of a connection.
local check = require "lnetstat.check"
local helpers = require "helpers"

local root_it = helpers.root_it

-- The farm: a parent whose comm is set to a 19-byte name (the kernel keeps
-- 15 bytes of it), holding
--   TCP 0.0.0.0:22      shared with a child that exec'd sleep (comm "sleep")
--   TCP [::]:80         dual-stack (v6only 0)
--   TCP [::]:8443       v6only
--   TCP 127.0.0.1:443
--   UDP 0.0.0.0:53, and a connected UDP socket to it
--   TCP [::]:6667       dual-stack, with one accepted IPv4 client:
--                       the server end is ::ffff:127.0.0.1:6667
local FARM = [[
import ctypes, os, signal, socket
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_NAME = 1, 15
libc.prctl(PR_SET_NAME, ctypes.c_char_p(b"my-long-daemon-name"), 0, 0, 0)
keep = []
def listen(family, addr, port, v6only=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((addr, port)); s.listen(8); keep.append(s)
    return s
shared = listen(socket.AF_INET, "0.0.0.0", 22)
listen(socket.AF_INET6, "::", 80, 0)
listen(socket.AF_INET6, "::", 8443, 1)
listen(socket.AF_INET, "127.0.0.1", 443)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 53)); keep.append(u)
uc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uc.connect(("127.0.0.1", 53)); keep.append(uc)
irc = listen(socket.AF_INET6, "::", 6667, 0)
cli = socket.create_connection(("127.0.0.1", 6667)); keep.append(cli)
srv, _ = irc.accept(); keep.append(srv)
shared.set_inheritable(True)
pid = os.fork()
if pid == 0:
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.execv("/bin/sleep", ["sleep", "600"])
print("ready", flush=True)
signal.sigwait([signal.SIGTERM])
os.kill(pid, signal.SIGKILL)
]]

describe("audit checks on a live namespace", function()
  local NS, pid, handle, tmpdir

  setup(function()
    if not helpers.is_root() then return end
    NS, pid, handle, tmpdir = helpers.netns_farm("lnetstat-audit", FARM)
    -- the child has exec'd sleep once it shows up as an owner of port 22
    for _ = 1, 100 do
      local out = helpers.netns_run(NS, "ss -tlnpH 'sport = :22'")
      if out:find('"sleep"', 1, true) then break end
      helpers.sleep(0.05)
    end
  end)

  teardown(function()
    helpers.stop_farm(pid, handle, NS, tmpdir)
  end)

  -- Runs check source in the farm's namespace; returns the results by line.
  local function results(src)
    local run = check.run_string(src, "live.lua", { netns = NS, log = function() end })
    local by_line = {}
    for _, r in ipairs(run.results) do by_line[r.line or 0] = r end
    return by_line, run
  end

  local function expect_status(want, r, what)
    assert.is_table(r, what)
    assert.equal(want, r.status, what .. ": " .. tostring(r.actual) .. " " .. table.concat(r.details or {}, "; "))
  end

  root_it("answers dual-stack and loopback listeners by address, as the kernel serves them", function()
    local r = results([[
is_listening { proto = "tcp", port = 80, addr = "0.0.0.0" }
is_listening { proto = "tcp", port = 80, family = "inet" }
is_listening { proto = "tcp", port = 80, addr = "0.0.0.0", strict_family = true }
is_listening { proto = "tcp", port = 8443, addr = "0.0.0.0" }
is_listening { proto = "tcp", port = 443, addr = "0.0.0.0" }
not_listening { proto = "tcp", port = 443, addr = not_(loopback) }
is_listening { proto = "udp", port = 53, state = "UNCONN" }
]])
    expect_status("pass", r[1], "[::]:80 v6only=0 serves 0.0.0.0:80")
    expect_status("pass", r[2], "[::]:80 v6only=0 serves IPv4")
    expect_status("fail", r[3], "strict_family keeps [::] apart from 0.0.0.0")
    assert.equal("something listens on tcp/80 addr=0.0.0.0 strict_family=true", r[3].title)
    expect_status("fail", r[4], "a v6only [::]:8443 does not serve IPv4")
    expect_status("fail", r[5], "127.0.0.1:443 is not 0.0.0.0:443")
    expect_status("pass", r[6], "127.0.0.1:443 is loopback only")
    expect_status("pass", r[7], "an unconnected UDP socket listens")
  end)

  root_it("lists unconnected UDP sockets as listeners and connected ones not", function()
    local r = results([[
listening_only {
  { proto = "tcp", port = 22 }, { proto = "tcp", port = { 80, 8443, 6667 } },
  { proto = "tcp", port = 443, addr = "127.0.0.1" }, { proto = "udp", port = 53 },
}
]])
    expect_status("pass", r[1], "only the listeners of the farm")
  end)

  root_it("matches a program name longer than the 15 bytes the kernel keeps", function()
    local r = results([[
is_listening { proto = "tcp", port = 22, program = "my-long-daemon-name" }
not_listening { proto = "tcp", port = 22, program = "my-long-daemon-name" }
no_connection { program = "my-long-daemon-name", port = 6667 }
is_listening { proto = "tcp", port = 22, program = "my-long-daemon-" }
is_listening { proto = "tcp", port = 22, program = "my-long-daemon-other" }
]])
    expect_status("pass", r[1], "the full name matches its truncated comm")
    expect_status("fail", r[2], "not_listening with the full name must see the listener")
    expect_status("fail", r[3], "no_connection with the full name must see the connection")
    expect_status("pass", r[4], "the comm itself matches")
    expect_status("pass", r[5], "another name with the same first 15 bytes is the same comm")
  end)

  root_it("lets a listener shared by two programs pass an allow-list only when both are allowed", function()
    local r = results([[
listening_only { proto = "tcp", { port = 22, program = "my-long-daemon-" },
  { port = { 80, 8443, 6667 } }, { port = 443, addr = "127.0.0.1" } }
listening_only { proto = "tcp", { port = 22, program = { "my-long-daemon-", "sleep" } },
  { port = { 80, 8443, 6667 } }, { port = 443, addr = "127.0.0.1" } }
listening_only { proto = "tcp", { port = 22, program = "sleep" },
  { port = { 80, 8443, 6667 } }, { port = 443, addr = "127.0.0.1" } }
is_listening { proto = "tcp", port = 22, program = "sleep" }
not_listening { proto = "tcp", port = 22, program = "sleep" }
listening_only { proto = "tcp", ignore = { program = "sleep" },
  { port = { 80, 8443, 6667 } }, { port = 443, addr = "127.0.0.1" } }
]])
    expect_status("fail", r[1], "sleep also holds port 22")
    assert.truthy(table.concat(r[1].details, "\n"):find("also held by sleep (pid ", 1, true), r[1].actual)
    expect_status("pass", r[3], "both programs allowed")
    expect_status("fail", r[5], "the daemon also holds port 22")
    expect_status("pass", r[7], "sleep is one owner of port 22")
    expect_status("fail", r[8], "sleep is one owner of port 22")
    expect_status("fail", r[9], "an ignore must cover every owner")
  end)

  root_it("sees a connection to port 6667 from either end, IPv4-mapped included", function()
    local r = results([[
no_connection { port = 6667 }
no_connection { port = 6667, family = "inet6" }
no_connection { remote_port = 6667, family = "inet6" }
no_connection { addr = "127.0.0.1", port = 6667, family = "inet6" }
has_connection { port = 6667, local_addr = "::ffff:127.0.0.1", state = "ESTAB" }
no_connection { port = 6668 }
]])
    expect_status("fail", r[1], "both ends")
    -- the server end only: an inbound connection, its addresses IPv4-mapped
    expect_status("fail", r[2], "the inbound end")
    expect_status("pass", r[3], "remote_port alone misses the inbound end")
    expect_status("fail", r[4], "127.0.0.1 matches ::ffff:127.0.0.1")
    expect_status("pass", r[5], "the accepted end")
    expect_status("pass", r[6], "nothing on 6668")
  end)

  root_it("makes counters of an interface that does not exist an error, never a pass", function()
    local r, run = results([[
no_interface_errors "eth0"
no_interface_errors("eth0", { window = 0.2 })
no_interface_errors "lo"
]])
    expect_status("error", r[1], "no eth0 in the namespace")
    assert.truthy(r[1].actual:find("no interface eth0 (have: lo)", 1, true), r[1].actual)
    expect_status("error", r[2], "no eth0 in the namespace")
    expect_status("pass", r[3], "lo is clean")
    assert.equal(2, run.exit_code)
  end)
end)
