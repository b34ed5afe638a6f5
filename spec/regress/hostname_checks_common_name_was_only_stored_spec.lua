-- ctx.hostname_checks_common_name = false was only stored: OpenSSL's host
-- check still accepted a certificate that names the host by its common
-- name alone (no subjectAltName), where Python sets
-- X509_CHECK_FLAG_NEVER_CHECK_SUBJECT and refuses it. Found while giving
-- the attribute its own heading in docs/api.md.
local ssl = require "ssl"
local socket = require "socket"
local h = require "spec.support.helpers"
local tls = require "spec.support.tls"
local pki = require("spec.support.pki")()

describe("hostname_checks_common_name", function()
  local srv
  after_each(function() if srv then tls.stop(srv) end end)

  it("decides, as in Python, whether a common name alone matches", function()
    srv = tls.s_server({"-cert", pki.cn_only.cert, "-key", pki.cn_only.key, "-naccept", "4", "-rev"})
    local want = {}
    for line in h.python(([[
import socket, ssl
for flag in (True, False):
    ctx = ssl.create_default_context(cafile=%q)
    ctx.hostname_checks_common_name = flag
    print(ctx.hostname_checks_common_name)
    try:
        with socket.create_connection(('127.0.0.1', %d), 10) as s:
            with ctx.wrap_socket(s, server_hostname='localhost'):
                print('ok')
    except ssl.SSLCertVerificationError as e:
        print(e.verify_message)
]]):format(pki.ca, srv.port)):gmatch("[^\n]+") do
      want[#want + 1] = line
    end
    local got = {}
    for _, flag in ipairs {true, false} do
      local ctx = ssl.create_default_context(nil, {cafile = pki.ca})
      ctx.hostname_checks_common_name = flag
      got[#got + 1] = ctx.hostname_checks_common_name and "True" or "False"
      local s = socket.create_connection({"127.0.0.1", srv.port}, 10)
      local ok, err = pcall(ctx.wrap_socket, ctx, s, {server_hostname = "localhost"})
      if ok then
        got[#got + 1] = "ok"
        err:close()
      else
        s:close()
        got[#got + 1] = tostring(err.verify_message)
      end
    end
    assert.are.same({"True", "ok", "False"}, {want[1], want[2], want[3]})
    assert.are.same(want, got)
  end)
end)
