-- The cells the host names (program, command and user names, UNIX paths,
-- interface names and labels) are escaped by the netstat views and by
-- lnetstat.ss: a newline or tab in a name never starts a false row, an
-- escape sequence never reaches the terminal, the output is valid UTF-8,
-- and a column cut never splits a character or an escape.
local helpers = require "helpers"
local inet = require "lnetstat.netstat.text.inet"
local unix = require "lnetstat.netstat.text.unix"
local interfaces = require "lnetstat.netstat.text.interfaces"
local groups = require "lnetstat.netstat.text.groups"
local routes = require "lnetstat.netstat.text.routes"
local flags_mod = require "lnetstat.netstat.flags"
local ss = require "lnetstat.ss"
local fake = require "fixtures.check.fake"

local root_it = helpers.root_it
local quote, format = helpers.quote, string.format
local PYTHON = "/usr/bin/python3"

local HOSTILE = "nl\nnext\rline\tx\27[2J\194\155\127\255"
local HOSTILE_SHOWN = "nl\\x0Anext\\x0Dline\\x09x\\x1B[2J\\u009B\\x7F\\xFF"

local function flags(...)
  return assert(flags_mod.parse_args({ ... }))
end

local function lines(text)
  local t = {}
  for l in text:gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

-- True when python3 decodes text as strict UTF-8.
local function valid_utf8(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  local out, ok = helpers.run(format("%s -c %s %s 2>&1", PYTHON,
    quote("import sys; open(sys.argv[1], 'rb').read().decode('utf-8', 'strict')"), quote(path)))
  os.remove(path)
  return ok, out
end

-- No control character but the newlines ending the lines, no C1.
local function printable(text)
  return not text:find("[%z\1-\9\11-\31\127]") and not text:find("\194[\128-\159]")
end

describe("netstat cells the host names", function()
  it("cell: control characters, C1 and bytes outside UTF-8 as escapes, UTF-8 kept", function()
    assert.equal("plain name-1.2", inet.cell("plain name-1.2"))
    assert.equal("caf\195\169 \226\130\172", inet.cell("caf\195\169 \226\130\172"))
    assert.equal(HOSTILE_SHOWN, inet.cell(HOSTILE))
    for b = 0, 255 do
      local c = string.char(b)
      local want = (b < 32 or b >= 127) and format("\\x%02X", b) or c
      assert.equal(want, inet.cell(c), "byte " .. b)
      local pair = "\194" .. c
      if b >= 128 and b <= 159 then want = format("\\u%04X", b)
      elseif b >= 160 and b <= 191 then want = pair
      else want = "\\xC2" .. want end
      assert.equal(want, inet.cell(pair), "C2 " .. b)
    end
  end)

  it("cut: at a character or escape boundary, never beyond n bytes", function()
    assert.equal("abc", inet.cut("abc", 5))
    assert.equal("ab", inet.cut("ab\\x1Bcd", 4))
    assert.equal("ab\\x1B", inet.cut("ab\\x1Bcd", 6))
    assert.equal("a", inet.cut("a\\u009Bb", 6))
    assert.equal("a\195\169", inet.cut("a\195\169\195\169", 4))
    assert.equal("\240\159\152\128", inet.cut("\240\159\152\128\240\159\152\128", 7))
  end)

  it("-p: the program column escapes the name and cuts it at a character", function()
    local r = fake.listener("tcp", "0.0.0.0", 22, HOSTILE, "root", 14477)
    -- 19 bytes: "\x0D" would end at 20
    assert.equal("14477/nl\\x0Anext", inet.program_field(r))
    -- a 16-character UTF-8 name: 19 bytes hold "14477/" and six of them
    local e = string.rep("\195\169", 16)
    r = fake.listener("tcp", "0.0.0.0", 22, e, "root", 19874)
    assert.equal("19874/" .. string.rep("\195\169", 6), inet.program_field(r))
    assert.equal("123/" .. string.rep("\195\169", 7), inet.program_field(
      fake.listener("tcp", "0.0.0.0", 22, e, "root", 123)))
  end)

  it("-tanp, -tanpe: one line per socket, printable, valid UTF-8", function()
    local list = {
      fake.listener("tcp", "0.0.0.0", 22, HOSTILE, "root", 14477),
      fake.listener("tcp", "0.0.0.0", 23, string.rep("\195\169", 16), "r\noot\27", 19874),
      fake.listener("tcp", "0.0.0.0", 24, "ok", "root", 1),
    }
    -- -n prints uids: names with --numeric-hosts --numeric-ports
    local named = flags("-tape", "--numeric-hosts", "--numeric-ports")
    for _, f in ipairs { flags("-tanp"), flags("-tanpe"), named } do
      local text = inet.sockets_text(list, f)
      assert.equal(2 + #list, #lines(text), text)
      assert.is_true(printable(text), text)
      assert.is_true(valid_utf8(text))
      assert.truthy(text:find("14477/nl\\x0Anext ", 1, true), text)
    end
    local text = inet.sockets_text(list, named)
    assert.truthy(text:find(" r\\x0Aoot\\x1B ", 1, true), text)
  end)

  it("-xp: the program and the path of a UNIX socket are escaped", function()
    local list = { {
      proto = "unix", type = "stream", state = "LISTEN", inode = 77, path = "/run/a\27[2Jb\194\155",
      processes = { { pid = 14477, command = HOSTILE, program = "x", fd = 3 } },
    }, {
      proto = "unix", type = "dgram", state = "UNCONN", inode = 78, path = "/run/x\ny",
    } }
    local text = unix.unix_text(list, flags("-xap"))
    assert.equal(2 + #list, #lines(text), text)
    assert.is_true(printable(text), text)
    assert.is_true(valid_utf8(text))
    assert.truthy(text:find(" /run/a\\x1B[2Jb\\u009B\n", 1, true), text)
    -- netstat's path ends at the first blank, a newline included
    assert.truthy(text:find(" /run/x\n", 1, true), text)
  end)

  local LABEL = "e\27[31mX:\nZZ"
  local function iface_records()
    return { {
      name = "e", index = 2, mtu = 1500, flags = { UP = true, BROADCAST = true, MULTICAST = true },
      type = "ether", mac = "02:00:00:00:00:01", txqlen = 1000, stats = {},
      addresses = { { family = "inet", addr = "198.51.100.1", prefixlen = 24, label = LABEL } },
    }, {
      name = "\195\169\195\169\195\169\195\169\195\169\195\169\195\169\195\1690", index = 3, mtu = 1500,
      flags = { UP = true }, stats = {}, addresses = {},
    } }
  end

  it("-i and -ie: interface names and address labels are escaped", function()
    local text = interfaces.interfaces_text(iface_records(), flags("-i"))
    -- the title, the header, one row per name (e, its label, the other)
    assert.equal(5, #lines(text), text)
    assert.is_true(printable(text), text)
    assert.is_true(valid_utf8(text))
    assert.truthy(text:find("\ne\\x1B[31mX:\\x0A  1500 ", 1, true), text)
    -- 17 bytes, cut to 15 at a character: seven of the eight
    assert.truthy(text:find("\n" .. string.rep("\195\169", 7) .. "   1500 ", 1, true), text)
    text = interfaces.interfaces_text(iface_records(), flags("-ie"))
    assert.is_true(printable(text), text)
    assert.is_true(valid_utf8(text))
    assert.truthy(text:find("\ne\\x1B[31mX:\\x0AZZ: flags=", 1, true), text)
    assert.is_nil(text:find("\nZZ", 1, true), text)
  end)

  it("-g and -r: interface names are escaped", function()
    local text = groups.groups_text({
      { family = "inet", interface = "e\n\27\195\169\195\169", group = "224.0.0.1", users = 1 },
      { family = "inet6", interface = "f\tg", group = "ff02::1", users = 1 },
    }, flags("-gn"))
    assert.equal(5, #lines(text), text)
    assert.is_true(printable(text), text)
    assert.is_true(valid_utf8(text))
    -- whole, escaped: netstat reads 15 bytes of the name
    assert.truthy(text:find("\n" .. format("%-15s %-6d", "e\\x0A\\x1B\195\169\195\169", 1), 1, true), text)
    assert.truthy(text:find("\nf\\x09g ", 1, true), text)
    local list = {
      { family = "inet", table = 254, type = "unicast", dst = "198.51.100.0/24", interface = "e\n\27x",
        protocol = "kernel", scope = "link" },
      { family = "inet6", table = 254, type = "unicast", dst = "2001:db8::/64", interface = "e\n\27x" },
    }
    for _, f in ipairs { flags("-rn"), flags("-rne"), flags("-rnee") } do
      text = routes.routes_text(list, f)
      assert.equal(3, #lines(text), text)
      assert.is_true(printable(text), text)
      assert.truthy(text:find("e\\x0A", 1, true), text)
    end
    text = routes.routes_text(list, flags("-rnee"))
    -- "%-6.6s": no half escape
    assert.truthy(text:find(" e\\x0A    0 ", 1, true), text)
    text = routes.routes6_text(list, flags("-rn6"))
    -- two header lines, the route, and the kernel's null routes that close
    -- the main and local tables (netstat -rn6 shows them too)
    assert.equal(5, #lines(text), text)
    assert.truthy(text:find(" e\\x0A\\x1Bx\n", 1, true), text)
  end)

  it("ss -p: the program in users:((...)) is escaped", function()
    local data = fake.data { sockets = {
      fake.listener("tcp", "0.0.0.0", 22, HOSTILE, "root", 812),
    } }
    local out, err, code = ss.render({ "-tlnp" }, { data = data })
    assert.same({ "", 0 }, { err, code })
    assert.equal(2, #lines(out), out)
    assert.is_true(printable(out), out)
    assert.truthy(out:find(format(' users:(("%s",pid=812,fd=3))\n', HOSTILE_SHOWN), 1, true), out)
  end)

  root_it("lnetstat -tanp, -xp, -anpe, -tlnp and ss -tlnp on processes with hostile names", function()
    local dir = helpers.mktemp_dir()
    local pids = {}
    finally(function()
      for _, pid in ipairs(pids) do helpers.kill(pid) end
      helpers.remove_tree(dir)
    end)
    -- argv[0] with a newline and a carriage return, comm with an escape; a
    -- UNIX socket whose path holds an escape
    local script = table.concat({
      "import socket,sys,time",
      "open('/proc/self/comm','w').write('c\\x1b[2J\\nd')",
      "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1)",
      "u=socket.socket(socket.AF_UNIX); u.bind(sys.argv[1]); u.listen(1)",
      "print(s.getsockname()[1]); print('ready'); sys.stdout.flush(); time.sleep(60)",
    }, "\n")
    local upath = dir .. "/u\27[31m"
    local function start(argv0)
      local pid, h = helpers.spawn("bash -c " .. quote(format("exec -a %s %s -c %s %s", quote(argv0), PYTHON,
        quote(script), quote(upath .. #pids))))
      pids[#pids + 1] = pid
      assert(h:wait_ready(10))
      local port = tonumber(h.stdout():match("^(%d+)"))
      h.cleanup()
      return pid, port
    end
    local pid, port = start("nl\nnext\rline")
    local epid, eport = start(string.rep("\195\169", 16))
    local function lnetstat(args)
      local out = helpers.run(format("%s bin/lnetstat %s 2>/dev/null", helpers.LUA, args))
      assert.is_true(valid_utf8(out))
      assert.is_true(printable(out), out)
      for _, l in ipairs(lines(out)) do
        assert.is_nil(l:find("^next"), out)
        assert.is_nil(l:find("^d "), out)
      end
      return out
    end
    for _, args in ipairs { "-tanp", "-anpe" } do
      local out = lnetstat(args)
      assert.truthy(out:find(format("127.0.0.1:%d%s[^\n]*%d/nl\\x0Anext", port, " +0.0.0.0:%* +LISTEN",
        pid)), out)
    end
    local out = lnetstat("-xap")
    assert.truthy(out:find(format("%d/nl\\x0Anext[^\n]* %s0\n", pid,
      (dir .. "/u\\x1B[31m"):gsub("%p", "%%%0"))), out)
    out = lnetstat("-tlnp")
    local cut = string.rep("\195\169", math.floor((19 - #tostring(epid) - 1) / 2))
    assert.truthy(out:find(format("127.0.0.1:%d [^\n]* %d/%s ", eport, epid, cut)), out)
    -- ss's process cell: comm, escaped
    local text = ss.render({ "-tlnp" })
    assert.is_true(printable(text), text)
    assert.truthy(text:find(format('users:(("c\\x1B[2J\\x0Ad",pid=%d,', pid), 1, true), text)
  end)

  root_it("lnetstat -i and -ie in a namespace with a hostile address label", function()
    local netns = helpers.netns_create("lnetstat-esc")
    finally(function() helpers.netns_delete(netns) end)
    helpers.must(format("ip -n %s addr add 198.51.100.1/24 dev lo label %s", quote(netns),
      quote("lo\27[31mX:\nZZ")))
    local function lnetstat(args)
      local out = helpers.run(format("%s bin/lnetstat --netns %s %s 2>&1", helpers.LUA, quote(netns), args))
      assert.is_true(printable(out), out)
      assert.is_nil(out:find("\nZZ", 1, true), out)
      return out
    end
    -- -i: the name column is 15 bytes, cut before the escaped newline
    local out = lnetstat("-i")
    assert.truthy(out:find("\nlo\\x1B[31mX:    65536 ", 1, true), out)
    out = lnetstat("-ie")
    assert.truthy(out:find("\nlo\\x1B[31mX:\\x0AZZ: flags=", 1, true), out)
  end)
end)
