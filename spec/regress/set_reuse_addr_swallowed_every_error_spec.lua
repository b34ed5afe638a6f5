-- dispatcher.set_reuse_addr ignores a failing setsockopt, as Python's
-- ignores OSError; but it ran under a pcall that swallowed every error,
-- so on a dispatcher without a socket (or a wrong self) it did nothing and
-- said nothing. Python raises AttributeError there.
local asyncore = require "asyncore"
local h = require "spec.support.helpers"

describe("set_reuse_addr", function()
  it("ignores OSError only, as Python does", function()
    local py = h.python([[
import warnings
warnings.simplefilter('ignore')
import asyncore
try:
    asyncore.dispatcher(map={}).set_reuse_addr()
    print('accepted')
except AttributeError:
    print('AttributeError')
]])
    assert.are.equal("AttributeError\n", py)
    local d = asyncore.dispatcher(nil, {})
    assert.is_false(pcall(d.set_reuse_addr, d))
    d:create_socket()
    d:set_reuse_addr()
    d:close()
    -- a closed socket's EBADF is an OSError: ignored
    d:set_reuse_addr()
  end)
end)
