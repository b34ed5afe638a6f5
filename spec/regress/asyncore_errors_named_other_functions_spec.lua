-- asyncore's methods call the socket's, and let their argument errors
-- through: disp:bind({"127.0.0.1", -1}) said "bad argument #1 to 'bind'"
-- only by luck, disp:connect said 'connect_ex', disp:recv(-1) "bad
-- argument #2 to '?'" (through pcall), create_socket 'socket',
-- file_wrapper.read 'recv'; async_chat(1) and dispatcher_with_send(1)
-- said 'dispatcher'; file_dispatcher(-1) and file_wrapper(-1) raised an
-- argument error of the private socket._dupfd where Python's os.dup
-- raises OSError EBADF. Each names itself now.
local asyncore = require "asyncore"
local asynchat = require "asynchat"
local socket = require "socket"
local h = require "spec.support.helpers"

local function fails_with(text, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  assert.matches(text, tostring(err), 1, true)
end

describe("asyncore's argument errors", function()
  it("name the method called and its argument", function()
    local a, b = socket.socketpair()
    local _ <close> = a
    local _ <close> = b
    local d = asyncore.dispatcher(nil, {})
    d:create_socket()
    fails_with("bad argument #1 to 'connect'", d.connect, d, {"127.0.0.1", -1})
    fails_with("bad argument #1 to 'bind'", d.bind, d, {"127.0.0.1", 70000})
    fails_with("bad argument #1 to 'create_socket'", d.create_socket, d, 1 << 40)
    d:close()
    local c = asyncore.dispatcher(a, {})
    fails_with("bad argument #1 to 'recv'", c.recv, c, -1)
    local w = asyncore.file_wrapper(b:fileno())
    fails_with("bad argument #1 to 'read'", w.read, w, -1)
    fails_with("bad argument #1 to 'write'", w.write, w, 1)
    w:close()
    fails_with("bad argument #1 to 'async_chat'", asynchat.async_chat, 1)
    fails_with("bad argument #2 to 'dispatcher_with_send'", asyncore.dispatcher_with_send, nil, 1)
  end)

  it("raise Python's OSError for a negative fd", function()
    local py = h.python([[
import warnings
warnings.simplefilter('ignore')
import asyncore
try:
    asyncore.file_wrapper(-1)
except OSError as e:
    print(e)
]])
    for _, f in ipairs {asyncore.file_wrapper, function(fd) return asyncore.file_dispatcher(fd, {}) end} do
      local ok, err = pcall(f, -1)
      assert.is_false(ok)
      assert.is_true(socket.error:matches(err), tostring(err))
      assert.are.equal(py, tostring(err) .. "\n")
    end
  end)
end)
