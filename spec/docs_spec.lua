-- The API reference and the README's Layout section stay honest: `make
-- docs` documents every public function of the public modules (each with a
-- short example), and the Layout section lists exactly the tree.
local concat = table.concat

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  local ok, _, code = p:close()
  if type(ok) == "number" then code = ok; ok = code == 0 end -- Lua 5.1
  return ok == true, out, code
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- The public functions of a loaded module: its function values whose name
-- does not start with "_".
local function public_functions(mod)
  local names = {}
  for k, v in pairs(mod) do
    if type(k) == "string" and type(v) == "function" and k:sub(1, 1) ~= "_" then
      names[#names + 1] = k
    end
  end
  table.sort(names)
  return names
end

local ENTITIES = { lt = "<", gt = ">", amp = "&", quot = '"' }

-- The text of the entry of name on an LDoc module page: from its anchor to
-- the next one.
local function entry(page, name)
  local anchor = '<a name = "' .. name .. '"></a>'
  local at = page:find(anchor, 1, true)
  if not at then return nil end
  local next_at = page:find('<a name = "', at + #anchor, true)
  return page:sub(at, next_at and next_at - 1 or #page)
end

describe("make docs", function()
  local ok, out, pages
  local MODULES = {
    lnetstat = function() return public_functions(require "lnetstat") end,
    ["lnetstat.query"] = function() return public_functions(require "lnetstat.query") end,
    ["lnetstat.check"] = function()
      local check = require "lnetstat.check"
      local names = public_functions(check)
      for _, a in ipairs(check.ASSERTIONS) do names[#names + 1] = a end
      return names
    end,
    ["lnetstat.format"] = function() return public_functions(require "lnetstat.format") end,
  }

  setup(function()
    ok, out = run("make -s docs")
    pages = {}
    if ok then
      for name in pairs(MODULES) do
        local f = io.open("build/docs/modules/" .. name .. ".html", "rb")
        if f then
          pages[name] = f:read("*a")
          f:close()
        end
      end
    end
  end)

  it("builds the reference without warnings about the public modules", function()
    assert.is_true(ok, out)
    assert.truthy(io.open("build/docs/index.html", "rb"), "no build/docs/index.html")
    local warnings = {}
    for line in out:gmatch("[^\n]+") do
      if line:find("lua/lnetstat/init%.lua:") or line:find("lua/lnetstat/query[/.]")
        or line:find("lua/lnetstat/checks?[/.]") or line:find("lua/lnetstat/format%.lua:") then
        warnings[#warnings + 1] = line
      end
    end
    assert.same({}, warnings)
  end)

  for _, mod in ipairs(sorted_keys(MODULES)) do
    it("documents every public function of " .. mod .. " with an example", function()
      local page = pages[mod]
      assert.is_string(page, "no page for " .. mod)
      local names = MODULES[mod]()
      assert.truthy(#names >= 5, mod .. " has too few functions to be the real module")
      local missing, no_usage, broken = {}, {}, {}
      for _, name in ipairs(names) do
        local e = entry(page, name)
        local example = e and e:match('<h3>Usage:</h3>.-<pre class="example">(.-)</pre>')
        if not e then
          missing[#missing + 1] = name
        elseif not example then
          no_usage[#no_usage + 1] = name
        else
          -- the example is Lua that compiles
          local code = example:gsub("<[^>]*>", ""):gsub("&(%w+);", ENTITIES)
          local fn, err = (loadstring or load)(code, "=" .. name)
          if not fn then broken[#broken + 1] = err end
        end
      end
      assert.same({}, missing)
      assert.same({}, no_usage)
      assert.same({}, broken)
    end)
  end

  it("is not committed", function()
    local _, tracked = run("git ls-files build")
    assert.equal("", tracked)
    assert.truthy(read(".gitignore"):find("build/", 1, true))
  end)
end)

-- README's Layout section ---------------------------------------------------------
--
-- Its entries are the lines of the section's code block that start at column
-- 0: a path (a directory ends with "/") and its description, continued on
-- indented lines. It must list exactly: every top-level file and directory,
-- every directory under lua/lnetstat/ and csrc/, and the direct
-- subdirectories of spec/, examples/, bench/, doc/ and fuzz/; and the
-- description of lua/lnetstat/ and csrc/ names each file directly in them.

local DEEP = { "lua/lnetstat/", "csrc/" }
local SHALLOW = { "spec/", "examples/", "bench/", "doc/", "fuzz/" }

local function tree_files()
  local ok, out = run("git ls-files --cached --others --exclude-standard")
  assert(ok, out)
  local files = {}
  for line in out:gmatch("[^\n]+") do
    local f = io.open(line, "rb") -- a file deleted but not yet committed is no longer in the tree
    if f then
      f:close()
      files[#files + 1] = line
    end
  end
  return files
end

local function expected_entries(files)
  local want, direct = {}, {}
  for _, d in ipairs(DEEP) do direct[d] = {} end
  for _, path in ipairs(files) do
    local top = path:match("^[^/]+/?")
    want[top] = true
    for _, d in ipairs(DEEP) do
      if path:sub(1, #d) == d then
        local rest = path:sub(#d + 1)
        local dir = d
        for seg in rest:gmatch("([^/]+)/") do
          dir = dir .. seg .. "/"
          want[dir] = true
        end
        if not rest:find("/", 1, true) then direct[d][#direct[d] + 1] = rest end
        want[d] = true
      end
    end
    for _, d in ipairs(SHALLOW) do
      local sub = path:sub(1, #d) == d and path:sub(#d + 1):match("^([^/]+)/")
      if sub then want[d .. sub .. "/"] = true end
    end
  end
  want["lua/"] = true
  return want, direct
end

local function layout_entries()
  local readme = read("README.md")
  local section = readme:match("\n## Layout\n(.-)\n## ") or readme:match("\n## Layout\n(.*)$")
  assert(section, "README.md has no Layout section")
  local block = section:match("```[^\n]*\n(.-)\n```")
  assert(block, "the Layout section has no code block")
  local entries, order, current = {}, {}, nil
  for line in (block .. "\n"):gmatch("([^\n]*)\n") do
    local path, text = line:match("^(%S+)%s*(.*)$")
    if path then
      assert(entries[path] == nil, "listed twice: " .. path)
      entries[path] = text
      order[#order + 1] = path
      current = path
    elseif current and line:find("%S") then
      entries[current] = entries[current] .. " " .. line:gsub("^%s+", "")
    end
  end
  return entries, order
end

describe("README.md's Layout section", function()
  it("lists exactly the directories and top-level files of the tree", function()
    local want = expected_entries(tree_files())
    local listed = layout_entries()
    local missing, extra = {}, {}
    for _, p in ipairs(sorted_keys(want)) do
      if listed[p] == nil then missing[#missing + 1] = p end
    end
    for _, p in ipairs(sorted_keys(listed)) do
      if not want[p] then extra[#extra + 1] = p end
    end
    assert.same({}, missing, "missing from the Layout section: " .. concat(missing, " "))
    assert.same({}, extra, "listed but not in the tree: " .. concat(extra, " "))
  end)

  it("describes every entry and names each file of lua/lnetstat/ and csrc/", function()
    local _, direct = expected_entries(tree_files())
    local listed = layout_entries()
    for path, text in pairs(listed) do
      assert.truthy(text:find("%a"), "no description for " .. path)
    end
    local unnamed = {}
    for _, d in ipairs(DEEP) do
      local text = " " .. (listed[d] or "") .. " "
      for _, file in ipairs(direct[d]) do
        local plain = file:gsub("%p", "%%%0")
        if not text:find("[%s(,]" .. plain .. "[%s),:;]") then unnamed[#unnamed + 1] = d .. file end
      end
    end
    table.sort(unnamed)
    assert.same({}, unnamed)
  end)

end)

describe("the tree's comments and docs", function()
  it("cite no file outside the repository", function()
    -- design notes kept outside the tree must not be pointed at from it
    local _, out = run("git grep --untracked -n -I -i -e '[.][.]/shared' -e 'DESIGN[.]md' -e 'TESTING[.]md'"
      .. " -e 'netlink-internals' -e 'audit-tools[.]md' -e 'lua-module-style[.]md'"
      .. " -- . ':!spec/docs_spec.lua'")
    -- (git grep prints nothing and exits 1 when nothing matches)
    assert.equal("", out)
  end)
end)
