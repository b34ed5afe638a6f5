-- An SSLSocket over a socket not connected yet raised ValueError
-- ("Underlying socket connection gone") from do_handshake and getpeercert,
-- where Python asks getpeername first and raises its OSError: ENOTCONN
-- before the connection, EBADF once closed. wrap_socket of a closed socket
-- said ValueError (check_hostname requires server_hostname), where Python
-- asks the kernel for the socket's type first (EBADF). MemoryBIO.read took
-- any integer, where Python's stops at a C int (OverflowError). Found by
-- the argument sweep once the methods had headings.
local ssl = require "ssl"
local socket = require "socket"
local h = require "spec.support.helpers"

-- "ClassName errno" of an error, as the Python side prints it.
local function outcome(fn)
  local ok, err = pcall(fn)
  if ok then return "ok" end
  if type(err) == "string" then return err:find("bad argument", 1, true) and "argerror" or err end
  return getmetatable(err).__name .. " " .. tostring(err.errno)
end

describe("ssl objects before the connection", function()
  it("raise Python's errors", function()
    local want = {}
    for line in h.python([[
import ssl, socket
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
def outcome(f):
    try:
        f()
        return 'ok'
    except OverflowError:
        return 'argerror'
    except Exception as e:
        return type(e).__name__ + ' ' + str(getattr(e, 'errno', None))
s = ctx.wrap_socket(socket.socket(), server_hostname='localhost')
print(outcome(lambda: s.do_handshake()))
print(outcome(lambda: s.getpeercert()))
s.close()
print(outcome(lambda: s.getpeercert()))
closed = socket.socket()
closed.close()
print(outcome(lambda: ctx.wrap_socket(closed)))
print(outcome(lambda: ssl.MemoryBIO().read(2**40)))
print(outcome(lambda: ssl.MemoryBIO().read(-1)))
]]):gmatch("[^\n]+") do
      want[#want + 1] = line:gsub("None$", "nil")
    end
    local ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    local s = ctx:wrap_socket(socket.socket(), {server_hostname = "localhost"})
    local got = {outcome(function() s:do_handshake() end), outcome(function() s:getpeercert() end)}
    s:close()
    got[#got + 1] = outcome(function() s:getpeercert() end)
    local closed = socket.socket()
    closed:close()
    got[#got + 1] = outcome(function() ctx:wrap_socket(closed) end)
    got[#got + 1] = outcome(function() ssl.MemoryBIO():read(1 << 40) end)
    got[#got + 1] = outcome(function() ssl.MemoryBIO():read(-1) end)
    assert.are.same(want, got)
    assert.are.equal("OSError 107", got[1]) -- ENOTCONN, not ValueError
  end)
end)
