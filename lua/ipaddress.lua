-- ipaddress: Python 3's ipaddress module (3.11) in pure Lua 5.4.
--
-- Same names, same meanings, same error classes and messages as CPython's
-- Lib/ipaddress.py; what Lua cannot spell the same way is listed here.
-- One coherent module as Python's own (2,300 lines): the text forms, the
-- six classes and the module functions share one set of private helpers.
-- The shared ideas live elsewhere: integers in moonsock.bigint, tuples,
-- lists and Python's repr in moonsock.repr, the error classes in
-- moonsock.errors.
--
-- Integers. Lua integers are 64-bit, IPv6 needs 128 bits (and num_addresses
-- of ::/0 needs 129), so there is ONE rule:
--   * a value Python gives as an int is a Lua integer for IPv4 (int(),
--     num_addresses, ...) and a decimal string for IPv6 (always a string,
--     even when small): ipaddress.ip_address("::1"):int() == "1".
--   * wherever Python takes an int, a Lua integer or a decimal string
--     ("^-?%d+$") is accepted: constructors (IPv6Address("4294967296")),
--     the address of a (address, mask) pair, addr + n, addr - n,
--     v4_int_to_packed, v6_int_to_packed, net:getitem(n).
--   Python rejects an all-digit *text* address ("10" is not an IPv4
--   address); here such a string is that integer instead. The mask of a pair
--   keeps Python's meaning: {addr, 24} and {addr, "24"} are both /24.
-- Bytes. A Lua string is text (Python str). Packed bytes (Python bytes) are
--   wrapped: ipaddress.bytes("\127\0\0\1"), since "::ff" is both a valid
--   IPv6 text and 4 valid bytes. addr.packed and v4/v6_int_to_packed return
--   plain Lua strings.
-- Pairs. Python's tuple form (address, mask) is a plain Lua table {address,
--   mask} (or a moonsock.repr tuple).
-- Properties are fields (addr.is_private, net.broadcast_address, ...),
--   computed on each read, so a property that raises in Python (exploded of
--   a scoped IPv6 address) raises here when read. A field Python does not
--   have (IPv4Address.is_site_local, IPv4Interface.prefixlen) reads nil.
-- Iteration. What Python returns as a generator or a list (net:iter(),
--   net:hosts(), net:subnets(), net:address_exclude(), collapse_addresses,
--   summarize_address_range) is an iterator object: callable, so
--   `for a in net:iter() do` and `for n in net:subnets(2) do` work, and
--   it:list() collects the rest into a list that prints like Python's.
--   Argument errors are raised at the call, not at the first iteration as
--   a Python generator would.
-- Containment: Python's `addr in net` is net:contains(addr).
-- Indexing: Python's net[n] is net:getitem(n) (IndexError when out of range).
-- Comparisons and arithmetic are metamethods following Python's dispatch
--   (reflected operands, total_ordering): ==, ~=, <, <=, >, >=, addr + n,
--   addr - n (addr - addr raises TypeError). Lua evaluates a > b as b < a;
--   it gives Python's answer except for two IPv6 addresses (or networks)
--   that differ only in scope_id, where Python answers True both ways.
-- tostring(x) is Python's str(x); x:repr() is repr(x); x:format(spec) is
--   format(x, spec); x:int() is int(x).
-- Table keys: tables key by identity, so use x:key(), a string equal for
--   two objects exactly when Python's == says they are equal:
--     seen[addr:key()] = addr
-- Classes are callable (ipaddress.IPv4Address(x)) and are the metatables of
--   their instances; x:isinstance(cls) is Python's isinstance.
-- get_mixed_type_key(x) returns a tuple comparable with <, or nil where
--   Python returns NotImplemented.
-- Errors: AddressValueError and NetmaskValueError subclass ValueError
--   (moonsock.errors classes: ipaddress.AddressValueError:matches(err));
--   TypeError, ValueError and IndexError carry Python's messages. Wrong Lua
--   types raise "bad argument #n to 'name' (...)".
local errors = require "moonsock.errors"
local reprmod = require "moonsock.repr"
local property_index = require("moonsock.class").property_index

local quote = reprmod.quote

local M = {}
M.IPV4LENGTH = 32
M.IPV6LENGTH = 128

local ValueError = errors.ValueError
-- Other modules may need these builtins too: define them once.
local TypeError = errors.TypeError or errors.define("TypeError", errors.Exception)
local LookupError = errors.LookupError or errors.define("LookupError", errors.Exception)
local IndexError = errors.IndexError or errors.define("IndexError", LookupError)
local AddressValueError = errors.define("AddressValueError", ValueError)
local NetmaskValueError = errors.define("NetmaskValueError", ValueError)
M.AddressValueError = AddressValueError
M.NetmaskValueError = NetmaskValueError

local function raise(cls, fmt, ...)
  error(cls(select("#", ...) > 0 and fmt:format(...) or fmt), 0)
end

local argerror = errors.argerror

-- Integers: moonsock.bigint (plain Lua integers below 2^62, every IPv4
-- value among them; normalised big values above).
local N = require "moonsock.bigint"
local isbig = N.isbig

local function isint(x) return math.type(x) == "integer" end

-- A Lua value Python would see as an int, or nil.
local function as_int(x)
  if isint(x) then return N.from_int(x) end
  if type(x) == "string" and x:find("^%-?%d+$") then return N.from_decimal(x) end
  if isbig(x) then return x end
  return nil
end

local ALL4 = 0xffffffff
local ALL6 = N.from_words({ALL4, ALL4, ALL4, ALL4})

-- ---------------------------------------------------------------------------
-- Python-looking values: tuples and lists are moonsock.repr's; bytes and
-- generators are ipaddress's own (no other module needs them: bytes exist
-- only to tell packed addresses from text, module header).
-- ---------------------------------------------------------------------------
local BYTES = {__name = "bytes"}
local ITER = {__name = "generator"}
local CLASSES = {} -- the six concrete classes
local tuple, new_list = reprmod.tuple, reprmod.list
local tuple_mt = reprmod.tuple_mt

local function class_of(x)
  if type(x) ~= "table" then return nil end
  local mt = getmetatable(x)
  if CLASSES[mt] then return mt end
  return nil
end

-- A plain table stands for a tuple (module header): repr.lua's tuple of the
-- same items, nested plain tables included.
local function as_tuple(v, seen)
  local mt = getmetatable(v)
  if type(v) ~= "table" or (mt ~= nil and mt ~= tuple_mt) then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local n = v.n
  if math.type(n) ~= "integer" then n = #v end
  local t = setmetatable({n = n}, tuple_mt)
  seen[v] = t
  for i = 1, n do t[i] = as_tuple(v[i], seen) end
  return t
end

-- Python's repr of what a Lua value stands for.
local function pyrepr(v) return reprmod.repr(as_tuple(v)) end

-- Python's str: the same as repr except for strings and our objects.
local function pystr(v)
  if type(v) == "string" then return v end
  if class_of(v) then return tostring(v) end
  return pyrepr(v)
end

local function pytype(v)
  local mt = getmetatable(v)
  if isint(v) or isbig(v) then return "int" end
  if type(v) == "number" then return "float" end
  if type(v) == "string" then return "str" end
  if type(v) == "boolean" then return "bool" end
  if v == nil then return "NoneType" end
  if type(v) == "table" and type(mt) == "table" and type(mt.__name) == "string" then return mt.__name end
  if type(v) == "table" then return "tuple" end
  return type(v)
end

function M.bytes(s)
  if type(s) ~= "string" then argerror(1, "bytes", "string expected, got " .. type(s)) end
  return setmetatable({s = s}, BYTES)
end
BYTES.__repr = function(b) return reprmod.bytes_literal(b.s) end
BYTES.__tostring = BYTES.__repr
BYTES.__eq = function(a, b) return getmetatable(b) == BYTES and a.s == b.s end
BYTES.__len = function(b) return #b.s end

ITER.__index = {
  -- The remaining items as a list.
  list = function(self)
    if getmetatable(self) ~= ITER then
      error("calling 'list' on bad self (generator expected, got " .. type(self) .. ")", 2)
    end
    local out = new_list()
    for v in self do out[#out + 1] = v end
    return out
  end,
}
ITER.__call = function(self)
  if self.done then return nil end
  local v = self.nextf()
  if v == nil then self.done = true end
  return v
end
ITER.__tostring = function() return "<generator object>" end
local function iterator(nextf) return setmetatable({nextf = nextf}, ITER) end

local function list_iter(t)
  local i = 0
  return iterator(function() i = i + 1; return t[i] end)
end

-- range(start, stop, step) over integers of any size, mapped through f.
local function range_iter(start, stop, step, f)
  local cur = start
  return iterator(function()
    if N.cmp(cur, stop) >= 0 then return nil end
    local v = cur
    cur = N.add(cur, step)
    return f(v)
  end)
end

-- ---------------------------------------------------------------------------
-- Python's rich comparison dispatch, so that mixed operands (an address
-- against an interface, an address against an int) answer as in Python.
-- ---------------------------------------------------------------------------
local NI = setmetatable({}, {__tostring = function() return "NotImplemented" end})
local reflected = {eq = "eq", ne = "ne", lt = "gt", gt = "lt", le = "ge", ge = "le"}
local opsym = {lt = "<", le = "<=", gt = ">", ge = ">="}

local function issubclass(c, base)
  for _, k in ipairs(c._mro) do if k == base then return true end end
  return false
end

local function richcompare(v, w, op)
  local cv, cw = class_of(v), class_of(w)
  local checked = false
  if cv and cw and cv ~= cw and issubclass(cw, cv) then
    checked = true
    local r = cw._rich[reflected[op]](w, v)
    if r ~= NI then return r end
  end
  if cv then
    local r = cv._rich[op](v, w)
    if r ~= NI then return r end
  end
  if cw and not checked then
    local r = cw._rich[reflected[op]](w, v)
    if r ~= NI then return r end
  end
  if op == "eq" then return rawequal(v, w) end
  if op == "ne" then return not rawequal(v, w) end
  raise(TypeError, "'%s' not supported between instances of '%s' and '%s'", opsym[op], pytype(v), pytype(w))
end

local function py_eq(a, b) return richcompare(a, b, "eq") end
local function py_ne(a, b) return richcompare(a, b, "ne") end
local function py_lt(a, b) return richcompare(a, b, "lt") end
local function py_le(a, b) return richcompare(a, b, "le") end
local function py_gt(a, b) return richcompare(a, b, "gt") end
local function py_ge(a, b) return richcompare(a, b, "ge") end

-- functools.total_ordering from a class's own __eq__ and __lt__.
local function make_rich(eq, lt)
  return {
    eq = eq,
    ne = function(a, b)
      local r = eq(a, b)
      if r == NI then return NI end
      return not r
    end,
    lt = lt,
    gt = function(a, b)
      local r = lt(a, b)
      if r == NI then return NI end
      return not r and py_ne(a, b)
    end,
    le = function(a, b)
      local r = lt(a, b)
      if r == NI then return NI end
      return r or py_eq(a, b)
    end,
    ge = function(a, b)
      local r = lt(a, b)
      if r == NI then return NI end
      return not r
    end,
  }
end

-- ---------------------------------------------------------------------------
-- Classes: each is a list of layers (methods m, properties p) in Python's
-- method resolution order, flattened into the metatable's __index.
-- ---------------------------------------------------------------------------
local function layer() return {m = {}, p = {}} end

local L_base, L_addr, L_net = layer(), layer(), layer()
local L_v4, L_v6 = layer(), layer()
local L_v4addr, L_v4iface, L_v4net = layer(), layer(), layer()
local L_v6addr, L_v6iface, L_v6net = layer(), layer(), layer()

local function is_address(x)
  local c = class_of(x)
  return c ~= nil and c._is_address
end
local function is_network(x)
  local c = class_of(x)
  return c ~= nil and c._is_network
end
local function is_interface(x)
  local c = class_of(x)
  return c ~= nil and c._is_interface
end

local function str(x) return x:_str() end

-- Python's check before an operation on two objects; the message names a first.
local function same_version(a, b)
  if a._version ~= b._version then
    raise(TypeError, "%s and %s are not of the same version", str(a), str(b))
  end
end

-- ---- IPv4 text ----
local function split(s, sep)
  local out, i = {}, 1
  while true do
    local j = s:find(sep, i, true)
    if not j then out[#out + 1] = s:sub(i); return out end
    out[#out + 1] = s:sub(i, j - 1)
    i = j + 1
  end
end

local function parse_octet(o)
  if o == "" then return nil, "Empty octet not permitted" end
  if not o:find("^%d+$") then return nil, "Only decimal digits permitted in " .. quote(o) end
  if #o > 3 then return nil, "At most 3 characters permitted in " .. quote(o) end
  if o ~= "0" and o:sub(1, 1) == "0" then return nil, "Leading zeros are not permitted in " .. quote(o) end
  local v = math.tointeger(tonumber(o))
  if v > 255 then return nil, ("Octet %d (> 255) not permitted"):format(v) end
  return v
end

local function v4_parse(ip_str)
  if ip_str == "" then raise(AddressValueError, "Address cannot be empty") end
  local octets = split(ip_str, ".")
  if #octets ~= 4 then raise(AddressValueError, "Expected 4 octets in %s", quote(ip_str)) end
  local v = 0
  for i = 1, 4 do
    local o, msg = parse_octet(octets[i])
    if not o then raise(AddressValueError, "%s in %s", msg, quote(ip_str)) end
    v = (v << 8) | o
  end
  return v
end

local function v4_string(ip)
  return ("%d.%d.%d.%d"):format(ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff)
end

-- ---- IPv6 text ----
local function parse_hextet(s)
  if s:find("[^0-9A-Fa-f]") then return nil, "Only hex digits permitted in " .. quote(s) end
  if #s > 4 then return nil, "At most 4 characters permitted in " .. quote(s) end
  if s == "" then return nil, "invalid literal for int() with base 16: ''" end
  return math.tointeger(tonumber(s, 16))
end

local function from_hextets(h)
  return N.from_words({(h[7] << 16) | h[8], (h[5] << 16) | h[6], (h[3] << 16) | h[4], (h[1] << 16) | h[2]})
end

local function hextets(ip)
  local h = {}
  for i = 1, 4 do
    local w = N.word(ip, 5 - i)
    h[2 * i - 1], h[2 * i] = w >> 16, w & 0xffff
  end
  return h
end

local function v6_parse(ip_str)
  if ip_str == "" then raise(AddressValueError, "Address cannot be empty") end
  local q = quote(ip_str)
  local parts = split(ip_str, ":")
  if #parts < 3 then raise(AddressValueError, "At least 3 parts expected in %s", q) end
  if parts[#parts]:find(".", 1, true) then
    local ok, v = pcall(v4_parse, table.remove(parts))
    if not ok then
      if AddressValueError:matches(v) then raise(AddressValueError, "%s in %s", tostring(v), q) end
      error(v, 0)
    end
    parts[#parts + 1] = ("%x"):format((v >> 16) & 0xffff)
    parts[#parts + 1] = ("%x"):format(v & 0xffff)
  end
  if #parts > 9 then raise(AddressValueError, "At most 8 colons permitted in %s", q) end
  local skip
  for i = 2, #parts - 1 do
    if parts[i] == "" then
      if skip then raise(AddressValueError, "At most one '::' permitted in %s", q) end
      skip = i
    end
  end
  local hi, lo, skipped
  if skip then
    hi, lo = skip - 1, #parts - skip
    if parts[1] == "" then
      hi = hi - 1
      if hi ~= 0 then raise(AddressValueError, "Leading ':' only permitted as part of '::' in %s", q) end
    end
    if parts[#parts] == "" then
      lo = lo - 1
      if lo ~= 0 then raise(AddressValueError, "Trailing ':' only permitted as part of '::' in %s", q) end
    end
    skipped = 8 - (hi + lo)
    if skipped < 1 then raise(AddressValueError, "Expected at most 7 other parts with '::' in %s", q) end
  else
    if #parts ~= 8 then raise(AddressValueError, "Exactly 8 parts expected without '::' in %s", q) end
    if parts[1] == "" then raise(AddressValueError, "Leading ':' only permitted as part of '::' in %s", q) end
    if parts[#parts] == "" then
      raise(AddressValueError, "Trailing ':' only permitted as part of '::' in %s", q)
    end
    hi, lo, skipped = #parts, 0, 0
  end
  local h = {}
  local function add(s)
    local v, msg = parse_hextet(s)
    if not v then raise(AddressValueError, "%s in %s", msg, q) end
    h[#h + 1] = v
  end
  for i = 1, hi do add(parts[i]) end
  for _ = 1, skipped do h[#h + 1] = 0 end
  for i = #parts - lo + 1, #parts do add(parts[i]) end
  return from_hextets(h)
end

local function v6_string(ip)
  local hx = {}
  for i, v in ipairs(hextets(ip)) do hx[i] = ("%x"):format(v) end
  -- The first longest run of zero hextets (two or more) becomes "::".
  local best_start, best_len, start, len = 0, 0, 0, 0
  for i = 1, 8 do
    if hx[i] == "0" then
      len = len + 1
      if start == 0 then start = i end
      if len > best_len then best_len, best_start = len, start end
    else
      len, start = 0, 0
    end
  end
  if best_len > 1 then
    local head = table.concat(hx, ":", 1, best_start - 1)
    local tail = table.concat(hx, ":", best_start + best_len, 8)
    return head .. "::" .. tail
  end
  return table.concat(hx, ":")
end

local function v6_exploded_bits(ip)
  local hx = {}
  for i, v in ipairs(hextets(ip)) do hx[i] = ("%04x"):format(v) end
  return table.concat(hx, ":")
end

-- ---- netmasks ----
local function report_invalid_netmask(arg)
  raise(NetmaskValueError, "%s is not a valid netmask", pyrepr(arg))
end

-- Python's _prefix_from_prefix_string: ASCII digits in 0..max, else nil.
local function prefix_from_prefix_string(s, max)
  if not s:find("^%d+$") then return nil end
  local digits = s:gsub("^0+", "")
  if #digits > 3 then return nil end
  local v = math.tointeger(tonumber(digits ~= "" and digits or "0"))
  if v > max then return nil end
  return v
end

-- The prefix length of a /1*0*/ bit pattern, or nil.
local function prefix_from_ip_int(ip, max)
  local tz = N.ctz(ip, max)
  local prefixlen = max - tz
  local leading = N.shr(ip, tz)
  local all = N.sub(N.shl(1, prefixlen), 1)
  if not N.eq(leading, all) then return nil end
  return prefixlen
end

local function prefix_arg(cls, arg)
  local max = cls._max_prefixlen
  if isint(arg) then
    if arg < 0 or arg > max then report_invalid_netmask(arg) end
    return arg
  end
  if type(arg) ~= "string" then argerror(1, cls.__name, "netmask must be an integer or a string, got " .. type(arg)) end
  local p = prefix_from_prefix_string(arg, max)
  if p then return p end
  if cls._version == 6 then report_invalid_netmask(arg) end
  -- IPv4 also takes a dotted netmask or hostmask.
  local ok, ip = pcall(v4_parse, arg)
  if not ok then
    if AddressValueError:matches(ip) then report_invalid_netmask(arg) end
    error(ip, 0)
  end
  p = prefix_from_ip_int(ip, 32) or prefix_from_ip_int(ip ~ ALL4, 32)
  if not p then report_invalid_netmask(arg) end
  return p
end

-- ---------------------------------------------------------------------------
-- Construction
-- ---------------------------------------------------------------------------

-- What Python's constructors would see: kind ("int", "bytes", "str",
-- "tuple"), the value to parse, and the value for repr() in messages.
local function classify(x, fname)
  if isint(x) then
    local v = N.from_int(x)
    return "int", v, v
  end
  if type(x) == "string" then
    if x:find("^%-?%d+$") then
      local v = N.from_decimal(x)
      return "int", v, v
    end
    return "str", x, x
  end
  if type(x) == "table" then
    local mt = getmetatable(x)
    if isbig(x) then return "int", x, x end
    if mt == BYTES then return "bytes", x.s, x end
    if CLASSES[mt] then return "str", str(x), x end
    if mt == nil or mt == tuple_mt then return "tuple", x, x end
  end
  argerror(1, fname, "string, integer, ipaddress.bytes, table or ipaddress object expected, got " .. pytype(x))
end

local function check_int(v, version, max)
  if N.cmp(v, 0) < 0 then
    raise(AddressValueError, "%s (< 0) is not permitted as an IPv%d address", N.tostring(v), version)
  end
  if N.cmp(v, version == 4 and ALL4 or ALL6) > 0 then
    raise(AddressValueError, "%s (>= 2**%d) is not permitted as an IPv%d address", N.tostring(v), max, version)
  end
end

-- The integer (and IPv6 scope id) of an address argument.
local function parse_address(cls, kind, val, py)
  local version, max = cls._version, cls._max_prefixlen
  if kind == "int" then
    check_int(val, version, max)
    return val
  end
  if kind == "bytes" then
    local want = max // 8
    if #val ~= want then
      raise(AddressValueError, "%s (len %d != %d) is not permitted as an IPv%d address",
        reprmod.bytes_literal(val), #val, want, version)
    end
    return N.from_bytes(val)
  end
  if kind == "tuple" then val = pyrepr(val) end -- Python parses str(tuple)
  if val:find("/", 1, true) then raise(AddressValueError, "Unexpected '/' in %s", pyrepr(py)) end
  if version == 4 then return v4_parse(val) end
  local addr, scope
  local pct = val:find("%", 1, true)
  if pct then
    addr, scope = val:sub(1, pct - 1), val:sub(pct + 1)
    if scope == "" or scope:find("%", 1, true) then
      raise(AddressValueError, 'Invalid IPv6 address: "%s"', quote(val))
    end
  else
    addr = val
  end
  return v6_parse(addr), scope
end

local function new_address(cls, kind, val, py)
  local ip, scope = parse_address(cls, kind, val, py)
  return setmetatable({_ip = ip, _scope_id = scope}, cls)
end

local function address_from_int(cls, ip)
  return setmetatable({_ip = ip}, cls)
end

-- Python's _split_addr_prefix: kind, value, repr value of the address, mask.
local function split_addr_prefix(cls, address)
  local kind, val, py = classify(address, cls.__name)
  if kind == "int" or kind == "bytes" then return kind, val, py, cls._max_prefixlen end
  if kind == "tuple" then
    local n = #val
    if n > 2 then raise(ValueError, "too many values to unpack (expected 2)") end
    if n == 0 then raise(IndexError, "tuple index out of range") end
    local k2, v2, p2 = classify(val[1], cls.__name)
    if n == 2 then return k2, v2, p2, val[2] end
    return k2, v2, p2, cls._max_prefixlen
  end
  local parts = split(val, "/")
  if #parts > 2 then raise(AddressValueError, "Only one '/' permitted in %s", pyrepr(py)) end
  return "str", parts[1], parts[1], parts[2] or cls._max_prefixlen
end

local netmask_cache = {[4] = {}, [6] = {}}
local function make_netmask(cls, prefixlen)
  local cache = netmask_cache[cls._version]
  local nm = cache[prefixlen]
  if not nm then
    local all = cls._ALL_ONES
    nm = address_from_int(cls._address_class, N.bxor(all, N.shr(all, prefixlen)))
    cache[prefixlen] = nm
  end
  return nm
end

local function new_network(cls, kind, val, py, mask, strict)
  local acls = cls._address_class
  local self = setmetatable({}, cls)
  local ip, scope = parse_address(acls, kind, val, py)
  self.network_address = setmetatable({_ip = ip, _scope_id = scope}, acls)
  self._prefixlen = prefix_arg(cls, mask)
  self.netmask = make_netmask(cls, self._prefixlen)
  local masked = N.band(ip, self.netmask._ip)
  if not N.eq(masked, ip) then
    if strict then raise(ValueError, "%s has host bits set", str(self)) end
    self.network_address = address_from_int(acls, masked)
  end
  return self
end

local function network_from_int(cls, ip, prefixlen)
  return new_network(cls, "int", ip, ip, prefixlen, true)
end

local function new_interface(cls, address)
  local kind, val, py, mask = split_addr_prefix(cls, address)
  local ip, scope = parse_address(cls, kind, val, py)
  local self = setmetatable({_ip = ip, _scope_id = scope}, cls)
  self.network = new_network(cls._network_class, kind, val, py, mask, false)
  self.netmask = self.network.netmask
  self._prefixlen = self.network._prefixlen
  return self
end

-- ---------------------------------------------------------------------------
-- _IPAddressBase
-- ---------------------------------------------------------------------------
L_base.p.exploded = function(self) return self:_explode() end
L_base.p.compressed = function(self) return str(self) end
L_base.p.reverse_pointer = function(self) return self:_reverse_pointer() end

function L_base.m:repr() return self.__name .. "(" .. quote(str(self)) .. ")" end

-- A string equal for two objects exactly when they are == (a table key).
function L_base.m:key() return self:repr() end

function L_base.m:isinstance(cls)
  -- Python's isinstance wants a class: a table with a name (an ipaddress
  -- class, or another module's), not any value
  if type(cls) ~= "table" or type(rawget(cls, "__name")) ~= "string" then
    argerror(1, "isinstance", "isinstance() arg 2 must be a type, a tuple of types, or a union")
  end
  local c = class_of(self)
  return c ~= nil and issubclass(c, cls)
end

-- ---------------------------------------------------------------------------
-- _BaseAddress
-- ---------------------------------------------------------------------------
function L_addr.m:int()
  if self._version == 4 then return self._ip end
  return N.tostring(self._ip)
end

function L_addr.m:_str() return self._string_from_ip_int(self._ip) end

local function addr_eq(a, b)
  if not is_address(b) then return NI end
  return N.eq(a._ip, b._ip) and a._version == b._version
end

local function addr_lt(a, b)
  if not is_address(b) then return NI end
  same_version(a, b)
  if not N.eq(a._ip, b._ip) then return N.lt(a._ip, b._ip) end
  return false
end

local function v6addr_eq(a, b)
  local r = addr_eq(a, b)
  if r == NI or not r then return r end
  return a._scope_id == b._scope_id
end

local function iface_eq_from(base_eq)
  return function(a, b)
    local r = base_eq(a, b)
    if r == NI or not r then return r end
    if not is_interface(b) then return false end
    return py_eq(a.network, b.network)
  end
end

local function iface_lt(a, b)
  local r = addr_lt(a, b)
  if r == NI then return NI end
  if not is_interface(b) then return false end
  return py_lt(a.network, b.network) or (py_eq(a.network, b.network) and r)
end

-- The characters of a text: its UTF-8 sequences, and any byte that is not
-- part of one on its own (the lone surrogate Python would see there).
local function text_chars(s)
  local out, i, n = {}, 1, #s
  while i <= n do
    local b = s:byte(i)
    local len = b < 0x80 and 1 or b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC2 and 2 or 1
    if len > 1 and utf8.len(s:sub(i, i + len - 1)) ~= 1 then len = 1 end
    out[#out + 1] = s:sub(i, i + len - 1)
    i = i + len
  end
  return out
end

-- The code point of each Unicode decimal digit zero (Nd, Unicode 14.0, as
-- Python 3.11's unicodedata): format specs take any of these digits.
local DIGIT_ZEROS = {0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6,
  0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
  0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
  0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0,
  0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8,
  0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0}

local function decimal(ch)
  if ch == nil then return nil end
  local ok, cp = pcall(utf8.codepoint, ch)
  if not ok or #ch ~= #utf8.char(cp) then return nil end
  for _, z in ipairs(DIGIT_ZEROS) do
    if cp >= z and cp <= z + 9 then return cp - z end
  end
  return nil
end

-- Python's format(str, spec): CPython parses the spec first
-- (parse_internal_render_format_spec), then refuses what a string cannot
-- take (format_string_internal); widths count characters, not bytes. A
-- fill is any one character before an alignment.
local function str_format(s, spec)
  local c, pos = text_chars(spec), 1
  local function isalign(ch) return ch == "<" or ch == ">" or ch == "=" or ch == "^" end
  local fill, align, sign, nozero, alt, sep
  if isalign(c[pos + 1]) then
    fill, align, pos = c[pos], c[pos + 1], pos + 2
  elseif isalign(c[pos]) then
    align, pos = c[pos], pos + 1
  end
  if c[pos] == "+" or c[pos] == "-" or c[pos] == " " then sign, pos = c[pos], pos + 1 end
  if c[pos] == "z" then nozero, pos = true, pos + 1 end
  if c[pos] == "#" then alt, pos = true, pos + 1 end
  if not fill and c[pos] == "0" then fill, pos = "0", pos + 1 end
  -- get_integer: nil without digits; Python's Py_ssize_t bounds it.
  local function integer()
    local v, d = nil, decimal(c[pos])
    while d do
      v = v or 0
      if v > (math.maxinteger - d) // 10 then raise(ValueError, "Too many decimal digits in format string") end
      v = v * 10 + d
      pos = pos + 1
      d = decimal(c[pos])
    end
    return v
  end
  local width = integer()
  if c[pos] == "," then sep, pos = ",", pos + 1 end
  if c[pos] == "_" then
    if sep then raise(ValueError, "Cannot specify both ',' and '_'.") end
    sep, pos = "_", pos + 1
  end
  if c[pos] == "," and sep == "_" then raise(ValueError, "Cannot specify both ',' and '_'.") end
  local prec
  if c[pos] == "." then
    pos = pos + 1
    prec = integer()
    if not prec then raise(ValueError, "Format specifier missing precision") end
  end
  if #c - pos + 1 > 1 then raise(ValueError, "Invalid format specifier '%s' for object of type 'str'", spec) end
  -- The type is "s": the caller sends only specs that end with it, or none.
  if sep then raise(ValueError, "Cannot specify '%s' with 's'.", sep) end
  if sign == " " then raise(ValueError, "Space not allowed in string format specifier") end
  if sign then raise(ValueError, "Sign not allowed in string format specifier") end
  if nozero then raise(ValueError, "Negative zero coercion (z) not allowed in string format specifier") end
  if alt then raise(ValueError, "Alternate form (#) not allowed in string format specifier") end
  if align == "=" then raise(ValueError, "'=' alignment not allowed in string format specifier") end
  local chars = text_chars(s)
  if prec and #chars > prec then s = table.concat(chars, "", 1, prec) end
  local len = math.min(#chars, prec or #chars)
  if not width or width <= len then return s end
  fill = fill or " "
  local pad = width - len
  if align == ">" then return fill:rep(pad) .. s end
  if align == "^" then return fill:rep(pad // 2) .. s .. fill:rep(pad - pad // 2) end
  return s .. fill:rep(pad)
end

local function group_digits(d)
  local out = {}
  local first = #d % 4
  if first > 0 then out[1] = d:sub(1, first) end
  for i = first + 1, #d, 4 do out[#out + 1] = d:sub(i, i + 3) end
  return table.concat(out, "_")
end

function L_addr.m:format(spec)
  if spec == nil then spec = "" end
  if type(spec) ~= "string" then argerror(1, "format", "string expected, got " .. type(spec)) end
  if spec == "" or spec:sub(-1) == "s" then return str_format(str(self), spec) end
  local alt, grouping, base = spec:match("^(#?)(_?)([xbnX])$")
  if not base then raise(TypeError, "unsupported format string passed to %s.__format__", self.__name) end
  if base == "n" then base = self._version == 4 and "b" or "x" end
  local digits
  if base == "b" then
    local bits = {}
    for _, byte in ipairs({N.to_bytes(self._ip, self._max_prefixlen // 8):byte(1, -1)}) do
      for k = 7, 0, -1 do bits[#bits + 1] = (byte >> k) & 1 end
    end
    digits = table.concat(bits)
  else
    local hx = {}
    for _, v in ipairs({N.to_bytes(self._ip, self._max_prefixlen // 8):byte(1, -1)}) do
      hx[#hx + 1] = (base == "X" and "%02X" or "%02x"):format(v)
    end
    digits = table.concat(hx)
  end
  if grouping == "_" then digits = group_digits(digits) end
  if alt == "#" then digits = "0" .. (base == "b" and "b" or base) .. digits end
  return digits
end

L_addr.p.packed = function(self) return N.to_bytes(self._ip, self._max_prefixlen // 8) end

-- `self in net` of Python.
local function net_contains(net, other)
  if net._version ~= other._version then return false end
  if is_network(other) then return false end
  return N.eq(N.band(other._ip, net.netmask._ip), net.network_address._ip)
end

-- ---------------------------------------------------------------------------
-- _BaseNetwork
-- ---------------------------------------------------------------------------
function L_net.m:_str() return str(self.network_address) .. "/" .. self._prefixlen end

local function bcast(self) return N.bor(self.network_address._ip, N.bxor(self.netmask._ip, self._ALL_ONES)) end

L_net.p.broadcast_address = function(self) return address_from_int(self._address_class, bcast(self)) end
L_net.p.hostmask = function(self)
  return address_from_int(self._address_class, N.bxor(self.netmask._ip, self._ALL_ONES))
end
L_net.p.with_prefixlen = function(self) return str(self.network_address) .. "/" .. self._prefixlen end
L_net.p.with_netmask = function(self) return str(self.network_address) .. "/" .. str(self.netmask) end
L_net.p.with_hostmask = function(self) return str(self.network_address) .. "/" .. str(self.hostmask) end
L_net.p.prefixlen = function(self) return self._prefixlen end
L_net.p.num_addresses = function(self)
  local n = N.add(N.sub(bcast(self), self.network_address._ip), 1)
  if self._version == 4 then return n end
  return N.tostring(n)
end

function L_net.m:iter()
  local cls = self._address_class
  return range_iter(self.network_address._ip, N.add(bcast(self), 1), 1,
    function(v) return address_from_int(cls, v) end)
end

function L_net.m:hosts()
  local cls, max = self._address_class, self._max_prefixlen
  if self._prefixlen == max - 1 then return self:iter() end
  if self._prefixlen == max then
    local na = self.network_address
    return list_iter({setmetatable({_ip = na._ip, _scope_id = na._scope_id}, cls)})
  end
  -- IPv6 keeps the last address (no broadcast); IPv4 drops it.
  local stop = self._version == 6 and N.add(bcast(self), 1) or bcast(self)
  return range_iter(N.add(self.network_address._ip, 1), stop, 1,
    function(v) return address_from_int(cls, v) end)
end

function L_net.m:getitem(n)
  local i = as_int(n)
  if i == nil then argerror(1, "getitem", "integer expected, got " .. pytype(n)) end
  local network, broadcast = self.network_address._ip, bcast(self)
  if N.cmp(i, 0) >= 0 then
    local v = N.add(network, i)
    if N.cmp(v, broadcast) > 0 then raise(IndexError, "address out of range") end
    return address_from_int(self._address_class, v)
  end
  local v = N.add(broadcast, N.add(i, 1))
  if N.cmp(v, network) < 0 then raise(IndexError, "address out of range") end
  return address_from_int(self._address_class, v)
end

function L_net.m:contains(other)
  if not class_of(other) then argerror(1, "contains", "ipaddress object expected, got " .. pytype(other)) end
  return net_contains(self, other)
end

local function need_network(other, fname)
  if not is_network(other) then argerror(1, fname, "network expected, got " .. pytype(other)) end
end

function L_net.m:overlaps(other)
  need_network(other, "overlaps")
  return net_contains(other, self.network_address) or net_contains(other, self.broadcast_address)
    or net_contains(self, other.network_address) or net_contains(self, other.broadcast_address)
end

local function is_subnet_of(a, b)
  if not class_of(a) or not class_of(b) then
    raise(TypeError, "Unable to test subnet containment between %s and %s", pystr(a), pystr(b))
  end
  same_version(a, b)
  if not is_network(a) or not is_network(b) then
    raise(TypeError, "Unable to test subnet containment between %s and %s", str(a), str(b))
  end
  return py_le(b.network_address, a.network_address) and py_ge(b.broadcast_address, a.broadcast_address)
end

function L_net.m:subnet_of(other) return is_subnet_of(self, other) end
function L_net.m:supernet_of(other) return is_subnet_of(other, self) end

-- The two halves of a network.
local function halves(net)
  local cls = class_of(net)
  local p = net._prefixlen + 1
  local start = net.network_address._ip
  local half = N.shr(N.add(N.bxor(net.netmask._ip, net._ALL_ONES), 1), 1)
  return network_from_int(cls, start, p), network_from_int(cls, N.add(start, half), p)
end

function L_net.m:address_exclude(other)
  if not class_of(other) then argerror(1, "address_exclude", "network expected, got " .. pytype(other)) end
  same_version(self, other)
  if not is_network(other) then raise(TypeError, "%s is not a network object", str(other)) end
  if not is_subnet_of(other, self) then raise(ValueError, "%s not contained in %s", str(other), str(self)) end
  if py_eq(other, self) then return list_iter({}) end
  local cls = class_of(other)
  other = new_network(cls, "str", str(other.network_address), nil, tostring(other._prefixlen), true)
  local s1, s2 = halves(self)
  local done = false
  local function fail()
    error(("Error performing exclusion: s1: %s s2: %s other: %s"):format(str(s1), str(s2), str(other)), 0)
  end
  return iterator(function()
    if done then return nil end
    if py_ne(s1, other) and py_ne(s2, other) then
      if is_subnet_of(other, s1) then
        local out = s2
        s1, s2 = halves(s1)
        return out
      elseif is_subnet_of(other, s2) then
        local out = s1
        s1, s2 = halves(s2)
        return out
      end
      fail()
    end
    done = true
    if py_eq(s1, other) then return s2 end
    if py_eq(s2, other) then return s1 end
    fail()
  end)
end

function L_net.m:compare_networks(other)
  need_network(other, "compare_networks")
  if self._version ~= other._version then
    raise(TypeError, "%s and %s are not of the same type", str(self), str(other))
  end
  if py_lt(self.network_address, other.network_address) then return -1 end
  if py_gt(self.network_address, other.network_address) then return 1 end
  if py_lt(self.netmask, other.netmask) then return -1 end
  if py_gt(self.netmask, other.netmask) then return 1 end
  return 0
end

-- subnets/supernet arguments: (prefixlen_diff, new_prefix) or a table.
local function diff_args(fname, a, b)
  if type(a) == "table" then a, b = a.prefixlen_diff, a.new_prefix end
  if a == nil then a = 1 end
  if not isint(a) then argerror(1, fname, "prefixlen_diff must be an integer, got " .. pytype(a)) end
  if b ~= nil and not isint(b) then argerror(2, fname, "new_prefix must be an integer, got " .. pytype(b)) end
  return N.from_int(a), b and N.from_int(b)
end

function L_net.m:subnets(prefixlen_diff, new_prefix)
  local diff, newp = diff_args("subnets", prefixlen_diff, new_prefix)
  local prefixlen, max = self._prefixlen, self._max_prefixlen
  if prefixlen == max then return list_iter({self}) end
  if newp ~= nil then
    if N.cmp(newp, prefixlen) < 0 then raise(ValueError, "new prefix must be longer") end
    if not N.eq(diff, 1) then raise(ValueError, "cannot set prefixlen_diff and new_prefix") end
    diff = N.sub(newp, prefixlen)
  end
  if N.cmp(diff, 0) < 0 then raise(ValueError, "prefix length diff must be > 0") end
  local new_prefixlen = N.add(prefixlen, diff)
  if N.cmp(new_prefixlen, max) > 0 then
    raise(ValueError, "prefix length diff %s is invalid for netblock %s", N.tostring(new_prefixlen), str(self))
  end
  local cls = class_of(self)
  local start = self.network_address._ip
  local step = N.shr(N.add(N.bxor(self.netmask._ip, self._ALL_ONES), 1), diff)
  return range_iter(start, N.add(bcast(self), 1), step,
    function(v) return network_from_int(cls, v, new_prefixlen) end)
end

function L_net.m:supernet(prefixlen_diff, new_prefix)
  local diff, newp = diff_args("supernet", prefixlen_diff, new_prefix)
  local prefixlen = self._prefixlen
  if prefixlen == 0 then return self end
  if newp ~= nil then
    if N.cmp(newp, prefixlen) > 0 then raise(ValueError, "new prefix must be shorter") end
    if not N.eq(diff, 1) then raise(ValueError, "cannot set prefixlen_diff and new_prefix") end
    diff = N.sub(prefixlen, newp)
  end
  local new_prefixlen = N.sub(prefixlen, diff)
  if N.cmp(new_prefixlen, 0) < 0 then
    raise(ValueError, "current prefixlen is %d, cannot have a prefixlen_diff of %s", prefixlen, N.tostring(diff))
  end
  if N.cmp(diff, 0) < 0 then raise(ValueError, "negative shift count") end
  local ip = N.band(self.network_address._ip, N.shl(self.netmask._ip, diff))
  return network_from_int(class_of(self), ip, new_prefixlen)
end

local function both(name)
  return function(self) return self.network_address[name] and self.broadcast_address[name] end
end
L_net.p.is_multicast = both("is_multicast")
L_net.p.is_reserved = both("is_reserved")
L_net.p.is_link_local = both("is_link_local")
L_net.p.is_unspecified = both("is_unspecified")
L_net.p.is_loopback = both("is_loopback")
L_net.p.is_private = function(self)
  local na, ba = self.network_address, self.broadcast_address
  for _, priv in ipairs(self._private_networks) do
    if net_contains(priv, na) and net_contains(priv, ba) then return true end
  end
  return false
end
L_net.p.is_global = function(self) return not self.is_private end

function L_net.m:format(spec)
  if spec == nil or spec == "" then return str(self) end
  raise(TypeError, "unsupported format string passed to %s.__format__", self.__name)
end

-- _BaseV4 and _BaseV6: the class attributes of a version, and the
-- properties version and max_prefixlen that give two of them.
local function version_layer(L, version, max_prefixlen, all_ones, string_from_ip_int)
  L.m._version, L.m._max_prefixlen, L.m._ALL_ONES = version, max_prefixlen, all_ones
  L.m._string_from_ip_int = string_from_ip_int
  L.p.version = function() return version end
  L.p.max_prefixlen = function() return max_prefixlen end
end

-- ---------------------------------------------------------------------------
-- _BaseV4 and its classes
-- ---------------------------------------------------------------------------
version_layer(L_v4, 4, 32, ALL4, v4_string)
function L_v4.m:_explode() return str(self) end
function L_v4.m:_reverse_pointer()
  local o = split(str(self), ".")
  local r = {}
  for i = #o, 1, -1 do r[#r + 1] = o[i] end
  return table.concat(r, ".") .. ".in-addr.arpa"
end

local C4 = {} -- _IPv4Constants, filled once the classes exist
local C6 = {}

-- Python's any(self in net for net in nets).
local function in_any(nets, addr)
  for _, net in ipairs(nets) do
    if net_contains(net, addr) then return true end
  end
  return false
end

L_v4addr.p.is_reserved = function(self) return net_contains(C4.reserved, self) end
L_v4addr.p.is_private = function(self) return in_any(C4.private, self) end
L_v4addr.p.is_global = function(self) return not net_contains(C4.public, self) and not self.is_private end
L_v4addr.p.is_multicast = function(self) return net_contains(C4.multicast, self) end
L_v4addr.p.is_unspecified = function(self) return py_eq(self, C4.unspecified) end
L_v4addr.p.is_loopback = function(self) return net_contains(C4.loopback, self) end
L_v4addr.p.is_link_local = function(self) return net_contains(C4.linklocal, self) end

L_v4net.p.is_global = function(self)
  local pub = C4.public
  return not (net_contains(pub, self.network_address) and net_contains(pub, self.broadcast_address))
    and not self.is_private
end

-- Interfaces (IPv4 and IPv6 alike).
local function iface_layer(L, string_of)
  L.p.hostmask = function(self) return self.network.hostmask end
  L.p.ip = function(self) return address_from_int(self._address_class, self._ip) end
  L.p.with_prefixlen = function(self) return string_of(self._ip) .. "/" .. self._prefixlen end
  L.p.with_netmask = function(self) return string_of(self._ip) .. "/" .. str(self.netmask) end
  L.p.with_hostmask = function(self) return string_of(self._ip) .. "/" .. str(self.hostmask) end
end
iface_layer(L_v4iface, v4_string)
iface_layer(L_v6iface, v6_string)
function L_v4iface.m:_str() return v4_string(self._ip) .. "/" .. self._prefixlen end

-- ---------------------------------------------------------------------------
-- _BaseV6 and its classes
-- ---------------------------------------------------------------------------
version_layer(L_v6, 6, 128, ALL6, v6_string)
function L_v6.m:_explode()
  local ip_str
  if is_network(self) then
    ip_str = str(self.network_address)
  elseif is_interface(self) then
    ip_str = v6_string(self._ip)
  else
    ip_str = str(self)
  end
  -- Python re-parses the text, scope id included (so a scoped one fails).
  local bits = v6_exploded_bits(v6_parse(ip_str))
  if is_network(self) or is_interface(self) then return bits .. "/" .. self._prefixlen end
  return bits
end
function L_v6.m:_reverse_pointer()
  local chars = {}
  local e = self.exploded:gsub(":", "")
  for i = #e, 1, -1 do chars[#chars + 1] = e:sub(i, i) end
  return table.concat(chars, ".") .. ".ip6.arpa"
end

function L_v6addr.m:_str()
  local s = v6_string(self._ip)
  if self._scope_id then return s .. "%" .. self._scope_id end
  return s
end
L_v6addr.p.scope_id = function(self) return self._scope_id end
L_v6addr.p.is_multicast = function(self) return net_contains(C6.multicast, self) end
L_v6addr.p.is_reserved = function(self) return in_any(C6.reserved, self) end
L_v6addr.p.is_link_local = function(self) return net_contains(C6.linklocal, self) end
L_v6addr.p.is_site_local = function(self) return net_contains(C6.sitelocal, self) end
L_v6addr.p.is_private = function(self)
  local mapped = self.ipv4_mapped
  if mapped ~= nil then return mapped.is_private end
  return in_any(C6.private, self)
end
L_v6addr.p.is_global = function(self) return not self.is_private end
L_v6addr.p.is_unspecified = function(self) return N.eq(self._ip, 0) end
L_v6addr.p.is_loopback = function(self) return N.eq(self._ip, 1) end

local function v4_of(ip, shift)
  return address_from_int(M.IPv4Address, N.band(N.shr(ip, shift), ALL4))
end
L_v6addr.p.ipv4_mapped = function(self)
  if not N.eq(N.shr(self._ip, 32), 0xFFFF) then return nil end
  return v4_of(self._ip, 0)
end
L_v6addr.p.teredo = function(self)
  if not N.eq(N.shr(self._ip, 96), 0x20010000) then return nil end
  return tuple(v4_of(self._ip, 64), address_from_int(M.IPv4Address, N.bxor(N.band(self._ip, ALL4), ALL4)))
end
L_v6addr.p.sixtofour = function(self)
  if not N.eq(N.shr(self._ip, 112), 0x2002) then return nil end
  return v4_of(self._ip, 80)
end

function L_v6iface.m:_str()
  local s = v6_string(self._ip)
  if self._scope_id then s = s .. "%" .. self._scope_id end
  return s .. "/" .. self._prefixlen
end
L_v6iface.p.is_unspecified = function(self) return N.eq(self._ip, 0) and self.network.is_unspecified end
L_v6iface.p.is_loopback = function(self) return N.eq(self._ip, 1) and self.network.is_loopback end

L_v6net.p.is_site_local = function(self)
  return self.network_address.is_site_local and self.broadcast_address.is_site_local
end

-- ---------------------------------------------------------------------------
-- The classes themselves
-- ---------------------------------------------------------------------------
local function arith(sym, f)
  return function(a, b)
    local ca = class_of(a)
    if ca and ca._is_address then
      local n = as_int(b)
      if n ~= nil then
        local v = f(a._ip, n)
        if ca._is_interface then return new_interface(ca, v) end
        return new_address(ca, "int", v, v)
      end
    end
    raise(TypeError, "unsupported operand type(s) for %s: '%s' and '%s'", sym, pytype(a), pytype(b))
  end
end

local function make_class(name, layers, flags, eq, lt, ctor)
  local cls = {__name = name, _layers = layers}
  for k, v in pairs(flags) do cls[k] = v end
  local methods, props = {}, {}
  for i = #layers, 1, -1 do
    for k, v in pairs(layers[i].m) do methods[k], props[k] = v, nil end
    for k, v in pairs(layers[i].p) do props[k], methods[k] = v, nil end
  end
  -- A method called on something that is no ipaddress object (net.hosts()
  -- with a dot) would fail anywhere inside, or answer (isinstance on {}).
  for k, v in pairs(methods) do
    if type(v) == "function" and not k:find("^_") then
      methods[k] = function(self, ...)
        if not class_of(self) then
          error(string.format("calling '%s' on bad self (ipaddress object expected, got %s)", k,
            type(self) == "table" and (getmetatable(self) or {}).__name or type(self)), 2)
        end
        return v(self, ...)
      end
    end
  end
  methods.__name = name
  for k, v in pairs(flags) do methods[k] = v end
  cls._methods = methods
  cls.__index = property_index(methods, props)
  cls.__tostring = str
  cls.__repr = function(self) return self:repr() end
  cls._rich = make_rich(eq, lt)
  cls.__eq = py_eq
  cls.__lt = py_lt
  cls.__le = py_le
  cls.__add = arith("+", N.add)
  cls.__sub = arith("-", N.sub)
  CLASSES[cls] = true
  return setmetatable(cls, {
    __call = function(_, ...) return ctor(cls, ...) end,
    __tostring = function() return "<class 'ipaddress." .. name .. "'>" end,
  })
end

local function net_eq(a, b)
  if not is_network(b) then return NI end
  return a._version == b._version and py_eq(a.network_address, b.network_address)
    and N.eq(a.netmask._ip, b.netmask._ip)
end

local function net_lt(a, b)
  if not is_network(b) then return NI end
  same_version(a, b)
  if py_ne(a.network_address, b.network_address) then return py_lt(a.network_address, b.network_address) end
  if py_ne(a.netmask, b.netmask) then return py_lt(a.netmask, b.netmask) end
  return false
end

local function addr_ctor(cls, address)
  local kind, val, py = classify(address, cls.__name)
  return new_address(cls, kind, val, py)
end

local function net_ctor(cls, address, strict)
  if strict == nil then strict = true end
  local kind, val, py, mask = split_addr_prefix(cls, address)
  return new_network(cls, kind, val, py, mask, strict)
end

local ADDR = {_is_address = true}
local IFACE = {_is_address = true, _is_interface = true}
local NET = {_is_network = true}

M.IPv4Address = make_class("IPv4Address", {L_v4addr, L_v4, L_addr, L_base}, ADDR, addr_eq, addr_lt, addr_ctor)
M.IPv4Interface = make_class("IPv4Interface", {L_v4iface, L_v4addr, L_v4, L_addr, L_base}, IFACE,
  iface_eq_from(addr_eq), iface_lt, new_interface)
M.IPv4Network = make_class("IPv4Network", {L_v4net, L_v4, L_net, L_base}, NET, net_eq, net_lt, net_ctor)
M.IPv6Address = make_class("IPv6Address", {L_v6addr, L_v6, L_addr, L_base}, ADDR, v6addr_eq, addr_lt, addr_ctor)
M.IPv6Interface = make_class("IPv6Interface", {L_v6iface, L_v6addr, L_v6, L_addr, L_base}, IFACE,
  iface_eq_from(v6addr_eq), iface_lt, new_interface)
M.IPv6Network = make_class("IPv6Network", {L_v6net, L_v6, L_net, L_base}, NET, net_eq, net_lt, net_ctor)

local function link(cls, mro, acls, ncls)
  cls._mro = mro
  cls._address_class, cls._network_class = acls, ncls
  cls._methods._address_class, cls._methods._network_class = acls, ncls
  cls._version, cls._max_prefixlen = cls._methods._version, cls._methods._max_prefixlen
  cls._ALL_ONES = cls._methods._ALL_ONES
end
link(M.IPv4Address, {M.IPv4Address}, M.IPv4Address, M.IPv4Network)
link(M.IPv4Interface, {M.IPv4Interface, M.IPv4Address}, M.IPv4Address, M.IPv4Network)
link(M.IPv4Network, {M.IPv4Network}, M.IPv4Address, M.IPv4Network)
link(M.IPv6Address, {M.IPv6Address}, M.IPv6Address, M.IPv6Network)
link(M.IPv6Interface, {M.IPv6Interface, M.IPv6Address}, M.IPv6Address, M.IPv6Network)
link(M.IPv6Network, {M.IPv6Network}, M.IPv6Address, M.IPv6Network)

-- ---------------------------------------------------------------------------
-- Constants (from the installed CPython 3.11's _IPv4Constants/_IPv6Constants)
-- ---------------------------------------------------------------------------
local function nets(cls, list)
  local out = {}
  for i, s in ipairs(list) do out[i] = cls(s) end
  return out
end
C4.linklocal = M.IPv4Network("169.254.0.0/16")
C4.loopback = M.IPv4Network("127.0.0.0/8")
C4.multicast = M.IPv4Network("224.0.0.0/4")
C4.public = M.IPv4Network("100.64.0.0/10")
C4.private = nets(M.IPv4Network, {
  "0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/29",
  "192.0.0.170/31", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
  "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
})
C4.reserved = M.IPv4Network("240.0.0.0/4")
C4.unspecified = M.IPv4Address("0.0.0.0")
C6.linklocal = M.IPv6Network("fe80::/10")
C6.multicast = M.IPv6Network("ff00::/8")
C6.private = nets(M.IPv6Network, {
  "::1/128", "::/128", "::ffff:0:0/96", "100::/64", "2001::/23", "2001:2::/48", "2001:db8::/32",
  "2001:10::/28", "fc00::/7", "fe80::/10",
})
C6.reserved = nets(M.IPv6Network, {
  "::/8", "100::/8", "200::/7", "400::/6", "800::/5", "1000::/4", "4000::/3", "6000::/3",
  "8000::/3", "A000::/3", "C000::/3", "E000::/4", "F000::/5", "F800::/6", "FE00::/9",
})
C6.sitelocal = M.IPv6Network("fec0::/10")
M.IPv4Network._methods._private_networks = C4.private
M.IPv6Network._methods._private_networks = C6.private

-- ---------------------------------------------------------------------------
-- Module functions
-- ---------------------------------------------------------------------------

-- Tries IPv4 then IPv6 the way Python does, keeping other errors.
local function either(v4, v6, what, fname, address, ...)
  local kind, val, py = classify(address, fname)
  local arg = kind == "int" and val or address
  for _, f in ipairs({v4, v6}) do
    local ok, r = pcall(f, arg, ...)
    if ok then return r end
    if not (AddressValueError:matches(r) or NetmaskValueError:matches(r)) then error(r, 0) end
  end
  raise(ValueError, "%s does not appear to be an IPv4 or IPv6 %s", pyrepr(py), what)
end

function M.ip_address(address)
  return either(M.IPv4Address, M.IPv6Address, "address", "ip_address", address)
end

function M.ip_network(address, strict)
  if strict == nil then strict = true end
  return either(M.IPv4Network, M.IPv6Network, "network", "ip_network", address, strict)
end

function M.ip_interface(address)
  return either(M.IPv4Interface, M.IPv6Interface, "interface", "ip_interface", address)
end

local function int_to_packed(address, len, version, fname)
  local v = as_int(address)
  if v == nil then argerror(1, fname, "integer expected, got " .. pytype(address)) end
  if N.cmp(v, 0) < 0 or N.bit_length(v) > len * 8 then
    raise(ValueError, "Address negative or too large for IPv%d", version)
  end
  return N.to_bytes(v, len)
end

function M.v4_int_to_packed(address) return int_to_packed(address, 4, 4, "v4_int_to_packed") end
function M.v6_int_to_packed(address) return int_to_packed(address, 16, 6, "v6_int_to_packed") end

local function summarize(first, last)
  if not (is_address(first) and is_address(last)) then
    raise(TypeError, "first and last must be IP addresses, not networks")
  end
  same_version(first, last)
  if py_gt(first, last) then raise(ValueError, "last IP address must be greater than first") end
  local cls = first._version == 4 and M.IPv4Network or M.IPv6Network
  local bits, all = first._max_prefixlen, first._ALL_ONES
  local first_int, last_int = first._ip, last._ip
  local done = false
  return iterator(function()
    if done or N.cmp(first_int, last_int) > 0 then return nil end
    local nbits = math.min(N.ctz(first_int, bits), N.bit_length(N.add(N.sub(last_int, first_int), 1)) - 1)
    local net = network_from_int(cls, first_int, bits - nbits)
    first_int = N.add(first_int, N.shl(1, nbits))
    if N.eq(N.sub(first_int, 1), all) then done = true end
    return net
  end)
end
M.summarize_address_range = summarize

local function sorted(t)
  table.sort(t, py_lt)
  return t
end

local function to_array(x, fname)
  if type(x) == "function" or getmetatable(x) == ITER then
    local out = {}
    for v in x do out[#out + 1] = v end
    return out
  end
  if type(x) ~= "table" then argerror(1, fname, "table or iterator expected, got " .. pytype(x)) end
  return x
end

local function collapse_internal(addresses)
  local to_merge, subnets, order = {}, {}, {}
  for i, v in ipairs(addresses) do to_merge[i] = v end
  while #to_merge > 0 do
    local net = table.remove(to_merge)
    local supernet = net:supernet()
    local k = supernet:key()
    local existing = subnets[k]
    if existing == nil then
      subnets[k] = net
      order[#order + 1] = k
    elseif py_ne(existing, net) then
      subnets[k] = nil
      to_merge[#to_merge + 1] = supernet
    end
  end
  local values = {}
  for _, k in ipairs(order) do
    local v = subnets[k]
    if v ~= nil then values[#values + 1] = v; subnets[k] = nil end
  end
  local out, last = {}, nil
  for _, net in ipairs(sorted(values)) do
    if not (last ~= nil and py_ge(last.broadcast_address, net.broadcast_address)) then
      out[#out + 1] = net
      last = net
    end
  end
  return out
end

function M.collapse_addresses(addresses)
  local list = to_array(addresses, "collapse_addresses")
  local ips, nets_ = {}, {}
  for i, ip in ipairs(list) do
    if not class_of(ip) then argerror(1, "collapse_addresses", "item " .. i .. " is a " .. pytype(ip)) end
    if is_address(ip) or ip._prefixlen == ip._max_prefixlen then
      local prev = ips[#ips]
      if prev then same_version(ip, prev) end
      ips[#ips + 1] = is_address(ip) and ip or ip.network_address
    else
      local prev = nets_[#nets_]
      if prev then same_version(ip, prev) end
      nets_[#nets_ + 1] = ip
    end
  end
  -- sorted(set(ips))
  local seen, uniq = {}, {}
  for _, ip in ipairs(ips) do
    local k = ip:key()
    if not seen[k] then seen[k] = true; uniq[#uniq + 1] = ip end
  end
  sorted(uniq)
  local addrs = {}
  if #uniq > 0 then
    local first, last = uniq[1], uniq[1]
    local function flush()
      for net in summarize(first, last) do addrs[#addrs + 1] = net end
    end
    for i = 2, #uniq do
      local ip = uniq[i]
      if not N.eq(ip._ip, N.add(last._ip, 1)) then
        flush()
        first = ip
      end
      last = ip
    end
    flush()
  end
  for _, n in ipairs(nets_) do addrs[#addrs + 1] = n end
  return list_iter(collapse_internal(addrs))
end

function M.get_mixed_type_key(obj)
  if is_network(obj) then return tuple(obj._version, obj.network_address, obj.netmask) end
  if is_address(obj) then return tuple(obj._version, obj) end
  return nil
end

return M
