-- The suite's busted helper (spec/suite_guard.lua, named in .busted):
-- every function a test hands to finally() runs, last-registered first.
-- busted alone keeps only the last one, which once left a spec's process
-- running after the spec.
describe("finally() in this suite", function()
  local ran = {}
  it("takes several cleanups in one test", function()
    finally(function() ran[#ran + 1] = "first" end)
    finally(function() ran[#ran + 1] = "second" end)
    finally(function() ran[#ran + 1] = "third" end)
    assert.same({}, ran)   -- nothing runs before the test ends
  end)
  it("ran every one of them, the last registered first", function()
    assert.same({ "third", "second", "first" }, ran)
  end)
end)
