-- ssl's file-name arguments (load_cert_chain's certfile and keyfile,
-- load_verify_locations' cafile and capath, keylog_filename) and
-- set_ciphers' list went to C with a NUL inside: OpenSSL read the name or
-- the list only up to it, so "cert.pem\0x" loaded cert.pem (and a missing
-- prefix said FileNotFoundError). Python refuses them with ValueError;
-- found by the argument sweep once SSLContext's methods had headings.
local ssl = require "ssl"
local errors = require "moonsock.errors"
local h = require "spec.support.helpers"

describe("ssl names with a NUL", function()
  it("raise ValueError with Python's text, and load nothing", function()
    local dir = h.tempdir()
    local real = dir .. "/file"
    local f = assert(io.open(real, "w"))
    f:write("not a certificate\n")
    f:close()
    local want = {}
    for line in h.python(([[
import ssl
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
for f in (lambda: c.load_cert_chain(%q), lambda: c.load_cert_chain(%q, %q),
          lambda: c.load_verify_locations(%q), lambda: c.load_verify_locations(None, %q),
          lambda: setattr(c, 'keylog_filename', %q), lambda: c.set_ciphers('DEFAULT\0x')):
    try:
        f()
        print('ok')
    except Exception as e:
        print(type(e).__name__ + ': ' + str(e))
]]):format(real .. "\0x", real, real .. "\0x", real .. "\0x", dir .. "\0x", dir .. "/log\0x")):gmatch("[^\n]+") do
      want[#want + 1] = line
    end
    local c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    local got = {}
    for _, fn in ipairs {
      function() c:load_cert_chain(real .. "\0x") end,
      function() c:load_cert_chain(real, real .. "\0x") end,
      function() c:load_verify_locations(real .. "\0x") end,
      function() c:load_verify_locations(nil, dir .. "\0x") end,
      function() c.keylog_filename = dir .. "/log\0x" end,
      function() c:set_ciphers("DEFAULT\0x") end,
    } do
      local ok, err = pcall(fn)
      got[#got + 1] = ok and "ok" or (errors.ValueError:matches(err) and "ValueError: " .. tostring(err.args[1])
        or tostring(err))
    end
    assert.are.same(want, got)
    assert.is_nil(c.keylog_filename)
    assert.is_nil(io.open(dir .. "/log", "r"))
    os.execute("rm -rf " .. h.shell_quote(dir))
  end)
end)
