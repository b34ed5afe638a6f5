-- An open of the task core that ran out of memory halfway left its
-- metatable in the registry without __index; the next open took
-- luaL_newmetatable's "exists" for "complete", and the core came back
-- without its methods table: task.lua failed with "attempt to index a nil
-- value (local 'methods')". Found by the allocation sweep (test_alloc,
-- "open", every allocation failing from N = 1285 on); shown here by leaving
-- the registry in that state by hand, in a child process.
local h = require "spec.support.helpers"

describe("the task core opened again after a half-made metatable", function()
  it("has its methods table and the task module loads", function()
    local out, err, code = h.moonsock_script([[
local reg = debug.getregistry()
reg["moonsock.task"] = {} -- what an open stopped before __index leaves
package.loaded["moonsock.core.task"] = nil
package.loaded["task"] = nil
local core = require "moonsock.core.task"
print(type(core.methods))
local task = require "task"
local t = task.spawn(function() return 42 end)
print(t:join(5))]])
    assert.are.equal("table\n42\n", out, err)
    assert.are.equal(0, code, err)
  end)
end)
