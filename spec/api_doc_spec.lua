-- docs/api.md against the code: every `### ` heading must name a function,
-- method or field that exists, and everything public must have a heading,
-- so that nothing new can slip by undocumented. The names the doc calls
-- "same" as Python's are looked up in python3's modules (and on instances of
-- Python's classes), and the constants it says Python shares are compared
-- with Python's values.
--
-- Objects with several classes (servers, dispatchers, ipaddress objects...)
-- share a heading prefix: a heading applies to every class of its prefix, or,
-- with an "On: `A`, `B`" line, to those classes and their subclasses, and is
-- checked on a real instance of each.
local socket = require "socket"
local task = require "task"
local thread = require "thread"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"
local selectmod = require "select" -- not `select`: Lua's own is used below
local selectors = require "selectors"
local socketserver = require "socketserver"
local asyncore = require "asyncore"
local asynchat = require "asynchat"
local ipaddress = require "ipaddress"
local parse = require "urllib.parse"
local binascii = require "binascii"
local sslmod = require "ssl"
local errno = require "errno"
local posix = require "moonsock.posix"
local subprocess = require "subprocess"
local signalmod = require "signal"
local daemon = require "systemd.daemon"
local class = require "moonsock.class"
local h = require "spec.support.helpers"

-- docs/api.md, read as the argument sweep reads it (next to spec/,
-- wherever busted was started).
local read_doc = require("spec.support.argcheck").read_doc

-- The lines of the doc outside fenced code blocks, with their numbers.
local function prose_lines(text)
  local out, fenced, n = {}, false, 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if line:match("^```") then
      fenced = not fenced
    elseif not fenced then
      out[#out + 1] = {n = n, text = line}
    end
  end
  return out
end

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

local function sorted(t)
  table.sort(t)
  return t
end

-- Public keys: strings that do not start with "_".
local function public(k) return type(k) == "string" and not k:find("^_") end

-- Python's integer constants as moonsock spells them: upper-case names with
-- integer values (constants are documented by prefix, not one by one).
local function is_constant(k, v)
  return type(k) == "string" and k:match("^[A-Z][A-Z0-9_]*$") ~= nil and math.type(v) == "integer"
end

-- Every public method of obj's class, following __index tables up the chain.
local function class_methods(obj)
  local out, seen = {}, {}
  local cls = getmetatable(obj).__index
  while type(cls) == "table" do
    for k, v in pairs(cls) do
      if public(k) and not seen[k] and type(v) == "function" then
        seen[k] = true
        out[#out + 1] = k
      end
    end
    local mt = getmetatable(cls)
    cls = mt and mt.__index
  end
  return sorted(out)
end

-- ---- the objects the headings talk about ----

local objects -- prefix -> {get = function() -> value, methods = list or nil, parent = prefix}
local cleanup = {}

-- The public names of an object, name -> "method" or "field", found the way
-- its module builds it. Names starting with "_" are private.
local function add_name(out, k, v)
  if public(k) and out[k] == nil then out[k] = type(v) == "function" and "method" or "field" end
end

-- moonsock.class instances: their own fields, then their classes' along
-- the MRO; what class.object gives every class (extend, mixin) is
-- documented once, as Class:extend and Class:mixin.
local function class_instance_names(obj)
  local out = {}
  local function add(k, v)
    if rawget(class.object, k) == nil then add_name(out, k, v) end
  end
  for k, v in pairs(obj) do add(k, v) end
  for _, c in ipairs(getmetatable(obj).__mro) do
    for k, v in pairs(c) do add(k, v) end
  end
  return out
end

-- selectors' objects: own fields, then the class chain (each class's
-- metatable __index is its base).
local function chain_names(obj)
  local out = {}
  for k, v in pairs(obj) do add_name(out, k, v) end
  local c = getmetatable(obj)
  while type(c) == "table" do
    for k, v in pairs(c) do add_name(out, k, v) end
    local m = getmetatable(c)
    c = m and rawget(m, "__index")
  end
  return out
end

-- An upvalue of function f by name (Lua cannot list a closure's tables
-- otherwise); nil for a C function, whose upvalues have no names.
local function upvalue(f, name)
  for i = 1, 255 do
    local n, v = debug.getupvalue(f, i)
    if n == nil then return nil end
    if n == name then return v end
  end
end

-- Objects whose methods are their metatable's __index table (poll, the
-- ipaddress iterator) or the first upvalue of a C __index (epoll). Their
-- raw fields are state, not API.
local function index_names(obj)
  local idx = getmetatable(obj).__index
  if type(idx) == "function" then idx = select(2, debug.getupvalue(idx, 1)) end
  local out = {}
  for k, v in pairs(idx) do add_name(out, k, v) end
  return out
end

-- ipaddress objects: methods and flags of the class, its properties (one
-- table per layer of Python's class tree), and the instance's own fields.
local function ipaddress_names(obj)
  local cls = getmetatable(obj)
  local out = {}
  for k, v in pairs(obj) do add_name(out, k, v) end
  for k, v in pairs(cls._methods) do add_name(out, k, v) end
  for _, layer in ipairs(cls._layers) do
    for k in pairs(layer.p) do add_name(out, k, true) end
  end
  return out
end

-- urllib.parse results: fields by name, methods, and the netloc attributes
-- computed on access, from the closure that is their __index.
local function result_names(r)
  local idx = getmetatable(r).__index
  local out = {}
  for k in pairs(upvalue(idx, "index_of")) do add_name(out, k, true) end
  for k, v in pairs(upvalue(idx, "methods")) do add_name(out, k, v) end
  if upvalue(idx, "netloc_attrs") then
    for k in pairs(upvalue(idx, "derived")) do add_name(out, k, true) end
  end
  return out
end

-- ssl's objects (lua/ssl.lua): the class's methods and the getters of its
-- fields, tables their __index closure holds, then the instance's own
-- public fields (suppress_ragged_eofs); an SSLSocket also forwards the
-- socket's fields. A MemoryBIO (a userdata) has its methods in the
-- closure's `methods`.
local function ssl_names(obj)
  local idx = getmetatable(obj).__index
  local out = {}
  if type(obj) == "table" then
    for k, v in pairs(obj) do add_name(out, k, v) end
  end
  for _, up in ipairs {"SSLContext", "SSLSocket", "SSLObject", "methods"} do
    for k, v in pairs(upvalue(idx, up) or {}) do add_name(out, k, v) end
  end
  for _, up in ipairs {"getters", "shared_getters", "socket_attrs"} do
    for k in pairs(upvalue(idx, up) or {}) do add_name(out, k, true) end
  end
  return out
end

local function deque_names(d)
  local out = {}
  for k, v in pairs(upvalue(getmetatable(d).__index, "deque_methods")) do add_name(out, k, v) end
  return out
end

-- The names of obj's class and its ancestors (the last dotted part:
-- "asyncore.dispatcher" is `dispatcher`), for "On:" lines.
local function ancestry(obj)
  local names = {}
  local function add(n)
    if type(n) == "string" then names[n:match("[^.]*$")] = true end
  end
  local mt = getmetatable(obj)
  if type(mt) ~= "table" then return names end
  local mro = rawget(mt, "__mro") or rawget(mt, "_mro") -- moonsock.class, ipaddress
  if mro then
    for _, c in ipairs(mro) do add(rawget(c, "__name")) end
    return names
  end
  local c = mt
  while type(c) == "table" do
    add(rawget(c, "__name"))
    local m = getmetatable(c)
    c = m and rawget(m, "__index")
  end
  return names
end

-- prefix -> {items = {{class =, objs = {...}, py = Python expression or nil}},
-- names = function(obj)}; an item lists several objects where one class
-- has fields that are nil on some of its instances (IPv6 addresses).
local prefixes
local new_cleanup = {}

-- Fields that are legitimately nil (Python's None) on some instances of
-- the classes their heading names: they are checked on the others only.
local NILABLE = {
  ["server.timeout"] = true, -- None but for ForkingMixIn's 300
  ["server.active_children"] = true, -- None until the first fork
  ["server.block_on_close_timeout"] = true, -- nil by default: no deadline
  ["handler.timeout"] = true, -- None: leaves the socket's timeout
  ["disp.addr"] = true, -- None until bind, connect or a connected socket
  ["disp.family_and_type"] = true, -- only after create_socket
  ["ctx.sni_callback"] = true, -- None until set
  ["ctx.keylog_filename"] = true, -- None until set
  ["tls.session"] = true, -- None before the handshake
  ["tls.server_hostname"] = true, -- None on a server
}

-- Python's side of the objects: helpers the py expressions below call.
local PY_PRELUDE = [[
import warnings
warnings.simplefilter('ignore')
import builtins, collections, io, os, shutil, signal, socket, tempfile
import select, selectors, socketserver, asyncore, asynchat, ipaddress, urllib.parse, binascii, errno, ssl, subprocess
A, B = socket.socketpair()
TMP = tempfile.mkdtemp()
def server(cls):
    if 'Unix' in cls.__name__:
        return cls(os.path.join(TMP, cls.__name__), socketserver.BaseRequestHandler)
    return cls(('127.0.0.1', 0), socketserver.BaseRequestHandler)
def handler(cls):
    if cls is socketserver.DatagramRequestHandler:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(('127.0.0.1', 0))
        return cls((b'x', u), u.getsockname(), None)
    a, b = socket.socketpair()
    return cls(a, ('127.0.0.1', 0), None)
def dispatcher():
    d = asyncore.dispatcher(map={})
    d.create_socket()
    return d
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
TLS = CTX.wrap_socket(socket.socket(), server_hostname='localhost')
TLSOBJ = CTX.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname='localhost')
def chat():
    a, b = socket.socketpair()
    c = asynchat.async_chat(a, map={})
    c.set_terminator(b'\n')
    return c
# A property that raises still exists (hasattr lets any error but AttributeError through).
def has(o, n):
    try:
        return hasattr(o, n)
    except Exception:
        return True
]]

local function ip_items()
  local v6 = {"fe80::1%eth0", "::ffff:192.0.2.1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2002:c000:204::1"}
  local function all(cls, texts, suffix)
    local objs = {}
    for i, t in ipairs(texts) do objs[i] = cls(t .. (suffix or "")) end
    return objs
  end
  return {
    IPv4Address = {class = "IPv4Address", objs = {ipaddress.IPv4Address("192.0.2.1")},
                   py = "ipaddress.IPv4Address('192.0.2.1')"},
    IPv4Interface = {class = "IPv4Interface", objs = {ipaddress.IPv4Interface("192.0.2.1/24")},
                     py = "ipaddress.IPv4Interface('192.0.2.1/24')"},
    IPv4Network = {class = "IPv4Network", objs = {ipaddress.IPv4Network("192.0.2.0/24")},
                   py = "ipaddress.IPv4Network('192.0.2.0/24')"},
    IPv6Address = {class = "IPv6Address", objs = all(ipaddress.IPv6Address, v6),
                   py = "ipaddress.IPv6Address('2001:db8::1')"},
    IPv6Interface = {class = "IPv6Interface", objs = all(ipaddress.IPv6Interface, v6, "/64"),
                     py = "ipaddress.IPv6Interface('2001:db8::1/64')"},
    IPv6Network = {class = "IPv6Network", objs = {ipaddress.IPv6Network("2001:db8::/32")},
                   py = "ipaddress.IPv6Network('2001:db8::/32')"},
  }
end

local function build_prefixes()
  local tmp = h.tempdir()
  local servers = {}
  for _, name in ipairs {"BaseServer", "TCPServer", "UDPServer", "UnixStreamServer", "UnixDatagramServer",
                         "ForkingTCPServer", "ForkingUDPServer", "ThreadingTCPServer", "ThreadingUDPServer",
                         "ThreadingUnixStreamServer", "ThreadingUnixDatagramServer",
                         "ForkingUnixStreamServer", "ForkingUnixDatagramServer"} do
    local cls = socketserver[name]
    local address = name:find("Unix") and (tmp .. "/" .. name) or {"127.0.0.1", 0}
    local s = cls(address, socketserver.BaseRequestHandler)
    if name ~= "BaseServer" then new_cleanup[#new_cleanup + 1] = function() s:server_close() end end
    -- Python 3.11 has no ForkingUnix* servers.
    local py = not name:find("^ForkingUnix") and ("server(socketserver." .. name .. ")") or nil
    servers[#servers + 1] = {class = name, objs = {s}, py = py}
  end
  new_cleanup[#new_cleanup + 1] = function() os.execute("rm -rf " .. h.shell_quote(tmp)) end
  -- a Popen with every pipe, its child ended: every field has a value
  local PIPE = subprocess.PIPE
  local proc = subprocess.Popen({"true"}, {stdin = PIPE, stdout = PIPE, stderr = PIPE})
  proc:communicate()

  local ha, hb = socket.socketpair()
  local stream = socketserver.StreamRequestHandler(ha, {"127.0.0.1", 0}, "server")
  local ba, bb = socket.socketpair()
  local base = socketserver.BaseRequestHandler(ba, {"127.0.0.1", 0}, "server")
  local u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
  u:bind({"127.0.0.1", 0})
  local dgram = socketserver.DatagramRequestHandler(repr.tuple("x", u), u:getsockname(), "server")
  for _, s in ipairs {ha, hb, ba, bb, u} do new_cleanup[#new_cleanup + 1] = function() s:close() end end

  local map = {}
  local d = asyncore.dispatcher(nil, map)
  d:create_socket()
  d:bind({"127.0.0.1", 0})
  local wa, wb = socket.socketpair()
  local ws = asyncore.dispatcher_with_send(wa, map)
  local fa, fb = socket.socketpair()
  local fd = asyncore.file_dispatcher(fa, map)
  local ca, cb = socket.socketpair()
  local chat = asynchat.async_chat(ca, map)
  chat:set_terminator("\n")
  for _, o in ipairs {d, ws, fd, chat, wb, fa, fb, cb} do new_cleanup[#new_cleanup + 1] = function() o:close() end end

  local sels = {}
  for _, name in ipairs {"SelectSelector", "PollSelector", "EpollSelector"} do
    local sel = selectors[name]()
    sels[#sels + 1] = {class = name, objs = {sel}, py = "selectors." .. name .. "()"}
    new_cleanup[#new_cleanup + 1] = function() sel:close() end
  end
  local ka, kb = socket.socketpair()
  new_cleanup[#new_cleanup + 1] = function()
    ka:close()
    kb:close()
  end
  local key = sels[1].objs[1]:register(ka, selectors.EVENT_READ, "data")

  local ep = selectmod.epoll()
  new_cleanup[#new_cleanup + 1] = function() ep:close() end

  -- ssl's objects: a client context, an SSLSocket not connected yet (its
  -- fields exist before the handshake), an SSLObject and a MemoryBIO.
  local ctx = sslmod.SSLContext(sslmod.PROTOCOL_TLS_CLIENT)
  local plain = socket.socket()
  plain:settimeout(1) -- so that tls.timeout is a value, not nil
  local tls = ctx:wrap_socket(plain, {server_hostname = "localhost"})
  local tlsobj = ctx:wrap_bio(sslmod.MemoryBIO(), sslmod.MemoryBIO(), {server_hostname = "localhost"})
  new_cleanup[#new_cleanup + 1] = function() tls:close() end
  -- LuaSec's: a connection over a connected LuaSocket client, and a certificate.
  local lsrv = socket.bind("127.0.0.1", 0)
  local lip, lport = lsrv:getsockname()
  local conn = assert(sslmod.wrap(assert(socket.connect(lip, lport)), {mode = "client", protocol = "any"}))
  local pki = require("spec.support.pki")()
  local cert = assert(sslmod.loadcertificate(h.read_file(pki.server.cert)))
  new_cleanup[#new_cleanup + 1] = function()
    conn:close()
    lsrv:close()
  end

  local ip = ip_items()
  local function pick(...)
    local out = {}
    for i, name in ipairs {...} do out[i] = ip[name] end
    return out
  end

  prefixes = {
    poll = {items = {{class = "poll", objs = {selectmod.poll()}, py = "select.poll()"}}, names = index_names},
    epoll = {items = {{class = "epoll", objs = {ep}, py = "select.epoll()"}}, names = index_names,
             fields = {"closed"}},
    sel = {items = sels, names = chain_names},
    key = {items = {{class = "SelectorKey", objs = {key}, py = "selectors.SelectorKey(0, 0, 1, None)"}},
           names = chain_names},
    server = {items = servers, names = class_instance_names},
    handler = {items = {
      {class = "BaseRequestHandler", objs = {base}, py = "handler(socketserver.BaseRequestHandler)"},
      {class = "StreamRequestHandler", objs = {stream}, py = "handler(socketserver.StreamRequestHandler)"},
      {class = "DatagramRequestHandler", objs = {dgram}, py = "handler(socketserver.DatagramRequestHandler)"},
    }, names = class_instance_names},
    writer = {items = {{class = "_SocketWriter", objs = {stream.wfile}, py = "socketserver._SocketWriter(A)"}},
              names = class_instance_names},
    bio = {items = {{class = "BytesIO", objs = {socketserver.BytesIO("x")}, py = "io.BytesIO(b'x')"}},
           names = class_instance_names},
    disp = {items = {
      {class = "dispatcher", objs = {d}, py = "dispatcher()"},
      {class = "dispatcher_with_send", objs = {ws}, py = "asyncore.dispatcher_with_send(map={})"},
      {class = "file_dispatcher", objs = {fd}, py = "asyncore.file_dispatcher(A.fileno(), map={})"},
      {class = "async_chat", objs = {chat}, py = "chat()"},
    }, names = class_instance_names},
    wrapper = {items = {{class = "file_wrapper", objs = {fd.socket}, py = "asyncore.file_wrapper(A.fileno())"}},
               names = class_instance_names},
    chat = {items = {{class = "async_chat", objs = {chat}, py = "chat()"}}, names = class_instance_names},
    producer = {items = {{class = "simple_producer", objs = {asynchat.simple_producer("data")},
                          py = "asynchat.simple_producer(b'data')"}}, names = class_instance_names},
    dq = {items = {{class = "deque", objs = {asynchat.deque()}, py = "collections.deque()"}}, names = deque_names},
    x = {items = pick("IPv4Address", "IPv4Interface", "IPv4Network", "IPv6Address", "IPv6Interface", "IPv6Network"),
         names = ipaddress_names},
    addr = {items = pick("IPv4Address", "IPv4Interface", "IPv6Address", "IPv6Interface"), names = ipaddress_names},
    iface = {items = pick("IPv4Interface", "IPv6Interface"), names = ipaddress_names},
    net = {items = pick("IPv4Network", "IPv6Network"), names = ipaddress_names},
    it = {items = {{class = "generator", objs = {ipaddress.IPv4Network("192.0.2.0/30"):iter()}}}, names = index_names},
    r = {items = {
      {class = "ParseResult", objs = {parse.urlparse("http://u:p@h:1/p;x?q#f")},
       py = "urllib.parse.urlparse('http://u:p@h:1/p;x?q#f')"},
      {class = "SplitResult", objs = {parse.urlsplit("http://u:p@h:1/p?q#f")},
       py = "urllib.parse.urlsplit('http://u:p@h:1/p?q#f')"},
      {class = "DefragResult", objs = {parse.urldefrag("http://h/p#f")}, py = "urllib.parse.urldefrag('http://h/p#f')"},
    }, names = result_names},
    proc = {items = {{class = "Popen", objs = {proc},
                      py = "subprocess.Popen(['true'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, "
                        .. "stderr=subprocess.PIPE)"}}, names = chain_names},
    cp = {items = {{class = "CompletedProcess", objs = {subprocess.run({"true"}, {capture_output = true})},
                    py = "subprocess.run(['true'], capture_output=True)"}}, names = chain_names},
    ctx = {items = {{class = "SSLContext", objs = {ctx}, py = "ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)"}},
           names = ssl_names},
    tls = {items = {
      {class = "SSLSocket", objs = {tls}, py = "TLS"},
      {class = "SSLObject", objs = {tlsobj}, py = "TLSOBJ"},
    }, names = ssl_names},
    membio = {items = {{class = "MemoryBIO", objs = {sslmod.MemoryBIO()}, py = "ssl.MemoryBIO()"}},
              names = ssl_names, fields = {"pending", "eof"}},
    conn = {items = {{class = "SSL:Connection", objs = {conn}}}, names = index_names},
    x509 = {items = {{class = "X509 certificate", objs = {cert}}}, names = index_names},
    Class = {items = {{class = "object", objs = {class.object}}}, names = function(c)
      local out = {}
      for k, v in pairs(c) do add_name(out, k, v) end
      return out
    end},
  }
  for _, p in pairs(prefixes) do
    for _, item in ipairs(p.items) do item.isa = ancestry(item.objs[1]) end
  end
end

local function build_objects()
  local sock = socket.socket()
  sock:settimeout(1) -- so that sock.timeout is a value, not nil
  local a, b = socket.socketpair()
  local file = a:makefile("rwb")
  local handle = task.spawn(function() return true end)
  handle:join(5)
  cleanup = {sock, a, b}
  objects = {
    sock = {get = sock},
    file = {get = file},
    t = {get = handle},
    lock = {get = task.Lock()},
    rlock = {get = task.RLock()},
    sem = {get = task.Semaphore()},
    bsem = {get = task.BoundedSemaphore(), parent = "sem"},
    ev = {get = task.Event()},
    cond = {get = task.Condition()},
    q = {get = task.Queue()},
    lq = {get = task.LifoQueue(), parent = "q"},
    pq = {get = task.PriorityQueue(), parent = "q"},
    sq = {get = task.SimpleQueue(), parent = "q"},
    err = {get = errors.OSError(111, "Connection refused")},
    cls = {get = errors.OSError},
  }
  return file
end

local modules = {socket = socket, task = task, thread = thread, errors = errors, repr = repr,
                 select = selectmod, selectors = selectors, socketserver = socketserver, asyncore = asyncore,
                 asynchat = asynchat, ipaddress = ipaddress, parse = parse, binascii = binascii, errno = errno,
                 posix = posix, class = class, ssl = sslmod, subprocess = subprocess, signal = signalmod,
                 daemon = daemon}

-- The modules added after the first five, with the section documenting
-- each and the Python module its "same" names are looked up in.
local NEW_MODULES = {
  {prefix = "select", section = "select", py = "select"},
  {prefix = "selectors", section = "selectors", py = "selectors"},
  {prefix = "socketserver", section = "socketserver", py = "socketserver"},
  {prefix = "asyncore", section = "asyncore", py = "asyncore"},
  {prefix = "asynchat", section = "asynchat", py = "asynchat"},
  {prefix = "ipaddress", section = "ipaddress", py = "ipaddress"},
  {prefix = "parse", section = "urllib.parse", py = "urllib.parse"},
  {prefix = "ssl", section = "ssl", py = "ssl"},
  {prefix = "binascii", section = "binascii", py = "binascii"},
  {prefix = "errno", section = "errno", py = "errno"},
  {prefix = "signal", section = "signal", py = "signal"},
  {prefix = "posix", section = "moonsock.posix", py = "os"},
  {prefix = "subprocess", section = "subprocess", py = "subprocess"},
  -- python-systemd is Debian's python3's, not the reference python3's: no "same" lines
  {prefix = "daemon", section = "systemd.daemon"},
  {prefix = "class", section = "moonsock.class", py = "builtins"},
}

-- Where Python keeps the constants a section says are Python's: a Python
-- expression of n, the name. `names` says the section claims the same set
-- of names as the Python module, not only the same values.
local CONSTANTS_PY = {
  select = {expr = "getattr(select, n)", names = "select"},
  asyncore = {expr = "getattr(asyncore, n)"},
  errno = {expr = "getattr(errno, n)", names = "errno"},
  ssl = {expr = "int(getattr(ssl, n))"},
  posix = {expr = "getattr(signal if n.startswith('SIG') else os, n)"},
  signal = {expr = "int(getattr(signal, n))", names = "signal"},
}

-- Section titles: words only. Anything else is an API heading.
local SECTION_TITLES = {
  ["Module functions"] = true, ["Constants"] = true, ["Socket objects"] = true,
  ["Makefile objects"] = true, ["Addresses"] = true, ["Errors"] = true, ["Timeouts"] = true,
  ["Resolver functions"] = true, ["Task handles"] = true, ["Poll objects"] = true, ["Epoll objects"] = true,
  ["Selector objects"] = true, ["Selector keys"] = true, ["Servers"] = true, ["Request handlers"] = true,
  ["Writer objects"] = true, ["BytesIO objects"] = true, ["Dispatchers"] = true, ["File wrappers"] = true,
  ["Chat channels"] = true, ["Producers"] = true, ["Deques"] = true, ["Address and network objects"] = true,
  ["Iterators"] = true, ["Result objects"] = true, ["Context objects"] = true, ["SSLSocket objects"] = true,
  ["SSLObject and MemoryBIO objects"] = true,
  ["Popen objects"] = true, ["CompletedProcess objects"] = true, ["LuaSocket"] = true, ["LuaSec"] = true,
  ["Standard streams"] = true, ["LuaSec differences"] = true,
}

-- Parses "### prefix.name(args)" / "### prefix:name(args)" / "### cls(args)".
-- Returns an entry or nil, problem.
local function parse_heading(text)
  if text:match("^cls%(.*%)$") then return {prefix = "cls", sep = "()", name = nil, call = true} end
  local prefix, sep, name, rest = text:match("^([%a][%w_]*)([.:])([%a_][%w_]*)(.*)$")
  if not prefix then return nil, "not an API heading" end
  if rest ~= "" and not rest:match("^%(.*%)$") then return nil, "junk after the name" end
  if sep == ":" and rest == "" then return nil, "a method heading needs its (arguments)" end
  return {prefix = prefix, sep = sep, name = name, call = rest ~= ""}
end

local doc, headings, bad_headings, titles, sections, section_text

local function load_doc()
  doc = read_doc()
  headings, bad_headings, titles, sections, section_text = {}, {}, {}, {}, {}
  local lines = prose_lines(doc)
  local current, section
  for _, l in ipairs(lines) do
    local text = l.text:match("^### (.+)$")
    local top = l.text:match("^## (.+)$")
    if top then
      sections[#sections + 1] = top
      section = {}
      section_text[top] = section
    elseif section then
      section[#section + 1] = l.text
    end
    if text or top then current = nil end
    if text then
      text = text:gsub("%s+$", "")
      if SECTION_TITLES[text] then
        titles[text] = true
      elseif text:match("^[%a ]+$") then
        bad_headings[#bad_headings + 1] = l.n .. ": unknown section title '" .. text .. "'"
      else
        local e, why = parse_heading(text)
        if e then
          e.text, e.line, e.body, e.section = text, l.n, {}, sections[#sections]
          headings[#headings + 1] = e
          current = e
        else
          bad_headings[#bad_headings + 1] = l.n .. ": " .. why .. ": '" .. text .. "'"
        end
      end
    elseif current then
      table.insert(current.body, l.text)
      -- "On: `A`, `B`": the classes (and subclasses) the entry is about.
      local on = l.text:match("^On: (.*)$")
      if on then
        current.on = {}
        for name in on:gmatch("`([%w_]+)`") do current.on[#current.on + 1] = name end
      end
    end
  end
  for title, body in pairs(section_text) do section_text[title] = table.concat(body, "\n") .. "\n" end
end

-- The names in a section's "Prefixes:" paragraph: `P*` (or, for socket's,
-- `P_`) stands for every constant starting with P, anything else for one
-- name. Returns a list of {text =, match = function(name)}.
local function constant_prefixes(title)
  local para = (section_text[title] or ""):match("\nPrefixes:(.-)\n\n")
  if not para then return nil end
  local out = {}
  for p in para:gmatch("`([%w_]+%*?)`") do
    local stem = p:gsub("%*$", "")
    local by_prefix = p:find("%*$") or p:find("_$")
    out[#out + 1] = {text = p, match = function(name)
      if by_prefix then return name:sub(1, #stem) == stem end
      return name == stem
    end}
  end
  return out
end

-- The items of prefix p a heading applies to: all, or those whose class or
-- an ancestor is named on its On: line.
local function applicable(e)
  local p = prefixes[e.prefix]
  if not e.on then return p.items end
  local out = {}
  for _, item in ipairs(p.items) do
    for _, name in ipairs(e.on) do
      if item.isa[name] then
        out[#out + 1] = item
        break
      end
    end
  end
  return out
end

-- Does obj have the name, as the kind of thing the heading says? A
-- property that raises (exploded of a scoped IPv6 address) exists.
local function has_name(obj, name, sep)
  local ok, v = pcall(function() return obj[name] end)
  if not ok then return sep == "." end
  if sep == ":" then return type(v) == "function" end
  return v ~= nil and type(v) ~= "function"
end

-- documented["socket.getaddrinfo"], documented["sock:recv"], documented["cls()"]
local function documented_set()
  local set = {}
  for _, e in ipairs(headings) do
    set[e.prefix .. e.sep .. (e.name or "")] = e
  end
  return set
end

-- Does the thing a heading names exist, as the kind of thing it says?
local function check_exists(e)
  local mod = modules[e.prefix]
  if mod then
    local v = mod[e.name]
    if v == nil then return "no such field in " .. e.prefix end
    if e.sep == ":" then return "module functions are written " .. e.prefix .. "." .. e.name .. "(...)" end
    if e.call and not callable(v) then return "not a function" end
    return nil
  end
  local p = prefixes[e.prefix]
  if p then
    if e.sep == "()" then return "an object prefix takes .name or :name(...)" end
    local items = applicable(e)
    if #items == 0 then return "On: names no class of '" .. e.prefix .. "'" end
    if e.sep == "." and not e.call and NILABLE[e.prefix .. "." .. e.name] then
      for _, item in ipairs(items) do
        for _, obj in ipairs(item.objs) do
          if has_name(obj, e.name, ":") then return "a method, written " .. e.prefix .. ":" .. e.name .. "(...)" end
        end
      end
      return nil
    end
    for _, item in ipairs(items) do
      local found = false
      for _, obj in ipairs(item.objs) do
        if has_name(obj, e.name, e.sep) then found = true end
      end
      if not found then
        return (e.sep == ":" and "no such method" or "no such field") .. " on " .. item.class
      end
    end
    return nil
  end
  if e.on then return "an On: line, but " .. e.prefix .. " has a single class" end
  local o = objects[e.prefix]
  if not o then return "unknown prefix '" .. e.prefix .. "'" end
  if e.prefix == "cls" and e.sep == "()" then
    if not callable(o.get) then return "error classes are not callable" end
    return nil
  end
  local ok, v = pcall(function() return o.get[e.name] end)
  if not ok then return "indexing failed: " .. tostring(v) end
  if e.sep == ":" then
    if type(v) ~= "function" then return "no such method" end
    if e.prefix == "sock" and require("moonsock.core.socket").methods[e.name] ~= v then
      return "not a socket method"
    end
  else
    if v == nil then return "no such field" end
    if type(v) == "function" then return "a method, written " .. e.prefix .. ":" .. e.name .. "(...)" end
  end
  return nil
end

describe("docs/api.md", function()
  local file

  setup(function()
    load_doc()
    file = build_objects()
    build_prefixes()
  end)

  teardown(function()
    if file and not file.closed then file:close() end
    for _, s in ipairs(cleanup) do s:close() end
    for _, f in ipairs(new_cleanup) do pcall(f) end
  end)

  it("has the sections in the order of the brief", function()
    local want = {"The task model", "socket", "task", "Synchronisation objects", "thread",
                  "select", "selectors", "socketserver", "asyncore", "asynchat", "ipaddress", "urllib.parse",
                  "ssl", "binascii", "errno", "signal", "moonsock.posix", "subprocess", "systemd.daemon",
                  "moonsock.class", "repl",
                  "Command line", "moonsock.errors", "moonsock.repr"}
    assert.are.same(want, sections)
    local missing = {}
    for title in pairs(SECTION_TITLES) do
      if not titles[title] then missing[#missing + 1] = title end
    end
    assert.are.same({}, sorted(missing))
    -- Python's `except` written the Lua way, and the statuses of the command line.
    assert.truthy(doc:find("socket.gaierror:matches(err)", 1, true))
    for _, status in ipairs {"0", "1", "130"} do
      assert.truthy(doc:find("\n%- " .. status .. ":"), "exit status " .. status .. " undocumented")
    end
  end)

  it("has only headings it can parse", function()
    assert.is_true(#headings > 100, "only " .. #headings .. " API headings found")
    assert.are.same({}, bad_headings)
  end)

  it("names only functions, methods and fields that exist", function()
    local wrong = {}
    for _, e in ipairs(headings) do
      local why = check_exists(e)
      if why then wrong[#wrong + 1] = e.line .. ": " .. e.text .. ": " .. why end
    end
    assert.are.same({}, wrong)
  end)

  it("documents each name once, with a Python: line", function()
    local seen, wrong = {}, {}
    for _, e in ipairs(headings) do
      local key = e.prefix .. e.sep .. (e.name or "")
      if seen[key] then wrong[#wrong + 1] = e.line .. ": " .. e.text .. ": documented twice" end
      seen[key] = true
      local has_python = false
      for _, l in ipairs(e.body) do
        if l:match("^Python: ") then has_python = true end
      end
      if not has_python then wrong[#wrong + 1] = e.line .. ": " .. e.text .. ": no 'Python:' line" end
    end
    assert.are.same({}, wrong)
  end)

  it("documents every public name of socket, task, thread and moonsock.repr", function()
    local set, missing = documented_set(), {}
    for prefix, mod in pairs {socket = socket, task = task, thread = thread, repr = repr} do
      for k, v in pairs(mod) do
        if public(k) and not (prefix == "socket" and is_constant(k, v)) then
          if not set[prefix .. "." .. k] then missing[#missing + 1] = prefix .. "." .. k end
        end
      end
    end
    assert.are.same({}, sorted(missing))
  end)

  it("names the prefix of every socket constant, and no prefix without one", function()
    local stems, used = constant_prefixes("socket"), {}
    assert.is_table(stems, "no 'Prefixes:' paragraph")
    assert.is_true(#stems > 10)
    local unnamed, count = {}, 0
    for k, v in pairs(socket) do
      if is_constant(k, v) then
        count = count + 1
        local found = false
        for _, p in ipairs(stems) do
          if p.match(k) then
            found = true
            used[p.text] = true
          end
        end
        if not found then unnamed[#unnamed + 1] = k end
      end
    end
    assert.is_true(count > 300, "only " .. count .. " constants")
    assert.are.same({}, sorted(unnamed))
    local stale = {}
    for _, p in ipairs(stems) do
      if not used[p.text] then stale[#stale + 1] = p.text end
    end
    assert.are.same({}, stale)
  end)

  it("documents every socket method and field, and every task handle method", function()
    local set, missing = documented_set(), {}
    for k in pairs(require("moonsock.core.socket").methods) do
      if public(k) and not set["sock:" .. k] then missing[#missing + 1] = "sock:" .. k end
    end
    -- The fields come from the C __index (src/socket.c sock_index): Lua cannot
    -- list a userdata's fields, so they are named here.
    for _, k in ipairs {"family", "type", "proto", "timeout"} do
      if not set["sock." .. k] then missing[#missing + 1] = "sock." .. k end
    end
    for k in pairs(require("moonsock.core.task").methods) do
      if public(k) and not set["t:" .. k] then missing[#missing + 1] = "t:" .. k end
    end
    assert.are.same({}, sorted(missing))
  end)

  it("documents every method of makefile and synchronisation objects", function()
    local set, missing = documented_set(), {}
    for prefix, o in pairs(objects) do
      if prefix ~= "sock" and prefix ~= "t" and prefix ~= "err" and prefix ~= "cls" then
        for _, k in ipairs(class_methods(o.get)) do
          local here = set[prefix .. ":" .. k]
          local inherited = o.parent and set[o.parent .. ":" .. k]
          if not here and not inherited then missing[#missing + 1] = prefix .. ":" .. k end
        end
      end
    end
    assert.are.same({}, sorted(missing))
  end)

  it("documents moonsock.errors: its functions and aliases, and every class in the tree", function()
    -- Modules define their classes when they load: load them all, so the
    -- answer does not depend on which specs ran before.
    for _, m in ipairs {"socket", "task", "thread", "select", "selectors", "socketserver", "asyncore",
                        "asynchat", "ipaddress", "urllib.parse", "binascii", "errno", "signal", "moonsock.posix",
                        "moonsock.makefile", "ssl"} do
      require(m)
    end
    local set, missing = documented_set(), {}
    local tree = doc:match("\n## moonsock%.errors\n.-\n```\n(.-)\n```")
    assert.is_string(tree, "no class tree under ## moonsock.errors")
    local in_tree = {}
    for name in tree:gmatch("([%a_][%w_%.]*)") do in_tree[name] = true end
    for k, v in pairs(errors) do
      if public(k) then
        local is_class = type(v) == "table" and rawget(v, "__name") == k
        if is_class then
          if not in_tree[k] then missing[#missing + 1] = "class " .. k .. " not in the tree" end
        elseif not set["errors." .. k] then
          missing[#missing + 1] = "errors." .. k
        end
      end
    end
    -- The tree has no class moonsock lacks.
    for name in pairs(in_tree) do
      if name ~= "alias" and name ~= "error" and name ~= "timeout"
          and not (type(errors[name]) == "table" and rawget(errors[name], "__name") == name) then
        missing[#missing + 1] = "tree names " .. name .. ", which errors lacks"
      end
    end
    for _, k in ipairs {"err.errno", "err.strerror", "err.args", "err:isinstance", "cls:matches", "cls()"} do
      if not set[k] then missing[#missing + 1] = k end
    end
    assert.are.same({}, sorted(missing))
  end)

  it("calls the socket names 'same' as Python only where python3's socket module has them", function()
    -- Each documented module function or socket method whose Python line
    -- starts "Python: same" must exist in Python under that name, and each
    -- method the doc says is not provided must be in Python and not here.
    local funcs, meths = {}, {}
    for _, e in ipairs(headings) do
      local same = false
      for _, l in ipairs(e.body) do
        if l:match("^Python: same") then same = true end
      end
      if same and e.prefix == "socket" then funcs[#funcs + 1] = e.name end
      if same and e.prefix == "sock" then meths[#meths + 1] = e.name end
    end
    local absent = {}
    local para = section_text.socket:match("\nNot provided:(.-)\n\n")
    assert.is_string(para, "no 'Not provided:' paragraph")
    for name in para:gmatch("`([%w_]+)`") do
      absent[#absent + 1] = name
      assert.is_nil(socket.socket()[name], name .. " is said to be missing but exists")
    end
    assert.is_true(#funcs > 20 and #meths > 20)
    local code = "import socket\ns = socket.socket()\n"
      .. "for n in " .. "'" .. table.concat(funcs, " ") .. "'.split():\n"
      .. "    print('socket.' + n, hasattr(socket, n))\n"
      .. "for n in " .. "'" .. table.concat(meths, " ") .. " " .. table.concat(absent, " ") .. "'.split():\n"
      .. "    print('sock:' + n, hasattr(s, n))\n"
    local out = h.python(code)
    local lacking = {}
    for name, has in out:gmatch("(%S+) (%a+)\n") do
      if has ~= "True" then lacking[#lacking + 1] = name end
    end
    assert.are.same({}, lacking)
    local lines = select(2, out:gsub("\n", ""))
    assert.are.equal(#funcs + #meths + #absent, lines)
  end)

  it("documents every public name of the modules added since, constants by heading or prefix", function()
    local set, missing = documented_set(), {}
    for _, m in ipairs(NEW_MODULES) do
      local stems = constant_prefixes(m.section) or {}
      for k, v in pairs(modules[m.prefix]) do
        if public(k) and not set[m.prefix .. "." .. k] then
          local covered = false
          if is_constant(k, v) then
            for _, p in ipairs(stems) do
              if p.match(k) then covered = true end
            end
          end
          if not covered then missing[#missing + 1] = m.prefix .. "." .. k end
        end
      end
    end
    assert.are.same({}, sorted(missing))
  end)

  it("documents every method and field of their objects, for each class", function()
    -- A name on an object is documented if a heading of a prefix that
    -- holds the object applies to its class (ipaddress objects are under
    -- x, addr, iface and net; an async_chat under disp and chat).
    local by_name = {}
    for _, e in ipairs(headings) do
      if prefixes[e.prefix] and e.name then
        by_name[e.name] = by_name[e.name] or {}
        table.insert(by_name[e.name], e)
      end
    end
    local missing, seen = {}, {}
    for prefix, p in pairs(prefixes) do
      for _, item in ipairs(p.items) do
        local names = {}
        for _, obj in ipairs(item.objs) do
          for k, kind in pairs(p.names(obj)) do names[k] = kind end
        end
        for _, k in ipairs(p.fields or {}) do names[k] = "field" end
        for k, kind in pairs(names) do
          local covered = false
          for _, e in ipairs(by_name[k] or {}) do
            if (e.sep == ":") == (kind == "method") then
              for _, other in ipairs(applicable(e)) do
                if other.objs[1] == item.objs[1] then covered = true end
              end
            end
          end
          local what = prefix .. (kind == "method" and ":" or ".") .. k .. " (" .. item.class .. ")"
          if not covered and not seen[item.class .. k] then
            seen[item.class .. k] = true
            missing[#missing + 1] = what
          end
        end
      end
    end
    assert.are.same({}, sorted(missing))
  end)

  it("gives the constants of select, asyncore, errno and moonsock.posix by prefix, with Python's values", function()
    local requests, lines = {}, {}
    for _, m in ipairs(NEW_MODULES) do
      local stems = constant_prefixes(m.section)
      if stems then
        local spec = CONSTANTS_PY[m.prefix]
        assert.is_table(spec, m.section .. " has a Prefixes: paragraph but no Python module to check it")
        assert.truthy(section_text[m.section]:find("\nPython: same"), m.section .. ": no 'Python: same' line")
        local used = {}
        for k, v in pairs(modules[m.prefix]) do
          if is_constant(k, v) then
            for _, p in ipairs(stems) do
              if p.match(k) then used[p.text] = true end
            end
            requests[#requests + 1] = {module = m.prefix, name = k, value = v, expr = spec.expr}
          end
        end
        for _, p in ipairs(stems) do
          assert.truthy(used[p.text], m.section .. ": the prefix " .. p.text .. " names no constant")
        end
        if spec.names then
          -- The same set of names: Python's that match a prefix, and ours.
          local code = "import " .. spec.names .. "\n"
            .. "for n in sorted(dir(" .. spec.names .. ")):\n    print(n)\n"
          local want = {}
          for name in h.python(code):gmatch("[^\n]+") do
            for _, p in ipairs(stems) do
              if p.match(name) and name:match("^[A-Z][A-Z0-9_]*$") then want[#want + 1] = name break end
            end
          end
          local have = {}
          for k, v in pairs(modules[m.prefix]) do
            if is_constant(k, v) then have[#have + 1] = k end
          end
          assert.are.same(sorted(want), sorted(have))
        end
      end
    end
    assert.is_true(#requests > 100)
    local code = {"import warnings\nwarnings.simplefilter('ignore')\nimport select, asyncore, errno, os, signal, ssl"}
    for i, r in ipairs(requests) do
      code[#code + 1] = ("n = %q\nprint(%d, %s)"):format(r.name, i, r.expr)
    end
    local out = h.python(table.concat(code, "\n") .. "\n")
    for i, v in out:gmatch("(%d+) (%-?%d+)\n") do
      local r = requests[tonumber(i)]
      if math.tointeger(tonumber(v)) ~= r.value then
        lines[#lines + 1] = r.module .. "." .. r.name .. " is " .. r.value .. ", Python's " .. v
      end
    end
    assert.are.same({}, lines)
    assert.are.equal(#requests, select(2, out:gsub("\n", "")))
  end)

  it("calls names 'same' as Python only where Python has them, on an instance of each class", function()
    local pymod = {}
    for _, m in ipairs(NEW_MODULES) do pymod[m.prefix] = m.py end
    -- Each Python object is made once (a Unix server binds a path).
    local checks, code, made = {}, {PY_PRELUDE}, {}
    local function check(what, pyexpr, name)
      if not made[pyexpr] then
        made[pyexpr] = "O" .. (#code)
        code[#code + 1] = made[pyexpr] .. " = " .. pyexpr
      end
      checks[#checks + 1] = what
      code[#code + 1] = ("print(%d, has(%s, %q))"):format(#checks, made[pyexpr], name)
    end
    for _, e in ipairs(headings) do
      local same = false
      for _, l in ipairs(e.body) do
        if l:match("^Python: same") then same = true end
      end
      if same and pymod[e.prefix] then
        check(e.text, pymod[e.prefix], e.name)
      elseif same and prefixes[e.prefix] then
        local pys = {}
        for _, item in ipairs(applicable(e)) do
          if item.py then pys[#pys + 1] = item.py end
        end
        assert.is_true(#pys > 0, e.text .. ": 'same', but no class of it has a Python counterpart")
        -- A field that is nil on some instances (Python's None or no
        -- attribute yet) need only be on one, as on the Lua side.
        if NILABLE[e.prefix .. "." .. e.name] then pys = {pys[1]} end
        for _, py in ipairs(pys) do check(e.text .. " on " .. py, py, e.name) end
      end
    end
    assert.is_true(#checks > 300, "only " .. #checks .. " checks")
    code[#code + 1] = "shutil.rmtree(TMP)"
    local out = h.python(table.concat(code, "\n") .. "\n")
    local lacking, answered = {}, 0
    for i, has in out:gmatch("(%d+) (%a+)\n") do
      answered = answered + 1
      if has ~= "True" then lacking[#lacking + 1] = checks[tonumber(i)] end
    end
    assert.are.same({}, lacking)
    assert.are.equal(#checks, answered)
  end)

  it("says 'Not provided' only of what Python has and moonsock lacks", function()
    local code, names, count = {PY_PRELUDE}, {}, 0
    for _, m in ipairs(NEW_MODULES) do
      local para = section_text[m.section]:match("\nNot provided:(.-)\n\n")
      for prefix, sep, name in (para or ""):gmatch("`([%w_]+)([.:])([%w_]+)`") do
        local p = prefixes[prefix]
        assert.is_table(p, "Not provided: unknown prefix " .. prefix)
        local pys = {}
        for _, item in ipairs(p.items) do
          for _, obj in ipairs(item.objs) do
            assert.is_nil(obj[name], prefix .. sep .. name .. " is said to be missing but exists")
          end
          if item.py then pys[#pys + 1] = ("has(%s, %q)"):format(item.py, name) end
        end
        assert.is_true(#pys > 0, prefix .. " has no Python counterpart")
        count = count + 1
        names[count] = prefix .. sep .. name
        code[#code + 1] = ("print(%d, any([%s]))"):format(count, table.concat(pys, ", "))
      end
    end
    assert.is_true(count >= 3)
    code[#code + 1] = "shutil.rmtree(TMP)"
    local out = h.python(table.concat(code, "\n") .. "\n")
    local lacking = {}
    for i, has in out:gmatch("(%d+) (%a+)\n") do
      if has ~= "True" then lacking[#lacking + 1] = names[tonumber(i)] end
    end
    assert.are.same({}, lacking)
    assert.are.equal(count, select(2, out:gsub("\n", "")))
  end)
end)
