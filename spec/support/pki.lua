-- A test PKI for the TLS specs, made with the openssl command line into a
-- temp dir once per process (the first call; later calls return the same
-- table) and removed when the Lua state closes.
--
--   local pki = require("spec.support.pki")()
--   pki.ca                   the test CA's certificate (PEM): the one to trust
--                            (pki.ca_key its key, pki.ca_subject its subject)
--   pki.server               {cert =, key =, chain =}: ECDSA P-256, for
--                            localhost, 127.0.0.1 and ::1 (chain = cert + CA)
--   pki.server_rsa           the same names with an RSA 2048 key
--   pki.server_encrypted     pki.server's cert with its key encrypted by
--                            pki.PASSWORD (load_cert_chain's password)
--   pki.sni                  a second server name, pki.SNI_NAME, for SNI
--   pki.client               a client certificate (mutual TLS)
--   pki.wrong_host           signed by the CA, for pki.WRONG_HOST only
--   pki.expired              for localhost, expired
--   pki.unknown_ca           for localhost, signed by another CA, whose
--                            certificate is pki.unknown_ca.ca (not trusted)
--   pki.cn_only              for localhost by its common name alone (no
--                            subjectAltName)
-- Every entry also has `subject`, the subject openssl prints (RFC 2253 form),
-- and `dir` is the temp dir.
local h = require "spec.support.helpers"

local SUBJECT_PREFIX = "/C=XX/O=moonsock tests"
local SNI_NAME = "other.localhost"
local WRONG_HOST = "wrong.example.org"
local PASSWORD = "moonsock-secret"

-- openssl needs an extension section per kind of certificate: a CA, a server
-- for some names, a client.
local function extensions(kind, names)
  -- The [req] sections let `openssl req -x509` read this file as its config.
  local lines = {"[req]", "distinguished_name = dn", "[dn]",
                 "[ext]", "subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid:always"}
  if kind == "ca" then
    lines[#lines + 1] = "basicConstraints = critical, CA:TRUE"
    lines[#lines + 1] = "keyUsage = critical, keyCertSign, cRLSign"
  else
    lines[#lines + 1] = "basicConstraints = critical, CA:FALSE"
    lines[#lines + 1] = "keyUsage = critical, digitalSignature, keyEncipherment"
    lines[#lines + 1] = "extendedKeyUsage = " .. (kind == "client" and "clientAuth" or "serverAuth")
    -- Where a server's certificate says its issuer, OCSP responder and CRL
    -- live: getpeercert() decodes them (caIssuers, OCSP, crlDistributionPoints).
    if kind == "server" then
      lines[#lines + 1] = "authorityInfoAccess = OCSP;URI:http://ocsp.example/, caIssuers;URI:http://ca.example/ca.pem"
      lines[#lines + 1] = "crlDistributionPoints = URI:http://crl.example/ca.crl"
    end
  end
  if names then
    local alts = {}
    for _, n in ipairs(names) do
      alts[#alts + 1] = (n:match("^[%d.]+$") or n:find(":")) and "IP:" .. n or "DNS:" .. n
    end
    lines[#lines + 1] = "subjectAltName = " .. table.concat(alts, ", ")
  end
  return table.concat(lines, "\n") .. "\n"
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function newkey(algo)
  return algo == "rsa" and "-newkey rsa:2048" or "-newkey ec -pkeyopt ec_paramgen_curve:P-256"
end

-- The shell commands that make one certificate `name` in dir: its key, and
-- the certificate signed by `issuer` (a name made before; none: self-signed).
local function certificate(dir, name, spec)
  write(dir .. "/" .. name .. ".ext", extensions(spec.kind, spec.names))
  local q = h.shell_quote
  local base = q(dir .. "/" .. name)
  local subj = q(SUBJECT_PREFIX .. "/CN=" .. spec.cn)
  local ext = q(dir .. "/" .. name .. ".ext")
  local days = spec.days or 3650
  if not spec.issuer then
    return string.format("openssl req -x509 -new %s -nodes -keyout %s.key -out %s.pem -subj %s -days %d"
      .. " -config %s -extensions ext", newkey(spec.algo), base, base, subj, days, ext)
  end
  local issuer = q(dir .. "/" .. spec.issuer)
  return table.concat({
    string.format("openssl req -new %s -nodes -keyout %s.key -out %s.csr -subj %s",
      newkey(spec.algo), base, base, subj),
    -- -days -1 gives a certificate whose notAfter has passed: "certificate
    -- has expired" (notBefore is now, so it is not "not yet valid").
    string.format("openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -set_serial %d -days %d"
      .. " -extfile %s -extensions ext -out %s.pem", base, issuer, issuer, spec.serial, days, ext, base),
    string.format("cat %s.pem %s.pem > %s.chain.pem", base, issuer, base),
  }, " && ")
end

-- In the order they are made: issuers first.
local LOCALHOST = {"localhost", "127.0.0.1", "::1"}
local CERTS = {
  {"ca", {kind = "ca", cn = "moonsock test CA"}},
  {"unknown_ca_root", {kind = "ca", cn = "moonsock unknown CA"}},
  {"server", {kind = "server", cn = "localhost", names = LOCALHOST, issuer = "ca", serial = 2}},
  {"server_rsa", {kind = "server", cn = "localhost", names = LOCALHOST, issuer = "ca", serial = 3,
                  algo = "rsa"}},
  {"sni", {kind = "server", cn = SNI_NAME, names = {SNI_NAME}, issuer = "ca", serial = 4}},
  {"client", {kind = "client", cn = "moonsock client", issuer = "ca", serial = 5}},
  {"wrong_host", {kind = "server", cn = WRONG_HOST, names = {WRONG_HOST}, issuer = "ca", serial = 6}},
  {"expired", {kind = "server", cn = "localhost", names = LOCALHOST, issuer = "ca", serial = 7, days = -1}},
  {"unknown_ca", {kind = "server", cn = "localhost", names = LOCALHOST, issuer = "unknown_ca_root",
                  serial = 8}},
  {"cn_only", {kind = "server", cn = "localhost", issuer = "ca", serial = 9}},
}

local function subject_of(path)
  local out, err, code = h.run("openssl x509 -noout -subject -nameopt RFC2253 -in " .. h.shell_quote(path))
  assert(code == 0, err)
  return (out:match("^subject=(.-)%s*$"))
end

local function make()
  local dir = h.tempdir()
  local cmds = {}
  for _, c in ipairs(CERTS) do cmds[#cmds + 1] = certificate(dir, c[1], c[2]) end
  local q = h.shell_quote
  cmds[#cmds + 1] = string.format("openssl pkey -in %s -aes256 -passout pass:%s -out %s",
    q(dir .. "/server.key"), PASSWORD, q(dir .. "/server_encrypted.key"))
  local log = dir .. "/openssl.log"
  local ok = os.execute("( " .. table.concat(cmds, " && ") .. " ) > " .. q(log) .. " 2>&1")
  if not ok then error("making the test PKI failed:\n" .. (h.read_file(log) or "")) end
  local pki = {dir = dir, SNI_NAME = SNI_NAME, WRONG_HOST = WRONG_HOST, PASSWORD = PASSWORD}
  for _, c in ipairs(CERTS) do
    local base = dir .. "/" .. c[1]
    pki[c[1]] = {cert = base .. ".pem", key = base .. ".key", chain = base .. ".chain.pem",
                 subject = subject_of(base .. ".pem")}
  end
  pki.ca_subject, pki.ca_key, pki.ca = pki.ca.subject, pki.ca.key, pki.ca.cert
  pki.unknown_ca.ca = pki.unknown_ca_root.cert
  pki.unknown_ca_root = nil
  pki.server_encrypted = {cert = pki.server.cert, key = dir .. "/server_encrypted.key",
                          chain = pki.server.chain, subject = pki.server.subject}
  -- Removed with the Lua state (a table's __gc runs when the state closes).
  setmetatable(pki, {__gc = function() os.execute("rm -rf " .. q(dir)) end})
  return pki
end

local cached
return function()
  cached = cached or make()
  return cached
end
