-- Python's ssl module over OpenSSL. The C core (moonsock.core.ssl) holds the
-- SSL_CTX and SSL objects and does the cooperative handshakes, reads and
-- writes (a WANT_READ / WANT_WRITE parks only the calling task); this file
-- gives them Python's classes: SSLContext, SSLSocket, SSLObject, MemoryBIO,
-- the exceptions with Python's texts, and the module's functions. One
-- module, as Python's ssl.py is: its classes refer to each other throughout.
--
-- Keyword arguments go in a trailing options table; attributes are fields
-- (read through __index, written through __newindex); tuples are multiple
-- return values.
local core = require "moonsock.core.ssl"
local socket = require "socket"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"
local makefile = require "moonsock.makefile"
local property_index = require("moonsock.class").property_index
require "binascii" -- defines binascii.Error, which PEM_cert_to_DER_cert raises

local argerror, typename = errors.argerror, errors.typename
local format = string.format

local ssl = {}

---------------------------------------------------------------------------
-- Constants

for k, v in pairs(core) do
  if type(v) ~= "function" then ssl[k] = v end
end
local V = core.OPENSSL_VERSION_NUMBER
-- Python's (major, minor, fix, patch, status) from the version number.
ssl.OPENSSL_VERSION_INFO = repr.tuple(V >> 28, (V >> 20) & 0xff, (V >> 12) & 0xff, (V >> 4) & 0xff, V & 0xf)
for k in pairs {SSL3_VERSION = 1, TLS1_VERSION = 1, TLS1_1_VERSION = 1, TLS1_2_VERSION = 1, TLS1_3_VERSION = 1} do
  ssl[k] = nil
end

ssl.PROTOCOL_TLS = 2
ssl.PROTOCOL_SSLv23 = 2
ssl.PROTOCOL_TLS_CLIENT = 16
ssl.PROTOCOL_TLS_SERVER = 17
ssl.CERT_NONE, ssl.CERT_OPTIONAL, ssl.CERT_REQUIRED = 0, 1, 2
ssl.TLSVersion = {MINIMUM_SUPPORTED = -2, SSLv3 = core.SSL3_VERSION, TLSv1 = core.TLS1_VERSION,
                  TLSv1_1 = core.TLS1_1_VERSION, TLSv1_2 = core.TLS1_2_VERSION,
                  TLSv1_3 = core.TLS1_3_VERSION, MAXIMUM_SUPPORTED = -1}
ssl.HAS_SNI, ssl.HAS_ALPN, ssl.HAS_ECDH, ssl.HAS_NPN = true, true, true, false
ssl.HAS_NEVER_CHECK_COMMON_NAME = true
ssl.HAS_SSLv2, ssl.HAS_SSLv3 = false, false
ssl.HAS_TLSv1, ssl.HAS_TLSv1_1, ssl.HAS_TLSv1_2, ssl.HAS_TLSv1_3 = true, true, true, true
ssl.CHANNEL_BINDING_TYPES = repr.list {"tls-unique"}
ssl.PEM_HEADER = "-----BEGIN CERTIFICATE-----"
ssl.PEM_FOOTER = "-----END CERTIFICATE-----"
ssl.SSL_ERROR_SSL, ssl.SSL_ERROR_WANT_READ, ssl.SSL_ERROR_WANT_WRITE = 1, 2, 3
ssl.SSL_ERROR_WANT_X509_LOOKUP, ssl.SSL_ERROR_SYSCALL, ssl.SSL_ERROR_ZERO_RETURN = 4, 5, 6
ssl.SSL_ERROR_WANT_CONNECT, ssl.SSL_ERROR_EOF, ssl.SSL_ERROR_INVALID_ERROR_CODE = 7, 8, 10

-- Purpose.SERVER_AUTH / CLIENT_AUTH: Python's _ASN1Object(nid, shortname,
-- longname, oid), as a table with those fields.
local purpose_mt = {__tostring = function(p) return "Purpose." .. p._name end, __name = "Purpose"}
ssl.Purpose = {
  SERVER_AUTH = setmetatable({_name = "SERVER_AUTH", nid = 129, shortname = "serverAuth",
    longname = "TLS Web Server Authentication", oid = "1.3.6.1.5.5.7.3.1"}, purpose_mt),
  CLIENT_AUTH = setmetatable({_name = "CLIENT_AUTH", nid = 130, shortname = "clientAuth",
    longname = "TLS Web Client Authentication", oid = "1.3.6.1.5.5.7.3.2"}, purpose_mt),
}

---------------------------------------------------------------------------
-- Exceptions: an SSLError is an OSError whose errno is Python's SSL error
-- number and whose str() is its strerror, "[SSL: REASON] text (_ssl.c:N)".

local function define(name, base) return errors[name] or errors.define(name, base) end
local SSLError = define("SSLError", errors.OSError)
local classes = {
  [1] = SSLError,
  [2] = define("SSLWantReadError", SSLError),
  [3] = define("SSLWantWriteError", SSLError),
  [5] = define("SSLSyscallError", SSLError),
  [6] = define("SSLZeroReturnError", SSLError),
  [8] = define("SSLEOFError", SSLError),
}
local SSLCertVerificationError = define("SSLCertVerificationError", SSLError)
local function ssl_tostring(e)
  if e.strerror ~= nil then return tostring(e.strerror) end
  return tostring(e.args[1] or "")
end
for _, cls in pairs(classes) do cls.__tostring = ssl_tostring end
SSLCertVerificationError.__tostring = ssl_tostring
ssl.SSLError = SSLError
ssl.SSLWantReadError, ssl.SSLWantWriteError = classes[2], classes[3]
ssl.SSLSyscallError, ssl.SSLZeroReturnError, ssl.SSLEOFError = classes[5], classes[6], classes[8]
ssl.SSLCertVerificationError = SSLCertVerificationError
ssl.CertificateError = SSLCertVerificationError
ssl.socket_error = errors.OSError

-- The line of CPython 3.11's _ssl.c that raises for each operation: Python
-- prints it in every SSL error's text, and programs match on the text.
local SSL_C_LINE = {handshake = 1006, read = 2580, write = 2427, shutdown = 2706}

-- X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH.
local HOSTNAME_MISMATCH, IP_MISMATCH = 62, 64

core.set_error_factory(function(number, lib, reason, text, vcode, vmsg, op, owner)
  if number == 0 then return SSLError(text) end
  local where = SSL_C_LINE[op]
  local suffix = where and format(" (_ssl.c:%d)", where) or ""
  if vcode and owner then
    local host = rawget(owner, "_server_hostname")
    if vcode == HOSTNAME_MISMATCH and host then
      vmsg = format("Hostname mismatch, certificate is not valid for '%s'.", host)
    elseif vcode == IP_MISMATCH and host then
      vmsg = format("IP address mismatch, certificate is not valid for '%s'.", host)
    end
  end
  local msg
  if vcode then
    msg = format("[%s: %s] %s: %s%s", lib, reason, text, vmsg, suffix)
  elseif lib and reason then
    msg = format("[%s: %s] %s%s", lib, reason, text, suffix)
  elseif reason then
    msg = format("[%s] %s%s", reason, text, suffix)
  else
    msg = text .. suffix
  end
  local cls = vcode and SSLCertVerificationError or classes[number] or SSLError
  local e = cls(number, msg)
  e.library, e.reason = lib, reason
  if vcode then e.verify_code, e.verify_message = vcode, vmsg end
  return e
end)

local function raise(cls, msg) error(cls(msg), 3) end
local ValueError = errors.ValueError

---------------------------------------------------------------------------
-- Checking arguments

local function check_type(v, want, n, fname, optional)
  if v == nil and optional then return v end
  if type(v) ~= want then argerror(n, fname, want .. " expected, got " .. typename(v)) end
  return v
end

-- A file name: C's open would stop at a NUL and open another file, so
-- one raises Python's ValueError instead.
local function check_path(v, n, fname, optional)
  check_type(v, "string", n, fname, optional)
  if v ~= nil and v:find("\0", 1, true) then error(errors.ValueError("embedded null byte"), 3) end
  return v
end

local function check_int(v, n, fname)
  if math.type(v) ~= "integer" then
    argerror(n, fname, type(v) == "number" and "number has no integer representation"
      or "integer expected, got " .. typename(v))
  end
  return v
end

-- The range of a C int, beyond which Python raises OverflowError (an
-- argument error here, as in the other modules).
local INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1

local function check_opts(opts, n, fname, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then argerror(n, fname, "table expected, got " .. typename(opts)) end
  for k, v in pairs(opts) do
    local want = known[k]
    if not want then argerror(n, fname, "unknown option '" .. tostring(k) .. "'") end
    if want ~= "any" and type(v) ~= want then
      argerror(n, fname, format("option '%s': %s expected, got %s", k, want, typename(v)))
    end
  end
  return opts
end

---------------------------------------------------------------------------
-- SSLContext

-- self_checker(name, mt[, other_mt]) -> check(o, fname): the first call of
-- every method, refusing an o of another metatable in Lua's words for a
-- wrong self, blamed on the method's caller.
local function self_checker(name, mt, other_mt)
  return function(o, fname)
    local m = getmetatable(o)
    if m ~= mt and (other_mt == nil or m ~= other_mt) then
      error(format("calling '%s' on bad self (%s expected, got %s)", fname, name, typename(o)), 3)
    end
    return o
  end
end

local SSLContext = {}
local context_mt = {__name = "SSLContext"}
local check_context = self_checker("SSLContext", context_mt)

-- The attributes read and written through the core's get/set.
local core_attrs = {verify_flags = true, options = true, minimum_version = true,
                    maximum_version = true, num_tickets = true}
local readonly = {protocol = true, security_level = true}

local getters = {}
function getters.verify_mode(c) return c._ctx:get("verify_mode") end
function getters.check_hostname(c) return c._check_hostname end
function getters.protocol(c) return c._ctx:get("protocol") end
function getters.security_level(c) return c._ctx:get("security_level") end
function getters.sni_callback(c) return c._sni_callback end
function getters.keylog_filename(c) return c._keylog_filename end
function getters.post_handshake_auth(c) return c._post_handshake_auth end
function getters.hostname_checks_common_name(c) return c._ctx:get("hostname_checks_common_name") == 1 end
for k in pairs(core_attrs) do getters[k] = function(c) return c._ctx:get(k) end end

local setters = {}
function setters.verify_mode(c, v)
  check_int(v, 1, "verify_mode")
  if v < 0 or v > 2 then raise(ValueError, "invalid value for verify_mode") end
  if v == 0 and c._check_hostname then
    raise(ValueError, "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.")
  end
  c._ctx:set("verify_mode", v)
end
function setters.check_hostname(c, v)
  v = not not v
  -- Python: turning hostname checks on turns CERT_NONE into CERT_REQUIRED.
  if v and c._ctx:get("verify_mode") == 0 then c._ctx:set("verify_mode", 2) end
  rawset(c, "_check_hostname", v)
end
function setters.sni_callback(c, fn)
  if fn ~= nil and type(fn) ~= "function" then
    error(errors.TypeError("not a callable object"), 3)
  end
  if c._ctx:get("protocol") == 16 then
    raise(ValueError, "sni_callback cannot be set on TLS_CLIENT context")
  end
  rawset(c, "_sni_callback", fn)
  if fn == nil then
    c._ctx:set_servername_callback(nil)
    return
  end
  -- Called by the core during the handshake, under pcall, with the SSLSocket
  -- or SSLObject; Python prints an exception and sends handshake_failure.
  c._ctx:set_servername_callback(function(owner, name)
    local ok, alert = pcall(fn, owner, name, c)
    if not ok then
      io.stderr:write("Exception ignored in: sni_callback: ", errors.describe(alert), "\n")
      return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
    end
    if alert ~= nil and math.type(alert) ~= "integer" then
      io.stderr:write("Exception ignored in: sni_callback: TypeError: invalid return value\n")
      return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
    end
    return alert
  end)
end
function setters.keylog_filename(c, path)
  if path ~= nil then check_path(path, 1, "keylog_filename") end
  c._ctx:set_keylog(path)
  rawset(c, "_keylog_filename", path)
end
function setters.post_handshake_auth(c, v)
  c._ctx:set("post_handshake_auth", v and 1 or 0)
  rawset(c, "_post_handshake_auth", not not v)
end
function setters.hostname_checks_common_name(c, v) c._ctx:set("hostname_checks_common_name", v and 1 or 0) end
for k in pairs(core_attrs) do
  setters[k] = function(c, v) c._ctx:set(k, check_int(v, 1, k)) end
end

context_mt.__index = property_index(SSLContext, getters)
context_mt.__newindex = function(c, k, v)
  if readonly[k] then error(errors.AttributeError and errors.AttributeError("readonly attribute")
    or "attribute '" .. k .. "' of 'SSLContext' objects is not writable", 2) end
  local s = setters[k]
  if s then return s(c, v) end
  rawset(c, k, v)
end
context_mt.__tostring = function(c) return format("<ssl.SSLContext object at %p>", c) end

-- SSLContext([protocol]): Python's default protocol is PROTOCOL_TLS, with a
-- deprecation warning; moonsock takes it silently.
local function new_context(protocol)
  if protocol == nil then protocol = ssl.PROTOCOL_TLS end
  check_int(protocol, 1, "SSLContext")
  if protocol < INT_MIN or protocol > INT_MAX then
    argerror(1, "SSLContext", "Python int too large to convert to C int")
  end
  local c = setmetatable({_ctx = core.context(protocol), _check_hostname = protocol == 16,
    _post_handshake_auth = false}, context_mt)
  return c
end
ssl.SSLContext = setmetatable({}, {
  __call = function(_, protocol) return new_context(protocol) end,
  __index = SSLContext,
  __tostring = function() return "<class 'ssl.SSLContext'>" end,
})

function SSLContext:load_cert_chain(certfile, keyfile, password)
  check_context(self, "load_cert_chain")
  check_path(certfile, 1, "load_cert_chain")
  check_path(keyfile, 2, "load_cert_chain", true)
  if type(password) == "function" then
    password = password()
    if type(password) ~= "string" then
      error(errors.TypeError("password callback must return a string"), 2)
    end
  elseif password ~= nil and type(password) ~= "string" then
    argerror(3, "load_cert_chain", "string or function expected, got " .. typename(password))
  end
  self._ctx:load_cert_chain(certfile, keyfile, password)
end

function SSLContext:load_verify_locations(cafile, capath, cadata)
  check_context(self, "load_verify_locations")
  check_path(cafile, 1, "load_verify_locations", true)
  check_path(capath, 2, "load_verify_locations", true)
  check_type(cadata, "string", 3, "load_verify_locations", true)
  if cafile == nil and capath == nil and cadata == nil then
    error(errors.TypeError("cafile, capath and cadata cannot be all omitted"), 2)
  end
  -- Python takes PEM text as str and DER as bytes; Lua strings are both:
  -- text that holds a PEM header is PEM.
  local der = cadata ~= nil and not cadata:find("-----BEGIN", 1, true)
  self._ctx:load_verify_locations(cafile, capath, cadata, der)
end

function SSLContext:set_default_verify_paths()
  check_context(self, "set_default_verify_paths")
  self._ctx:set_default_verify_paths()
end

function SSLContext:load_default_certs(purpose)
  check_context(self, "load_default_certs")
  if purpose ~= nil and getmetatable(purpose) ~= purpose_mt then
    argerror(1, "load_default_certs", "Purpose expected, got " .. typename(purpose))
  end
  self._ctx:set_default_verify_paths()
end

function SSLContext:set_ciphers(list)
  check_context(self, "set_ciphers")
  check_type(list, "string", 1, "set_ciphers")
  -- OpenSSL would read the list only up to a NUL.
  if list:find("\0", 1, true) then error(ValueError("embedded null character"), 2) end
  self._ctx:set_ciphers(list)
end

function SSLContext:get_ciphers()
  check_context(self, "get_ciphers")
  local list = self._ctx:get_ciphers()
  for _, c in ipairs(list) do
    for k, v in pairs(c) do
      if v == false and k ~= "aead" then c[k] = nil end
    end
  end
  return list
end

function SSLContext:set_alpn_protocols(protocols)
  check_context(self, "set_alpn_protocols")
  check_type(protocols, "table", 1, "set_alpn_protocols")
  local wire = {}
  for i, p in ipairs(protocols) do
    if type(p) ~= "string" then
      argerror(1, "set_alpn_protocols", format("string expected at index %d, got %s", i, typename(p)))
    end
    if #p == 0 or #p > 255 then
      error(errors.ValueError("ALPN protocols must be 1 to 255 in length"), 2)
    end
    wire[#wire + 1] = string.char(#p) .. p
  end
  self._ctx:set_alpn(table.concat(wire))
end

function SSLContext:set_ecdh_curve(name)
  check_context(self, "set_ecdh_curve")
  self._ctx:set_ecdh_curve(check_type(name, "string", 1, "set_ecdh_curve"))
end

function SSLContext:cert_store_stats()
  check_context(self, "cert_store_stats")
  return self._ctx:cert_store_stats()
end

function SSLContext:get_ca_certs(binary_form)
  check_context(self, "get_ca_certs")
  return self._ctx:get_ca_certs(binary_form)
end

function SSLContext:session_stats()
  check_context(self, "session_stats")
  return self._ctx:session_stats()
end

function SSLContext:set_servername_callback(fn)
  check_context(self, "set_servername_callback")
  if fn == nil then
    self.sni_callback = nil
    return
  end
  check_type(fn, "function", 1, "set_servername_callback")
  -- Python's older form: fn(sslsock, name, ctx).
  self.sni_callback = fn
end

---------------------------------------------------------------------------
-- MemoryBIO

ssl.MemoryBIO = core.MemoryBIO
do
  local probe = core.MemoryBIO()
  local mt = getmetatable(probe)
  probe:close()
  local methods = mt.__index
  local c_read, c_write, c_pending, c_eof = methods.read, methods.write, methods.pending, methods.eof
  methods.pending, methods.eof = nil, nil
  -- The C methods' own check of self would name c_read: the caller's bad
  -- self is reported as the other classes' are.
  local function check_bio(b, fname)
    if getmetatable(b) ~= mt then
      error(format("calling '%s' on bad self (MemoryBIO expected, got %s)", fname, typename(b)), 3)
    end
  end
  function methods:read(n)
    check_bio(self, "read")
    if n ~= nil then
      check_int(n, 1, "read")
      if n < INT_MIN or n > INT_MAX then argerror(1, "read", "Python int too large to convert to C int") end
    end
    return c_read(self, n)
  end
  function methods:write(data)
    check_bio(self, "write")
    if type(data) ~= "string" then argerror(1, "write", "string expected, got " .. typename(data)) end
    return c_write(self, data)
  end
  mt.__index = function(b, k)
    if k == "pending" then return c_pending(b) end
    if k == "eof" then return c_eof(b) end
    return methods[k]
  end
  mt.__tostring = function(b) return format("<ssl.MemoryBIO object at %p>", b) end
end

---------------------------------------------------------------------------
-- SSLSocket and SSLObject share the methods that only talk to the SSL.

local SSLSocket, SSLObject = {}, {}
local sslsocket_mt = {__name = "SSLSocket"}
local sslobject_mt = {__name = "SSLObject"}

local check_sslsock = self_checker("SSLSocket", sslsocket_mt)
local check_sslobj = self_checker("SSLSocket", sslsocket_mt, sslobject_mt)

-- The SSL of s, or ValueError before the handshake can start (Python's
-- _check_connected and "unconnected" checks).
local function conn_of(s)
  local c = rawget(s, "_conn")
  if not c then error(ValueError("Underlying socket connection gone"), 3) end
  return c
end

local common = {}

function common:getpeercert(binary_form)
  check_sslobj(self, "getpeercert")
  -- Python's SSLSocket asks getpeername first (_check_connected): ENOTCONN
  -- before the connection, EBADF once closed.
  if getmetatable(self) == sslsocket_mt and not rawget(self, "_conn") then rawget(self, "_sock"):getpeername() end
  local c = conn_of(self)
  if not c:handshake_done() then error(ValueError("handshake not done yet"), 2) end
  local cert, verified = c:peer_cert(binary_form)
  if cert == nil then return nil end
  if not binary_form and not verified then return {} end
  return cert
end

function common:get_verified_chain()
  check_sslobj(self, "get_verified_chain")
  return conn_of(self):chain(true) or {}
end

function common:get_unverified_chain()
  check_sslobj(self, "get_unverified_chain")
  return conn_of(self):chain(false) or {}
end


-- What the connection knows once it exists, nil before: Python's method
-- name and the connection's.
for name, method in pairs {cipher = "cipher", version = "version", selected_alpn_protocol = "alpn"} do
  common[name] = function(self)
    check_sslobj(self, name)
    local c = rawget(self, "_conn")
    if not c then return nil end
    return c[method](c)
  end
end

function common:shared_ciphers()
  check_sslobj(self, "shared_ciphers")
  local c = rawget(self, "_conn")
  if not c or not c:server_side() then return nil end
  return c:shared_ciphers()
end

function common:compression()
  check_sslobj(self, "compression")
  return nil
end



function common:selected_npn_protocol()
  check_sslobj(self, "selected_npn_protocol")
  return nil
end

function common:get_channel_binding(cb_type)
  check_sslobj(self, "get_channel_binding")
  if cb_type == nil then cb_type = "tls-unique" end
  if cb_type ~= "tls-unique" then
    error(ValueError(format("Unsupported channel binding type %s", repr.repr(cb_type))), 2)
  end
  local c = rawget(self, "_conn")
  if not c then return nil end
  return c:channel_binding()
end

-- (moonsock's own, for LuaSec's getpeerverification: OpenSSL's verdict on
-- the peer's chain, a code and its text, even under CERT_NONE.)
function common:_verify_result()
  check_sslobj(self, "_verify_result")
  return conn_of(self):verify_result()
end

function common:verify_client_post_handshake()
  check_sslobj(self, "verify_client_post_handshake")
  conn_of(self):verify_client_post_handshake()
end

-- SSLSession: the session's DER (for session=) with Python's attributes.
local session_mt = {__name = "SSLSession"}
session_mt.__index = session_mt
session_mt.__tostring = function(s) return format("<ssl.SSLSession object at %p>", s) end
session_mt.__eq = function(a, b) return a._der == b._der end
ssl.SSLSession = session_mt

local function get_session(s)
  local c = rawget(s, "_conn")
  if not c then return nil end
  local der, id, time, timeout, has_ticket, hint = c:get_session()
  if not der then return nil end
  return setmetatable({_der = der, id = id, time = time, timeout = timeout,
    has_ticket = has_ticket, ticket_lifetime_hint = hint}, session_mt)
end

local function set_session(s, session)
  if session ~= nil and getmetatable(session) ~= session_mt then
    error(errors.TypeError("Value is not a SSLSession."), 3)
  end
  if rawget(s, "_server_side") then
    error(ValueError("Cannot set session for server-side SSLSocket."), 3)
  end
  local c = rawget(s, "_conn")
  if c and c:handshake_done() then
    error(ValueError("Cannot set session after handshake."), 3)
  end
  rawset(s, "_session", session)
  if c and session then c:set_session(session._der) end
end

local function set_context(s, ctx)
  if getmetatable(ctx) ~= context_mt then
    error(errors.TypeError("The value must be a SSLContext"), 3)
  end
  local c = rawget(s, "_conn")
  if c then c:set_context(ctx._ctx) end
  rawset(s, "_context", ctx)
end

local shared_getters = {
  context = function(s) return rawget(s, "_context") end,
  server_side = function(s) return rawget(s, "_server_side") end,
  server_hostname = function(s) return rawget(s, "_server_hostname") end,
  session = get_session,
  session_reused = function(s)
    local c = rawget(s, "_conn")
    return c ~= nil and c:session_reused()
  end,
}

---------------------------------------------------------------------------
-- SSLObject (wrap_bio): the sans-I/O form. Every WANT_READ / WANT_WRITE is
-- an SSLWantReadError / SSLWantWriteError for the caller to handle.

for k, v in pairs(common) do SSLObject[k] = v end

function SSLObject:do_handshake()
  check_sslobj(self, "do_handshake")
  conn_of(self):do_handshake(nil)
end

function SSLObject:read(len, buffer)
  check_sslobj(self, "read")
  if len == nil then len = 1024 end
  check_int(len, 1, "read")
  if buffer ~= nil then argerror(2, "read", "buffers are not supported") end
  return conn_of(self):read(nil, len)
end

function SSLObject:write(data)
  check_sslobj(self, "write")
  check_type(data, "string", 1, "write")
  return conn_of(self):write(nil, data)
end

function SSLObject:pending()
  check_sslobj(self, "pending")
  return conn_of(self):pending()
end

function SSLObject:unwrap()
  check_sslobj(self, "unwrap")
  conn_of(self):shutdown(nil)
end

sslobject_mt.__index = property_index(SSLObject, shared_getters)
sslobject_mt.__newindex = function(s, k, v)
  if k == "context" then return set_context(s, v) end
  if k == "session" then return set_session(s, v) end
  rawset(s, k, v)
end
sslobject_mt.__tostring = function(s) return format("<ssl.SSLObject object at %p>", s) end
ssl.SSLObject = SSLObject

local WRAP_BIO_OPTS = {server_side = "boolean", server_hostname = "string", session = "table"}

local function check_hostname_arg(ctx, server_side, hostname)
  if server_side and hostname then
    error(ValueError("server_hostname can only be specified in client mode"), 3)
  end
  if hostname and (hostname == "" or hostname:sub(1, 1) == ".") then
    error(ValueError("server_hostname cannot be an empty string or start with a leading dot."), 3)
  end
  if not server_side and ctx._check_hostname and not hostname then
    error(ValueError("check_hostname requires server_hostname"), 3)
  end
end

function SSLContext:wrap_bio(incoming, outgoing, opts)
  check_context(self, "wrap_bio")
  if typename(incoming) ~= "MemoryBIO" then
    argerror(1, "wrap_bio", "MemoryBIO expected, got " .. typename(incoming))
  end
  if typename(outgoing) ~= "MemoryBIO" then
    argerror(2, "wrap_bio", "MemoryBIO expected, got " .. typename(outgoing))
  end
  opts = check_opts(opts, 3, "wrap_bio", WRAP_BIO_OPTS)
  local server_side = opts.server_side or false
  check_hostname_arg(self, server_side, opts.server_hostname)
  local o = setmetatable({_context = self, _server_side = server_side,
    _server_hostname = opts.server_hostname}, sslobject_mt)
  local conn = core.connection(self._ctx, server_side, opts.server_hostname, self._check_hostname,
    nil, incoming, outgoing)
  conn:set_owner(o)
  rawset(o, "_conn", conn)
  if opts.session then set_session(o, opts.session) end
  return o
end

---------------------------------------------------------------------------
-- SSLSocket (wrap_socket). Like Python's, it takes over the socket's fd:
-- the socket given is detached, and the SSLSocket holds a new socket object
-- on the same fd (self._sock), to which it forwards the socket methods that
-- do not carry data.

for k, v in pairs(common) do SSLSocket[k] = v end

-- The plain socket below s; the bad-self error blames the method's caller.
local function inner(s, fname)
  if getmetatable(s) ~= sslsocket_mt then
    error(format("calling '%s' on bad self (SSLSocket expected, got %s)", fname, typename(s)), 3)
  end
  return rawget(s, "_sock")
end

-- sock[fname](sock, ...), whose argument errors are the SSLSocket method's:
-- blamed on the user's line, counted without self.
local function forward(sock, fname, ...)
  local r = table.pack(pcall(sock[fname], sock, ...))
  if not r[1] then errors.reraise_argerror(r[2], fname, fname, -1) end
  return table.unpack(r, 2, r.n)
end

-- Python's non-I/O socket methods, forwarded as they are.
for _, name in ipairs {"getpeername", "getsockname", "getsockopt", "setsockopt", "fileno",
                       "settimeout", "gettimeout", "setblocking", "getblocking", "listen",
                       "bind", "detach"} do
  SSLSocket[name] = function(self, ...)
    return forward(inner(self, name), name, ...)
  end
end

local function wrap_conn(s)
  local conn = core.connection(s._context._ctx, s._server_side, s._server_hostname,
    s._context._check_hostname, s._sock, nil, nil)
  conn:set_owner(s)
  rawset(s, "_conn", conn)
  local session = rawget(s, "_session")
  if session then conn:set_session(session._der) end
  return conn
end

function SSLSocket:do_handshake(block)
  local sock = inner(self, "do_handshake")
  -- Python's _check_connected: an unconnected socket raises ENOTCONN.
  if not rawget(self, "_conn") then sock:getpeername() end
  local c = conn_of(self)
  -- Python's do_handshake(block=True) on a non-blocking socket blocks for
  -- the handshake: here it waits cooperatively, without a deadline.
  if block and sock:gettimeout() == 0 then
    sock:settimeout(nil)
    local ok, err = pcall(c.do_handshake, c, sock)
    sock:settimeout(0)
    if not ok then error(err, 0) end
    return
  end
  c:do_handshake(sock)
end

function SSLSocket:connect(addr)
  local sock = inner(self, "connect")
  if rawget(self, "_server_side") then error(ValueError("can't connect in server-side mode"), 2) end
  if rawget(self, "_conn") then error(ValueError("attempt to connect already-connected SSLSocket!"), 2) end
  sock:connect(addr)
  local c = wrap_conn(self)
  if self._do_handshake_on_connect then c:do_handshake(sock) end
end

function SSLSocket:connect_ex(addr)
  local sock = inner(self, "connect_ex")
  if rawget(self, "_server_side") then error(ValueError("can't connect in server-side mode"), 2) end
  if rawget(self, "_conn") then error(ValueError("attempt to connect already-connected SSLSocket!"), 2) end
  local rc = sock:connect_ex(addr)
  if rc ~= 0 then return rc end
  local c = wrap_conn(self)
  if self._do_handshake_on_connect then c:do_handshake(sock) end
  return 0
end

-- accept(): the new connection wrapped server-side with this context.
function SSLSocket:accept()
  local sock = inner(self, "accept")
  local new, addr = sock:accept()
  local wrapped = self._context:wrap_socket(new, {server_side = true,
    do_handshake_on_connect = self._do_handshake_on_connect,
    suppress_ragged_eofs = self.suppress_ragged_eofs})
  return wrapped, addr
end

-- read(len[, buffer]): like recv, but an unexpected EOF raises unless
-- suppress_ragged_eofs.
function SSLSocket:read(len, buffer)
  local sock = inner(self, "read")
  if len == nil then len = 1024 end
  check_int(len, 1, "read")
  if buffer ~= nil then argerror(2, "read", "buffers are not supported") end
  local c = conn_of(self)
  local ok, data = pcall(c.read, c, sock, len)
  if ok then return data end
  if self.suppress_ragged_eofs and getmetatable(data) == classes[8] then return "" end
  error(data, 0)
end

function SSLSocket:write(data)
  local sock = inner(self, "write")
  check_type(data, "string", 1, "write")
  return conn_of(self):write(sock, data)
end

local function check_flags(flags, fname)
  if flags ~= nil and flags ~= 0 then
    error(ValueError(format("non-zero flags not allowed in calls to %s() on <class 'ssl.SSLSocket'>",
      fname)), 3)
  end
end

function SSLSocket:recv(n, flags)
  local sock = inner(self, "recv")
  check_int(n, 1, "recv")
  if n < 0 then argerror(1, "recv", "negative buffersize in recv") end
  if not rawget(self, "_conn") then return forward(sock, "recv", n, flags) end
  check_flags(flags, "recv")
  if n == 0 then return "" end
  return self:read(n)
end

function SSLSocket:recvfrom(n, flags)
  local sock = inner(self, "recvfrom")
  if rawget(self, "_conn") then error(ValueError("recvfrom not allowed on instances of <class 'ssl.SSLSocket'>"), 2) end
  return forward(sock, "recvfrom", n, flags)
end

function SSLSocket:send(data, flags)
  local sock = inner(self, "send")
  check_type(data, "string", 1, "send")
  if not rawget(self, "_conn") then return forward(sock, "send", data, flags) end
  check_flags(flags, "send")
  if #data == 0 then return 0 end
  return conn_of(self):write(sock, data)
end

function SSLSocket:sendall(data, flags)
  local sock = inner(self, "sendall")
  check_type(data, "string", 1, "sendall")
  if not rawget(self, "_conn") then return forward(sock, "sendall", data, flags) end
  check_flags(flags, "sendall")
  conn_of(self):writeall(sock, data)
end

function SSLSocket:sendto(data, ...)
  local sock = inner(self, "sendto")
  if rawget(self, "_conn") then error(ValueError("sendto not allowed on instances of <class 'ssl.SSLSocket'>"), 2) end
  return forward(sock, "sendto", data, ...)
end

-- sendfile(file[, offset[, count]]): Python falls back to reading and
-- sending over TLS (os.sendfile would bypass the encryption).
local SENDFILE_BLOCK = 16384
function SSLSocket:sendfile(file, offset, count)
  local sock = inner(self, "sendfile")
  if io.type(file) ~= "file" then argerror(1, "sendfile", "file expected, got " .. typename(file)) end
  if offset == nil then offset = 0 end
  check_int(offset, 2, "sendfile")
  if count ~= nil then
    check_int(count, 3, "sendfile")
    if count <= 0 then error(ValueError(format("count must be a positive integer (got %d)", count)), 2) end
  end
  if not rawget(self, "_conn") then return forward(sock, "sendfile", file, offset, count) end
  if offset > 0 then file:seek("set", offset) end
  local total = 0
  while count == nil or total < count do
    local want = SENDFILE_BLOCK
    if count and count - total < want then want = count - total end
    local data = file:read(want)
    if not data or #data == 0 then break end
    conn_of(self):writeall(sock, data)
    total = total + #data
  end
  if total > 0 then file:seek("set", offset + total) end
  return total
end

function SSLSocket:pending()
  check_sslsock(self, "pending")
  local c = rawget(self, "_conn")
  return c and c:pending() or 0
end

-- shutdown(how): the TCP shutdown; the SSL object goes, as in Python.
function SSLSocket:shutdown(how)
  local sock = inner(self, "shutdown")
  local c = rawget(self, "_conn")
  rawset(self, "_conn", nil)
  if c then c:close() end
  return forward(sock, "shutdown", how)
end

-- unwrap(): sends close_notify, waits for the peer's, and returns the plain
-- socket (STARTTLS and back).
function SSLSocket:unwrap()
  local sock = inner(self, "unwrap")
  local c = rawget(self, "_conn")
  if not c then error(ValueError("No SSL wrapper around " .. tostring(self)), 2) end
  c:shutdown(sock)
  rawset(self, "_conn", nil)
  c:close()
  return sock
end

function SSLSocket:makefile(mode, buffering)
  check_sslsock(self, "makefile")
  local f = makefile.new(self, mode, buffering) -- not a tail call: new blames our caller
  return f
end

function SSLSocket:close()
  local sock = inner(self, "close")
  if makefile.defer_close(self) then return end
  local c = rawget(self, "_conn")
  rawset(self, "_conn", nil)
  if c then c:close() end
  sock:close()
end

local socket_attrs = {family = true, type = true, proto = true, timeout = true}

sslsocket_mt.__index = property_index(SSLSocket, shared_getters, function(s, k)
  if socket_attrs[k] then return rawget(s, "_sock")[k] end
  return nil
end)
sslsocket_mt.__newindex = function(s, k, v)
  if k == "context" then return set_context(s, v) end
  if k == "session" then return set_session(s, v) end
  rawset(s, k, v)
end
sslsocket_mt.__close = function(s) s:close() end
sslsocket_mt.__gc = function(s)
  local c = rawget(s, "_conn")
  if c then c:close() end
end

-- <ssl.SSLSocket fd=4, family=2, type=1, proto=6, laddr=..., raddr=...>:
-- the inner socket's repr, with the numbers Python 3.11 prints there.
sslsocket_mt.__tostring = function(s)
  local sock = rawget(s, "_sock")
  local text = tostring(sock):gsub("family=[%w_]+", "family=" .. sock.family, 1)
    :gsub("type=[%w_]+", "type=" .. sock.type, 1)
  local closed = (makefile.close_pending(s) and not text:find("^<socket %[closed%]")) and " [closed]" or ""
  return (text:gsub("^<socket", "<ssl.SSLSocket" .. closed, 1))
end
ssl.SSLSocket = SSLSocket

local WRAP_SOCKET_OPTS = {server_side = "boolean", do_handshake_on_connect = "boolean",
                          suppress_ragged_eofs = "boolean", server_hostname = "string",
                          session = "table"}

local ENOTCONN, EINVAL = socket.ENOTCONN or 107, 22

-- Python 3.11.5's fix for CVE-2023-40217: a socket that is not connected
-- (a peer that sent bytes, then reset, before the wrap) must not hand those
-- bytes to a caller who would take them for TLS-protected data. One
-- non-blocking recv(1): data closes the socket and raises Python's SSLError.
local function refuse_early_data(sock, notconn)
  local timeout = sock.timeout
  sock:settimeout(0)
  local ok, data = pcall(sock.recv, sock, 1)
  sock:settimeout(timeout)
  if not ok then
    if type(data) == "table" and (data.errno == ENOTCONN or data.errno == EINVAL) then return end
    error(data, 3)
  end
  if data == "" then return end
  pcall(sock.close, sock)
  local reason = "Closed before TLS handshake with data in recv buffer."
  local e = SSLError(notconn.errno, reason)
  e.reason, e.library = reason, nil
  error(e, 3)
end

function SSLContext:wrap_socket(sock, opts)
  check_context(self, "wrap_socket")
  if not socket.issocket(sock) then argerror(1, "wrap_socket", "socket expected, got " .. typename(sock)) end
  opts = check_opts(opts, 2, "wrap_socket", WRAP_SOCKET_OPTS)
  -- Python asks the kernel for the type first: a closed socket is EBADF.
  if sock:getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) ~= socket.SOCK_STREAM then
    error(ValueError("only stream sockets are supported"), 2)
  end
  local server_side = opts.server_side or false
  check_hostname_arg(self, server_side, opts.server_hostname)
  if opts.session ~= nil and getmetatable(opts.session) ~= session_mt then
    argerror(2, "wrap_socket", "option 'session': SSLSession expected, got " .. typename(opts.session))
  end
  local do_hs = opts.do_handshake_on_connect
  if do_hs == nil then do_hs = true end
  local ragged = opts.suppress_ragged_eofs
  if ragged == nil then ragged = true end
  -- Connected? Python asks getpeername; ENOTCONN means not yet.
  local connected = true
  local ok, err = pcall(sock.getpeername, sock)
  if not ok then
    if type(err) == "table" and err.errno == ENOTCONN then
      connected = false
      refuse_early_data(sock, err)
    else
      error(err, 2)
    end
  end
  local family, type_, proto, timeout = sock.family, sock.type, sock.proto, sock.timeout
  local fd = sock:detach()
  local inner_sock = socket.socket(family, type_, proto, fd)
  inner_sock:settimeout(timeout)
  local s = setmetatable({_sock = inner_sock, _context = self, _server_side = server_side,
    _server_hostname = opts.server_hostname, _session = opts.session,
    _do_handshake_on_connect = do_hs, suppress_ragged_eofs = ragged}, sslsocket_mt)
  if connected then
    local c = wrap_conn(s)
    if do_hs then
      if timeout == 0 then
        error(ValueError("do_handshake_on_connect should not be specified for non-blocking sockets"), 2)
      end
      local hok, herr = pcall(c.do_handshake, c, inner_sock)
      if not hok then
        s:close()
        error(herr, 2)
      end
    end
  end
  return s
end

---------------------------------------------------------------------------
-- Module functions

function ssl.create_default_context(purpose, opts)
  if purpose == nil then purpose = ssl.Purpose.SERVER_AUTH end
  if getmetatable(purpose) ~= purpose_mt then
    argerror(1, "create_default_context", "Purpose expected, got " .. typename(purpose))
  end
  opts = check_opts(opts, 2, "create_default_context",
    {cafile = "string", capath = "string", cadata = "string"})
  local ctx
  if purpose == ssl.Purpose.SERVER_AUTH then
    ctx = new_context(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = true
  else
    ctx = new_context(ssl.PROTOCOL_TLS_SERVER)
  end
  if opts.cafile or opts.capath or opts.cadata then
    ctx:load_verify_locations(opts.cafile, opts.capath, opts.cadata)
  elseif ctx.verify_mode ~= ssl.CERT_NONE then
    ctx:load_default_certs(purpose)
  end
  local keylog = os.getenv("SSLKEYLOGFILE")
  if keylog and keylog ~= "" then ctx.keylog_filename = keylog end
  return ctx
end

-- Python's named tuple, as a table with its fields.
function ssl.get_default_verify_paths()
  local cafile_env, cafile, capath_env, capath = core.default_verify_paths()
  local env_file, env_path = os.getenv(cafile_env), os.getenv(capath_env)
  local function exists(path, dir)
    local f = io.open(path, "r")
    if not f then return false end
    local is_dir = f:read(0) == nil and select(2, f:read(1)) ~= nil
    f:close()
    return dir or not is_dir
  end
  local file = env_file or cafile
  local path = env_path or capath
  return {cafile = exists(file) and file or nil, capath = exists(path, true) and path or nil,
          openssl_cafile_env = cafile_env, openssl_cafile = cafile,
          openssl_capath_env = capath_env, openssl_capath = capath}
end

local MONTHS = {Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9,
                Oct = 10, Nov = 11, Dec = 12}

-- Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
-- days_from_civil), so the result is UTC whatever the local time zone.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

function ssl.cert_time_to_seconds(cert_time)
  check_type(cert_time, "string", 1, "cert_time_to_seconds")
  local mon, d, hh, mm, ss, y = cert_time:match("^(%a%a%a) +(%d%d?) (%d%d):(%d%d):(%d%d) (%d%d%d%d) GMT$")
  local m = MONTHS[mon]
  if not m or tonumber(d) > 31 or tonumber(hh) > 23 or tonumber(mm) > 59 or tonumber(ss) > 61 then
    error(ValueError(format("time data %s does not match format '%%b %%d %%H:%%M:%%S %%Y GMT'",
      repr.quote(cert_time))), 2)
  end
  return days_from_civil(tonumber(y), m, tonumber(d)) * 86400 + tonumber(hh) * 3600
    + tonumber(mm) * 60 + tonumber(ss)
end

function ssl.DER_cert_to_PEM_cert(der)
  check_type(der, "string", 1, "DER_cert_to_PEM_cert")
  local b64 = core.b64encode(der)
  local lines = {ssl.PEM_HEADER}
  for i = 1, #b64, 64 do lines[#lines + 1] = b64:sub(i, i + 63) end
  lines[#lines + 1] = ssl.PEM_FOOTER .. "\n"
  return table.concat(lines, "\n")
end

function ssl.PEM_cert_to_DER_cert(pem)
  check_type(pem, "string", 1, "PEM_cert_to_DER_cert")
  if pem:sub(1, #ssl.PEM_HEADER) ~= ssl.PEM_HEADER then
    error(ValueError("Invalid PEM encoding; must start with " .. ssl.PEM_HEADER), 2)
  end
  local stripped = pem:match("^%s*(.-)%s*$")
  if stripped:sub(-#ssl.PEM_FOOTER) ~= ssl.PEM_FOOTER then
    error(ValueError("Invalid PEM encoding; must end with " .. ssl.PEM_FOOTER), 2)
  end
  local body = stripped:sub(#ssl.PEM_HEADER + 1, -#ssl.PEM_FOOTER - 1)
  return core.b64decode((body:gsub("[^%w+/=]", "")))
end

-- get_server_certificate(addr[, {ca_certs=, timeout=}]): the peer's
-- certificate in PEM, verified only if ca_certs is given.
function ssl.get_server_certificate(addr, opts)
  check_type(addr, "table", 1, "get_server_certificate")
  opts = check_opts(opts, 2, "get_server_certificate", {ca_certs = "string", timeout = "number"})
  local ctx = new_context(ssl.PROTOCOL_TLS_CLIENT)
  ctx.check_hostname = false
  if opts.ca_certs then
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx:load_verify_locations(opts.ca_certs)
  else
    ctx.verify_mode = ssl.CERT_NONE
  end
  local ok, sock = pcall(socket.create_connection, addr, opts.timeout)
  if not ok then
    local why = type(sock) == "string" and sock:match("bad argument #1 to 'create_connection' %((.*)%)$")
    if why then argerror(1, "get_server_certificate", why) end
    error(sock, 2)
  end
  local _ <close> = sock
  local s <close> = ctx:wrap_socket(sock, {server_hostname = addr[1]})
  return ssl.DER_cert_to_PEM_cert(s:getpeercert(true))
end

function ssl.RAND_bytes(n)
  check_int(n, 1, "RAND_bytes")
  if n < INT_MIN or n > INT_MAX then argerror(1, "RAND_bytes", "Python int too large to convert to C int") end
  return core.RAND_bytes(n)
end
function ssl.RAND_status() return core.RAND_status() end

function ssl.get_protocol_name(code)
  check_int(code, 1, "get_protocol_name")
  local names = {[2] = "PROTOCOL_TLS", [16] = "PROTOCOL_TLS_CLIENT", [17] = "PROTOCOL_TLS_SERVER"}
  return names[code] or "<unknown>"
end

-- _test_decode_cert(path): Python's private helper, used by tests to decode
-- a PEM file without a connection.
function ssl._test_decode_cert(path)
  check_type(path, "string", 1, "_test_decode_cert")
  local f = assert(io.open(path, "rb"))
  local pem = f:read("a")
  f:close()
  local first = pem:match("%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-.-%-%-%-%-%-END CERTIFICATE%-%-%-%-%-")
  if not first then error(SSLError("Error decoding PEM-encoded file"), 2) end
  return core.decode_cert(ssl.PEM_cert_to_DER_cert(first))
end

-- Python's ssl re-exports these socket names.
ssl.SOCK_STREAM, ssl.SOL_SOCKET, ssl.SO_TYPE = socket.SOCK_STREAM, socket.SOL_SOCKET, socket.SO_TYPE
ssl.create_connection = socket.create_connection

-- LuaSec's names beside Python's (lua/moonsock/luasec.lua).
require("moonsock.luasec").install(ssl)

return ssl
