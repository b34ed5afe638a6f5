-- LuaSec's API on moonsock's ssl table (lua/moonsock/luasec.lua), and
-- Debian's own ssl/https.lua running on it, against python3 TLS peers on
-- 127.0.0.1 with spec/support/pki.lua's test CA. The connection script runs
-- under stock lua5.4 with Debian's lua-sec too (the reference), and the two
-- outputs must be the same line for line.
--
-- Run: bin/moonsock /usr/bin/busted spec/luasec_spec.lua
local helpers = require "spec.support.helpers"
local pki = require("spec.support.pki")()
local luasec_pair = require "spec.support.luasec_pair"

local q = helpers.shell_quote
local REFERENCE = "env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 timeout 60 lua5.4 "

-- An HTTPS server (spec/support/https_server.py) with cert and key, serving
-- a temp dir with index.html; its port and the dir.
local function https_server(cert, key)
  local dir = helpers.tempdir()
  local f = assert(io.open(dir .. "/index.html", "wb"))
  f:write("hello over TLS\n")
  f:close()
  local p = assert(io.popen("python3 spec/support/https_server.py " .. q(dir) .. " " .. q(cert) .. " "
    .. q(key) .. " 60 2>/dev/null & echo $!"))
  local pid = p:read("l")
  -- The server prints {"port": N}; the pipe stays open (p) while it runs.
  local line = p:read("l")
  local port = assert(tonumber(line and line:match('"port": (%d+)')), "no port from https_server.py")
  return {port = port, dir = dir, pipe = p, pid = pid}
end

local function stop(server)
  os.execute("kill " .. server.pid .. " 2>/dev/null; rm -rf " .. q(server.dir))
  server.pipe:close()
end

describe("LuaSec API", function()
  local good, wrong
  setup(function()
    good = https_server(pki.server.cert, pki.server.key)
    wrong = https_server(pki.wrong_host.cert, pki.wrong_host.key)
  end)
  teardown(function()
    stop(good)
    stop(wrong)
  end)

  it("keeps Debian's ssl.so out: ssl.core and ssl.context are errors, ssl.x509 and ssl.config moonsock's", function()
    local ok, err = pcall(require, "ssl.core")
    assert.is_false(ok)
    assert.matches("LuaSec's blocking C library", err)
    assert.is_false((pcall(require, "ssl.context")))
    assert.equal(require("ssl").loadcertificate, require("ssl.x509").load)
    assert.equal(require("ssl").config, require("ssl.config"))
    assert.is_true(require("ssl.config").protocols.tlsv1_3)
  end)

  it("matches LuaSec: newcontext's errors, wrap, dohandshake, receive, x509, verification", function()
    local script = [[
local socket, ssl = require "socket", require "ssl"
local port, ca, good_pem = tonumber(arg[1]), arg[2], arg[3]
print(ssl.newcontext({protocol = "bogus", mode = "client"}))
print(ssl.newcontext({protocol = "any", mode = "client", verify = "bogus"}))
print(ssl.newcontext({protocol = "any", mode = "client", options = "bogus"}))
print(ssl.newcontext({protocol = "tlsv1_2", mode = "client", options = {"all", "no_sslv3"}}) ~= nil)
local function connect(params, name)
  local s = assert(socket.tcp())
  assert(s:connect("127.0.0.1", port))
  local c = assert(ssl.wrap(s, params))
  print("old fd", s:getfd())
  if name then c:sni(name) end
  c:settimeout(10)
  return c
end
local c = connect({mode = "client", protocol = "any", verify = "peer", cafile = ca}, "localhost")
print("handshake", c:dohandshake())
print("verification", c:getpeerverification())
print("info", c:info("protocol"), c:info().protocol)
print("send", c:send("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n", 1))
print("status", c:receive("*l"))

local length
for _ = 1, 50 do
  local line = c:receive() or ""
  length = length or tonumber(line:match("^Content%-Length: (%d+)"))
  if line == "" then break end
end
print("body", c:receive(length))
print("dirty", c:dirty())
local x = c:getpeercertificate()
print("x509", x:serial(), x:notbefore(), x:notafter(), x:digest(), x:digest("sha256"))
for _, e in ipairs(x:subject()) do print("subject", e.oid, e.name, e.value) end
for _, e in ipairs(x:issuer()) do print("issuer", e.oid, e.name, e.value) end
local _, kind, bits = x:pubkey()
print("pubkey", kind, bits, (x:pubkey():match("^%-%-%-%-%-BEGIN PUBLIC KEY")))
local san = x:extensions()["2.5.29.17"]
table.sort(san.dNSName) table.sort(san.iPAddress)
print("san", san.name, table.concat(san.dNSName, ","), table.concat(san.iPAddress, ","))
print("pem", (x:pem():match("^%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-\n")),
  ssl.loadcertificate(x:pem()):digest() == x:digest(), ssl.loadcertificate(good_pem):digest() == x:digest())
print("validat", x:validat(os.time()), x:validat(0))
print("signature", x:getsignaturename())
print("setencode", x:setencode("utf8"), pcall(x.setencode, x, "bogus"))
print("digest bogus", pcall(x.digest, x, "bogus"))
print("chain", #c:getpeerchain(), c:getpeerchain()[1]:digest() == x:digest())
print("loadcertificate junk", ssl.loadcertificate("junk"))
print("close", c:close())
print("closed receive", c:receive())
c = connect({mode = "client", protocol = "any", verify = "peer"}, "localhost")
print("untrusted", c:dohandshake())
print("untrusted verification", c:getpeerverification())
c:close()
c = connect({mode = "client", protocol = "any", verify = "peer", verifyext = "lsec_continue"}, "localhost")
print("continue", c:dohandshake())
local ok, errs = c:getpeerverification()
print("continue verification", ok, type(errs), errs[1][1])
c:close()
local idle = assert(socket.bind("127.0.0.1", 0))
local idle_host, idle_port = idle:getsockname()
local s = assert(socket.tcp())
assert(s:connect(idle_host, idle_port))
c = assert(ssl.wrap(s, {mode = "client", protocol = "any", verify = "none"}))
print("want before", c:want())
c:settimeout(0.2)
print("timed out", c:dohandshake())
print("want after", c:want())
c:close()
idle:close()
]]
    local path = helpers.write_temp(script, ".lua")
    local pem = helpers.read_file(pki.server.cert)
    local args = " " .. good.port .. " " .. q(pki.ca) .. " " .. q(pem)
    local ref, referr, refrc = helpers.run(REFERENCE .. q(path) .. args)
    local out, err, rc = helpers.run("timeout 60 " .. q(helpers.moonsock) .. " " .. q(path) .. args)
    os.remove(path)
    assert.equal(0, refrc, referr)
    assert.equal(0, rc, err)
    assert.matches("handshake\ttrue", ref)
    assert.matches("body\thello over TLS", ref)
    local rl, ol = {}, {}
    for l in ref:gmatch("[^\n]*") do rl[#rl + 1] = l end
    for l in out:gmatch("[^\n]*") do ol[#ol + 1] = l end
    assert.same(rl, ol)
  end)

  it("runs Debian's ssl.https: GET, POST with an ltn12 source", function()
    local https, ltn12 = require "ssl.https", require "ltn12"
    assert.equal("/usr/share/lua/5.4/ssl/https.lua", package.searchpath("ssl.https", package.path))
    local parts = {}
    local r, code = https.request {url = "https://localhost:" .. good.port .. "/", cafile = pki.ca,
                                   sink = ltn12.sink.table(parts)}
    assert.equal(1, r)
    assert.equal(200, code)
    assert.equal(helpers.read_file(good.dir .. "/index.html"), table.concat(parts))
    local sent = string.rep("moonsock ", 1000)
    local back = {}
    local _, code2 = https.request {url = "https://localhost:" .. good.port .. "/", cafile = pki.ca,
                             method = "POST", source = ltn12.source.string(sent),
                             headers = {["content-length"] = #sent}, sink = ltn12.sink.table(back)}
    assert.equal(200, code2)
    assert.equal(sent, table.concat(back))
  end)

  it("ssl.https's string form trusts the system store (SSL_CERT_FILE here)", function()
    local out, err, rc = helpers.run("SSL_CERT_FILE=" .. q(pki.ca) .. " timeout 30 " .. q(helpers.moonsock)
      .. " -e " .. q('print((require("ssl.https").request("https://localhost:' .. good.port .. '/")))'))
    assert.equal(0, rc, err)
    assert.equal(helpers.read_file(good.dir .. "/index.html") .. "\n", out)
  end)

  it("ssl.https refuses a wrong host name and an untrusted certificate", function()
    local https = require "ssl.https"
    local r, err = https.request {url = "https://localhost:" .. wrong.port .. "/", cafile = pki.ca}
    assert.is_nil(r)
    assert.equal("certificate verify failed", err)
    r, err = https.request {url = "https://localhost:" .. good.port .. "/", cafile = pki.unknown_ca.ca}
    assert.is_nil(r)
    assert.equal("certificate verify failed", err)
    -- The opt-out: lsec_continue lets the handshake go on.
    local parts = {}
    r = https.request {url = "https://localhost:" .. wrong.port .. "/", cafile = pki.ca,
                       verifyext = "lsec_continue", sink = require("ltn12").sink.table(parts)}
    assert.equal(1, r)
    assert.equal(helpers.read_file(wrong.dir .. "/index.html"), table.concat(parts))
  end)

  it("runs concurrent requests in tasks, each parking only itself", function()
    local task, https = require "task", require "ssl.https"
    local ticks, done = 0, false
    local ticker = task.spawn(function()
      for _ = 1, 2000 do
        if done then return end
        ticks = ticks + 1
        task.sleep(0.001)
      end
    end)
    local codes, tasks = {}, {}
    for i = 1, 4 do
      tasks[i] = task.spawn(function()
        local _, code = https.request {url = "https://localhost:" .. good.port .. "/", cafile = pki.ca,
                                       sink = require("ltn12").sink.null()}
        codes[i] = code
      end)
    end
    for i = 1, 4 do tasks[i]:join(30) end
    done = true
    ticker:join(5)
    assert.same({200, 200, 200, 200}, codes)
    assert.is_true(ticks > 0)
  end)

  it("serves: a server connection and a client one in two tasks, ALPN, SNI, a required client certificate", function()
    local socket, ssl, task = require "socket", require "ssl", require "task"
    local server = assert(socket.bind("127.0.0.1", 0))
    local _, port = server:getsockname()
    local got = {}
    local t = task.spawn(function()
      local c = assert(server:accept())
      local s = assert(ssl.wrap(c, {mode = "server", protocol = "any", certificate = pki.server.cert,
        key = pki.server.key, cafile = pki.ca, verify = {"peer", "fail_if_no_peer_cert"},
        alpn = {"h2", "http/1.1"}}))
      s:settimeout(10)
      got.handshake = {s:dohandshake()}
      got.alpn, got.sni, got.line = s:getalpn(), s:getsniname(), s:receive()
      got.verified = s:getpeerverification()
      got.client_cn = s:getpeercertificate():subject()[3].value
      s:send("pong\n")
      s:close()
    end)
    local c = assert(socket.connect("127.0.0.1", port))
    local s = assert(ssl.wrap(c, {mode = "client", protocol = "tlsv1_3", cafile = pki.ca, alpn = "http/1.1",
      certificate = pki.client.cert, key = pki.client.key}))
    assert.equal(-1, c:getfd())
    s:sni("localhost")
    s:settimeout(10)
    assert.same({true}, {s:dohandshake()})
    assert.equal("http/1.1", s:getalpn())
    assert.equal("localhost", s:getsniname())
    assert.equal("TLSv1.3", s:info("protocol"))
    assert.equal("TLSv1.3", s:info().protocol)
    assert.is_string(s:getfinished())
    assert.same({7, nil, nil}, {s:send("xxping\n", 3)})
    assert.same({"pong", nil, nil}, {s:receive()})
    assert.is_true(t:join(10) ~= false)
    assert.same({true}, got.handshake)
    assert.equal("http/1.1", got.alpn)
    assert.equal("localhost", got.sni)
    assert.equal("ping", got.line)
    assert.is_true(got.verified)
    assert.equal(pki.client.subject:match("CN=([^,]+)"), got.client_cn)
    assert.equal("nothing", s:want())
    assert.is_true(s:getfd() >= 0)
    s:setfd(-1)
    assert.equal(-1, s:getfd())
    assert.same({nil, "closed", ""}, {s:receive()})
    server:close()
  end)

  it("times a handshake out with LuaSec's 'wantread'", function()
    local socket, ssl = require "socket", require "ssl"
    local server = assert(socket.bind("127.0.0.1", 0))
    local _, port = server:getsockname()
    local s = assert(socket.tcp())
    assert(s:connect("127.0.0.1", port))
    local c = assert(ssl.wrap(s, {mode = "client", protocol = "any", cafile = pki.ca}))
    assert.equal("nothing", c:want())
    c:settimeout(0.2)
    local t0 = socket.gettime()
    local ok, err = c:dohandshake()
    local took = socket.gettime() - t0
    assert.is_false(ok)
    assert.equal("wantread", err)
    assert.is_true(took >= 0.15 and took < 5)
    -- want() as stock lua5.4 with Debian's lua-sec 1.2.0 answers the same
    -- steps ("nothing" before, "read" after a handshake timed out).
    assert.equal("read", c:want())
    c:settimeout(0)
    assert.same({false, "wantread"}, {c:dohandshake()})
    assert.equal("read", c:want())
    c:close()
    server:close()
  end)

  it("takes LuaSec's depth, ciphersuites, curveslist and dhparam as LuaSec does", function()
    local want, got = luasec_pair.run_both([=[
local cert, key, ca = arg[1], arg[2], arg[3]
local function pair(client_extra, server_extra)
  local scfg = {mode = "server", protocol = "any", certificate = cert, key = key}
  local ccfg = {mode = "client", protocol = "any", cafile = ca, verify = "peer"}
  for k, v in pairs(server_extra or {}) do scfg[k] = v end
  for k, v in pairs(client_extra or {}) do ccfg[k] = v end
  local C, S, cerr = wrap_pair(scfg, ccfg)
  if not C then return print("wrap", S, cerr) end
  local cd, ce = handshake(C, S)
  print("handshake", cd, cd and "" or ce, cd and C:info("protocol"), cd and C:info("cipher"))
  C:close()
  S:close()
end
pair({depth = 0})
pair({depth = 1})
pair({depth = "2"})
pair({ciphersuites = "TLS_AES_256_GCM_SHA384"})
pair(nil, {ciphersuites = "TLS_CHACHA20_POLY1305_SHA256"})
pair({ciphersuites = "bogus"})
pair({curveslist = "P-384"}, {curveslist = "P-384:P-256"})
pair({curveslist = "P-384"}, {curveslist = "P-256"})
pair({curveslist = "bogus"})
pair({dhparam = 5})
-- an argument error names the line that called (LuaSec's: its ssl.lua)
for _, depth in ipairs {"x", 2.5, "4.5", true} do
  local ok, err = pcall(ssl.newcontext, {mode = "client", protocol = "any", depth = depth})
  print("depth", tostring(depth), ok, (tostring(err):gsub("^[^:]*:%d+: ", "")))
end
]=], pki.server.cert, pki.server.key, pki.ca)
    assert.equal(want, got)
    -- what the reference says, so that a change in both shows here
    assert.matches("handshake\tfalse\tsslv3 alert handshake failure", want, 1, true)
    assert.matches("bad argument #2 to 'setdepth' (number has no integer representation)", want, 1, true)
    assert.matches("TLS_AES_256_GCM_SHA384", want, 1, true)
    assert.matches('unknown elliptic curve in "bogus"', want, 1, true)
  end)

  it("calls a server's ALPN function as LuaSec does", function()
    -- The offer it gets, what it returns (a name, a list, junk), and what
    -- both sides then see; a client's function is refused.
    local want, got = luasec_pair.run_both([=[
local cert, key, ca = arg[1], arg[2], arg[3]
local function pair(client_alpn, server_alpn)
  local C, S, cerr = wrap_pair({mode = "server", protocol = "any", certificate = cert, key = key, alpn = server_alpn},
    {mode = "client", protocol = "any", cafile = ca, verify = "peer", alpn = client_alpn})
  if not C then return print("wrap", S, cerr) end
  local cd, ce, sd = handshake(C, S)
  print("handshake", cd, sd, cd and "" or ce, C:getalpn(), S:getalpn())
  C:close()
  S:close()
end
local seen
pair({"h2", "http/1.1"}, function(offered) seen = table.concat(offered, ",") return "http/1.1" end)
print("offered", seen)
pair({"h2", "http/1.1"}, function() return {"spdy", "h2", "http/1.1"} end)
pair({"h2"}, function() return "http/1.1" end)
pair({"h2"}, function() return 42 end)
pair({"h2"}, function() return {} end)
pair("h2", function() return nil end)
pair(function() return "h2" end, {"h2"})
]=], pki.server.cert, pki.server.key, pki.ca)
    assert.equal(want, got)
    assert.matches("offered\th2,http/1.1\nhandshake\ttrue\ttrue\t\th2\th2\n", want)
    -- moonsock's own: an error in the function fails the handshake
    local socket, ssl, task = require "socket", require "ssl", require "task"
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local t = task.spawn(function()
      local a = assert(srv:accept())
      local S = assert(ssl.wrap(a, {mode = "server", protocol = "any", certificate = pki.server.cert,
        key = pki.server.key, alpn = function() error("no protocol for you") end}))
      S:settimeout(5)
      local r = {S:dohandshake()}
      S:close()
      return r
    end)
    local C = assert(ssl.wrap(assert(socket.connect("127.0.0.1", port)), {mode = "client", protocol = "any",
      cafile = pki.ca, alpn = {"h2"}}))
    C:settimeout(5)
    local ok, err = C:dohandshake()
    C:close()
    srv:close()
    assert.is_false(ok)
    assert.matches("alert", err)
    assert.is_false(t:join(5)[1])
  end)

  it("lists every error of the peer's chain in getpeerverification, by depth, as LuaSec does", function()
    -- lsec_continue lets the handshake finish whatever the chain: the
    -- errors are then LuaSec's errs[depth + 1] lists.
    local args = {}
    for _, case in ipairs {{pki.server, pki.ca}, {pki.expired, pki.ca}, {pki.unknown_ca, pki.ca},
                           {pki.expired, pki.unknown_ca.ca}, {pki.wrong_host, pki.unknown_ca.ca}} do
      table.move({case[1].cert, case[1].key, case[2]}, 1, 3, #args + 1, args)
    end
    local want, got = luasec_pair.run_both([=[
local function dump(v)
  if type(v) ~= "table" then return tostring(v) end
  local keys, out = {}, {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "=" .. dump(v[k]) end
  return "{" .. table.concat(out, ",") .. "}"
end
local i = 1
while arg[i] do
  local C, S = assert(wrap_pair({mode = "server", protocol = "any", certificate = arg[i], key = arg[i + 1]},
    {mode = "client", protocol = "any", cafile = arg[i + 2], verify = "peer", verifyext = {"lsec_continue"}}))
  local cd, ce = handshake(C, S)
  print("handshake", cd, ce, select("#", C:getpeerverification()), dump({C:getpeerverification()}))
  C:close()
  S:close()
  i = i + 3
end
]=], table.unpack(args))
    assert.equal(want, got)
    -- more than one error for one certificate, so that the list shows
    assert.matches("1={1=[^,}]+,2=", want)
  end)

  it("takes DANE as LuaSec does: params.dane, setdane, settlsa", function()
    -- TLSA records for the server's key (DANE-EE) and the CA's
    -- certificate (DANE-TA), made with the openssl command line; stock
    -- lua5.4 with Debian's lua-sec runs the same script: same output.
    local dir = helpers.tempdir()
    local spki, ca = dir .. "/spki.sha256", dir .. "/ca.sha256"
    assert.equal(0, select(3, helpers.run("openssl x509 -in " .. q(pki.server.cert) .. " -pubkey -noout"
      .. " | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary > " .. q(spki))))
    assert.equal(0, select(3, helpers.run("openssl x509 -in " .. q(pki.ca) .. " -outform DER"
      .. " | openssl dgst -sha256 -binary > " .. q(ca))))
    local want, got = luasec_pair.run_both([=[
local cert, key, ca, spki = arg[1], arg[2], arg[3], arg[4]
local f = io.open(spki, "rb") local digest = f:read("a") f:close()
local function pair(dane, setdane, tlsa)
  local C, S, cerr = wrap_pair({mode = "server", protocol = "any", certificate = cert, key = key},
    {mode = "client", protocol = "any", cafile = ca, verify = "peer", dane = dane})
  if not C then return print("wrap", S, cerr) end
  if setdane then print("setdane", pcall(C.setdane, C, setdane)) end
  if tlsa then print("settlsa", C:settlsa(table.unpack(tlsa, 1, 4))) end
  local cd, ce = handshake(C, S)
  print("handshake", cd, ce, C:getpeerverification())
  C:close()
  S:close()
end
pair(true, "localhost", {3, 1, 1, digest})
pair(true, "localhost", {3, 1, 1, ("x"):rep(32)})
pair(true, "localhost", nil)
pair(nil, "localhost", {3, 1, 1, digest})
pair({"no_ee_namechecks"}, "localhost", {3, 1, 1, digest})
local ok, err = pcall(pair, {"bogus"}, "localhost", nil)
print(ok, (tostring(err):gsub("^[^:]*:%d+: ", "")))
pair(true, nil, {3, 1, 1, digest})
pair(true, "localhost", {3, 1, 1, 5})
-- DANE-TA: the CA's own certificate
pair(true, "localhost", {2, 0, 1, io.open(arg[5], "rb"):read("a")})
]=], pki.server.cert, pki.server.key, pki.ca, spki, ca)
    os.execute("rm -rf " .. q(dir))
    assert.equal(want, got)
    assert.matches("handshake\ttrue", want)
    assert.matches("certificate verify failed", want)
  end)
end)
