-- Some methods of asyncore's and asynchat's classes read only fields a
-- table may lack: del_channel({}) did nothing, file_wrapper.fileno({}) and
-- async_chat.get_terminator({}) answered nil, set_terminator({}, "x") set
-- a field of the table. Python raises AttributeError there; these say "bad
-- self" now. (The other methods fail on the first field they need, as
-- Python's do.)
local asyncore = require "asyncore"
local asynchat = require "asynchat"
local h = require "spec.support.helpers"

describe("asyncore and asynchat methods", function()
  it("refuse a self that is no instance of their class", function()
    local py = h.python([[
import warnings
warnings.simplefilter('ignore')
import asyncore, asynchat
for f in (lambda: asyncore.dispatcher.del_channel({}), lambda: asyncore.file_wrapper.fileno({}),
          lambda: asynchat.async_chat.get_terminator({})):
    try:
        f()
        print('accepted')
    except AttributeError:
        print('AttributeError')
]])
    assert.are.equal(("AttributeError\n"):rep(3), py)
    local calls = {
      {asyncore.dispatcher, "del_channel"}, {asyncore.file_wrapper, "fileno"},
      {asynchat.async_chat, "get_terminator"}, {asynchat.async_chat, "set_terminator"},
    }
    for _, c in ipairs(calls) do
      local ok, err = pcall(c[1][c[2]], {})
      assert.is_false(ok, c[2])
      assert.matches("calling '" .. c[2] .. "' on bad self", err, 1, true)
    end
    -- an instance of a subclass is an instance
    local Sub = asyncore.dispatcher:extend{__name = "Sub"}
    local s = Sub(nil, {})
    s:del_channel()
  end)
end)
