-- busted's helper script (.busted): every finally() of a test runs.
--
-- busted 2 keeps only the last function a test hands to finally(): a test
-- that starts a process, registers its stop, then starts a server and
-- registers that stop, lost the first cleanup and left the process
-- running (its listeners then showed up in later specs). Here each test's
-- finally() stacks its functions instead; they run last-registered first,
-- each of them even when one before it fails, and the first failure is
-- raised once all have run.
local busted = require "busted"

local pcall, error = pcall, error

busted.subscribe({ "test", "start" }, function(element)
  local env = element.env
  local register = env and env.finally
  if not register then return nil, true end
  local cleanups = {}
  env.finally = function(fn)
    cleanups[#cleanups + 1] = fn
    if #cleanups == 1 then
      register(function()
        local first
        for i = #cleanups, 1, -1 do
          local ok, err = pcall(cleanups[i])
          if not ok and first == nil then first = err end
        end
        if first ~= nil then error(first, 0) end
      end)
    end
  end
  return nil, true
end)
