-- Differential tests of the TLS examples: examples/tls_echo_server.lua,
-- tls_echo_client.lua, sni_server.lua, starttls_server.lua, starttls_client.lua
-- and https_get.lua run under bin/moonsock, their references
-- examples/python/*.py under python3, with the certificates of the test PKI
-- (spec/support/pki.lua). A server runs in the background on a free loopback
-- port and its clients run against it, in all four pairings (moonsock or
-- Python server, moonsock or Python clients); every pairing must print, on
-- every side, what the Python/Python pairing prints, and end with the same
-- exit status. https_get runs against python3's http.server wrapped in ssl
-- (spec/support/https_server.py). Only the port and the HTTP dates are
-- normalised.
--
-- The moonsock pairings need `require "ssl"`; where it does not exist yet they
-- are pending, and the Python/Python pairings still run.
--
-- Run: bin/moonsock /usr/bin/busted spec/tls_examples_spec.lua
local json = require "dkjson" -- Debian lua-dkjson, which lua-busted depends on
local ex = require "spec.support.examples"
local pki = require("spec.support.pki")()

local command, run_all, free_port = ex.command, ex.run_all, ex.free_port

local HAS_SSL = (function()
  local ok, ssl = pcall(require, "ssl")
  return ok and type(ssl) == "table" and ssl.SSLContext ~= nil
end)()

local function normalise(text, port)
  text = text:gsub("%f[%d]" .. port .. "%f[%D]", "<port>")
  -- http.server's dates: the time of each request and the file's mtime.
  text = text:gsub("\n(Date: )[^\n]*", "\n%1<date>")
  return text
end

-- Every session here is on a free loopback TCP port (ex.session's where).
local function on_a_port()
  local port = free_port()
  return port, port
end


local client = ex.client

local sessions = {
  {title = "tls_echo_server + tls_echo_client: a name, an IP address, a wrong name",
   server = "tls_echo_server",
   server_args = function(port) return {port, pki.server.chain, pki.server.key, "127.0.0.1", 3} end,
   clients = {client("tls_echo_client", pki.ca, "127.0.0.1", "localhost", "hello", "second message"),
              client("tls_echo_client", pki.ca, "127.0.0.1", "127.0.0.1"),
              client("tls_echo_client", pki.ca, "127.0.0.1", pki.WRONG_HOST)},
   check = function(out)
     assert.matches("\nclient 1: TLSv1%.3, TLS_AES_256_GCM_SHA384\nclient 1 sent: hello\n", out.server.out)
     assert.matches("\nclient 3: handshake failed: SSLV3_ALERT_BAD_CERTIFICATE\n", out.server.out)
     assert.are.equal("connected to localhost with TLSv1.3\ncertificate for localhost, issued by "
       .. "moonsock test CA\necho: hello\necho: second message\n", out.clients[1].out)
     assert.are.same({0, 0, 1}, {out.clients[1].code, out.clients[2].code, out.clients[3].code})
     assert.are.equal("certificate verify failed for " .. pki.WRONG_HOST .. ": Hostname mismatch, certificate"
       .. " is not valid for '" .. pki.WRONG_HOST .. "'. (CERTIFICATE_VERIFY_FAILED, code 62)\n", out.clients[3].out)
   end},
  {title = "tls_echo_server with an RSA certificate + tls_echo_client",
   server = "tls_echo_server",
   server_args = function(port) return {port, pki.server_rsa.chain, pki.server_rsa.key, "127.0.0.1", 1} end,
   clients = {client("tls_echo_client", pki.ca, "127.0.0.1", "localhost", "over RSA")},
   check = function(out)
     assert.matches("\necho: over RSA\n$", out.clients[1].out)
   end},
  {title = "sni_server + tls_echo_client asking for each name, and for none",
   server = "sni_server",
   server_args = function(port)
     return {port, pki.server.chain, pki.server.key, pki.SNI_NAME, pki.sni.chain, pki.sni.key, "127.0.0.1", 3}
   end,
   clients = {client("tls_echo_client", pki.ca, "127.0.0.1", "localhost", "to the default"),
              client("tls_echo_client", pki.ca, "127.0.0.1", pki.SNI_NAME, "to the other"),
              client("tls_echo_client", pki.ca, "127.0.0.1", "127.0.0.1", "to no name")},
   check = function(out)
     assert.matches("\nclient 2 asked for " .. pki.SNI_NAME:gsub("%p", "%%%0") .. ": the other certificate\n",
       out.server.out)
     assert.matches("\nclient 3 asked for no name: the default certificate\n", out.server.out)
     assert.matches("\ncertificate for " .. pki.SNI_NAME:gsub("%p", "%%%0") .. ", ", out.clients[2].out)
   end},
  {title = "starttls_server + starttls_client: plain, TLS, plain again on one connection",
   server = "starttls_server",
   server_args = function(port) return {port, pki.server.chain, pki.server.key, "127.0.0.1", 1} end,
   clients = {client("starttls_client", pki.ca, "localhost")},
   check = function(out)
     assert.matches("\nS: 250 hello, over TLSv1%.3\nC: STOPTLS\nS: 220 back to plain text\nTLS off\n"
       .. "C: HELLO\nS: 250 hello, in plain text\nC: QUIT\nS: 221 bye\n$", out.clients[1].out)
     assert.matches("\nclient 1: TLS off\n", out.server.out)
   end},
}
for _, s in ipairs(sessions) do
  s.where, s.ready = on_a_port, ex.tcp_listening
end

local function pairings(run)
  for _, pair in ipairs {{"lua", "lua"}, {"lua", "python"}, {"python", "lua"}} do
    local what = pair[1] .. " server, " .. pair[2] .. " clients"
    if HAS_SSL then
      it(what .. " print what the Python pair prints", function() run(pair[1], pair[2], what) end)
    else
      pending(what .. ": needs require \"ssl\"")
    end
  end
end

for _, s in ipairs(sessions) do
  describe(s.title, function()
    local expected, raw
    it("python server, python clients (the reference)", function()
      expected, raw = ex.session(s, "python", "python", normalise)
      assert.are.equal(0, expected.server.code, "python server: " .. raw)
      s.check(expected)
    end)
    pairings(function(server_lang, client_lang, what)
      assert(expected, "the reference pairing failed")
      local got, err = ex.session(s, server_lang, client_lang, normalise)
      assert.are.same(expected, got, what .. ": " .. err)
    end)
  end)
end

describe("https_get against python3's http.server wrapped in ssl", function()
  local dir, server
  setup(function()
    dir = ex.tmpdir()
    local f = assert(io.open(dir .. "/index.txt", "wb"))
    f:write("hello over HTTPS\n")
    f:close()
    server = ex.start("python3 spec/support/https_server.py " .. ex.sh_quote(dir) .. " "
      .. ex.sh_quote(pki.server.chain) .. " " .. ex.sh_quote(pki.server.key) .. " 120", 130)
    local port
    assert(ex.wait_until(function()
      local line = (ex.read_file(server.dir .. "/out") or ""):match("^([^\n]*)\n")
      port = line and json.decode(line).port
      return port ~= nil
    end, 10, 0.05), "the HTTPS server never got ready")
    server.port = port
  end)
  teardown(function()
    ex.stop(server)
    os.execute("rm -rf " .. ex.sh_quote(dir))
  end)

  local function get(lang, path, host)
    local url = string.format("https://%s:%d%s", host or "localhost", server.port, path)
    local r = run_all({command(lang, "https_get", {url, pki.ca})})[1]
    return {out = normalise(r.out, server.port), code = r.code}, r.err
  end

  local cases = {{"/index.txt"}, {"/nothing/here?x=1"}, {"/index.txt", "127.0.0.1"}}
  it("python3 prints the status line and the headers", function()
    local ok = get("python", "/index.txt")
    assert.are.equal(0, ok.code)
    assert.matches("^HTTP/1%.0 200 OK\nServer: SimpleHTTP/[%d.]+ Python/[%d.]+\nDate: <date>\n"
      .. "Content%-type: text/plain\nContent%-Length: 17\nLast%-Modified: [^\n]+\n\nbody: 17 bytes\n$", ok.out)
    assert.matches("^HTTP/1%.0 404 File not found\n", get("python", "/nothing/here?x=1").out)
  end)
  if HAS_SSL then
    it("moonsock prints what python3 prints", function()
      for _, c in ipairs(cases) do
        local want = get("python", c[1], c[2])
        local got, err = get("lua", c[1], c[2])
        assert.are.same(want, got, err)
      end
    end)
  else
    pending("moonsock prints what python3 prints: needs require \"ssl\"")
  end
end)
