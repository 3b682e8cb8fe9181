-- lnetstat.tstconfig: Tstconfig definition files, their report, the
-- netstat and ss emulation, and the classic netstat files live in a private
-- network namespace (root). Run from the repository root (the fixtures name
-- their files relative to it).
local tstconfig = require "lnetstat.tstconfig"
local fake = require "fixtures.check.fake"
local helpers = require "helpers"
local scratch = require "scratch"

local root_it = helpers.root_it
local format = string.format

local FIX = "spec/fixtures/tstconfig/"

local function run(files, opts)
  local list = {}
  for i, f in ipairs(type(files) == "table" and files or { files }) do list[i] = FIX .. f end
  return tstconfig.run(list, opts)
end

-- What `netstat -plnt` prints (net-tools 2.10) on a host with sshd, nginx
-- on a dual-stack [::] and postgres on loopback.
local NETSTAT_PLNT = table.concat({
  "Active Internet connections (only servers)",
  "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    ",
  "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      812/sshd            ",
  "tcp        0      0 127.0.0.1:5432          0.0.0.0:*               LISTEN      900/postgres        ",
  "tcp6       0      0 :::80                   :::*                    LISTEN      1000/nginx: master  ",
  "tcp6       0      0 :::443                  :::*                    LISTEN      1000/nginx: master  ",
}, "\n") .. "\n"

describe("lnetstat.tstconfig", function()
  describe("the tokenizer (commons-lang StrTokenizer)", function()
    local SPLIT = { [" "] = true, ["\t"] = true }
    it("splits on delimiters, quotes opening a token, doubled quotes, empty tokens", function()
      assert.same({ "a", "b c", "d" }, tstconfig.tokenize('a "b c"  d', SPLIT, '"', true))
      -- a quote inside a token is an ordinary character (commons-lang3) ...
      assert.same({ 'a"b', 'c"d' }, tstconfig.tokenize('a"b c"d', SPLIT, '"', true))
      local users = 'users:(("sshd",pid=1,fd=3))'
      assert.same({ users }, tstconfig.tokenize(users, SPLIT, '"', true))
      -- ... but a token opened by a quote re-enters quoting at its later quotes
      assert.same({ "b cde f" }, tstconfig.tokenize('"b c"d"e f"', SPLIT, '"', true))
      assert.same({ "ab" }, tstconfig.tokenize('"ab', SPLIT, '"', true))
      assert.same({ 'say "hi"' }, tstconfig.tokenize('"say ""hi"""', SPLIT, '"', true))
      assert.same({}, tstconfig.tokenize('""', SPLIT, '"', true))
      assert.same({}, tstconfig.tokenize("", SPLIT, '"', true))
      local colon = { [":"] = true }
      assert.same({ "a", "", "b", "" }, tstconfig.tokenize("a::b:", colon, nil, false))
      assert.same({ "", "a" }, tstconfig.tokenize(":a", colon, nil, false))
      assert.same({ "", "" }, tstconfig.tokenize(":", colon, nil, false))
      assert.same({ "a", "b" }, tstconfig.tokenize("a::b:", colon, nil, true))
    end)

    it("matches section regexes as java.util.regex's matches() and group(1)", function()
      local function m(re, line)
        local rx = assert(tstconfig.regex(re))
        return { rx.match(line) }
      end
      assert.same({ true, "Directory /var/www/" }, m("^\\s*<(.*)>\\s*$", "  <Directory /var/www/>"))
      assert.same({ false }, m("\\[section (\\w+)\\]", "x[section main]"))  -- the whole line
      assert.same({ true, "main" }, m("\\[section (\\w+)\\]", "[section main]"))
      -- alternation, at the top and in groups; counted repetition; quantified groups
      assert.same({ true, "client" }, m("^(server|client)\\s*\\{$", "client {"))
      assert.same({ false }, m("^(server|client)\\s*\\{$", "proxy {"))
      assert.same({ true, nil }, m("^-{3}$|^={3}$", "==="))
      assert.same({ false }, m("^-{3}$", "----"))
      assert.same({ true, "b" }, m("(ab|b)+", "abab" .. "b"))
      assert.same({ true, "x" }, m("(?:\\[)(x|y)(?:\\])", "[x]"))
      assert.same({ true, "aa" }, m("(a+)a*", "aa"))
      assert.same({ true, "a" }, m("(a+?)a+", "aa"))
      assert.same({ true, "ab" }, m("(\\w+)=\\1", "ab=ab"))
      assert.same({ true, "%b." }, m("^([%a-c.]+)x?$", "%b."))
      -- a repeated character is counted in a loop: a long line does not
      -- overflow the stack (Lua 5.1, LuaJIT)
      local hit, name = assert(tstconfig.regex("^\\s*<(.*)>\\s*$")).match("<" .. string.rep("x", 100000) .. ">")
      assert.same({ true, 100000 }, { hit, #name })
      -- what Java refuses, and what lnetstat does not implement
      for _, case in ipairs {
        { "[unclosed", "syntax" }, { "(ab", "syntax" }, { "a{2", "syntax" }, { "*a", "syntax" },
        { "(?i)abc", "unsupported" }, { "(?<=a)b", "unsupported" }, { "[a[b]]", "unsupported" },
      } do
        local rx, why, kind = tstconfig.regex(case[1])
        assert.is_nil(rx, case[1])
        assert.equal(case[2], kind, case[1])
        assert.is_string(why)
      end
    end)
  end)

  describe("definition files", function()
    it("print Tstconfig's report: header, files, ASSERTION FAILED blocks, summary", function()
      local text, code, counts = run { "sshd.tstconfig", "apache.tstconfig" }
      assert.equal(2, code)
      assert.same({ tested = 19, passed = 15, failed = 4, errors = 1 }, counts)
      assert.equal(table.concat({
        "Tstconfig 0.3 (lnetstat)",
        "",
        "Reading definition file: spec/fixtures/tstconfig/sshd.tstconfig",
        "ASSERTION FAILED",
        " File:      spec/fixtures/tstconfig/sshd_config",
        " Property:  Port",
        " Value:     22",
        " Assertion: assert_eq 2222",
        "",
        "ASSERTION FAILED",
        " File:      spec/fixtures/tstconfig/sshd_config",
        " Property:  Missing",
        " Value:     <undefined>",
        " Assertion: assert_eq something",
        "",
        "WARN: assert_ends_with checks the value here; Tstconfig 0.3 passes assert_starts_with and "
          .. "assert_ends_with whatever the value",
        "ASSERTION FAILED",
        " File:      spec/fixtures/tstconfig/sshd_config",
        " Property:  Ciphers",
        " Value:     aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
        " Assertion: assert_ends_with @example.org",
        "",
        "",
        "Reading definition file: spec/fixtures/tstconfig/apache.tstconfig",
        "ASSERTION FAILED",
        " File:      spec/fixtures/tstconfig/apache2.conf",
        " Section:   Directory /var/www/",
        " Property:  Require",
        " Value:     all granted",
        " Assertion: assert_eq all denied",
        "",
        "ERROR: section is undefined: VirtualHost *:80",
        "",
        "",
        "SUMMARY REPORT: FAIL",
        "Assertions tested: 19",
        "Assertions passed: 15",
        "Assertions failed: 4",
        "Errors: 1",
        "",
      }, "\n"), text)
    end)

    it("syntax ini, apt, etc_passwd; duplicates policies", function()
      local text, code = run { "fail2ban.tstconfig", "apt.tstconfig", "duplicates.tstconfig" }
      assert.equal(0, code, text)
      assert.matches("SUMMARY REPORT: PASS\nAssertions tested: 11\nAssertions passed: 11\n", text)
      local counts
      text, code, counts = run "etc_passwd.tstconfig"
      assert.equal(1, code)
      assert.same({ tested = 5, passed = 4, failed = 1, errors = 0 }, counts)
      -- the empty GECOS field is a token (ignore_empty_tokens false) ...
      assert.matches(" Value:     x 5 60  /usr/games /usr/sbin/nologin\n", text)
      -- ... but an empty "" argument in a definition file is dropped, as in Tstconfig
      assert.matches(" Assertion: assert_eq x 5 60 /usr/games /usr/sbin/nologin\n", text)
    end)

    it("keyvalue with read_lines, fixed positions with skip_header_lines", function()
      local text, code, counts = run "ufw.tstconfig"
      assert.equal(1, code)
      assert.same({ tested = 8, passed = 7, failed = 1, errors = 0 }, counts)
      assert.matches(" Property:  22 %(v6%)\n Value:     <undefined>\n Assertion: assert_defined \n", text)
    end)

    it("counts the errors Tstconfig counts; unknown directives only with --strict", function()
      local text, code, counts = run "errors.tstconfig"
      assert.equal(2, code)
      assert.same({ tested = 0, passed = 0, failed = 0, errors = 8 }, counts)
      for _, line in ipairs {
        "ERROR: cannot read file: spec/fixtures/tstconfig/does-not-exist "
          .. "('spec/fixtures/tstconfig/does-not-exist': No such file or directory)\n\n",
        "ERROR: not a number: many\n\n", "ERROR: unrecognized syntax: cobol\n\n",
        "ERROR: unrecognized parse mode: csv\n\n", "ERROR: unrecognized duplicates policy: merge\n\n",
        "ERROR: illegal quote char: ab\n\n", "ERROR: not a number: x\n\n",
        "ERROR: section is undefined: Nowhere\n\n",
        "ERROR: java.lang.NoSuchMethodException: com.softwareloop.tstconfig.Test.assert_equal",
      } do
        assert.truthy(text:find(line, 1, true), line)
      end
      local _, _, strict = run("errors.tstconfig", { strict = true })
      assert.equal(9, strict.errors)
    end)

    it("exits 1 on FAIL, 0 with --exit-zero, 0 on PASS; an unreadable definition is an error", function()
      local _, code = run("sshd.tstconfig", { exit_zero = true })
      assert.equal(0, code)
      local text, code2, counts = run "missing.tstconfig"
      assert.equal(2, code2)
      assert.equal(1, counts.errors)
      assert.matches("Reading definition file: spec/fixtures/tstconfig/missing.tstconfig\nERROR: cannot read file",
        text)
    end)
  end)

  describe("definition files run as Tstconfig 0.3 runs them", function()
    it("fixed positions start columns, from 0 or not", function()
      local text, code, counts = run "fixed-positions.tstconfig"
      assert.equal(0, code, text)
      assert.same({ tested = 5, passed = 5, failed = 0, errors = 0 }, counts)
    end)

    it("keyvalue and ini values ignore quote_char and ignore_empty_tokens; tokenized does not", function()
      local text, code, counts = run "keyvalue-quoting.tstconfig"
      assert.equal(0, code, text)
      assert.same({ tested = 10, passed = 10, failed = 0, errors = 0 }, counts)
    end)

    it("quotes are special only when they open a token (text, definitions, passwd)", function()
      local text, code, counts = run "quoting.tstconfig"
      assert.equal(0, code, text)
      assert.same({ tested = 7, passed = 7, failed = 0, errors = 0 }, counts)
      -- and the report prints the quotes it kept
      local f = os.tmpname()
      finally(function() os.remove(f) end)
      local fh = assert(io.open(f, "w"))
      fh:write("file ", FIX, "passwd-quotes\nsyntax etc_passwd\ncolumns 0 4\nproperty bob\nassert_eq Bob\n")
      fh:close()
      text = tstconfig.run { f }
      assert.matches(' Property:  bob\n Value:     Robert "Bob" Smith\n Assertion: assert_eq Bob\n', text, 1, true)
    end)

    it("section patterns with alternation, groups and counted repetition", function()
      local text, code, counts = run "sections.tstconfig"
      assert.equal(0, code, text)
      assert.same({ tested = 6, passed = 6, failed = 0, errors = 0 }, counts)
      -- a pattern Java refuses is printed and not counted, as in 0.3; one
      -- lnetstat cannot match is counted
      text, code, counts = run "section-errors.tstconfig"
      assert.equal(2, code)
      assert.same({ tested = 1, passed = 1, failed = 0, errors = 3 }, counts)
      assert.matches("\nERROR: the pattern %^%(%?:%(%?:a|b%?%){1,9}%)%*c%$ backtracks too much on a line of 47 ", text)
      assert.matches("\nERROR: java.util.regex.PatternSyntaxException: Unclosed group[^\n]*\n%^%(server\n", text)
      assert.matches("\nERROR: section_header_pattern: lnetstat does not match inline flags", text)
      assert.matches("\nERROR: section_footer_pattern: lnetstat does not match look%-behind", text)
    end)

    it("a failing section_size prints no stale Property: line", function()
      local text, code, counts = run "section-size.tstconfig"
      assert.equal(1, code)
      assert.same({ tested = 2, passed = 1, failed = 1, errors = 0 }, counts)
      assert.matches("\nASSERTION FAILED\n File:      spec/fixtures/tstconfig/passwd\n Value:     3\n"
        .. " Assertion: assert_eq 99\n\n", text, 1, true)
    end)
  end)

  describe("command", function()
    it("answers sudo netstat from lnetstat.format.netstat: no fork, no sudo", function()
      local calls = {}
      local function netstat(argv, opts)
        calls[#calls + 1] = { argv = argv, opts = opts }
        return NETSTAT_PLNT, "", 0
      end
      local text, code, counts = run("netstat-classic.tstconfig", { netstat = netstat, netns = "web",
        exec = function() error("must not run a command") end })
      assert.equal(0, code, text)
      assert.same({ tested = 3, passed = 3, failed = 0, errors = 0 }, counts)
      assert.same({ { argv = { "-plnt" }, opts = { netns = "web" } } }, calls)
      -- without sshd on 0.0.0.0:22 the classic file fails, as it should
      local no_sshd = NETSTAT_PLNT:gsub("tcp        0      0 0%.0%.0%.0:22 [^\n]*\n", "")
      text, code = run("netstat-classic.tstconfig", { netstat = function() return no_sshd, "", 0 end })
      assert.equal(1, code)
      assert.matches("ASSERTION FAILED\n Command:   sudo netstat %-plnt\n Property:  0%.0%.0%.0:22\n"
        .. " Value:     <undefined>\n Assertion: assert_ends_with /sshd\n", text)
      -- section_size forgets the property, as in 0.3: no stale Property: line
      assert.matches("\nASSERTION FAILED\n Command:   sudo netstat %-plnt\n Value:     3\n Assertion: assert_eq 4\n",
        text)
      -- the original Tstconfig example file
      text, code = run("netstat-original.tstconfig", { netstat = netstat })
      assert.equal(1, code)
      assert.matches(" Property:  :::22\n Value:     <undefined>\n Assertion: assert_eq tcp6 :::%* LISTEN\n", text)
      assert.matches(" Property:  :::80\n Value:     1000/nginx: master\n Assertion: assert_ends_with /apache2\n",
        text)
    end)

    it("prints netstat's exit code and stderr as Tstconfig does; a code is an error", function()
      -- lnetstat's own netstat fails only on a bad command line or data it
      -- could not read: counted as an error (exit 2)
      local text, code, counts = run("netstat-classic.tstconfig", { netstat = function()
        return NETSTAT_PLNT, "(Not all processes could be identified)\n", 3
      end })
      assert.equal(1, counts.errors)
      assert.equal(2, code)
      assert.matches("Reading definition file: [^\n]*\nERROR: Command returned error code: 3\n"
        .. "WARN: Command wrote to stderr:\n%(Not all processes could be identified%)\n\n", text)
      text, code, counts = run("netstat-classic.tstconfig", { netstat = function() error("no such flag") end })
      assert.equal(2, code)
      assert.equal(1, counts.errors)
      assert.matches("ERROR: netstat emulation failed: [^\n]*no such flag", text)
    end)

    it("answers ss from lnetstat.ss: ss's header, columns and *:* peers", function()
      local L = fake.listener
      local data = fake.data { sockets = {
        L("tcp", "0.0.0.0", 22, "sshd", "root", 812),
        L("tcp", "::", 80, "nginx", "root", 900),
        L("tcp", "::", 443, "nginx", "root", 900, { v6only = true }),
        L("udp", "0.0.0.0", 53, "named", "bind", 53),
      } }
      local ss = require "lnetstat.ss"
      -- ss's layout without a terminal: a dual-stack [::] listener is *:80
      -- with peer *:*, a v6only one [::]:443 with peer [::]:*; Recv-Q and
      -- Send-Q are %-6d; "Process" follows the peer Port column
      local out, err, code = ss.render({ "-tln" }, { data = data })
      assert.same({ "", 0 }, { err, code })
      assert.equal(table.concat({
        "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess",
        "LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          ",
        "LISTEN 0      128                *:80              *:*          ",
        "LISTEN 0      128             [::]:443          [::]:*          ",
      }, "\n") .. "\n", out)
      assert.equal("listening", data.calls[1].opts.state)
      assert.same({ "tcp" }, data.calls[1].opts.proto)
      assert.equal(out, (tstconfig.render_ss({ "-tln" }, { data = data })))  -- its former name
      out = ss.render({ "-tlnpH" }, { data = data })
      assert.equal(table.concat({
        'LISTEN 0      128    0.0.0.0:22  0.0.0.0:* users:(("sshd",pid=812,fd=3)) ',
        'LISTEN 0      128          *:80        *:* users:(("nginx",pid=900,fd=3))',
        'LISTEN 0      128       [::]:443    [::]:* users:(("nginx",pid=900,fd=3))',
      }, "\n") .. "\n", out)
      -- two tables: the Netid column, udp before tcp as ss dumps them
      out = ss.render({ "-t", "--udp", "-a", "-n" }, { data = data })
      assert.equal(table.concat({
        "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess",
        "udp   UNCONN 0      128          0.0.0.0:53        0.0.0.0:*          ",
        "tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          ",
        "tcp   LISTEN 0      128                *:80              *:*          ",
        "tcp   LISTEN 0      128             [::]:443          [::]:*          ",
      }, "\n") .. "\n", out)
      -- without -n, a port outside the ephemeral range takes its first
      -- name in /etc/services
      out = ss.render({ "-tl" }, { data = data, port_range = "400\t60999\n",
        services = "# comment\nssh 22/tcp\nhttp 80/tcp www # web\nhttp-alt 80/tcp\nhttps 443/udp\n" })
      assert.equal(table.concat({
        "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess",
        "LISTEN 0      128          0.0.0.0:ssh       0.0.0.0:*          ",
        "LISTEN 0      128                *:http            *:*          ",
        "LISTEN 0      128             [::]:443          [::]:*          ",
      }, "\n") .. "\n", out)
      out = ss.render({ "-tl" }, { data = data, port_range = "20 60999", services = "ssh 22/tcp\n" })
      assert.matches("0%.0%.0%.0:22 ", out)  -- 22 is ephemeral there: never named
      -- a file reading those cells, header included
      local text, code2 = run("ss.tstconfig", { data = data })
      assert.equal(0, code2, text)
      assert.matches("Assertions tested: 6\nAssertions passed: 6\n", text)
      for _, bad in ipairs { { "-K" }, { "--extended" }, { "dport", "=", ":22" } } do
        local o, e, c = ss.render(bad, { data = data })
        assert.same({ "", 1 }, { o, c })
        assert.matches("not supported by lnetstat's ss", e)
      end
      assert.has_error(function() ss.render("-tln") end,
        "bad argument #1 to 'render' (table of arguments expected, got string)")
      assert.has_error(function() ss.render({ 1 }) end,
        "bad argument #1 to 'render' (argument 1 is a number, not a string)")
    end)

    it("runs other commands only with --exec-commands, never through a shell", function()
      local marker = "/tmp/lnetstat-tstconfig-injected"
      os.remove(marker)
      local text, code, counts = run "exec.tstconfig"
      assert.equal(2, code)
      assert.equal(1, counts.errors)
      assert.matches("ERROR: command not run: lnetstat answers netstat and ss itself; pass %-%-exec%-commands", text)
      text, code, counts = run("exec.tstconfig", { exec_commands = true })
      assert.equal(0, code, text)
      assert.same({ tested = 1, passed = 1, failed = 0, errors = 0 }, counts)
      assert.is_nil(io.open(marker, "r"), "the $(...) argument ran in a shell")
      -- the argv is handed over as is (and inside --netns with ip netns exec)
      local seen
      run("exec.tstconfig", { exec_commands = true, netns = "web",
        exec = function(argv) seen = argv return "a b\n", "", 0 end })
      assert.same({ "ip", "netns", "exec", "web", "printf", "%s %s\\n", "a b",
        "$(touch /tmp/lnetstat-tstconfig-injected)" }, seen)
      local out, err, rc = tstconfig.exec_argv { "sh", "-c", "echo out; echo err >&2; exit 3" }
      assert.same({ "out\n", "err\n", 3 }, { out, err, rc })
    end)
  end)

  describe("main()", function()
    local sink = scratch.sink
    it("parses its flags and returns the exit code", function()
      local out, err = sink(), sink()
      local netstat = function() return NETSTAT_PLNT, "", 0 end
      assert.equal(0, tstconfig.main({ FIX .. "netstat-classic.tstconfig", "--netns=web" },
        { stdout = out, stderr = err, netstat = netstat }))
      assert.matches("SUMMARY REPORT: PASS", out.text())
      assert.equal(1, tstconfig.main({ FIX .. "sshd.tstconfig" }, { stdout = sink(), stderr = err }))
      assert.equal(0, tstconfig.main({ "--exit-zero", FIX .. "sshd.tstconfig" }, { stdout = sink(), stderr = err }))
      assert.equal(2, tstconfig.main({ "--nope" }, { stdout = sink(), stderr = err }))
      assert.matches("unknown option %-%-nope", err.text())
      local o2 = sink()
      assert.equal(2, tstconfig.main({}, { stdout = o2, stderr = err }))
      assert.matches("No definition file provided%.", o2.text())
      assert.equal(0, tstconfig.main({ "-h" }, { stdout = sink(), stderr = err }))
    end)

    it("a bad --netns is a usage error before any file is read", function()
      for _, case in ipairs {
        { "0", "netns pid must be a positive integer, got 0" },
        { "rel/x", "netns path must be absolute, got 'rel/x'" },
        { "99999999999999999999", "netns pid must be a positive integer, got 1e%+20" },
      } do
        local out, err = sink(), sink()
        assert.equal(2, tstconfig.main({ FIX .. "sshd.tstconfig", "--netns", case[1] }, { stdout = out, stderr = err }))
        assert.equal("", out.text())
        assert.matches("^lnetstat tstconfig: %-%-netns: " .. case[2] .. "\n", err.text())
      end
    end)
  end)

  describe("run()", function()
    it("rejects unknown options, values of the wrong type and a bad netns, at the caller's line", function()
      local here = debug.getinfo(1, "S").short_src:gsub("%p", "%%%0")
      local function err_here(f)
        local ok, msg = pcall(f)
        assert.is_false(ok)
        return tostring(msg)
      end
      assert.matches("^" .. here .. ":%d+: bad argument #2 to 'run' %(unknown option 'exec_comands'; "
        .. "did you mean 'exec_commands'%?%)$", err_here(function() tstconfig.run({}, { exec_comands = true }) end))
      assert.matches("^" .. here .. ":%d+: bad argument #2 to 'run' %(netns pid must be a positive integer, got 0%)$",
        err_here(function() tstconfig.run({}, { netns = 0 }) end))
      assert.matches("bad argument #2 to 'run' %(netns must be a name, a path or a pid, got ''%)$",
        helpers.err_of(tstconfig.run, {}, { netns = "" }))
      assert.matches("bad argument #2 to 'run' %(strict must be a boolean, got string%)$",
        helpers.err_of(tstconfig.run, {}, { strict = "yes" }))
      assert.matches("bad argument #2 to 'run' %(exec must be a function, got number%)$",
        helpers.err_of(tstconfig.run, {}, { exec = 1 }))
      assert.matches("bad argument #1 to 'run' %(file #1 must be a path, got boolean%)$",
        helpers.err_of(tstconfig.run, { true }))
      local _, code = tstconfig.run({ FIX .. "sshd.tstconfig" }, { exit_zero = true, strict = false, netns = "web",
        exec_commands = false })
      assert.equal(0, code)
    end)
  end)

  -- Live: lnetstat's own netstat rendering of a private namespace --------------------
  describe("the classic netstat files live in a private netns", function()
    local netns = require "fixtures.check.netns"
    local lab
    setup(function()
      if helpers.is_root() then lab = netns.new("lnetstat-tst") end
    end)
    teardown(function() if lab then lab:cleanup() end end)
    after_each(function() if lab then lab:stop_all() end end)

    -- The real lnetstat.format.netstat (the CLI's renderer); until it
    -- exists, net-tools' netstat inside the namespace stands in.
    local function netstat_fn()
      local ok, fmt = pcall(require, "lnetstat.format")
      if ok and type(fmt) == "table" and type(fmt.netstat) == "function" then return nil end
      return function(argv)
        local out, ok2 = helpers.netns_run(lab.ns, "netstat " .. table.concat(argv, " ") .. " 2>/dev/null")
        return out, "", ok2 and 0 or 1
      end
    end

    root_it("netstat-classic passes with sshd on 0.0.0.0:22 and three more listeners", function()
      local sshd = lab:listen("sshd", "/usr/sbin/sshd", "tcp:0.0.0.0:22")
      lab:listen("nginx", "/usr/sbin/nginx", "tcp:[::]:80:dual", "tcp:[::]:443:dual")
      lab:listen("postgres", "/usr/lib/postgresql/bin/postgres", "tcp:127.0.0.1:5432")
      local text, code, counts = run("netstat-classic.tstconfig", { netns = lab.ns, netstat = netstat_fn() })
      assert.equal(0, code, text)
      assert.same({ tested = 3, passed = 3, failed = 0, errors = 0 }, counts)
      -- the same, from the command line with sudo in the file: no sudo runs
      local out = { buf = {} }
      function out.write(self, ...) for _, s in ipairs { ... } do self.buf[#self.buf + 1] = s end end
      assert.equal(0, tstconfig.main({ FIX .. "netstat-classic.tstconfig", "--netns", lab.ns },
        { stdout = out, stderr = out, netstat = netstat_fn() }), table.concat(out.buf))
      -- a mail server appears: five listeners, and 0.0.0.0:25 is defined
      local smtp = lab:listen("master", "/usr/lib/postfix/sbin/master", "tcp:0.0.0.0:25")
      text, code, counts = run("netstat-classic.tstconfig", { netns = lab.ns, netstat = netstat_fn() })
      assert.equal(1, code)
      assert.same({ tested = 3, passed = 1, failed = 2, errors = 0 }, counts)
      assert.matches("\nASSERTION FAILED\n Command:   sudo netstat %-plnt\n Value:     5\n Assertion: assert_eq 4\n",
        text)
      assert.matches(" Property:  0%.0%.0%.0:25\n Value:     " .. smtp .. "/master\n Assertion: assert_undefined \n",
        text)
      lab:stop(smtp)
      -- sshd gone: the correct answer is FAIL
      lab:stop(sshd)
      lab:listen("dropbear", "/usr/sbin/dropbear", "tcp:0.0.0.0:2222")
      text, code = run("netstat-classic.tstconfig", { netns = lab.ns, netstat = netstat_fn() })
      assert.equal(1, code, text)
      assert.matches(" Property:  0%.0%.0%.0:22\n Value:     <undefined>\n Assertion: assert_ends_with /sshd\n", text)
    end)

    root_it("a fake sshd whose owner name is not sshd fails assert_ends_with (0.3 would pass it)", function()
      lab:listen("python3", "python3", "tcp:0.0.0.0:22")
      lab:listen("nginx", "/usr/sbin/nginx", "tcp:[::]:80:dual", "tcp:[::]:443:dual")
      lab:listen("postgres", "postgres", "tcp:127.0.0.1:5432")
      local text, code = run("netstat-classic.tstconfig", { netns = lab.ns, netstat = netstat_fn() })
      assert.equal(1, code, text)
      assert.matches("WARN: assert_ends_with checks the value here", text)
      assert.matches(" Property:  0%.0%.0%.0:22\n Value:     %d+/python3\n Assertion: assert_ends_with /sshd\n", text)
    end)

    root_it("Tstconfig's own netstat example passes on an ssh + apache2 host", function()
      lab:listen("sshd", "/usr/sbin/sshd", "tcp:0.0.0.0:22", "tcp:[::]:22:v6only")
      -- apache2's argv[0] is a path; its basename is what netstat prints after PID/
      lab:listen("apache2", "/usr/sbin/apache2", "tcp:[::]:80:dual", "tcp:[::]:443:dual")
      local text, code, counts = run("netstat-original.tstconfig", { netns = lab.ns, netstat = netstat_fn() })
      assert.equal(0, code, text)
      assert.same({ tested = 9, passed = 9, failed = 0, errors = 0 }, counts)
      -- and lnetstat's rendering is net-tools' (when net-tools is installed)
      local _, have = helpers.run("command -v netstat >/dev/null")
      if have and not netstat_fn() then
        local real = helpers.netns_run(lab.ns, "netstat -plnt 2>/dev/null")
        local mine = require("lnetstat.format").netstat({ "-plnt" }, { netns = lab.ns })
        assert.equal(real, mine)
      end
    end)

    root_it("ss commands are answered from the namespace too", function()
      lab:listen("sshd", "/usr/sbin/sshd", "tcp:0.0.0.0:22")
      lab:listen("nginx", "nginx", "tcp:[::]:80:dual", "tcp:[::]:443:dual")
      local f = os.tmpname()
      local fh = assert(io.open(f, "w"))
      fh:write("command ss -tln\nparse_mode tokenized\nskip_header_lines 1\ncolumns 3 0\n",
        "property 0.0.0.0:22\nassert_eq LISTEN\nproperty *:80\nassert_eq LISTEN\nsection_size\nassert_eq 3\n")
      fh:close()
      local text, code = tstconfig.run({ f }, { netns = lab.ns })
      os.remove(f)
      assert.equal(0, code, text)
      -- ss itself agrees on the local addresses
      local ss = helpers.netns_run(lab.ns, "ss -tlnH")
      assert.matches("%*:80 ", ss)
      assert.matches("0%.0%.0%.0:22 ", ss)
    end)

    root_it("lnetstat.ss prints what iproute2's ss prints, byte for byte", function()
      lab:listen("sshd", "/usr/sbin/sshd", "tcp:0.0.0.0:22")
      lab:listen("nginx", "nginx", "tcp:[::]:80:dual", "tcp:[::]:443:v6only")
      lab:listen("named", "named", "udp:[::]:53:dual", "udp:127.0.0.1:123")
      local render = require("lnetstat.ss").render
      for _, flags in ipairs { "-tln", "-tlnH", "-tuln", "-uln", "-tlnp", "-tulpn", "-ltn6", "-lnt4", "-tuan",
        "-tl", "-tul", "-tulp" } do
        local mine, err, code = render({ flags }, { netns = lab.ns })
        assert.same({ "", 0 }, { err, code }, flags)
        -- ss now and then prints an empty table on this machine: ask again
        local real
        for _ = 1, 5 do
          real = helpers.netns_run(lab.ns, "ss " .. flags)
          if real == mine then break end
        end
        assert.equal(real, mine, "ss " .. flags)
      end
    end)
  end)

  it("has no globals", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    package.loaded["lnetstat.tstconfig"] = nil
    require "lnetstat.tstconfig"
    for k in pairs(_G) do assert.is_true(before[k], "new global " .. tostring(k)) end
    local _ = format
  end)
end)
