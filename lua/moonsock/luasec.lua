-- LuaSec's API on moonsock: install(ssl) puts LuaSec's module-level names
-- (wrap, newcontext, loadcertificate, config) into the table of require
-- "ssl" beside Python's (none collide), so that LuaSec's own ssl/https.lua
-- runs unchanged on it.
--
-- A LuaSec context holds a Python SSLContext; wrap(sock, params) takes the
-- LuaSocket object's Python socket (moonsock.luasocket.to_python) and gives
-- a connection, a LuaSocket object of class "SSL:Connection" whose Python
-- socket becomes an SSLSocket at the first dohandshake (after sni(name)
-- named the server). receive, send, settimeout, getfd, dirty, close are the
-- LuaSocket stream methods over that SSLSocket: every wait parks only the
-- task.
--
-- Unlike LuaSec, a client verifies its peer whatever params.verify says
-- (ssl.https always passes verify = "none"), and checks the certificate
-- against the name sni() gave; params.verifyext = "lsec_continue" lets the
-- handshake go on and getpeerverification() tell (docs/api.md, LuaSec).
local errors = require "moonsock.errors"
local lcore = require "moonsock.luasocket.core"
local stream = require "moonsock.luasocket.stream"
local luasocket = require "moonsock.luasocket"
local core = require "moonsock.core.ssl"

local argerror, typename = errors.argerror, errors.typename
local format = string.format

local M = {}

-- Python's ssl module (the table install is given).
local pyssl

-- ---- x509 certificates ----

local x509_mt = {__name = "X509 certificate"}
local x509 = {}
x509_mt.__index = x509
x509_mt.__tostring = function(c) return format("X509 certificate: %p", c) end
x509_mt.__eq = function(a, b) return a._der == b._der end

local function newx509(der)
  return setmetatable({_der = der, _f = core.luasec_x509(der), _encode = "ai5"}, x509_mt)
end

-- A method's self, or the error luaL_checkudata gives for a bad one.
local function check_self(c, mt, fname)
  if getmetatable(c) ~= mt then
    error(format("calling '%s' on bad self (%s expected, got %s)", fname, mt.__name, typename(c)), 3)
  end
  return c
end

local function check_x509(c, fname) return check_self(c, x509_mt, fname) end

function x509:pem()
  check_x509(self, "pem")
  return pyssl.DER_cert_to_PEM_cert(self._der)
end

-- subject() / issuer(): lists of {oid =, name =, value =}, fresh each call.
local function copy_name(list)
  local out = {}
  for i, e in ipairs(list) do out[i] = {oid = e.oid, name = e.name, value = e.value} end
  return out
end
function x509:subject() return copy_name(check_x509(self, "subject")._f.subject) end
function x509:issuer() return copy_name(check_x509(self, "issuer")._f.issuer) end
function x509:serial() return check_x509(self, "serial")._f.serial end
function x509:notbefore() return check_x509(self, "notbefore")._f.notbefore end
function x509:notafter() return check_x509(self, "notafter")._f.notafter end
function x509:getsignaturename() return check_x509(self, "getsignaturename")._f.signature end

function x509:extensions()
  local ext = check_x509(self, "extensions")._f.extensions
  local out = {}
  for oid, e in pairs(ext) do
    local t = {}
    for k, v in pairs(e) do
      if type(v) == "table" then v = table.move(v, 1, #v, 1, {}) end
      t[k] = v
    end
    out[oid] = t
  end
  return out
end

-- digest([alg]): the hex digest of the DER certificate ("sha1" unless said:
-- "sha256", "sha512", "md5"... whatever OpenSSL names).
function x509:digest(alg)
  check_x509(self, "digest")
  if alg == nil then alg = "sha1" end
  if type(alg) ~= "string" then argerror(1, "digest", "string expected, got " .. typename(alg)) end
  local hex = core.luasec_digest(self._der, alg)
  if not hex then return nil, "digest algorithm not supported (" .. alg .. ")" end
  return hex
end

-- pubkey(): its PEM, its type ("RSA", "EC"...) and its bits.
function x509:pubkey()
  local f = check_x509(self, "pubkey")._f
  return f.pubkey, f.pubkey_type, f.pubkey_bits
end

-- validat(time): whether time (seconds since the epoch) is within the
-- certificate's validity.
function x509:validat(t)
  local f = check_x509(self, "validat")._f
  if type(t) ~= "number" then argerror(1, "validat", "number expected, got " .. typename(t)) end
  local now = os.time()
  return f.notbefore_in ~= nil and now + f.notbefore_in <= t and t <= now + f.notafter_in
end

-- setencode(name): LuaSec's choice between "ai5" and "utf8" for names;
-- moonsock's names are always UTF-8, which is both for ASCII.
function x509:setencode(name)
  check_x509(self, "setencode")
  if name ~= "ai5" and name ~= "utf8" then return false end
  self._encode = name
  return true
end

-- loadcertificate(pem): an x509 object, or nil and a text.
function M.loadcertificate(pem)
  if type(pem) ~= "string" then argerror(1, "loadcertificate", "string expected, got " .. typename(pem)) end
  local ok, der = pcall(pyssl.PEM_cert_to_DER_cert, pem)
  if not ok then return nil end
  local made, cert = pcall(newx509, der)
  if not made then return nil end
  return cert
end

-- ---- contexts ----

local context_mt = {__name = "SSL:Context"}
context_mt.__index = {}
context_mt.__tostring = function(c) return format("SSL context: %p", c) end

local PROTOCOLS = {tlsv1 = "TLSv1", tlsv1_1 = "TLSv1_1", tlsv1_2 = "TLSv1_2", tlsv1_3 = "TLSv1_3"}

-- params.verify's names, in LuaSec's order of use.
local VERIFY = {none = true, peer = true, client_once = true, fail_if_no_peer_cert = true}
local VERIFYEXT = {lsec_continue = true, lsec_ignore_purpose = true, crl_check = true,
                   crl_check_chain = true}

-- A string or a list of strings, as LuaSec's optexec takes them.
local function list_of(v)
  if type(v) == "table" then return v end
  return {v}
end

local function options_of()
  local t = {}
  for k, v in pairs(pyssl) do
    if k:sub(1, 3) == "OP_" then t[k:sub(4):lower()] = v end
  end
  return t
end

-- Runs a Python call: true, or nil and the error's text.
local function call(f, ...)
  local ok, err = pcall(f, ...)
  if ok then return true end
  if type(err) == "table" and err.strerror then return nil, tostring(err.strerror) end
  return nil, tostring(err)
end

local function alpn_list(v)
  if type(v) == "string" then v = {v} end
  if type(v) ~= "table" then return nil, "invalid ALPN parameter" end
  for _, p in ipairs(v) do
    if type(p) ~= "string" then return nil, "invalid ALPN parameter" end
    if #p == 0 then return nil, "invalid ALPN name (empty string)" end
    if #p > 255 then return nil, "invalid ALPN name (length > 255)" end
  end
  if #v == 0 then return nil, "invalid ALPN list (empty)" end
  return v
end

-- A server's params.alpn function, as LuaSec calls it: with the list the
-- client offers, returning a protocol or a list of them in preference order
-- (anything else: no protocol). Wire format both ways for the C core.
local function alpn_callback(choose)
  return function(offer)
    local offered, i = {}, 1
    while i <= #offer do
      local n = offer:byte(i)
      offered[#offered + 1] = offer:sub(i + 1, i + n)
      i = i + 1 + n
    end
    local chosen = choose(offered)
    if type(chosen) == "string" then chosen = {chosen} end
    if type(chosen) ~= "table" or not alpn_list(chosen) then return nil end
    local wire = {}
    for k, p in ipairs(chosen) do wire[k] = string.char(#p) .. p end
    return table.concat(wire)
  end
end

-- A server's connections by their SSLSocket, for the context's SNI
-- callback: it keeps the name the client sent (getsniname) and switches to
-- the context sni(names) gave for it.
local serving = setmetatable({}, {__mode = "k"})
local function on_sni(obj, name)
  local c = serving[obj]
  if not c then return end
  c._sni = name
  local other = c._sni_names and name and c._sni_names[name]
  if other then obj.context = other end
end

-- newcontext(params): a context, or nil and LuaSec's text for what failed.
function M.newcontext(cfg)
  if type(cfg) ~= "table" then argerror(1, "newcontext", "table expected, got " .. typename(cfg)) end
  local protocol = cfg.protocol
  if type(protocol) ~= "string" then
    argerror(1, "newcontext", "field 'protocol': string expected, got " .. typename(protocol))
  end
  if protocol ~= "any" and not PROTOCOLS[protocol] then return nil, format("invalid protocol (%s)", protocol) end
  local mode = cfg.mode
  if mode ~= "client" and mode ~= "server" then return nil, format("invalid mode (%s)", tostring(mode)) end
  local server = mode == "server"
  local py = pyssl.SSLContext(server and pyssl.PROTOCOL_TLS_SERVER or pyssl.PROTOCOL_TLS_CLIENT)
  py.check_hostname = false
  if PROTOCOLS[protocol] then
    local v = pyssl.TLSVersion[PROTOCOLS[protocol]]
    py.minimum_version, py.maximum_version = v, v
  end
  local ctx = setmetatable({_py = py, _mode = mode, _continue = false}, context_mt)
  if server then py.sni_callback = on_sni end

  local certificates = cfg.certificates or {{certificate = cfg.certificate, key = cfg.key,
                                             password = cfg.password}}
  for _, c in ipairs(certificates) do
    if c.password ~= nil and type(c.password) ~= "string" and type(c.password) ~= "function" then
      return nil, "invalid password type"
    end
    if c.certificate or c.key then
      local cert = c.certificate or c.key
      local ok = call(py.load_cert_chain, py, cert, c.key, c.password)
      if not ok then
        local f = io.open(cert, "r")
        if f then f:close() end
        if not c.certificate then return nil, "error loading private key" end
        if not f then return nil, "error loading certificate" end
        return nil, "error loading private key"
      end
    end
  end
  if cfg.cafile or cfg.capath then
    local ok, err = call(py.load_verify_locations, py, cfg.cafile, cfg.capath)
    if not ok then return nil, "error loading CA locations (" .. err .. ")" end
  elseif not server then
    py:load_default_certs()
  end
  if cfg.ciphers then
    local ok = call(py.set_ciphers, py, cfg.ciphers)
    if not ok then return nil, "error setting cipher list" end
  end
  -- TLS 1.3's suites and the verify depth, which Python's SSLContext does
  -- not set; LuaSec takes any value as text for the first (as lua_tostring)
  -- and wants an integer for the second.
  if cfg.ciphersuites then
    local ok, why = py._ctx:set_ciphersuites(tostring(cfg.ciphersuites))
    if not ok then return nil, "error setting cipher list (" .. why .. ")" end
  end
  if cfg.depth then
    -- luaL_checkinteger's rules: a numeric string counts.
    local n = tonumber(cfg.depth)
    if type(cfg.depth) ~= "number" and type(cfg.depth) ~= "string" or n == nil then
      argerror(2, "setdepth", "number expected, got " .. typename(cfg.depth))
    end
    if not math.tointeger(n) then argerror(2, "setdepth", "number has no integer representation") end
    py._ctx:set_verify_depth(math.tointeger(n))
  end
  -- LuaSec calls params.dhparam during a TLS 1.2 DHE handshake for its DH
  -- parameters; moonsock does not (documented).
  if cfg.dhparam ~= nil then
    if type(cfg.dhparam) ~= "function" then return nil, "invalid DH parameter type" end
    return nil, "DH parameters are not supported"
  end

  -- verify: a client always verifies (unless lsec_continue, below); a
  -- server asks for a certificate with "peer" and needs one with
  -- "fail_if_no_peer_cert".
  local want = {}
  for _, v in ipairs(list_of(cfg.verify or {})) do
    if not VERIFY[v] then return nil, format("invalid verify option (%s)", tostring(v)) end
    want[v] = true
  end
  for _, v in ipairs(list_of(cfg.verifyext or {})) do
    if not VERIFYEXT[v] then return nil, format("invalid verify option (%s)", tostring(v)) end
    want[v] = true
  end
  if server then
    py.verify_mode = want.fail_if_no_peer_cert and pyssl.CERT_REQUIRED
      or want.peer and pyssl.CERT_OPTIONAL or pyssl.CERT_NONE
  else
    ctx._continue = want.lsec_continue or false
    py.verify_mode = ctx._continue and pyssl.CERT_NONE or pyssl.CERT_REQUIRED
  end
  if want.crl_check then py.verify_flags = py.verify_flags | pyssl.VERIFY_CRL_CHECK_LEAF end
  if want.crl_check_chain then py.verify_flags = py.verify_flags | pyssl.VERIFY_CRL_CHECK_CHAIN end

  local known = options_of()
  for _, o in ipairs(list_of(cfg.options or {})) do
    local bit = known[o]
    if not bit then return nil, format("invalid option (%s)", tostring(o)) end
    py.options = py.options | bit
  end
  -- LuaSec prefers curveslist (OpenSSL's groups list) to curve.
  if cfg.curveslist then
    local list = tostring(cfg.curveslist)
    if not py._ctx:set_groups_list(list) then return nil, format('unknown elliptic curve in "%s"', list) end
  elseif cfg.curve then
    local ok = call(py.set_ecdh_curve, py, cfg.curve)
    if not ok then return nil, "elliptic curve '" .. tostring(cfg.curve) .. "' not supported" end
  end
  if cfg.dane then
    local no_ee_namechecks = false
    for _, flag in ipairs(type(cfg.dane) == "table" and cfg.dane or {}) do
      if flag ~= "no_ee_namechecks" then argerror(2, "setdane", format("invalid option '%s'", tostring(flag))) end
      no_ee_namechecks = true
    end
    if not py._ctx:dane_enable(no_ee_namechecks) then return nil, "error enabling DANE" end
  end
  if server and type(cfg.alpn) == "function" then
    py._ctx:set_alpn_callback(alpn_callback(cfg.alpn))
  elseif cfg.alpn then
    if type(cfg.alpn) == "function" then return nil, "invalid ALPN parameter" end
    local list, err = alpn_list(cfg.alpn)
    if not list then return nil, err end
    py:set_alpn_protocols(list)
  end
  return ctx
end

-- ---- connections ----

local conn_methods = {}
local conn_mt -- made once conn_methods is complete (below)

local function check_conn(c, fname) return check_self(c, conn_mt, fname) end

-- f(self, ...) for the method `name`, f being LuaSocket's (stream.lua's or
-- the core's): its argument errors are the connection method's, counted
-- without self as LuaSec's C methods count them.
local function forward(self, name, f, ...)
  local r = table.pack(pcall(f, self, ...))
  if not r[1] then errors.reraise_argerror(r[2], name, name, -1) end
  return table.unpack(r, 2, r.n)
end

-- wrap(sock, params or context): the connection, taking sock's fd (sock
-- is left without one, getfd() -1); or nil and a text.
function M.wrap(sock, cfg)
  if not lcore.isobject(sock) then argerror(1, "wrap", "LuaSocket object expected, got " .. typename(sock)) end
  local ctx = cfg
  if type(cfg) == "table" and getmetatable(cfg) ~= context_mt then
    local err
    ctx, err = M.newcontext(cfg)
    if not ctx then return nil, err end
  elseif getmetatable(cfg) ~= context_mt then
    argerror(2, "wrap", "table or SSL:Context expected, got " .. typename(cfg))
  end
  local py, ahead = luasocket.to_python(sock)
  if not py then return nil, ahead end
  local c = lcore.newobject("tcp", py.family, py, conn_mt)
  c._buf, c._ctx, c._state = ahead, ctx, "new"
  return c
end

-- sni(name): the server name to send (and to check the certificate
-- against); on a server, a table of names to contexts (Python's
-- sni_callback picks one).
function conn_methods:sni(name)
  check_conn(self, "sni")
  if type(name) == "table" and self._ctx._mode == "server" then
    local names = {}
    for k, v in pairs(name) do
      if getmetatable(v) ~= context_mt then argerror(1, "sni", "SSL:Context expected, got " .. typename(v)) end
      names[k] = v._py
    end
    self._sni_names = names
    return
  end
  if type(name) ~= "string" then argerror(1, "sni", "string expected, got " .. typename(name)) end
  -- setdane made the connection, with the name sni() had given by then.
  if self._state ~= "new" then error("sni() must come before setdane() and the handshake", 2) end
  self._sni = name
end

-- The Python SSLSocket over the connection's socket, made once.
local function sslsock(c)
  if c._state ~= "new" then return c._py end
  local ctx = c._ctx
  local py = ctx._py
  local server = ctx._mode == "server"
  -- The hostname check is the context's: it is set for this connection
  -- just before wrap_socket, with no wait in between.
  local host = (not server) and c._sni or nil
  if not server then py.check_hostname = host ~= nil and not ctx._continue end
  local ok, s = pcall(py.wrap_socket, py, c._py, {server_side = server,
    do_handshake_on_connect = false, server_hostname = host})
  if not ok then error(s, 0) end
  c._py, c._pytimeout, c._state = s, false, "handshaking"
  if server then serving[s] = c end
  return s
end

-- setdane(basedomain), settlsa(usage, selector, mtype, data): DANE on a
-- connection of a context made with params.dane, true or false as OpenSSL
-- answers. They need the OpenSSL connection, which setdane makes (with the
-- name sni() gave).
function conn_methods:setdane(name)
  check_conn(self, "setdane")
  if type(name) ~= "string" then argerror(1, "setdane", "string expected, got " .. typename(name)) end
  if self._state == "closed" or not self._py then return false end
  return rawget(sslsock(self), "_conn"):dane_enable(name)
end

function conn_methods:settlsa(usage, selector, mtype, data)
  check_conn(self, "settlsa")
  for i, v in ipairs {usage, selector, mtype} do
    if math.type(v) ~= "integer" then
      argerror(i, "settlsa", (type(v) == "number" and "number has no integer representation")
        or "number expected, got " .. typename(v))
    end
  end
  -- luaL_checklstring's rule, as LuaSec's: a number is its text
  if type(data) == "number" then data = tostring(data) end
  if type(data) ~= "string" then argerror(4, "settlsa", "string expected, got " .. typename(data)) end
  if self._state ~= "handshaking" then return false end
  return rawget(self._py, "_conn"):dane_tlsa_add(usage, selector, mtype, data)
end

-- A timeout is LuaSec's "wantread"/"wantwrite"; what the connection waits
-- for is kept for want(), as OpenSSL's SSL_want tells LuaSec.
local WANT = {wantread = "read", wantwrite = "write"}
local function wait_text(c, err, want)
  if err == "timeout" then err = want end
  c._want = WANT[err] or "nothing"
  return err
end

-- dohandshake(): true; or false and "wantread", "wantwrite", "closed" or
-- OpenSSL's reason ("certificate verify failed").
function conn_methods:dohandshake()
  check_conn(self, "dohandshake")
  if self._state == "connected" then return true end
  if self._state == "closed" or not self._py then return false, "closed" end
  sslsock(self)
  lcore.markstart(self)
  local _, err = lcore.io(self, "do_handshake")
  if err then
    err = wait_text(self, err, "wantread")
    if err ~= "wantread" and err ~= "wantwrite" then self._state = "closed" end
    return false, err
  end
  self._state, self._want = "connected", "nothing"
  return true
end

local function connected(c) return c._state == "connected" and c._py ~= nil end

function conn_methods:receive(pattern, prefix)
  check_conn(self, "receive")
  if not connected(self) then return nil, "closed", "" end
  local data, err, partial = stream.methods.receive(self, pattern, prefix)
  return data, wait_text(self, err, "wantread"), partial
end

function conn_methods:send(data, i, j)
  check_conn(self, "send")
  if not connected(self) then return nil, "closed", 0.0 end
  local n, err, last = stream.methods.send(self, data, i, j)
  return n, wait_text(self, err, "wantwrite"), last
end

function conn_methods:settimeout(t, mode)
  check_conn(self, "settimeout")
  return forward(self, "settimeout", stream.methods.settimeout, t, mode)
end

function conn_methods:close()
  check_conn(self, "close")
  self._state = "closed"
  lcore.close(self)
end

function conn_methods:getfd()
  check_conn(self, "getfd")
  return lcore.getfd(self)
end

-- setfd(fd): as LuaSocket's (LuaSec uses it to hand the fd over).
function conn_methods:setfd(fd)
  check_conn(self, "setfd")
  forward(self, "setfd", lcore.setfd, fd)
  self._state = "closed"
end

-- dirty(): bytes read ahead, in moonsock's buffer or in OpenSSL's.
function conn_methods:dirty()
  check_conn(self, "dirty")
  if self._buf ~= "" then return true end
  return connected(self) and self._py:pending() > 0
end

local function peer_chain(c)
  if not connected(c) then return nil end
  return c._py:get_unverified_chain()
end

-- getpeercertificate([n]): the peer's certificate (n = 0) or the n-th of
-- its chain; nil and "closed" before the handshake.
function conn_methods:getpeercertificate(n)
  check_conn(self, "getpeercertificate")
  if n ~= nil and math.type(n) ~= "integer" then
    n = math.tointeger(n) or argerror(1, "getpeercertificate", "number expected, got " .. typename(n))
  end
  local chain = peer_chain(self)
  if not chain then return nil, "closed" end
  local der = chain[(n or 0) + 1]
  if not der then return nil end
  return newx509(der)
end

function conn_methods:getpeerchain()
  check_conn(self, "getpeerchain")
  local chain = peer_chain(self)
  if not chain then return nil, "closed" end
  local out = {}
  for i, der in ipairs(chain) do out[i] = newx509(der) end
  return out
end

-- getpeerverification(): true; or false and the texts of every error the
-- chain's verification saw, by depth; false, "closed" before the handshake.
function conn_methods:getpeerverification()
  check_conn(self, "getpeerverification")
  if not connected(self) then return false, "closed" end
  local code, text = self._py:_verify_result()
  if self._ctx._mode == "server" and #peer_chain(self) == 0 then return false, {"no peer certificate"} end
  if code == 0 then return true end
  -- LuaSec's shape: errs[depth + 1] lists the texts at that depth.
  local errs = {}
  for _, e in ipairs(rawget(self._py, "_conn"):verify_errors()) do
    local at = errs[e[1] + 1] or {}
    errs[e[1] + 1] = at
    at[#at + 1] = e[2]
  end
  if next(errs) == nil then errs[1] = {text} end
  return false, errs
end

function conn_methods:getalpn()
  check_conn(self, "getalpn")
  if not connected(self) then return nil, "closed" end
  return (self._py:selected_alpn_protocol())
end

function conn_methods:getsniname()
  check_conn(self, "getsniname")
  if not connected(self) then return nil end
  return self._sni
end

-- info([field]): the cipher and protocol the connection agreed on.
function conn_methods:info(field)
  check_conn(self, "info")
  if not connected(self) then return nil end
  local cipher, _, bits = self._py:cipher()
  if not cipher then return nil end
  local info = {cipher = cipher, protocol = self._py:version(), bits = bits,
                algbits = bits, compression = "none"}
  if field ~= nil then return info[field] end
  return info
end

-- getfinished(), getpeerfinished(): the latest Finished message this side
-- sent / received (OpenSSL's SSL_get_finished / SSL_get_peer_finished).
-- Before the handshake LuaSec 1.2 answers nil, "closed" for the first and
-- nothing at all for the second.
local function finished(self, fname, peer)
  check_conn(self, fname)
  local c = connected(self) and rawget(self._py, "_conn")
  if c then return c:finished(peer) end
  if not peer then return nil, "closed" end
end
function conn_methods:getfinished() return finished(self, "getfinished", false) end
function conn_methods:getpeerfinished() return finished(self, "getpeerfinished", true) end

-- LuaSocket's socket methods a LuaSec connection forwards (https.lua's
-- reg() copies every method of the connection's class).
for _, name in ipairs {"getpeername", "getsockname", "getstats", "setstats", "setoption",
                       "getoption", "shutdown"} do
  conn_methods[name] = function(self, ...)
    check_conn(self, name)
    return forward(self, name, stream.methods[name], ...)
  end
end
-- want(): what the last call that ran out of time waited for ("read",
-- "write"), or "nothing".
function conn_methods:want()
  check_conn(self, "want")
  return self._want or "nothing"
end

-- An SSL:Connection is also a tcp{client} to the LuaSocket methods it
-- borrows, and selectable.
conn_mt = lcore.newclass("SSL:Connection", conn_methods,
  {"SSL:Connection", "tcp{any}", "tcp{client}", "select{able}"})
conn_mt.__tostring = function(c) return "SSL connection: " .. c._id end
conn_mt.__gc = lcore.close

-- ---- the module ----

-- LuaSec's ssl.config: what this OpenSSL offers.
local function config()
  local options = {}
  for name in pairs(options_of()) do options[name] = true end
  return {
    protocols = {tlsv1 = true, tlsv1_1 = true, tlsv1_2 = true, tlsv1_3 = true},
    options = options,
    algorithms = {ec = true},
    capabilities = {alpn = true, curves_list = false, ecdh_auto = true},
  }
end

function M.install(ssl)
  pyssl = ssl
  M.config = config()
  ssl.wrap, ssl.newcontext, ssl.loadcertificate = M.wrap, M.newcontext, M.loadcertificate
  ssl.config = M.config
  ssl._VERSION = "1.2.0"
  ssl._COPYRIGHT = "LuaSec 1.2.0 API on moonsock"
  return ssl
end

M.x509_mt, M.context_mt, M.conn_mt = x509_mt, context_mt, conn_mt
return M
