-- The ssl module's less travelled paths against python3's ssl as the
-- reference, on loopback: an sni_callback that switches the socket's context
-- to one with another certificate, returns an alert or raises (a python3
-- client meets a python3 server and a moonsock server doing the same, and
-- must see the same), get_server_certificate beside python3's, and
-- SSLSocket.sendfile, which Python does by reading and sending over TLS.
--
-- Run: bin/moonsock /usr/bin/busted spec/tls_edges_spec.lua
local ssl = require "ssl"
local socket = require "socket"
local task = require "task"
local h = require "spec.support.helpers"
local ex = require "spec.support.examples"
local tls = require "spec.support.tls"
local pki = require("spec.support.pki")()

-- A python3 server for one connection whose sni_callback does `mode`:
-- "switch" (the second certificate for pki.SNI_NAME), "alert" (returns
-- ALERT_DESCRIPTION_UNRECOGNIZED_NAME) or "raise".
local PY_SNI_SERVER = ([==[
import socket, ssl, sys
mode = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(%q, %q)
other = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
other.load_cert_chain(%q, %q)
def cb(sock, name, c):
    if mode == "switch" and name == %q:
        sock.context = other
    elif mode == "alert":
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
    elif mode == "raise":
        raise RuntimeError("no")
ctx.sni_callback = cb
with socket.create_server(("127.0.0.1", 0)) as l:
    print(l.getsockname()[1], flush=True)
    l.settimeout(10)
    c = l.accept()[0]
    c.settimeout(5)
    try:
        with ctx.wrap_socket(c, server_side=True) as s:
            s.sendall(s.recv(100))
    except (OSError, ValueError):
        pass
]==]):format(pki.server.cert, pki.server.key, pki.sni.cert, pki.sni.key, pki.SNI_NAME)

local function python_sni_server(mode)
  local path = h.write_temp(PY_SNI_SERVER, ".py")
  local proc = ex.start("python3 " .. h.shell_quote(path) .. " " .. mode, 20)
  local port
  assert(ex.wait_until(function()
    port = tonumber((h.read_file(proc.dir .. "/out") or ""):match("^(%d+)\n"))
    return port
  end, 10), "the python3 server never listened")
  return port, function() ex.finish(proc, 10); os.remove(path) end
end

-- The same server in a moonsock task.
local function moonsock_sni_server(mode)
  local ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
  ctx:load_cert_chain(pki.server.cert, pki.server.key)
  local other = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
  other:load_cert_chain(pki.sni.cert, pki.sni.key)
  local seen = {}
  ctx.sni_callback = function(sock, name, c)
    seen[#seen + 1] = {name, c == ctx}
    if mode == "switch" and name == pki.SNI_NAME then
      sock.context = other
    elseif mode == "alert" then
      return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
    elseif mode == "raise" then
      error("no")
    end
  end
  local l = socket.create_server({"127.0.0.1", 0})
  l:settimeout(10)
  local t = task.spawn(function()
    local c = l:accept()
    l:close()
    c:settimeout(5)
    local ok, s = pcall(ctx.wrap_socket, ctx, c, {server_side = true})
    if not ok then
      c:close()
      return false, s
    end
    s:sendall(s:recv(100))
    local context = s.context
    s:close()
    return true, context == other
  end)
  return l:getsockname()[2], t, seen
end

local function client_args()
  return {"--ca", pki.ca, "--server-hostname", pki.SNI_NAME, "--send", "sni"}
end

describe("sni_callback", function()
  for _, mode in ipairs {"switch", "alert", "raise"} do
    it("does what Python's does when it " .. (mode == "switch" and "switches the context"
      or mode == "alert" and "returns an alert" or "raises"), function()
      local pport, pdone = python_sni_server(mode)
      local want = tls.python_client("127.0.0.1", pport, client_args())
      pdone()
      local mport, t, seen = moonsock_sni_server(mode)
      local got = tls.python_client("127.0.0.1", mport, client_args())
      local ok, switched = t:join(10)
      -- The callback saw the name and the context the handshake began with.
      assert.are.same({{pki.SNI_NAME, true}}, seen)
      assert.are.same(want, got)
      if mode == "switch" then
        assert.are.equal(pki.sni.subject, got.peer_subject)
        assert.are.equal("sni", got.received)
        assert.is_true(ok)
        assert.is_true(switched, "sslsock.context is the second context")
      else
        assert.is_false(ok)
        assert.is_nil(got.peer_subject)
        assert.is_string(got.error)
      end
    end)
  end
end)

describe("get_server_certificate", function()
  it("returns the PEM python3's returns, with and without ca_certs", function()
    local srv = tls.python_server({"--cert", pki.server.cert, "--key", pki.server.key, "--count", "4"})
    local want = {}
    for i, ca in ipairs {false, true} do
      want[i] = h.python(("import ssl\nprint(ssl.get_server_certificate(('127.0.0.1', %d)%s), end='')")
        :format(srv.port, ca and (", ca_certs=%q"):format(pki.ca) or ""))
    end
    local got = {ssl.get_server_certificate({"127.0.0.1", srv.port}),
                 ssl.get_server_certificate({"127.0.0.1", srv.port}, {ca_certs = pki.ca, timeout = 5})}
    tls.finish(srv)
    assert.are.same(want, got)
    assert.are.equal(h.read_file(pki.server.cert), got[1])
  end)
end)

describe("SSLSocket.sendfile", function()
  it("sends a file's bytes over TLS from an offset, as python3's does", function()
    local data = ssl.RAND_bytes(100000)
    local path = h.write_temp(data)
    local srv = tls.python_server({"--cert", pki.server.cert, "--key", pki.server.key, "--count", "2"})
    local py = h.python(([[
import socket, ssl
ctx = ssl.create_default_context(cafile=%q)
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", %d)), server_hostname="localhost") as s:
    f = open(%q, "rb")
    print(s.sendfile(f, 10, 70000), f.tell())
    back = 0
    while back < 70000:
        d = s.recv(65536)
        if not d: break
        back += len(d)
]]):format(pki.ca, srv.port, path))
    local ctx = ssl.create_default_context(nil, {cafile = pki.ca})
    local s = ctx:wrap_socket(socket.create_connection({"127.0.0.1", srv.port}, 5), {server_hostname = "localhost"})
    local f = assert(io.open(path, "rb"))
    local n = s:sendfile(f, 10, 70000)
    local mine = ("%d %d\n"):format(n, f:seek())
    f:close()
    -- Read back the echo, then close: the python3 server reports what it got.
    local got = {}
    local total = 0
    for _ = 1, 1000 do
      if total >= n then break end
      local d = s:recv(65536)
      if d == "" then break end
      got[#got + 1] = d
      total = total + #d
    end
    s:close()
    local reports = tls.finish(srv)
    os.remove(path)
    assert.are.equal(py, mine)
    assert.are.equal(70000, reports[2].echoed)
    assert.are.equal(reports[1].received, reports[2].received)
    assert.are.equal(70000, total)
    assert.is_true(table.concat(got) == data:sub(11, 70010))
  end)
end)

-- A python3 client that sends every TLS byte it writes in a segment of its
-- own, a millisecond apart, handshake and data alike; it prints what came
-- back.
local PY_TRICKLE_CLIENT = [==[
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def trickle():
    for b in out.read():
        sock.sendall(bytes([b]))
        time.sleep(0.001)
def pump(fn):
    for _ in range(100):
        try:
            return fn()
        except ssl.SSLWantReadError:
            trickle()
            inc.write(sock.recv(65536))
pump(obj.do_handshake)
trickle()
obj.write(b"trickled data")
trickle()
print(pump(lambda: obj.read(100)).decode(), obj.version())
]==]

describe("a peer that trickles", function()
  it("gets through byte by byte while the other tasks run", function()
    local ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx:load_cert_chain(pki.server.cert, pki.server.key)
    local l = socket.create_server({"127.0.0.1", 0})
    l:settimeout(10)
    local ticks = 0
    local ticker = task.spawn(function()
      for _ = 1, 2000 do
        ticks = ticks + 1
        task.sleep(0.005)
      end
    end)
    local server = task.spawn(function()
      local c = l:accept()
      l:close()
      c:settimeout(10)
      local s = ctx:wrap_socket(c, {server_side = true})
      local got = s:recv(100)
      s:sendall("echo:" .. got)
      s:close()
      return got
    end)
    local path = h.write_temp(PY_TRICKLE_CLIENT, ".py")
    local proc = ex.start(("python3 %s %d %s"):format(h.shell_quote(path), l:getsockname()[2],
      h.shell_quote(pki.ca)), 30)
    local res = ex.finish(proc, 30)
    os.remove(path)
    local got = server:join(10)
    local before = ticks
    ticker:cancel()
    assert.are.equal("echo:trickled data TLSv1.3\n", res.out, res.err)
    -- A TLS 1.3 ClientHello alone is a few hundred bytes, a millisecond each.
    assert.are.equal("trickled data", got)
    assert.is_true(before > 20, "the ticker ran " .. before .. " times")
  end)
end)

-- openssl s_client, TLS 1.2, asks to renegotiate ("R" alone on a line)
-- between two lines of data.
local function s_client_renegotiating(port)
  local script = ("(printf 'hello\\n'; sleep 0.3; printf 'R\\n'; sleep 0.5; printf 'world\\n'; sleep 0.5)"
    .. " | openssl s_client -connect 127.0.0.1:%d -tls1_2 -CAfile %s 2>&1"):format(port, h.shell_quote(pki.ca))
  return ex.finish(ex.start("sh -c " .. h.shell_quote(script), 15), 15).out
end

-- A python3 server that echoes in upper case until the end, then prints
-- "eof", or the error that ended it.
local PY_UPPER_SERVER = [==[
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
with socket.create_server(("127.0.0.1", 0)) as l:
    print(l.getsockname()[1], flush=True)
    l.settimeout(10)
    c = l.accept()[0]
    c.settimeout(5)
    s = ctx.wrap_socket(c, server_side=True)
    try:
        while True:
            d = s.recv(100)
            if not d: break
            s.sendall(d.upper())
        print("eof")
    except Exception as e:
        print("%s %s" % (type(e).__name__, e))
]==]

describe("client-initiated renegotiation", function()
  it("is refused as python3's server refuses it", function()
    local path = h.write_temp(PY_UPPER_SERVER, ".py")
    local proc = ex.start(("python3 %s %s %s"):format(h.shell_quote(path), h.shell_quote(pki.server.cert),
      h.shell_quote(pki.server.key)), 20)
    local port
    assert(ex.wait_until(function()
      port = tonumber((h.read_file(proc.dir .. "/out") or ""):match("^(%d+)\n"))
      return port
    end, 10), "the python3 server never listened")
    local py_client = s_client_renegotiating(port)
    local py_server = ex.finish(proc, 10).out:match("\n(.*)\n$")
    os.remove(path)

    local ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx:load_cert_chain(pki.server.cert, pki.server.key)
    local l = socket.create_server({"127.0.0.1", 0})
    l:settimeout(10)
    local server = task.spawn(function()
      local c = l:accept()
      l:close()
      c:settimeout(5)
      local s = ctx:wrap_socket(c, {server_side = true})
      local ok, e = pcall(function()
        for _ = 1, 100 do
          local d = s:recv(100)
          if d == "" then return "eof" end
          s:sendall(d:upper())
        end
      end)
      s:close()
      return ok and e or ("%s %s"):format(getmetatable(e).__name, tostring(e))
    end)
    local my_client = s_client_renegotiating(l:getsockname()[2])
    local my_server = server:join(10)
    assert.are.equal(py_server, my_server)
    assert.matches("SSLV3_ALERT_HANDSHAKE_FAILURE", my_server)
    -- What s_client saw: the data before, the refusal, no data after.
    local function seen(out)
      local lines = {}
      for line in out:gmatch("[^\n]+") do
        if line == "HELLO" or line == "WORLD" or line == "RENEGOTIATING" or line:find("no renegotiation", 1, true) then
          lines[#lines + 1] = line:match("no renegotiation") or line
        end
      end
      return table.concat(lines, " ")
    end
    assert.are.equal(seen(py_client), seen(my_client))
    assert.are.equal("HELLO RENEGOTIATING no renegotiation", seen(my_client))
  end)
end)
