-- The lnetstat command's promises about itself: the man page lists every
-- option each parser accepts (and no option a parser refuses), unsupported
-- netstat options are refused rather than shown as empty tables, monitor
-- refuses --netns all with a message of its own, and netstat -r -6 matches
-- net-tools netstat in a private namespace, the kernel's null routes
-- included.
local helpers = require "helpers"

local root_it = helpers.root_it
local quote = helpers.quote
local format = string.format

local SPEC = (debug.getinfo(1, "S").source:match("^@(.*/)")) or "./"
local ROOT = SPEC .. "../"
local LNETSTAT = helpers.LUA .. " " .. quote(ROOT .. "bin/lnetstat")

-- Runs cmd; returns its output and exit code (the shell reports it: under
-- Lua 5.1 a pipe's close does not).
local function run_rc(cmd)
  local out = helpers.run(cmd .. "; echo \"lnetstat-spec-rc=$?\"")
  local body, rc = out:match("^(.-)lnetstat%-spec%-rc=(%d+)\n$")
  return body or out, tonumber(rc)
end

-- A file handle stand-in that keeps what is written.
local function sink()
  local s = { text = "" }
  function s.write(self, ...)
    for i = 1, select("#", ...) do self.text = self.text .. tostring((select(i, ...))) end
    return self
  end
  function s.flush() end
  return s
end

-- The man page --------------------------------------------------------------------

-- The page as man renders it (one line per paragraph), by section:
-- { ["NAME"] = text, ..., ["check FILE..."] = text } (the subsections of
-- SUBCOMMANDS by their titles).
local function man_sections()
  local page = helpers.run("MANWIDTH=4000 man -l " .. quote(ROOT .. "man/lnetstat.1") .. " 2>/dev/null")
  local sections, current = {}, nil
  for line in page:gmatch("([^\n]*)\n") do
    local title = line:match("^(%u[%u ]*%u)$") or line:match("^   (%l.-)%s*$")
    if title then
      current = title
      sections[current] = {}
    elseif current then
      local t = sections[current]
      t[#t + 1] = line
    end
  end
  local out = {}
  for k, lines in pairs(sections) do out[k] = table.concat(lines, "\n") end
  assert(out["SOCKET OPTIONS"] and out["SUBCOMMANDS"], "man did not render the page")
  return out
end

-- Words of the page that look like options and are not.
local NOT_OPTIONS = {
  ["-1"] = true,   -- the metric of netstat -r -6's placeholder line
}

-- The options a text names: "-x" (one letter, not a bundle such as -tulnp)
-- and "--long-name" (up to "=" or another character that ends a name).
local function options_in(text)
  local found = {}
  for pos, opt in text:gmatch("()(%-%-?[%w][%w%-]*)") do
    local before = pos > 1 and text:sub(pos - 1, pos - 1) or " "
    if not before:match("[%w%-]") and not NOT_OPTIONS[opt] then
      if opt:sub(1, 2) == "--" or #opt == 2 then found[opt] = true end
    end
  end
  return found
end

-- The options of a subcommand's lua-argparse parser, with their aliases
-- ("-o", "--output"): its option list (argparse keeps each option's
-- aliases in _aliases; its help text wraps them unpredictably).
local function parser_options(p)
  assert(type(p._options) == "table", "lua-argparse keeps no _options list")
  local found = {}
  for _, o in ipairs(p._options) do
    for _, alias in ipairs(o._aliases) do found[alias] = true end
  end
  return found
end

-- The parsers the subcommands build, captured from lnetstat.cliargs.parser
-- while each one runs with --help (cliargs.parse, which metrics prints its
-- help with, stands aside meanwhile).
local function subcommand_parsers()
  local cliargs = require "lnetstat.cliargs"
  local made, original, parse = {}, cliargs.parser, cliargs.parse
  cliargs.parser = function(name, ...)
    local p = original(name, ...)
    made[name:match("^lnetstat (%S+)$")] = p
    return p
  end
  cliargs.parse = function() return nil, cliargs.OK end
  local ok, err = pcall(function()
    local out = sink()
    require("lnetstat.check").main({ "--help" }, { stdout = out, stderr = out })
    require("lnetstat.tstconfig").main({ "--help" }, { stdout = out, stderr = out })
    require("lnetstat.metrics").main({ "--help" })
    made.monitor = require("lnetstat.monitor").parser()
  end)
  cliargs.parser, cliargs.parse = original, parse
  assert(ok, err)
  return made
end

local function sorted_keys(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- The entries of `want` missing from `have`, as a sorted list.
local function missing(want, have)
  local list = {}
  for k in pairs(want) do
    if not have[k] then list[#list + 1] = k end
  end
  table.sort(list)
  return list
end

-- Node_exporter's own flags, which the metrics entry cites.
local function foreign(opt)
  return opt:match("^%-%-collector") or opt:match("^%-%-no%-collector")
end

describe("the man page", function()
  local sections = man_sections()

  -- The command's own options: the option sections and the list of
  -- options netstat has that lnetstat refuses.
  local function main_text()
    return table.concat({ sections["SOCKET OPTIONS"], sections["VIEWS"],
      sections["OTHER OPTIONS"], sections["DIFFERENCES FROM NETSTAT"] }, "\n")
  end

  -- A subcommand's entry, with the words every entry shares.
  local function sub_text(name)
    for title, text in pairs(sections) do
      if title == name or title:match("^" .. name .. " ") then
        return sections["SUBCOMMANDS"] .. "\n" .. text
      end
    end
    error("the man page has no entry for " .. name)
  end

  it("names every option of the command's parser, and only those", function()
    local o = require("lnetstat.netstat.flags").options()
    local want = {}
    for _, c in ipairs(o.short) do want["-" .. c] = true end
    for _, name in ipairs(o.long) do want["--" .. name] = true end
    local have = options_in(main_text())
    assert.are.same({}, missing(want, have))
    assert.are.same({}, missing(have, want))
  end)

  it("lnetstat -h names every option of the command's parser, and only those", function()
    local o = require("lnetstat.netstat.flags").options()
    local want = {}
    for _, c in ipairs(o.short) do want["-" .. c] = true end
    for _, name in ipairs(o.long) do want["--" .. name] = true end
    -- the command's part of the help: what comes before the subcommands
    local usage = require("lnetstat.cli").USAGE
    local have = options_in(usage:match("^(.-)\nSubcommands:\n"))
    assert.are.same({}, missing(want, have))
    assert.are.same({}, missing(have, want))
    -- the refused ones are named as refused
    local refused = options_in(usage:match("\nRefused as not supported[^\n]*\n.-\n%S"))
    for _, opt in ipairs(o.unsupported) do assert.is_truthy(refused[opt], opt) end
  end)

  it("says which netstat options lnetstat refuses, in its DIFFERENCES section", function()
    local refused = sections["DIFFERENCES FROM NETSTAT"]:match("\n *Not supported.*$")
    assert.is_truthy(refused)
    local have = options_in(refused)
    local want = {}
    for _, opt in ipairs(require("lnetstat.netstat.flags").options().unsupported) do want[opt] = true end
    assert.are.same({}, missing(want, have))
    -- and every one of them is refused by the command: exit 2, nothing on stdout
    for _, opt in ipairs(sorted_keys(want)) do
      local out, code = run_rc(LNETSTAT .. " " .. opt .. " 2>/dev/null")
      assert.are.equal(2, code, opt)
      assert.are.equal("", out, opt)
    end
  end)

  for _, name in ipairs { "check", "tstconfig", "metrics", "monitor" } do
    it("names every option of the " .. name .. " subcommand's parser in its entry, and only those",
      function()
      local p = subcommand_parsers()[name]
      assert.is_truthy(p, name)
      local want = parser_options(p)
      assert.is_truthy(want["--netns"] and want["--help"] and want["-h"])
      local have = options_in(sub_text(name))
      for opt in pairs(have) do
        if foreign(opt) then have[opt] = nil end
      end
      assert.are.same({}, missing(want, have))
      assert.are.same({}, missing(have, want))
    end)
  end

  it("says check reads a check file from standard input for FILE -", function()
    assert.matches("a FILE of %- reads a check file from standard input", sub_text("check"))
  end)

  it("describes --netns all for the views and check, and its refusal by metrics and monitor",
    function()
    local other = sections["OTHER OPTIONS"]
    assert.matches("%-%-netns all reads the caller's namespace and then every named one", other)
    assert.matches("Namespace: %(own%)", other)
    assert.matches("Namespace: NAME", other)
    assert.matches("%-%-netns all gives the checks the records", sub_text("check"))
    for _, name in ipairs { "metrics", "monitor" } do
      assert.matches("%-%-netns all is a usage error %(exit 2%)", sub_text(name))
    end
  end)
end)

-- Refusals ------------------------------------------------------------------------

describe("options lnetstat does not support", function()
  it("-S and --sctp are a usage error (exit 2) that says so, not an empty table", function()
    for _, args in ipairs { "-S", "--sctp", "-tS", "-S -t" } do
      local out, code = run_rc(LNETSTAT .. " " .. args .. " 2>/dev/null")
      assert.are.equal(2, code, args)
      assert.are.equal("", out, args)
      local err = run_rc(LNETSTAT .. " " .. args .. " 2>&1 >/dev/null")
      assert.are.equal("lnetstat: SCTP sockets (-S): not supported\n"
        .. "Try 'lnetstat --help' for more information.\n", err)
    end
  end)

  it("the library's netstat() refuses -S as netstat's usage error (3)", function()
    local out, err, code = require("lnetstat.format").netstat({ "-S" })
    assert.are.same({ "", "lnetstat: SCTP sockets (-S): not supported\n", 3 }, { out, err, code })
  end)

  it("no view claims SCTP: a family alone selects TCP, UDP, UDP-Lite and raw", function()
    local flags = require("lnetstat.netstat.flags").parse_args({ "-4" })
    assert.is_false(flags.sctp)
    assert.is_true(flags.tcp and flags.udp and flags.udplite and flags.raw)
  end)
end)

describe("lnetstat monitor --netns all", function()
  it("is a usage error of its own: exit 2, a clear message, nothing on stdout", function()
    for _, args in ipairs { "--netns all", "--netns=all", "links --netns all --json" } do
      local out, code = run_rc(LNETSTAT .. " monitor " .. args .. " 2>/dev/null")
      assert.are.equal(2, code, args)
      assert.are.equal("", out, args)
      local err = run_rc(LNETSTAT .. " monitor " .. args .. " 2>&1 >/dev/null")
      assert.are.equal("lnetstat monitor: --netns all is not supported: one namespace per watch "
        .. "(run lnetstat monitor once per namespace)\n"
        .. "Try 'lnetstat monitor --help' for more information.\n", err)
    end
  end)

  it("parse() refuses it before anything is watched", function()
    local out, err = sink(), sink()
    local o, code = require("lnetstat.monitor").parse({ "--netns", "all" }, { stdout = out, stderr = err })
    assert.are.same({ nil, 2, "" }, { o, code, out.text })
    assert.matches("^lnetstat monitor: %-%-netns all is not supported", err.text)
  end)
end)

-- netstat -r -6 ------------------------------------------------------------------

describe("netstat -r -6 rows", function()
  local rows = require "lnetstat.netstat.rows"
  local V6 = { inet6 = true, inet = false }
  local function r(dst, tbl, extra)
    local t = { family = "inet6", dst = dst, table = tbl, type = "unicast", metric = 256, interface = "eth0" }
    for k, v in pairs(extra or {}) do t[k] = v end
    return t
  end
  local function summary(list)
    local out = {}
    for i, x in ipairs(list) do
      out[i] = format("%s %s%s", x.dst, tostring(x.table), x.null_entry and " null" or "")
    end
    return out
  end

  it("end each table without a ::/0 route with the kernel's null entry, main and local always",
    function()
    local list = {
      r("2001:db8::/64", 254), r("fe80::/64", 254),
      r("::1/128", 255, { type = "local" }), r("ff00::/8", 255, { type = "multicast" }),
    }
    assert.are.same({ "2001:db8::/64 254", "fe80::/64 254", "::/0 254 null",
      "::1/128 255", "ff00::/8 255", "::/0 255 null" }, summary(rows.select_routes(list, V6)))
    local null = rows.select_routes(list, V6)[3]
    assert.are.same({ family = "inet6", dst = "::/0", type = "unreachable", table = 254,
      metric = 4294967295, interface = "lo", protocol = "kernel", null_entry = true }, null)
  end)

  it("walk the tables in the kernel's order (id modulo 256); a ::/0 route takes the null's place",
    function()
    local list = {
      r("2001:db8:6::/64", 300, { type = "unreachable" }), r("::/0", 300, { type = "blackhole" }),
      r("2001:db8:5::/64", 100),
      r("2001:db8::/64", 254), r("::/0", 254, { gateway = "2001:db8::2" }),
      r("::1/128", 255, { type = "local" }),
    }
    assert.are.same({ "2001:db8:6::/64 300", "::/0 300", "2001:db8:5::/64 100", "::/0 100 null",
      "2001:db8::/64 254", "::/0 254", "::1/128 255", "::/0 255 null" },
      summary(rows.select_routes(list, V6)))
  end)

  it("show a namespace without routes as its two null entries", function()
    assert.are.same({ "::/0 254 null", "::/0 255 null" }, summary(rows.select_routes({}, V6)))
  end)

  it("add none when the records do not name their tables (the /proc fallback)", function()
    local list = { r("2001:db8::/64"), r("::1/128", nil, { type = "local" }),
      r("2001:db8::5/128", nil, { cloned = true }) }
    assert.are.same({ "2001:db8::/64 nil", "::1/128 nil" }, summary(rows.select_routes(list, V6)))
  end)

  it("leave netstat -r (IPv4) alone", function()
    local list = { { family = "inet", dst = "0.0.0.0/0", table = 254, type = "unicast" } }
    assert.are.equal(1, #rows.select_routes(list, { inet = true, inet6 = true }))
  end)
end)

describe("lnetstat -r -6 against netstat in a private netns", function()
  local ns

  setup(function()
    if not helpers.is_root() then return end
    local ok, err = pcall(function()
      ns = helpers.netns_create("lnetstat-r6")
      local must = helpers.must
      -- no duplicate address detection: every address (and its local
      -- route) is there at once, not while the two commands read
      must(format("ip netns exec %s sysctl -qw net.ipv6.conf.all.accept_dad=0", quote(ns)))
      must(format("ip netns exec %s sysctl -qw net.ipv6.conf.default.accept_dad=0", quote(ns)))
      must(format("ip -n %s link add r6a type veth peer name r6b", quote(ns)))
      must(format("ip -n %s addr add 198.51.100.1/24 dev r6a", quote(ns)))
      must(format("ip -n %s addr add 2001:db8::1/64 dev r6a nodad", quote(ns)))
      must(format("ip -n %s link set r6a up", quote(ns)))
      must(format("ip -n %s link set r6b up", quote(ns)))
    end)
    if not ok then
      helpers.netns_delete(ns)
      ns = nil
      error(err, 0)
    end
  end)

  teardown(function() helpers.netns_delete(ns) end)

  -- The Ref column is the kernel's reference count, which rtnetlink does
  -- not report (the man page says so): masked, the rest byte for byte.
  local function mask_ref(text)
    return (text:gsub("([^\n]-%S+ +%S+ +%S+ +%-?%d+ +)%d+( +%d+ %S+\n)", "%1R%2"))
  end

  local function check(args)
    local expected, actual
    for _ = 1, 3 do
      expected = mask_ref(helpers.netns_run(ns, "netstat " .. args .. " 2>&1"))
      actual = mask_ref(helpers.netns_run(ns, LNETSTAT .. " " .. args .. " 2>&1"))
      if expected == actual then break end
      helpers.sleep(0.5)   -- a route came or went between the two reads
    end
    assert.are.equal(expected, actual)
    return actual
  end

  root_it("shows the null routes of main and local, as netstat does", function()
    local out = check("-rn6")
    local _, nulls = out:gsub("\n::/0 +:: +!n +%-1 +R +0 lo\n", "%0")
    assert.is_true(nulls >= 1, out)
    assert.matches("\n::/0                           ::                         !n   %-1  R      0 lo\n$", out)
    check("-r6")
    check("-r -6 -e")
  end)

  root_it("with a default route and tables of their own", function()
    local must = helpers.must
    must(format("ip -n %s -6 route add default via 2001:db8::2 dev r6a", quote(ns)))
    must(format("ip -n %s -6 route add 2001:db8:5::/64 dev r6a table 100", quote(ns)))
    must(format("ip -n %s -6 route add unreachable 2001:db8:6::/64 table 300", quote(ns)))
    must(format("ip -n %s -6 route add blackhole default table 300", quote(ns)))
    check("-rn6")
    check("-r6")
  end)
end)

describe("lnetstat -v's notes against netstat in a private netns", function()
  local ns

  setup(function()
    if helpers.is_root() then ns = helpers.netns_create("lnetstat-v") end
  end)
  teardown(function() helpers.netns_delete(ns) end)

  -- netstat names the SCTP family twice with -a (two reads fail), once
  -- otherwise; stderr compared line for line, in order
  root_it("stderr is netstat's, the SCTP note once without -a and twice with it", function()
    for _, args in ipairs { "-v", "-vl", "-vn", "-vln", "-vp", "-va", "-van", "-vla" } do
      local expected = helpers.netns_run(ns, "netstat " .. args .. " 2>&1 >/dev/null")
      local actual = helpers.netns_run(ns, LNETSTAT .. " " .. args .. " 2>&1 >/dev/null")
      assert.are.equal(expected, actual, "stderr of " .. args)
      local _, sctp = actual:gsub("AF INET %(sctp%)", "")
      assert.are.equal(args:find("a", 1, true) and 2 or 1, sctp, args)
    end
  end)
end)

-- Examples ------------------------------------------------------------------------

describe("examples", function()
  -- "...: `make demo`." says make demo runs this file
  it("an example that says a make target runs it is the one that target runs", function()
    local makefile = assert(helpers.read_file(ROOT .. "Makefile"))
    local files = helpers.run("cd " .. quote(ROOT) .. " && ls examples/*.lua")
    for file in files:gmatch("[^\n]+") do
      local text = assert(helpers.read_file(ROOT .. file))
      local head = text:match("^(.-)\n[^%-]")
      for target in head:gmatch("`make ([%w%-]+)`[:.]") do
        local recipe = makefile:match("\n" .. target .. ":[^\n]*\n(.-)\n\n")
        assert.is_truthy(recipe, file .. " names make " .. target)
        assert.is_truthy(recipe:find(file, 1, true), file .. " says `make " .. target .. "` runs it")
      end
    end
  end)

  it("examples/listening.lua runs from the checkout as its header says", function()
    local header = assert(helpers.read_file(ROOT .. "examples/listening.lua")):match("^(.-)\n[^%-]")
    assert.is_truthy(header:find("lua5.4 examples/listening.lua", 1, true))
    local out, code = run_rc("cd " .. quote(ROOT) .. " && " .. helpers.LUA .. " examples/listening.lua 2>&1")
    if helpers.BUILD == "5.4" then
      assert.are.equal(0, code, out)
      assert.matches("^%d+ listening sockets on this host:\n", out)
    end
  end)
end)
