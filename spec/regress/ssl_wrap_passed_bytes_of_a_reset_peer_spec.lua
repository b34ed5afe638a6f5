-- wrap_socket on an accepted socket whose peer had sent bytes and then reset
-- the connection (getpeername: ENOTCONN) returned an SSLSocket "not yet
-- connected" whose recv handed those plain bytes to the caller, as if they
-- came through TLS. Python 3.11.5 (CVE-2023-40217) reads one byte first and
-- raises SSLError "Closed before TLS handshake with data in recv buffer."
local ssl = require "ssl"
local socket = require "socket"
local task = require "task"
local h = require "spec.support.helpers"
local pki = require("spec.support.pki")()

describe("wrap_socket of a reset peer's socket that holds bytes", function()
  it("raises Python's SSLError and closes the socket", function()
    local py = h.python(([[
import socket, ssl, struct, time
l = socket.create_server(("127.0.0.1", 0))
c = socket.create_connection(l.getsockname())
a = l.accept()[0]
c.sendall(b"not TLS at all")
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
time.sleep(0.2)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(%q, %q)
try: ctx.wrap_socket(a, server_side=True)
except ssl.SSLError as e: print(type(e).__name__, e.errno, e.reason, e.library, e, a.fileno())
]]):format(pki.server.cert, pki.server.key))
    local l = socket.create_server({"127.0.0.1", 0})
    local c = socket.create_connection(l:getsockname())
    local a = l:accept()
    c:sendall("not TLS at all")
    c:setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, string.pack("ii", 1, 0))
    c:close()
    task.sleep(0.2)
    local ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx:load_cert_chain(pki.server.cert, pki.server.key)
    local ok, e = pcall(ctx.wrap_socket, ctx, a, {server_side = true})
    assert.is_false(ok)
    assert.are.equal(py, ("%s %d %s %s %s %d\n"):format(getmetatable(e).__name, e.errno, e.reason,
      e.library == nil and "None" or e.library, tostring(e), a:fileno()))
    l:close()
  end)
end)
