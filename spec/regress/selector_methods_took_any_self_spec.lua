-- A selector's methods used whatever self they were given: get_map({})
-- answered nil (a closed selector's answer), close({}) failed on a missing
-- field, register({}, ...) called a nil method. Python's selectors raise
-- AttributeError there; moonsock says "bad self".
local selectors = require "selectors"
local h = require "spec.support.helpers"

describe("selector methods", function()
  it("refuse a self that is no selector", function()
    local py = h.python([[
import selectors
try:
    selectors.EpollSelector.get_map({})
    print('accepted')
except AttributeError:
    print('AttributeError')
]])
    assert.are.equal("AttributeError\n", py)
    for _, name in ipairs {"SelectSelector", "PollSelector", "EpollSelector"} do
      local sel <close> = selectors[name]()
      for _, m in ipairs {"get_map", "close", "register", "unregister", "select", "get_key"} do
        local ok, err = pcall(sel[m], {}, 0, 1)
        assert.is_false(ok, name .. ":" .. m)
        assert.matches("calling '" .. m .. "' on bad self", err, 1, true)
      end
    end
  end)
end)
