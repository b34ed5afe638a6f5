-- Differential tests of socket's resolver functions (src/resolver.c) against
-- CPython 3 on this machine. Each case is written once, as a function name
-- and its arguments; the same call is made in Lua and, through one python3
-- process for the whole file, in Python, and the two outcomes must agree:
-- the same values (in the same order), or the same error class, errno and
-- str(exc). Python's TypeError/ValueError/OverflowError/UnicodeError about an
-- argument must be a Lua "bad argument #n" error, carrying Python's text
-- where moonsock mirrors it.
--
-- Run: bin/moonsock /usr/bin/busted spec/resolver_spec.lua
local socket = require "socket"

-- ---- building both calls from one description ----

local Bytes = {}
-- B(s): a Lua string that Python must receive as bytes (packed addresses).
local function B(s) return setmetatable({s}, Bytes) end

local function pystr(s)
  return "'" .. (s:gsub("[^%w%.%-_:%%<> ]", function(c)
    return string.format("\\x%02x", c:byte())
  end)) .. "'"
end

local function pylit(v)
  if v == nil then return "None" end
  local t = type(v)
  if t == "number" then return string.format("%d", v) end
  if t == "string" then return pystr(v) end
  if getmetatable(v) == Bytes then return "b" .. pystr(v[1]) end
  assert(t == "table", "unsupported literal")
  local parts = {}
  for i = 1, #v do parts[i] = pylit(v[i]) end
  if #v == 1 then return "(" .. parts[1] .. ",)" end
  return "(" .. table.concat(parts, ", ") .. ")"
end

local function luaarg(v)
  if type(v) == "table" and getmetatable(v) == Bytes then return v[1] end
  return v
end

-- Copies a result without metatables, so tuples/lists compare as plain data.
local function plain(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = plain(x) end
  return t
end

local cases = {}

-- case(fn, args..., opts): opts.multi when Python returns a tuple that Lua
-- returns as several values; opts.arg, the argument a Lua argument error must
-- name; opts.text = false when the Lua argument error's text is Lua's own;
-- opts.errclass_only when only the error class can be compared; opts.keep,
-- how many leading arguments Python gets even when nil (None);
-- opts.py replaces the Python expression.
local function case(fn, ...)
  local args = table.pack(...)
  local opts = {}
  if args.n > 0 and type(args[args.n]) == "table" and getmetatable(args[args.n]) == nil
     and args[args.n].opts then
    opts = args[args.n]
    args.n = args.n - 1
  end
  local last = args.n
  while last > (opts.keep or 0) and args[last] == nil do last = last - 1 end
  local parts = {}
  for i = 1, last do parts[i] = pylit(args[i]) end
  local c = {
    fn = fn, opts = opts,
    py = opts.py or ("socket." .. fn .. "(" .. table.concat(parts, ", ") .. ")"),
    call = function()
      local a = {}
      for i = 1, args.n do a[i] = luaarg(args[i]) end
      return socket[fn](table.unpack(a, 1, args.n))
    end,
  }
  cases[#cases + 1] = c
  return c
end

local function O(t) t.opts = true; return t end

-- ---- Python side: one process evaluates every case ----

local PY = [[
import socket, sys
def lua(v):
    if v is None: return 'nil'
    if isinstance(v, bool): return 'true' if v else 'false'
    if isinstance(v, int): return str(int(v))
    if isinstance(v, str): v = v.encode('utf-8', 'surrogateescape')
    if isinstance(v, (bytes, bytearray)):
        return '"' + ''.join(chr(b) if 32 <= b < 127 and b not in (34, 92) else '\\%03d' % b for b in v) + '"'
    if isinstance(v, (list, tuple)):
        return '{' + ', '.join(lua(x) for x in v) + '}'
    raise TypeError(type(v))
def plainrepr(v):
    if isinstance(v, tuple): return tuple(plainrepr(x) for x in v)
    if isinstance(v, list): return [plainrepr(x) for x in v]
    if isinstance(v, int): return int(v)
    return v
out = ['return {']
for line in open(sys.argv[1], encoding='latin-1'):
    expr = line.rstrip('\n')
    try:
        r = eval(expr, {'socket': socket})
        out.append('{ok=true, value=%s, repr=%s},' % (lua(r), lua(repr(plainrepr(r)))))
    except Exception as e:
        base = ('gaierror' if isinstance(e, socket.gaierror) else
                'herror' if isinstance(e, socket.herror) else
                'OSError' if isinstance(e, OSError) else type(e).__name__)
        errno = e.errno if isinstance(e, OSError) else None
        out.append('{ok=false, cls=%s, base=%s, errno=%s, str=%s},' %
                   (lua(type(e).__name__), lua(base), lua(errno), lua(str(e))))
out.append('}')
print('\n'.join(out))
]]

-- Runs exprs (a list of Python expressions) in one python3 process.
local function python(exprs)
  local script, input = os.tmpname(), os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(PY)
  f:close()
  f = assert(io.open(input, "w"))
  for _, e in ipairs(exprs) do
    assert(not e:find("\n"), "one line per expression")
    f:write(e, "\n")
  end
  f:close()
  local p = assert(io.popen("python3 " .. script .. " " .. input))
  local text = p:read("a")
  p:close()
  os.remove(script)
  os.remove(input)
  local results = assert(load(text, "=python", "t", {}))()
  assert(#results == #exprs, "python answered " .. #results .. " of " .. #exprs)
  return results
end

-- Busted runs each describe body just before its tests, so cases arrive in
-- groups: the first lookup of a case evaluates every case not yet evaluated.
local evaluated = 0
local function py_of(c)
  if not c.result then
    local exprs = {}
    for i = evaluated + 1, #cases do exprs[#exprs + 1] = cases[i].py end
    for i, r in ipairs(python(exprs)) do cases[evaluated + i].result = r end
    evaluated = #cases
  end
  return assert(c.result, "case never evaluated")
end

local pyclass = {gaierror = socket.gaierror, herror = socket.herror, OSError = socket.error}

-- Asserts that the Lua call and the Python call agree.
local function agree(c)
  local want = py_of(c)
  local got = table.pack(pcall(c.call))
  if want.ok then
    assert(got[1], "Lua failed where Python returned " .. want.repr .. ": " .. tostring(got[2]))
    if c.opts.multi then
      assert.same(want.value, plain({table.unpack(got, 2, got.n)}))
    else
      assert.equal(2, got.n, "one result expected")
      assert.same(want.value, plain(got[2]))
    end
    return got
  end
  assert.is_false(got[1], "Lua succeeded where Python raised " .. want.cls .. ": " .. want.str)
  local err = got[2]
  local cls = pyclass[want.base]
  if cls then
    assert.is_table(err, "an error object expected, got " .. tostring(err))
    assert.is_true(cls:matches(err), "expected " .. want.cls .. ", got " .. tostring(err))
    if want.base ~= "gaierror" then assert.is_false(socket.gaierror:matches(err)) end
    if want.base ~= "herror" then assert.is_false(socket.herror:matches(err)) end
    if c.opts.errclass_only then return got end
    assert.equal(want.cls, getmetatable(err).__name)
    assert.equal(want.errno, err.errno)
    assert.equal(want.str, tostring(err))
  else
    -- TypeError / ValueError / OverflowError / UnicodeError: an argument error
    assert.is_string(err, "an argument error expected, got " .. tostring(err))
    local n = c.opts.arg or 1
    assert.truthy(err:find("bad argument #" .. n .. " ", 1, true), err)
    if c.opts.text ~= false then
      assert.truthy(err:find(want.str, 1, true),
                    "expected Python's text '" .. want.str .. "' in: " .. err)
    end
  end
  return got
end

-- Declares an `it` per case.
local function check(c)
  it(c.py, function() agree(c) end)
end

-- ---- this machine's facts, from Python ----

local facts = python {
  "socket.gethostname()",
  "[s for s in ('http','https','ftp','smtp','imap','imaps','pop3','pop3s','gopher') " ..
    "if __import__('subprocess').run(['getent','services',s],capture_output=True).returncode==0]",
}
local HOST = facts[1].value
local SERVICES = facts[2].value

local AF_INET, AF_INET6, AF_UNSPEC = socket.AF_INET, socket.AF_INET6, socket.AF_UNSPEC
local SOCK_STREAM, SOCK_DGRAM = socket.SOCK_STREAM, socket.SOCK_DGRAM

describe("resolver (differential against CPython)", function()
  it("knows this machine's services and host name", function()
    assert.is_string(HOST)
    assert.truthy(#SERVICES > 0, "no services found in /etc/services")
  end)

  describe("gethostname", function()
    check(case("gethostname"))
    it("takes no network: the value is the kernel's", function()
      local f = io.open("/proc/sys/kernel/hostname")
      if f then
        local k = f:read("l")
        f:close()
        assert.equal(k, socket.gethostname())
      else
        assert.equal(HOST, socket.gethostname())
      end
    end)
  end)

  describe("gethostbyname", function()
    for _, h in ipairs {"localhost", HOST, "127.0.0.1", "", "<broadcast>", "255.255.255.255",
                        "0.0.0.0", "::1", "nosuchname.invalid", "www.python.org", "1.2.3",
                        "0x7f.1", "localhost.", "LOCALHOST"} do
      check(case("gethostbyname", h))
    end
    check(case("gethostbyname", "a..b"))
    check(case("gethostbyname", ".localhost"))
    check(case("gethostbyname", "x." .. ("a"):rep(64)))
    check(case("gethostbyname", ("a"):rep(64) .. ".x"))
    check(case("gethostbyname", "local\0host", O {text = false}))
    check(case("gethostbyname", nil, O {text = false}))
  end)

  describe("gethostbyname_ex", function()
    for _, h in ipairs {"localhost", HOST, "127.0.0.1", "0.0.0.0", "255.255.255.255", "::1",
                        "nosuchname.invalid", "www.python.org", ""} do
      check(case("gethostbyname_ex", h, O {multi = true}))
    end
    -- glibc leaves h_errno stale for "<broadcast>", so CPython's errno for it
    -- depends on earlier calls: only the class is comparable.
    check(case("gethostbyname_ex", "<broadcast>", O {errclass_only = true}))
    check(case("gethostbyname_ex", "a..b"))
    check(case("gethostbyname_ex", {}, O {text = false}))

    local c = case("gethostbyname_ex", "localhost",
      O {multi = true, py = "repr(socket.gethostbyname_ex('localhost')[1:])"})
    it("returns lists that print like Python's", function()
      local want = py_of(c)
      local _, aliases, addrs = socket.gethostbyname_ex("localhost")
      assert.equal(want.value, "(" .. tostring(aliases) .. ", " .. tostring(addrs) .. ")")
    end)
  end)

  describe("gethostbyaddr", function()
    for _, h in ipairs {"127.0.0.1", "localhost", HOST, "::1", "127.0.0.2", "10.1.2.3", "",
                        "nosuchname.invalid", "<broadcast>", "255.255.255.255", "0.0.0.0",
                        "::"} do
      check(case("gethostbyaddr", h, O {multi = true}))
    end
    check(case("gethostbyaddr", "a..b"))
    check(case("gethostbyaddr", "127.0.0.1\0", O {text = false}))
  end)

  describe("getfqdn", function()
    check(case("getfqdn"))
    for _, h in ipairs {"", "localhost", "127.0.0.1", "0.0.0.0", "::", "::1", HOST,
                        "  localhost \t", "\x1c127.0.0.1\r\n", "nosuchname.invalid",
                        "localhost.", "10.1.2.3"} do
      check(case("getfqdn", h))
    end
    check(case("getfqdn", "a..b"))
    check(case("getfqdn", "  .x  "))
  end)

  describe("getaddrinfo", function()
    local calls = {
      {"localhost", 80}, {"localhost", "80"}, {nil, "http"}, {"::1", "443", AF_INET6},
      {"127.0.0.1", "https", AF_INET, SOCK_STREAM}, {"localhost", nil}, {nil, nil},
      {"localhost", "nosuchservice"}, {"localhost", 80, 12345}, {"localhost", 80, 0, 12345},
      {"localhost", 70000}, {"localhost", -1}, {"localhost", 80, 0, 0, 0, socket.AI_CANONNAME},
      {nil, 0, AF_UNSPEC, SOCK_STREAM, 0, socket.AI_PASSIVE},
      {nil, 8080, AF_INET6, SOCK_DGRAM, 0, socket.AI_PASSIVE},
      {"localhost", 80, 0, 0, 0, socket.AI_NUMERICHOST},
      {"127.0.0.1", "http", 0, 0, 0, socket.AI_NUMERICSERV},
      {"nosuchname.invalid", 80}, {"www.python.org", 443}, {HOST, 22},
      {"::1", 0, AF_INET}, {"127.0.0.1", 0, AF_INET6}, {"localhost", 0, AF_INET6},
      {"localhost", 53, 0, SOCK_DGRAM}, {"localhost", 80, 0, 0, socket.IPPROTO_UDP},
      {"localhost", 80, 0, SOCK_DGRAM, socket.IPPROTO_TCP},
      {"fe80::1%lo", 80, AF_INET6}, {"local\0host", 80}, {"localhost", "ht\0tp"},
      {"", 80}, {"0x7f.1", 80},
    }
    for _, a in ipairs(calls) do
      check(case("getaddrinfo", a[1], a[2], a[3], a[4], a[5], a[6], O {keep = 2}))
    end
    for _, s in ipairs(SERVICES) do
      check(case("getaddrinfo", "localhost", s))
      check(case("getaddrinfo", "::1", s, AF_INET6, SOCK_STREAM))
    end
    check(case("getaddrinfo", "a..b", 80))
    check(case("getaddrinfo", "localhost", 80, (1 << 31), O {arg = 3}))
    check(case("getaddrinfo", "localhost", 80, 0, -(1 << 31) - 1, O {arg = 4}))

    local c4 = case("getaddrinfo", "127.0.0.1", 80, AF_INET, SOCK_STREAM,
                    O {py = "repr(socket.getaddrinfo('127.0.0.1', 80, socket.AF_INET, socket.SOCK_STREAM)[0][4])"})
    local c6 = case("getaddrinfo", "::1", 80, AF_INET6, SOCK_STREAM,
                    O {py = "repr(socket.getaddrinfo('::1', 80, socket.AF_INET6, socket.SOCK_STREAM)[0][4])"})
    it("returns sockaddrs that print like Python's tuples", function()
      local r4 = socket.getaddrinfo("127.0.0.1", 80, AF_INET, SOCK_STREAM)
      assert.equal(py_of(c4).value, tostring(r4[1][5]))
      local r6 = socket.getaddrinfo("::1", 80, AF_INET6, SOCK_STREAM)
      assert.equal(py_of(c6).value, tostring(r6[1][5]))
    end)

    local cn = case("getaddrinfo", "localhost", 80,
      O {py = "socket.getnameinfo(socket.getaddrinfo('localhost', 80)[0][4], 0)"})
    it("returns sockaddrs that getnameinfo takes back", function()
      local r = socket.getaddrinfo("localhost", 80)
      assert.same(py_of(cn).value, {socket.getnameinfo(r[1][5], 0)})
    end)

    it("rejects a host that is neither string nor nil, naming argument 1", function()
      local ok, err = pcall(socket.getaddrinfo, 127, 80)
      assert.is_false(ok)
      assert.truthy(tostring(err):find("bad argument #1", 1, true), err)
      ok, err = pcall(socket.getaddrinfo, {}, 80)
      assert.is_false(ok)
      assert.truthy(tostring(err):find("bad argument #1", 1, true), err)
    end)
    it("rejects a port that is not an integer, string or nil, naming argument 2", function()
      for _, bad in ipairs {true, 80.5, {}} do
        local ok, err = pcall(socket.getaddrinfo, "localhost", bad)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("bad argument #2", 1, true), err)
      end
    end)
    it("rejects a family that is not an integer, naming argument 3", function()
      local ok, err = pcall(socket.getaddrinfo, "localhost", 80, "inet")
      assert.is_false(ok)
      assert.truthy(tostring(err):find("bad argument #3", 1, true), err)
    end)
  end)

  describe("getnameinfo", function()
    local NUM = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV
    local calls = {
      {{"127.0.0.1", 80}, 0}, {{"127.0.0.1", 80}, NUM}, {{"::1", 80, 0, 0}, 0},
      {{"::1", 443, 0, 0}, socket.NI_NUMERICHOST}, {{"::1", 80, 0, 1}, 0}, {{"::1", 80}, 0},
      {{"127.0.0.2", 12345}, 0}, {{"127.0.0.2", 12345}, socket.NI_NAMEREQD},
      {{"localhost", 80}, 0}, {{"127.0.0.1", 80, 0, 0}, 0}, {{"127.0.0.1", 70000}, 0},
      {{"127.0.0.1", -5}, 0}, {{"fe80::1%lo", 80, 0, 0}, 0}, {{"", 80}, 0},
      {{"127.0.0.1", 53}, socket.NI_DGRAM}, {{"::1", 80, 0, -1}, 0},
      {{HOST, 80}, 0}, {{"nosuchname.invalid", 80}, 0},
    }
    for _, a in ipairs(calls) do check(case("getnameinfo", a[1], a[2], O {multi = true})) end
    check(case("getnameinfo", {"::1", 80, 0x100000, 0}, 0))
    check(case("getnameinfo", {"::1", 80, -1, 0}, 0))
    check(case("getnameinfo", {"127.0.0.1"}, 0))
    check(case("getnameinfo", {"::1", 80, 0, 1, 5}, 0))
    check(case("getnameinfo", {"127.0.0.1", (1 << 31)}, 0))
    check(case("getnameinfo", {"127.0.0.1\0", 80}, 0))
    check(case("getnameinfo", {"127.0.0.1", 80}, (1 << 31), O {arg = 2}))
    check(case("getnameinfo", {"127.0.0.1", 80}, O {arg = 2, text = false}))
    check(case("getnameinfo", "127.0.0.1", 0, O {text = false}))
  end)

  describe("getservbyname / getservbyport / getprotobyname", function()
    for _, s in ipairs(SERVICES) do
      check(case("getservbyname", s))
      check(case("getservbyname", s, "tcp"))
      check(case("getservbyname", s, "udp"))
    end
    for _, s in ipairs {"www", "nosuchservice", "HTTP"} do check(case("getservbyname", s)) end
    check(case("getservbyname", "http", "nosuchproto"))
    check(case("getservbyname", nil, O {text = false}))
    for _, p in ipairs {80, 443, 21, 25, 70, 110, 143, 993, 995, 1, 0, 65535} do
      check(case("getservbyport", p))
      check(case("getservbyport", p, "udp"))
    end
    for _, p in ipairs {65536, -1, (1 << 31), -(1 << 31) - 1} do
      check(case("getservbyport", p))
    end
    check(case("getservbyport", "http", O {text = false}))
    for _, p in ipairs {"icmp", "udp", "tcp", "TCP", "ipv6-icmp", "nosuchproto", ""} do
      check(case("getprotobyname", p))
    end
    check(case("getprotobyname", "tcp\0", O {text = false}))
  end)

  describe("inet_aton / inet_ntoa", function()
    for _, s in ipairs {"1.2.3.4", "1", "0x7f.1", "1.2.3.4 abc", "256.1.1.1", "",
                        "255.255.255.255", "1.2.3.4.5", "010.0.0.1"} do
      check(case("inet_aton", s))
    end
    check(case("inet_aton", "1.2.3.4\0"))
    for _, p in ipairs {"\127\0\0\1", "\255\255\255\255", "abc", "abcde", ""} do
      check(case("inet_ntoa", B(p)))
    end
  end)

  describe("inet_pton / inet_ntop", function()
    for _, a in ipairs {{AF_INET, "1.2.3.4"}, {AF_INET6, "::1"}, {AF_INET6, "fe80::1:2"},
                        {AF_INET6, "::ffff:1.2.3.4"}, {AF_INET, "1.2.3"}, {AF_INET, "0x7f.0.0.1"},
                        {AF_INET6, "1.2.3.4"}, {AF_INET6, ":::"}, {99, "1.2.3.4"},
                        {AF_UNSPEC, "1.2.3.4"}} do
      check(case("inet_pton", a[1], a[2]))
    end
    check(case("inet_pton", AF_INET, "1.2.3.4\0", O {arg = 2}))
    check(case("inet_pton", (1 << 31), "1.2.3.4"))
    check(case("inet_ntop", AF_INET, B "\127\0\0\1"))
    check(case("inet_ntop", AF_INET6, B(("\0"):rep(15) .. "\1")))
    check(case("inet_ntop", AF_INET6, B("\254\128" .. ("\0"):rep(12) .. "\0\1")))
    check(case("inet_ntop", AF_INET, B "abc", O {arg = 2}))
    check(case("inet_ntop", AF_INET6, B "abcd", O {arg = 2}))
    check(case("inet_ntop", 99, B "abcd", O {arg = 1}))
  end)

  describe("htons / htonl / ntohs / ntohl", function()
    for _, fn in ipairs {"htons", "ntohs", "htonl", "ntohl"} do
      for _, v in ipairs {0, 1, 0x1234, 0xffff, 0x10000, 0x12345678, 0xffffffff, 0x100000000,
                          -1, (1 << 31), -(1 << 31) - 1, math.maxinteger} do
        check(case(fn, v))
      end
    end
    it("rejects a non-integer, naming argument 1", function()
      for _, fn in ipairs {"htons", "ntohs", "htonl", "ntohl"} do
        local ok, err = pcall(socket[fn], 1.5)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("bad argument #1", 1, true), err)
      end
    end)
  end)

  describe("if_nameindex / if_nametoindex / if_indextoname", function()
    check(case("if_nameindex"))
    check(case("if_nametoindex", "lo"))
    check(case("if_nametoindex", "nosuchif0"))
    check(case("if_nametoindex", "lo\0"))
    for _, i in ipairs {1, 0, 9999, -1, (1 << 32) + 1, (1 << 32)} do
      check(case("if_indextoname", i))
    end
    local c = case("if_nameindex", O {py = "repr(socket.if_nameindex())"})
    it("if_nameindex prints like Python's list of tuples", function()
      assert.equal(py_of(c).value, tostring(socket.if_nameindex()))
    end)
  end)
end)

describe("resolver and the scheduler", function()
  local task = require "task"

  local one = case("getaddrinfo", O {py = "socket.getaddrinfo('localhost', 80, socket.AF_INET, socket.SOCK_STREAM)"})
  it("a getaddrinfo call parks only its task", function()
    local log = {}
    local result
    local a = task.spawn(function()
      log[#log + 1] = "A:start"
      result = socket.getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM)
      log[#log + 1] = "A:done"
    end)
    local b = task.spawn(function() log[#log + 1] = "B" end)
    a:join()
    b:join()
    assert.same({"A:start", "B", "A:done"}, log)
    assert.same(py_of(one).value, plain(result))
  end)

  for _, fn in ipairs {"gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getfqdn"} do
    it(fn .. " parks only its task", function()
      local log = {}
      local a = task.spawn(function()
        log[#log + 1] = "A:start"
        socket[fn]("127.0.0.1")
        log[#log + 1] = "A:done"
      end)
      local b = task.spawn(function() log[#log + 1] = "B" end)
      a:join()
      b:join()
      assert.same({"A:start", "B", "A:done"}, log)
    end)
  end

  it("getnameinfo parks only its task", function()
    local log = {}
    local a = task.spawn(function()
      log[#log + 1] = "A:start"
      socket.getnameinfo({"127.0.0.1", 80}, 0)
      log[#log + 1] = "A:done"
    end)
    local b = task.spawn(function() log[#log + 1] = "B" end)
    a:join()
    b:join()
    assert.same({"A:start", "B", "A:done"}, log)
  end)

  local many = case("getaddrinfo", "localhost", 80, O {py = "socket.getaddrinfo('localhost', 80)"})
  it("many concurrent resolutions all complete with Python's answer", function()
    local want = py_of(many).value
    local results, failures, handles = {}, {}, {}
    for i = 1, 32 do
      handles[i] = task.spawn(function()
        local ok, r = pcall(socket.getaddrinfo, "localhost", 80)
        if ok then results[i] = plain(r) else failures[#failures + 1] = tostring(r) end
      end)
    end
    for i = 1, 32 do handles[i]:join() end
    assert.same({}, failures)
    for i = 1, 32 do assert.same(want, results[i]) end
  end)

  -- B runs in the same scheduler pass in which A parked, before the loop can
  -- deliver A's finished work, so the cancel always lands while A waits.
  for _, fn in ipairs {"getaddrinfo", "gethostbyaddr", "getnameinfo"} do
    local again = case("getaddrinfo", O {py = "socket.getaddrinfo('localhost', 80)"})
    it("a task cancelled inside " .. fn .. " ends cancelled, and resolving still works", function()
      local log = {}
      local a = task.spawn(function()
        log[#log + 1] = "A:start"
        if fn == "getaddrinfo" then socket.getaddrinfo("localhost", 80)
        elseif fn == "gethostbyaddr" then socket.gethostbyaddr("127.0.0.1")
        else socket.getnameinfo({"127.0.0.1", 80}, 0) end
        log[#log + 1] = "A:done"
      end)
      local b = task.spawn(function() log[#log + 1] = "B"; a:cancel() end)
      local ok, err = pcall(a.join, a)
      b:join()
      assert.is_false(ok)
      assert.is_true(task.Cancelled:matches(err), tostring(err))
      assert.is_true(a:cancelled())
      assert.same({"A:start", "B"}, log)
      collectgarbage()
      collectgarbage()
      assert.same(py_of(again).value, plain(socket.getaddrinfo("localhost", 80)))
    end)
  end

  it("a failing resolution in one task does not disturb another", function()
    local e1, r2
    local a = task.spawn(function()
      local ok, err = pcall(socket.getaddrinfo, "nosuchname.invalid", 80)
      e1 = not ok and err or "no error"
    end)
    local b = task.spawn(function() r2 = socket.gethostbyname("localhost") end)
    a:join()
    b:join()
    assert.is_true(socket.gaierror:matches(e1))
    assert.equal("127.0.0.1", r2)
  end)
end)
