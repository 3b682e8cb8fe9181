-- lnetstat -p without root writes netstat's note on stderr, chosen as
-- netstat chooses it: from the whole walk of /proc, not from the sockets
-- the view shows. A socket of the caller's user that the view leaves out
-- (a UDP socket under -tlnp) still tells that some owners could be read.
local helpers = require "helpers"

local format, quote = string.format, helpers.quote

local HERE = ((debug.getinfo(1, "S").source:match("^@(.*/)")) or "./")
local LNETSTAT = helpers.LUA .. " " .. quote(HERE .. "../bin/lnetstat")
local AS_NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups "

local NOT_ALL = "(Not all processes could be identified, non-owned process info\n"
  .. " will not be shown, you would have to be root to see it all.)\n"

-- stderr of cmd run as nobody, stdout dropped
local function note_of(cmd)
  return helpers.run(AS_NOBODY .. cmd .. " 2>&1 >/dev/null")
end

describe("lnetstat -p as another user", function()
  helpers.root_it("says some owners were readable when that user holds a socket the view leaves out", function()
    -- the system's python3: nobody may not run another user's
    local pid, h = helpers.spawn(AS_NOBODY .. "/usr/bin/python3 -c " .. quote([[
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print("ready", flush=True); time.sleep(60)]]))
    finally(function() helpers.kill(pid, 3, "python3"); h.cleanup() end)
    assert(h:wait_ready(20))
    local expected = note_of("netstat -tlnp")
    local actual = note_of(LNETSTAT .. " -tlnp")
    assert.equal(NOT_ALL, expected)
    assert.equal(expected, actual)
    -- the UDP socket is not in the view: the note comes from the walk
    assert.not_matches(format("%d/python3", pid), helpers.run(AS_NOBODY .. LNETSTAT .. " -tlnp 2>/dev/null"),
      1, true)
  end)
end)
