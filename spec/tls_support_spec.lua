-- The TLS specs' own scaffolding checked against the references: the test
-- PKI (spec/support/pki.lua) verifies with `openssl verify` exactly as each
-- certificate is meant to (and fails with openssl's text where it is meant
-- to), and the reference peers (spec/support/tls.lua: python3's ssl through
-- tlspeer.py, openssl s_server / s_client) negotiate and report what they
-- are asked to, so a moonsock spec that leans on them leans on something true.
--
-- Run: bin/moonsock /usr/bin/busted spec/tls_support_spec.lua
local h = require "spec.support.helpers"
local tls = require "spec.support.tls"
local pki = require("spec.support.pki")()

local verify = tls.verify

describe("the test PKI", function()
  it("is made once per process", function()
    assert.are.equal(pki, require("spec.support.pki")())
    assert.is_not_nil(h.read_file(pki.ca))
  end)

  it("verifies the good certificates against the CA, for their names and purposes", function()
    for _, case in ipairs {
      {pki.server.cert, {"-purpose", "sslserver", "-verify_hostname", "localhost"}},
      {pki.server.cert, {"-purpose", "sslserver", "-verify_ip", "127.0.0.1"}},
      {pki.server.cert, {"-purpose", "sslserver", "-verify_ip", "::1"}},
      {pki.server_rsa.cert, {"-purpose", "sslserver", "-verify_hostname", "localhost"}},
      {pki.sni.cert, {"-purpose", "sslserver", "-verify_hostname", pki.SNI_NAME}},
      {pki.wrong_host.cert, {"-purpose", "sslserver", "-verify_hostname", pki.WRONG_HOST}},
      {pki.client.cert, {"-purpose", "sslclient"}},
      {pki.unknown_ca.cert, {"-purpose", "sslserver", "-verify_hostname", "localhost"}, pki.unknown_ca.ca},
    } do
      local args = {"-CAfile", case[3] or pki.ca}
      for _, a in ipairs(case[2]) do args[#args + 1] = a end
      local out, code = verify(case[1], args)
      assert.are.equal(0, code, out)
      assert.are.equal(case[1] .. ": OK\n", out)
    end
  end)

  it("fails each bad certificate with openssl's reason", function()
    for _, case in ipairs {
      {pki.expired.cert, {}, "error 10 at 0 depth lookup: certificate has expired"},
      {pki.unknown_ca.cert, {}, "error 20 at 0 depth lookup: unable to get local issuer certificate"},
      {pki.wrong_host.cert, {"-verify_hostname", "localhost"}, "error 62 at 0 depth lookup: hostname mismatch"},
      {pki.sni.cert, {"-verify_hostname", "localhost"}, "error 62 at 0 depth lookup: hostname mismatch"},
      {pki.client.cert, {"-purpose", "sslserver"}, "error 26 at 0 depth lookup: unsuitable certificate purpose"},
    } do
      local args = {"-CAfile", pki.ca}
      for _, a in ipairs(case[2]) do args[#args + 1] = a end
      local out, code = verify(case[1], args)
      assert.are_not.equal(0, code, out)
      assert.truthy(out:find(case[3], 1, true), out)
    end
  end)

  it("has the key types it promises, a chain file and the subjects openssl prints", function()
    local function key_text(path, pass)
      local out, err, code = h.run("openssl pkey -noout -text -in " .. h.shell_quote(path)
        .. (pass and " -passin pass:" .. h.shell_quote(pass) or ""))
      return out .. err, code
    end
    for _, which in ipairs {"server", "sni", "client", "expired", "wrong_host", "unknown_ca"} do
      assert.matches("ASN1 OID: prime256v1", (key_text(pki[which].key)), nil, true)
    end
    assert.matches("Private-Key: (2048 bit", (key_text(pki.server_rsa.key)), nil, true)
    local text, code = key_text(pki.server_encrypted.key, pki.PASSWORD)
    assert.are.equal(0, code, text)
    assert.matches("ASN1 OID: prime256v1", text, nil, true)
    assert.are_not.equal(0, select(2, key_text(pki.server_encrypted.key, "wrong password")))
    assert.are.equal(h.read_file(pki.server.cert) .. h.read_file(pki.ca), h.read_file(pki.server.chain))
    assert.are.equal("CN=localhost,O=moonsock tests,C=XX", pki.server.subject)
    assert.are.equal("CN=moonsock client,O=moonsock tests,C=XX", pki.client.subject)
    assert.are.equal("CN=moonsock test CA,O=moonsock tests,C=XX", pki.ca_subject)
  end)
end)

describe("the python3 ssl peer (tlspeer.py)", function()
  local servers = {}
  local function server(args)
    local s = tls.python_server(args)
    servers[#servers + 1] = s
    return s
  end
  after_each(function()
    for _, s in ipairs(servers) do tls.stop(s) end
    servers = {}
  end)

  it("reports version, ALPN, SNI and both peers' subjects, and echoes", function()
    local srv = server({"--cert", pki.server.chain, "--key", pki.server.key, "--alpn", "h2,http/1.1",
      "--sni-cert", pki.SNI_NAME .. "=" .. pki.sni.chain .. "," .. pki.sni.key,
      "--require-client-cert", "--ca", pki.ca, "--count", "2"})
    local mutual = {"--ca", pki.ca, "--cert", pki.client.cert, "--key", pki.client.key}
    local r1, code1, err1 = tls.python_client("127.0.0.1", srv.port,
      {"--server-hostname", "localhost", "--alpn", "http/1.1", "--send", "one", table.unpack(mutual)})
    assert.are.equal(0, code1, err1)
    local r2, code2, err2 = tls.python_client("127.0.0.1", srv.port,
      {"--server-hostname", pki.SNI_NAME, "--tls", "1.2", "--send", "two", table.unpack(mutual)})
    assert.are.equal(0, code2, err2)
    local reports = tls.finish(srv)
    assert.are.equal(2, #reports)
    assert.are.same({"TLSv1.3", "http/1.1", pki.server.subject, "one"},
      {r1.version, r1.alpn, r1.peer_subject, r1.received})
    assert.are.same({"TLSv1.3", "http/1.1", "localhost", pki.client.subject, "one", 3},
      {reports[1].version, reports[1].alpn, reports[1].sni, reports[1].peer_subject, reports[1].received,
       reports[1].echoed})
    -- The SNI name picked the second certificate; no ALPN offered, none chosen.
    assert.are.same({"TLSv1.2", tls.json_null, pki.sni.subject, "two"},
      {r2.version, r2.alpn, r2.peer_subject, r2.received})
    assert.are.same({"TLSv1.2", pki.SNI_NAME, pki.client.subject},
      {reports[2].version, reports[2].sni, reports[2].peer_subject})
    assert.are.equal("ECDHE-ECDSA-AES256-GCM-SHA384", r2.cipher[1])
  end)

  it("reports each verification failure with Python's class, code and text", function()
    for _, case in ipairs {
      {pki.expired, "localhost", 10, "certificate has expired"},
      {pki.unknown_ca, "localhost", 19, "self-signed certificate in certificate chain"},
      {{chain = pki.unknown_ca.cert, key = pki.unknown_ca.key}, "localhost", 20,
       "unable to get local issuer certificate"},
      {pki.wrong_host, "localhost", 62, "Hostname mismatch, certificate is not valid for 'localhost'."},
      {pki.server, "127.0.0.2", 64, "IP address mismatch, certificate is not valid for '127.0.0.2'."},
    } do
      local srv = server({"--cert", case[1].chain, "--key", case[1].key})
      local r, code = tls.python_client("127.0.0.1", srv.port, {"--ca", pki.ca, "--server-hostname", case[2]})
      assert.are.equal(1, code)
      assert.are.same({"SSLCertVerificationError", "CERTIFICATE_VERIFY_FAILED", "SSL", case[3], case[4]},
        {r.error, r.reason, r.library, r.verify_code, r.verify_message})
      assert.matches("^%[SSL: CERTIFICATE_VERIFY_FAILED%] certificate verify failed: "
        .. case[4]:gsub("%p", "%%%0"), r.message)
      local reports = tls.finish(srv)
      assert.are.equal("SSLError", reports[1].error)
    end
  end)

  it("holds TLS 1.2 and 1.3 apart when told to", function()
    local srv = server({"--cert", pki.server.chain, "--key", pki.server.key, "--tls", "1.3"})
    local r, code = tls.python_client("127.0.0.1", srv.port, {"--ca", pki.ca, "--tls", "1.2"})
    assert.are.equal(1, code)
    assert.are.same({"SSLError", "TLSV1_ALERT_PROTOCOL_VERSION"}, {r.error, r.reason})
    assert.are.equal("UNSUPPORTED_PROTOCOL", tls.finish(srv)[1].reason)
  end)

  it("python_client parks only the calling task (a server under test in a task keeps running)", function()
    local task = require "task"
    local srv = server({"--cert", pki.server.chain, "--key", pki.server.key})
    local ticks, done = 0, false
    local ticker = task.spawn(function()
      while not done do
        ticks = ticks + 1
        task.sleep(0.01)
      end
    end)
    local r, code, err = tls.python_client("127.0.0.1", srv.port, {"--ca", pki.ca, "--server-hostname", "localhost"})
    done = true
    ticker:join(5)
    assert.are.equal(0, code, err)
    assert.are.equal("hello over TLS", r.received)
    assert.is_true(ticks > 5, "the ticker ran " .. ticks .. " times")
    tls.finish(srv)
  end)

  it("serves IPv6 loopback", function()
    local srv = server({"::1", "--cert", pki.server_rsa.chain, "--key", pki.server_rsa.key})
    local r, code, err = tls.python_client("::1", srv.port, {"--ca", pki.ca})
    assert.are.equal(0, code, err)
    assert.are.same({"TLSv1.3", "hello over TLS"}, {r.version, r.received})
    assert.are.equal(14, tls.finish(srv)[1].echoed)
  end)
end)

describe("openssl s_server and s_client", function()
  it("talk to the python3 peers, both ways, verified against the test CA", function()
    local ss = tls.s_server({"-cert", pki.server.cert, "-key", pki.server.key, "-cert_chain", pki.ca,
      "-alpn", "h2", "-naccept", "1", "-rev"})
    local ok, r, code, err = pcall(tls.python_client, "127.0.0.1", ss.port,
      {"--ca", pki.ca, "--server-hostname", "localhost", "--alpn", "h2", "--send", "hello\n"})
    tls.stop(ss)
    assert(ok, r)
    assert.are.equal(0, code, err)
    -- -rev echoes each line reversed.
    assert.are.same({"TLSv1.3", "h2", pki.server.subject, "olleh\n"},
      {r.version, r.alpn, r.peer_subject, r.received})

    local srv = tls.python_server({"--cert", pki.server.chain, "--key", pki.server.key, "--alpn", "h2"})
    local out, serr = tls.s_client("127.0.0.1", srv.port,
      {"-CAfile", pki.ca, "-verify_return_error", "-verify_hostname", "localhost", "-servername", "localhost",
       "-alpn", "h2", "-tls1_2"}, "ping\n")
    local reports = tls.finish(srv)
    assert.matches("Verification: OK", out, nil, true)
    assert.matches("Protocol  : TLSv1.2", out, nil, true)
    assert.matches("ALPN protocol: h2", out, nil, true)
    assert.are.same({"TLSv1.2", "h2", "localhost", "ping\n"},
      {reports[1].version, reports[1].alpn, reports[1].sni, reports[1].received}, serr)
  end)

  it("s_client fails a wrong host with openssl's verify error", function()
    local srv = tls.python_server({"--cert", pki.wrong_host.chain, "--key", pki.wrong_host.key})
    local out, err, code = tls.s_client("127.0.0.1", srv.port,
      {"-CAfile", pki.ca, "-verify_return_error", "-verify_hostname", "localhost"}, "")
    tls.finish(srv)
    assert.are_not.equal(0, code)
    assert.matches("verify error:num=62:hostname mismatch", out .. err, nil, true)
  end)
end)
