-- The ssl module against python3's ssl and the openssl command line, both
-- directions, over loopback, with the shared test PKI (spec/support/pki.lua:
-- a CA, a server for localhost and 127.0.0.1, a client, an expired server
-- and one signed by an unknown CA). Its files are in pki.dir, which the
-- python3 scripts here know as D; their outputs go there too.
local ssl = require "ssl"
local socket = require "socket"
local task = require "task"
local errors = require "moonsock.errors"
local helpers = require "spec.support.helpers"
local pki = require("spec.support.pki")()

local q = helpers.shell_quote
local dir = pki.dir

-- Polls for a file a background process writes, without freezing the loop.
local function wait_file(path, marker)
  for _ = 1, 200 do
    local s = helpers.read_file(path)
    if s and (not marker or s:find(marker, 1, true)) then return s end
    task.sleep(0.05)
  end
  error("timed out waiting for " .. path)
end

local counter = 0
-- Runs python code in the background with D bound to the PKI's directory;
-- returns the path of its output file.
local function python_bg(code)
  counter = counter + 1
  local script = ("%s/py%d.py"):format(dir, counter)
  local out = ("%s/py%d.out"):format(dir, counter)
  local f = assert(io.open(script, "w"))
  f:write("import ssl, socket, sys, threading\nD = ", ("%q"):format(dir), "\n",
    "sys.stdout = open(", ("%q"):format(out .. ".tmp"), ", 'w', buffering=1)\n", code, "\n",
    "sys.stdout.close()\nimport os\nos.rename(", ("%q"):format(out .. ".tmp"), ", ", ("%q"):format(out), ")\n")
  f:close()
  os.execute("timeout 20 python3 " .. q(script) .. " >/dev/null 2>&1 &")
  return out
end

local function server_context(cert)
  local ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
  ctx:load_cert_chain(dir .. "/" .. (cert or "server") .. ".pem", dir .. "/" .. (cert or "server") .. ".key")
  return ctx
end

local function client_context()
  return ssl.create_default_context(nil, {cafile = dir .. "/ca.pem"})
end

-- A moonsock TLS server task answering one connection with handler(sslsock).
local function serve_once(ctx, handler)
  local l = socket.create_server({"127.0.0.1", 0})
  l:settimeout(10)
  local t = task.spawn(function()
    local c = l:accept()
    l:close()
    local ok, s = pcall(ctx.wrap_socket, ctx, c, {server_side = true})
    if not ok then
      c:close()
      return nil, s
    end
    local r = table.pack(pcall(handler, s))
    s:close()
    if not r[1] then error(r[2], 0) end
    return table.unpack(r, 2, r.n)
  end)
  return l:getsockname()[2], t
end

local function err_summary(e)
  local mt = getmetatable(e)
  return ("%s|%s|%s"):format(mt and mt.__name or type(e), tostring(e.verify_code), tostring(e))
end


describe("ssl module", function()
  it("has Python's constants and defaults", function()
    local py = helpers.python [[
import ssl
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
print(int(c.options), int(c.minimum_version), int(c.maximum_version), int(c.verify_flags), int(c.verify_mode),
      c.check_hostname, len(c.get_ciphers()), ssl.OP_ALL, ssl.ALERT_DESCRIPTION_UNKNOWN_CA,
      ssl.VERIFY_X509_PARTIAL_CHAIN, ssl.OPENSSL_VERSION_NUMBER, ssl.OPENSSL_VERSION)
s = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
print(int(s.verify_mode), s.check_hostname, int(ssl.create_default_context().verify_mode))
]]
    local c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    local s = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    local mine = table.concat({c.options, c.minimum_version, c.maximum_version, c.verify_flags, c.verify_mode,
      c.check_hostname and "True" or "False", #c:get_ciphers(), ssl.OP_ALL, ssl.ALERT_DESCRIPTION_UNKNOWN_CA,
      ssl.VERIFY_X509_PARTIAL_CHAIN, ssl.OPENSSL_VERSION_NUMBER, ssl.OPENSSL_VERSION}, " ") .. "\n"
      .. table.concat({s.verify_mode, s.check_hostname and "True" or "False",
        ssl.create_default_context().verify_mode}, " ") .. "\n"
    assert.equal(py, mine)
  end)

  it("decodes a certificate as Python does", function()
    local py = helpers.python(([[
import ssl
c = ssl._ssl._test_decode_cert(%q)
for k in sorted(c): print(k, repr(c[k]) if not isinstance(c[k], str) else c[k])
]]):format(dir .. "/server.pem"))
    local c = ssl._test_decode_cert(dir .. "/server.pem")
    local keys = {}
    for k in pairs(c) do keys[#keys + 1] = k end
    table.sort(keys)
    local lines = {}
    for _, k in ipairs(keys) do lines[#lines + 1] = k .. " " .. tostring(c[k]) end
    assert.equal(py, table.concat(lines, "\n") .. "\n")
  end)

  it("converts PEM and DER both ways and reads certificate times", function()
    local pem = helpers.read_file(dir .. "/server.pem")
    local der = ssl.PEM_cert_to_DER_cert(pem)
    local py = helpers.python(([[
import ssl
pem = open(%q).read()
der = ssl.PEM_cert_to_DER_cert(pem)
print(der.hex()); print(ssl.DER_cert_to_PEM_cert(der), end='')
print(ssl.cert_time_to_seconds("May  9 00:00:00 2007 GMT"), ssl.cert_time_to_seconds("Jan  5 09:34:43 2018 GMT"))
]]):format(dir .. "/server.pem"))
    local hex = der:gsub(".", function(ch) return ("%02x"):format(ch:byte()) end)
    assert.equal(py, hex .. "\n" .. ssl.DER_cert_to_PEM_cert(der)
      .. ssl.cert_time_to_seconds("May  9 00:00:00 2007 GMT") .. " "
      .. ssl.cert_time_to_seconds("Jan  5 09:34:43 2018 GMT") .. "\n")
    assert.equal(16, #ssl.RAND_bytes(16))
    assert.is_true(ssl.RAND_status())
  end)
end)

describe("ssl with python3 as the peer", function()
  for _, version in ipairs {"TLSv1_2", "TLSv1_3"} do
    it("moonsock client, python3 server, " .. version, function()
      local out = python_bg(([[
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(D + "/server.pem", D + "/server.key")
ctx.maximum_version = ssl.TLSVersion.%s
ctx.set_alpn_protocols(["h2", "http/1.1"])
l = socket.create_server(("127.0.0.1", 0))
open(D + "/port%d", "w").write(str(l.getsockname()[1]))
c, _ = l.accept()
s = ctx.wrap_socket(c, server_side=True)
print(s.version(), s.cipher()[0], s.selected_alpn_protocol())
s.sendall(b"hello:" + s.recv(100))
try: s.unwrap()
except OSError: pass  # the client closes without a close_notify of its own
s.close()
]]):format(version, counter + 1))
      local port = tonumber(wait_file(("%s/port%d"):format(dir, counter)))
      local ctx = client_context()
      ctx:set_alpn_protocols {"http/1.1"}
      local c = socket.create_connection({"127.0.0.1", port}, 5)
      local s = ctx:wrap_socket(c, {server_hostname = "localhost"})
      s:sendall("moon")
      assert.equal("hello:moon", s:recv(100))
      local name = s:cipher()
      local mine = ("%s %s %s\n"):format(s:version(), name, s:selected_alpn_protocol())
      assert.equal(version:gsub("_", "."), s:version())
      -- Python's unwrap sent close_notify: recv sees the end.
      assert.equal("", s:recv(100))
      s:close()
      assert.equal(wait_file(out), mine)
    end)
  end

  it("moonsock server, python3 client with a client certificate", function()
    local ctx = server_context()
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx:load_verify_locations(dir .. "/ca.pem")
    local port, t = serve_once(ctx, function(s)
      local data = s:recv(100)
      s:sendall("echo:" .. data)
      return s:getpeercert().subject, s:version()
    end)
    local out = python_bg(([[
ctx = ssl.create_default_context(cafile=D + "/ca.pem")
ctx.load_cert_chain(D + "/client.pem", D + "/client.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", %d)), server_hostname="localhost")
s.sendall(b"hi")
print(s.recv(100).decode(), s.version())
print(repr(ssl._ssl._test_decode_cert(D + "/client.pem")["subject"]))
]]):format(port))
    local subject, version = t:join(10)
    local py = wait_file(out)
    assert.equal(py, ("echo:hi %s\n%s\n"):format(version, tostring(subject)))
  end)

  -- Every verification failure: python3 and moonsock clients meet the same
  -- server (a moonsock one) and must raise the same class, code and text.
  local cases = {
    {"hostname mismatch", "server", "example.org", "ca.pem"},
    {"IP address mismatch", "server", "127.0.0.2", "ca.pem"},
    {"unknown CA", "unknown_ca", "localhost", "ca.pem"},
    {"expired", "expired", "localhost", "ca.pem"},
    {"not in the system store", "server", "localhost", nil},
  }
  for _, case in ipairs(cases) do
    it("fails verification as Python does: " .. case[1], function()
      local function one(client)
        local port, t = serve_once(server_context(case[2]), function(s) return s:recv(10) end)
        local r = client(port)
        t:join(10)
        return r
      end
      local py = one(function(port)
        local out = python_bg(([[
ctx = ssl.create_default_context(%s)
try:
    ctx.wrap_socket(socket.create_connection(("127.0.0.1", %d)), server_hostname=%q)
    print("connected")
except ssl.SSLCertVerificationError as e:
    print("%%s|%%s|%%s" %% (type(e).__name__, e.verify_code, e))
]]):format(case[4] and ("cafile=D + '/%s'"):format(case[4]) or "", port, case[3]))
        return wait_file(out)
      end)
      local mine = one(function(port)
        local ctx = case[4] and client_context() or ssl.create_default_context()
        local c = socket.create_connection({"127.0.0.1", port}, 5)
        local ok, e = pcall(ctx.wrap_socket, ctx, c, {server_hostname = case[3]})
        assert.is_false(ok)
        assert.is_true(ssl.CertificateError:matches(e))
        assert.is_true(errors.OSError:matches(e))
        assert.equal("SSL", e.library)
        assert.equal("CERTIFICATE_VERIFY_FAILED", e.reason)
        return err_summary(e) .. "\n"
      end)
      assert.equal(py, mine)
    end)
  end

  it("raises Python's error for garbage from the peer", function()
    local py = helpers.python [[
import ssl, socket
a, b = socket.socketpair()
b.sendall(b"garbage garbage garbage\r\n\r\n")
try: ssl.create_default_context().wrap_socket(a, server_hostname="x")
except ssl.SSLError as e: print(type(e).__name__, e.errno, e.library, e.reason, e)
]]
    local a, b = socket.socketpair()
    b:sendall("garbage garbage garbage\r\n\r\n")
    local ok, e = pcall(ssl.create_default_context().wrap_socket, ssl.create_default_context(), a,
      {server_hostname = "x"})
    assert.is_false(ok)
    assert.equal(py, ("%s %d %s %s %s\n"):format(getmetatable(e).__name, e.errno, e.library, e.reason, tostring(e)))
    b:close()
  end)

  it("raises Python's error when the peer closes mid-handshake", function()
    local py = helpers.python [[
import ssl, socket
a, b = socket.socketpair()
b.shutdown(socket.SHUT_WR)
try: ssl.create_default_context().wrap_socket(a, server_hostname="x")
except ssl.SSLError as e: print(type(e).__name__, e.errno, e)
]]
    local a, b = socket.socketpair()
    b:shutdown(socket.SHUT_WR)
    local ctx = ssl.create_default_context()
    local ok, e = pcall(ctx.wrap_socket, ctx, a, {server_hostname = "x"})
    assert.is_false(ok)
    assert.equal(py, ("%s %d %s\n"):format(getmetatable(e).__name, e.errno, tostring(e)))
    b:close()
  end)
end)

describe("ssl cooperation", function()
  it("times out a handshake with a silent peer while another task runs", function()
    local py = helpers.python [[
import ssl, socket
a, b = socket.socketpair()
a.settimeout(0.2)
try: ssl.create_default_context().wrap_socket(a, server_hostname="x")
except TimeoutError as e: print(type(e).__name__, e)
]]
    local a, b = socket.socketpair()
    a:settimeout(0.3)
    local ticks = 0
    local ticker = task.spawn(function()
      for _ = 1, 100 do
        ticks = ticks + 1
        task.sleep(0.01)
      end
    end)
    local ctx = ssl.create_default_context()
    local t0 = os.clock()
    local ok, e = pcall(ctx.wrap_socket, ctx, a, {server_hostname = "x"})
    assert.is_false(ok)
    assert.is_true(socket.timeout:matches(e))
    assert.equal(py, "TimeoutError " .. tostring(e) .. "\n")
    assert.is_true(ticks >= 10, "the ticker ran " .. ticks .. " times")
    assert.is_true(os.clock() - t0 < 0.5)
    ticker:cancel()
    b:close()
  end)

  it("wakes a task parked in recv when another closes the SSLSocket", function()
    local ctx = server_context()
    local port, t = serve_once(ctx, function(s) return s:recv(10) end)
    local c = socket.create_connection({"127.0.0.1", port}, 5)
    local s = client_context():wrap_socket(c, {server_hostname = "localhost"})
    local reader = task.spawn(function() return pcall(s.recv, s, 100) end)
    task.sleep(0.05)
    s:close()
    local ok, e = reader:join(5)
    assert.is_false(ok)
    assert.is_true(errors.OSError:matches(e))
    t:join(5)
  end)

  it("sends and receives a megabyte both ways with sendall, makefile and STARTTLS unwrap", function()
    local big = ssl.RAND_bytes(1 << 20)
    local port, t = serve_once(server_context(), function(s)
      local f = s:makefile("rb")
      local data = f:read(#big)
      f:close()
      s:sendall(data)
      local line = s:makefile("r"):read("l")
      s:unwrap():sendall("plain:" .. line)
    end)
    local c = socket.create_connection({"127.0.0.1", port}, 5)
    local s = client_context():wrap_socket(c, {server_hostname = "localhost"})
    assert.matches("^<ssl.SSLSocket fd=%d+, family=2, type=1, proto=6, laddr=%('127.0.0.1', %d+%), raddr=", tostring(s))
    local sender = task.spawn(function() s:sendall(big) end)
    local got = {}
    local n = 0
    while n < #big do
      local d = s:recv(65536)
      assert.is_true(#d > 0)
      got[#got + 1] = d
      n = n + #d
    end
    sender:join(10)
    assert.is_true(table.concat(got) == big)
    s:sendall("line\n")
    local plain = s:unwrap()
    assert.equal("plain:line", plain:recv(100))
    plain:close()
    t:join(10)
  end)

  it("runs a handshake between two SSLObjects over MemoryBIOs", function()
    local sctx = server_context()
    local cctx = client_context()
    local cin, cout, sin, sout = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    local client = cctx:wrap_bio(cin, cout, {server_hostname = "localhost"})
    local server = sctx:wrap_bio(sin, sout, {server_side = true})
    assert.matches("^<ssl.SSLObject object at ", tostring(client))
    local done = 0
    for _ = 1, 10 do
      for _, side in ipairs {client, server} do
        local ok, e = pcall(side.do_handshake, side)
        if ok then done = done + 1 else assert.is_true(ssl.SSLWantReadError:matches(e)) end
      end
      sin:write(cout:read())
      cin:write(sout:read())
      if done >= 2 then break end
    end
    assert.equal("TLSv1.3", client:version())
    client:write("over bios")
    sin:write(cout:read())
    assert.equal("over bios", server:read(100))
    local ok, e = pcall(server.read, server, 10)
    assert.is_false(ok)
    assert.equal("The operation did not complete (read) (_ssl.c:2580)", tostring(e))
    assert.equal("localhost", client:getpeercert().subject[3][1][2])
  end)
end)

describe("ssl with the openssl command line", function()
  it("serves openssl s_client over TLS 1.2", function()
    local port, t = serve_once(server_context(), function(s)
      s:sendall("greeting\n")
      return s:version()
    end)
    local out = dir .. "/s_client.out"
    os.execute(("sleep 1 | timeout 10 openssl s_client -connect 127.0.0.1:%d -tls1_2 -servername localhost "
      .. "-CAfile %s -verify_return_error > %s 2>&1 &"):format(port, q(dir .. "/ca.pem"), q(out)))
    assert.equal("TLSv1.2", t:join(10))
    local text = wait_file(out, "greeting")
    assert.matches("Verify return code: 0 %(ok%)", text)
  end)

  it("talks to openssl s_server with SNI", function()
    local out = dir .. "/s_server.out"
    local port = 20000 + (helpers.getpid() % 20000)
    os.execute(("timeout 10 openssl s_server -accept 127.0.0.1:%d -cert %s -key %s -naccept 1 -rev > %s 2>&1 &")
      :format(port, q(dir .. "/server.pem"), q(dir .. "/server.key"), q(out)))
    wait_file(out, "ACCEPT")
    local c = socket.create_connection({"127.0.0.1", port}, 5)
    local s = client_context():wrap_socket(c, {server_hostname = "localhost"})
    s:sendall("moonsock\n")
    local got = ""
    for _ = 1, 20 do
      got = got .. s:recv(100)
      if got:find("\n") then break end
    end
    assert.equal("kcosnoom\n", got)
    s:close()
  end)
end)
