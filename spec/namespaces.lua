--- Network namespaces the specs make for a describe block or for one test,
-- and delete again (helpers.netns_delete).
local helpers = require "helpers"

local format, quote = string.format, helpers.quote

local namespaces = {}

--- When running as root: creates a namespace named from prefix
-- (helpers.netns_create) and runs each of commands in it, in order, as
-- the arguments of `ip -n NS` ("link add a0 type veth peer name a1");
-- when one fails, deletes the namespace and raises its error. Returns the
-- name; nil when not root (the root-only tests are pending then).
function namespaces.prepared(prefix, commands)
  if not helpers.is_root() then return nil end
  local ns = helpers.netns_create(prefix)
  local ok, err = pcall(function()
    for _, cmd in ipairs(commands) do helpers.must(format("ip -n %s %s", quote(ns), cmd)) end
  end)
  if not ok then
    helpers.netns_delete(ns)
    error(err, 0)
  end
  return ns
end

--- For one test: creates a namespace named from prefix
-- (helpers.netns_create) and a temp directory (helpers.mktemp_dir).
-- Returns the namespace's name, the directory's path and a function that
-- deletes both and never raises (for finally()); raises, leaving nothing
-- behind, when either cannot be made.
function namespaces.with_dir(prefix)
  local ns = helpers.netns_create(prefix)
  local ok, dir = pcall(helpers.mktemp_dir)
  if not ok then
    helpers.netns_delete(ns)
    error(dir, 0)
  end
  return ns, dir, function()
    helpers.netns_delete(ns)
    helpers.remove_tree(dir)
  end
end

return namespaces
