-- core.write_atomic (lnetstat.util.write_atomic, check -o, metrics -o)
-- replaces regular files and symlinks only: a device, FIFO, socket or
-- directory at the target is refused before anything is created. A
-- replaced regular file keeps its mode, its owner and its group (as far
-- as the writer may give them), so a reader let in by the group still is.
local helpers = require "helpers"
local scratch = require "scratch"
local util = require "lnetstat.util"

local root_it = helpers.root_it
local quote, run, must = helpers.quote, helpers.run, helpers.must
local format = string.format

local HERE = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local ROOT = HERE .. "../"

local write = scratch.write

-- "type uid:gid mode" of path, not following a symlink
local function stat(path)
  return (must("stat -c '%F %u:%g %a' " .. quote(path)):gsub("%s+$", ""))
end

local function listing(dir)
  return run("ls -A " .. quote(dir))
end

-- output, and whether the command exited 0 (read from the shell: the
-- close of a popen does not report it under Lua 5.1 and LuaJIT)
local function lnetstat(args)
  local out = run(format("%s %s %s 2>&1; echo \"<rc=$?>\"", helpers.LUA, quote(ROOT .. "bin/lnetstat"), args))
  local body, rc = out:match("^(.-)<rc=(%d+)>%s*$")
  return body, rc == "0"
end

describe("write_atomic", function()
  local dir
  before_each(function() dir = helpers.mktemp_dir() end)
  after_each(function() helpers.remove_tree(dir) end)

  describe("refuses a target that is not a regular file or a symlink", function()
    it("a FIFO, and creates nothing beside it", function()
      local f = dir .. "/fifo"
      must("mkfifo " .. quote(f))
      local ok, msg, errno = util.write_atomic(f, "x 1\n")
      assert.is_nil(ok)
      assert.equal(format("'%s': not a regular file (a FIFO)", f), msg)
      assert.equal(17, errno)   -- EEXIST
      assert.equal("fifo", stat(f):match("^(%S+)"))
      assert.equal("fifo\n", listing(dir))
      -- the probe run before long work says the same
      ok, msg = util.check_writable(f)
      assert.is_nil(ok)
      assert.equal(format("'%s': not a regular file (a FIFO)", f), msg)
      assert.equal("fifo\n", listing(dir))
    end)

    it("a directory", function()
      must("mkdir " .. quote(dir .. "/sub"))
      local ok, msg, errno = util.write_atomic(dir .. "/sub", "x")
      assert.is_nil(ok)
      assert.equal(format("'%s/sub': not a regular file (a directory)", dir), msg)
      assert.equal(21, errno)   -- EISDIR
      assert.equal("sub\n", listing(dir))
    end)

    root_it("a character device", function()
      local f = dir .. "/null"
      must("mknod " .. quote(f) .. " c 1 3")
      local ok, msg, errno = util.write_atomic(f, "x 1\n")
      assert.is_nil(ok)
      assert.equal(format("'%s': not a regular file (a character device)", f), msg)
      assert.equal(17, errno)
      assert.equal("character special file 0:0", stat(f):match("^(.-) %d+$"))
      assert.equal("null\n", listing(dir))
    end)

    root_it("lnetstat check -o and metrics -o fail on a device and a FIFO", function()
      local checks = dir .. "/pass.lua"
      write(checks, "check('c', function() return true end)\n")
      local null, fifo = dir .. "/null", dir .. "/fifo"
      must("mknod " .. quote(null) .. " c 1 3")
      must("mkfifo " .. quote(fifo))
      local out, ok = lnetstat(format("check %s -o %s", quote(checks), quote(null)))
      assert.is_false(ok, out)
      assert.matches("not a regular file %(a character device%)", out)
      out, ok = lnetstat(format("metrics -o %s", quote(fifo)))
      assert.is_false(ok, out)
      assert.matches("not a regular file %(a FIFO%)", out)
      assert.equal("character special file", stat(null):match("^(.-) %d"))
      assert.equal("fifo", stat(fifo):match("^(%S+)"))
      assert.equal("fifo\nnull\npass.lua\n", listing(dir))
    end)
  end)

  it("still replaces a symlink itself, never what it points to", function()
    local victim, f = dir .. "/victim", dir .. "/out"
    write(victim, "precious\n")
    must(format("ln -s victim %s", quote(f)))
    assert.is_true(util.write_atomic(f, "new\n"))
    assert.equal("precious\n", helpers.read_file(victim))
    assert.equal("regular file", stat(f):match("^(.-) %d"))
    assert.equal("new\n", helpers.read_file(f))
  end)

  root_it("keeps the owner, group and mode of the file it replaces", function()
    local f = dir .. "/node.prom"
    write(f, "old\n")
    must("chown 65534:65534 " .. quote(f) .. " && chmod 640 " .. quote(f))
    assert.is_true(util.write_atomic(f, "new 1\n"))
    assert.equal("regular file 65534:65534 640", stat(f))
    assert.equal("new 1\n", helpers.read_file(f))

    -- root:nogroup 0640, read by the group: still so after metrics -o
    must("chown 0:65534 " .. quote(f))
    local out, ok = lnetstat("metrics -o " .. quote(f))
    assert.is_true(ok, out)
    assert.equal("regular file 0:65534 640", stat(f))
    assert.matches("lnetstat_netstat_Tcp_ActiveOpens", helpers.read_file(f))
  end)

  root_it("as another user: keeps the group it belongs to, else writes as itself", function()
    -- a directory the unprivileged writer (uid 65534) owns, beside this checkout
    must("chmod 755 " .. quote(dir))
    local own = dir .. "/own"
    must("mkdir " .. quote(own) .. " && chown 65534:65534 " .. quote(own))
    local kept, other = own .. "/kept", own .. "/other"
    write(kept, "old\n")
    write(other, "old\n")
    -- group 100 (users) is one the writer is given; group 0 is not
    must(format("chown 0:100 %s && chmod 640 %s && chown 0:0 %s && chmod 604 %s",
      quote(kept), quote(kept), quote(other), quote(other)))
    local script = dir .. "/w.lua"
    write(script, format([[
      package.path = %q
      package.cpath = %q
      local util = require "lnetstat.util"
      print(util.write_atomic(%q, "new\n"))
      print(util.write_atomic(%q, "new\n"))
    ]], ROOT .. "lua/?.lua;" .. ROOT .. "lua/?/init.lua;" .. package.path,
      ROOT .. "build/" .. helpers.BUILD .. "/?.so;" .. package.cpath, kept, other))
    local out = run(format("setpriv --reuid=65534 --regid=65534 --groups=100 %s %s 2>&1",
      helpers.LUA, quote(script)))
    assert.equal("true\ntrue\n", out)
    assert.equal("regular file 65534:100 640", stat(kept))
    assert.equal("regular file 65534:65534 604", stat(other))
    assert.equal("new\n", helpers.read_file(kept))
    assert.equal("new\n", helpers.read_file(other))
  end)
end)
