-- The netstat views escape the control bytes of what the host names: a
-- process whose name carries a terminal escape cannot clear the screen of
-- the person reading `lnetstat -p`.
local helpers = require "helpers"
local run_mod = require "lnetstat.netstat.run"

local quote, format = helpers.quote, string.format

describe("netstat views on a terminal", function()
  it("escape control bytes (tabs too) and C1 controls, keep newlines and UTF-8", function()
    assert.equal("a\\x1B[2Jb\\x09c\n\\u009Bd \194\169 \\x0D\\x7F",
      run_mod.terminal_safe("a\27[2Jb\tc\n\194\155d \194\169 \r\127"))
    local plain = "tcp        0      0 127.0.0.1:22            0.0.0.0:*               LISTEN\n"
    assert.equal(plain, run_mod.terminal_safe(plain))
  end)

  -- the renderers end their lines with newlines and align with spaces:
  -- every other control, DEL and every byte outside valid UTF-8 (a lone
  -- 0x9B is the 8-bit CSI) is escaped
  it("escape exactly the controls, DEL and invalid UTF-8, byte by byte, and C1 pairs", function()
    for b = 0, 255 do
      local c = string.char(b)
      local escaped = (b < 32 and b ~= 10) or b >= 127
      local want = escaped and format("\\x%02X", b) or c
      assert.equal(want, run_mod.terminal_safe("x" .. c .. "y"):sub(2, -2), "byte " .. b)
      local pair = "\194" .. c
      local c1, valid = b >= 128 and b <= 159, b >= 160 and b <= 191
      assert.equal(c1 and format("\\u%04X", b) or valid and pair or ("\\xC2" .. want),
        run_mod.terminal_safe(pair), "C2 " .. b)
    end
    assert.equal("\\x9B2J \\xFF\\xFE \\xE2\\x82 \226\130\172",
      run_mod.terminal_safe("\1552J \255\254 \226\130 \226\130\172"))
  end)

  -- a name under /var/run/netns is the host's text too
  helpers.root_it("--netns all heads each namespace with its name escaped", function()
    local name = format("lnetstat-h%d\nNamespace: fake\27[1m", helpers.getpid())
    helpers.must("ip netns add " .. quote(name))
    finally(function() helpers.netns_delete(name) end)
    local out = helpers.run(format("%s bin/lnetstat -tln --netns all 2>&1", helpers.LUA))
    assert.is_nil(out:find("\27", 1, true), out)
    assert.is_nil(out:find("\nNamespace: fake", 1, true), out)
    local want = format("\nNamespace: lnetstat-h%d\\x0ANamespace: fake\\x1B[1m\n", helpers.getpid())
    assert.truthy(out:find(want, 1, true), out)
  end)

  it("leave unscanned only the views that show kernel numbers alone", function()
    local flags_mod = require "lnetstat.netstat.flags"
    local function numbers_only(...)
      return run_mod.kernel_numbers_only(assert(flags_mod.parse_args({ ... })))
    end
    assert.is_true(numbers_only("-tan"))
    assert.is_true(numbers_only("-tuln"))
    assert.is_true(numbers_only("-tano"))
    assert.is_true(numbers_only("-tane"))
    -- host names, service names, users, programs, UNIX paths, interfaces
    assert.is_false(numbers_only("-ta"))
    assert.is_false(numbers_only("-ta", "--numeric-hosts"))
    assert.is_false(numbers_only("-ta", "--numeric-ports"))
    assert.is_false(numbers_only("-tae", "--numeric-hosts", "--numeric-ports"))
    assert.is_false(numbers_only("-tanp"))
    assert.is_false(numbers_only("-xan"))
    assert.is_false(numbers_only("-an"))
    assert.is_false(numbers_only("-gn"))
  end)

  it("print a listener's program name with its escape bytes escaped", function()
    local dir = helpers.mktemp_dir()
    local pid
    finally(function()
      if pid then helpers.kill(pid) end
      helpers.remove_tree(dir)
    end)
    -- the program name netstat shows is argv[0]'s last part: a copy of the
    -- interpreter under a hostile name
    local name = "ev\27[2Jil"
    local prog = dir .. "/" .. name
    helpers.must(format("cp /usr/bin/python3 %s", quote(prog)))
    local script = "import socket,sys,time\n"
      .. "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1)\n"
      .. "print(s.getsockname()[1]); print('ready'); sys.stdout.flush(); time.sleep(60)\n"
    local h
    pid, h = helpers.spawn(format("%s -c %s", quote(prog), quote(script)))
    assert(h:wait_ready(10))
    local port = tonumber(h.stdout():match("^(%d+)"))
    h.cleanup()
    assert.is_number(port)
    local out = helpers.run(format("%s bin/lnetstat -tlnp 2>&1", helpers.LUA))
    local line = out:match("[^\n]*127%.0%.0%.1:" .. port .. "[^\n]*")
    assert.is_string(line, out)
    assert.is_nil(line:find("\27", 1, true))
    assert.truthy(line:find(pid .. "/ev\\x1B[2Jil", 1, true), line)
  end)
end)
