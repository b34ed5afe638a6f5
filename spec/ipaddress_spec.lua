-- lua/ipaddress.lua against CPython's ipaddress. spec/support/ipaddress_cases.py
-- generates the cases (fixed and seeded-random addresses, networks,
-- interfaces, every property, methods with arguments, arithmetic, ordering,
-- collapse/summarize/exclude, errors) and prints python3's answer for each;
-- here the same operation runs in Lua and both answers are compared as text.
-- The rest checks the Lua spellings (iterators, keys, error classes, the
-- integer and bytes rules), with expected values again taken from python3.
local ipaddress = require "ipaddress"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"
local h = require "spec.support.helpers"

local function here()
  local src = debug.getinfo(1, "S").source:gsub("^@", "")
  return src:match("^(.*)/[^/]*$") or "."
end

-- ---- the generated cases ----

local function spec_of(k) return function(s) return {k = k, s} end end
local env = {
  I = spec_of("int"), S = spec_of("str"), B = spec_of("bytes"),
  T = function(t) t.k = "tuple"; return t end,
  L = function(t) t.k = "list"; return t end,
  O = function(name, arg, strict) return {k = "obj", name = name, arg = arg, strict = strict} end,
}

local function load_cases()
  local out, err, code = h.run("python3 " .. h.shell_quote(here() .. "/support/ipaddress_cases.py"))
  assert(code == 0, "python3 failed: " .. err)
  local cases, done = {}, nil
  env.C = function(t) cases[#cases + 1] = t end
  env.DONE = function(n) done = n end
  for line in out:gmatch("[^\n]+") do
    if not line:find("^%-%-") then
      local f = assert(load(line, "=case", "t", env))
      local before = #cases
      f()
      if #cases > before then cases[#cases].line = line end
    end
  end
  assert(done == #cases, ("generator printed %s cases, %d read"):format(tostring(done), #cases))
  return cases
end

-- A generated value as the Lua module takes it: integers that do not fit a
-- Lua integer become decimal strings, bytes are ipaddress.bytes().
local function ev(spec)
  if type(spec) ~= "table" then return spec end
  local k = spec.k
  if k == "int" then
    local v = math.tointeger(tonumber(spec[1]))
    if v and string.format("%d", v) == spec[1] then return v end
    return spec[1]
  end
  if k == "str" then return spec[1] end
  if k == "bytes" then return ipaddress.bytes(spec[1]) end
  if k == "tuple" or k == "list" then
    local t = {}
    for i = 1, #spec do t[i] = ev(spec[i]) end
    return t
  end
  if k == "obj" then
    local arg = ev(spec.arg)
    if spec.strict == nil then return ipaddress[spec.name](arg) end
    return ipaddress[spec.name](arg, spec.strict)
  end
  error("unknown spec " .. tostring(k))
end

local function bytes_repr(s)
  local q = (s:find("'", 1, true) and not s:find('"', 1, true)) and '"' or "'"
  local out = {}
  for i = 1, #s do
    local c = s:sub(i, i)
    local b = c:byte()
    if c == "\\" or c == q then out[i] = "\\" .. c
    elseif c == "\n" then out[i] = "\\n"
    elseif c == "\r" then out[i] = "\\r"
    elseif c == "\t" then out[i] = "\\t"
    elseif b < 32 or b >= 127 then out[i] = string.format("\\x%02x", b)
    else out[i] = c end
  end
  return "b" .. q .. table.concat(out) .. q
end

-- Results Python gives as int (a decimal string for IPv6 here) or as bytes.
local INTISH = {num_addresses = true, prefixlen = true, max_prefixlen = true, version = true, int = true,
                compare_networks = true}
local BYTESISH = {packed = true, v4_int_to_packed = true, v6_int_to_packed = true}

local function is_ip(v)
  local mt = getmetatable(v)
  for _, c in ipairs {"IPv4Address", "IPv6Address", "IPv4Network", "IPv6Network", "IPv4Interface",
                      "IPv6Interface"} do
    if mt == ipaddress[c] then return true end
  end
  return false
end

local canon
local function seq(t, open, close)
  local parts = {}
  for i = 1, #t do parts[i] = canon(t[i]) end
  local body = table.concat(parts, ", ")
  if open == "(" and #t == 1 then body = body .. "," end
  return open .. body .. close
end

function canon(v, name)
  if v == nil then return "None" end
  if v == true then return "True" end
  if v == false then return "False" end
  if math.type(v) == "integer" then return tostring(v) end
  if type(v) == "string" then
    if INTISH[name] then
      assert(v:find("^%-?%d+$"), "an integer as a decimal string: " .. v)
      return v
    end
    if BYTESISH[name] then return bytes_repr(v) end
    return repr.quote(v)
  end
  if is_ip(v) then return v:repr() end
  local mt = getmetatable(v)
  if type(v) == "table" and type(mt) == "table" then
    if mt.__name == "generator" then
      -- Bounded: the generated cases never ask for more than a few hundred.
      local items = {}
      for x in v do
        items[#items + 1] = x
        if #items > 5000 then error("iterator gave more than 5000 items") end
      end
      return seq(items, "[", "]")
    end
    if mt.__name == "list" then return seq(v, "[", "]") end
    if mt.__name == "tuple" then return seq(v, "(", ")") end
  end
  return "UNEXPECTED " .. type(v) .. " " .. tostring(v)
end

local function err_canon(e)
  local mt = getmetatable(e)
  if type(e) == "table" and type(mt) == "table" and mt.__name then
    return "EXC " .. mt.__name .. ": " .. tostring(e)
  end
  return "LUAERR " .. tostring(e)
end

local BIN = {
  ["+"] = function(a, b) return a + b end, ["-"] = function(a, b) return a - b end,
  ["<"] = function(a, b) return a < b end, ["<="] = function(a, b) return a <= b end,
  [">"] = function(a, b) return a > b end, [">="] = function(a, b) return a >= b end,
  ["=="] = function(a, b) return a == b end, ["~="] = function(a, b) return a ~= b end,
}

local function args_of(c)
  local t = {}
  for i = 1, #(c.args or {}) do t[i] = ev(c.args[i]) end
  return t, #(c.args or {})
end

local run = {
  new = function(c)
    local a, n = args_of(c)
    return ipaddress[c.name](table.unpack(a, 1, n)), c.name
  end,
  get = function(c) return ev(c.obj)[c.name], c.name end,
  call = function(c)
    local obj = ev(c.obj)
    local a, n = args_of(c)
    if c.name == "str" then return tostring(obj) end
    if c.name == "repr" then return obj:repr() end
    if c.kw then return obj[c.name](obj, c.kw), c.name end
    return obj[c.name](obj, table.unpack(a, 1, n)), c.name
  end,
  bin = function(c) return BIN[c.name](ev(c.a), ev(c.b)) end,
  fn = function(c)
    local a, n = args_of(c)
    return ipaddress[c.name](table.unpack(a, 1, n)), c.name
  end,
  key = function(c) return ev(c.a):key() == ev(c.b):key() end,
  sort = function(c)
    local items = ev(c.args[1])
    local key = ipaddress.get_mixed_type_key
    table.sort(items, function(x, y) return key(x) < key(y) end)
    return setmetatable(items, {__name = "list"})
  end,
}

-- Lua's answer matches Python's: the same text; nil where Python has no
-- such attribute; a "bad argument" error where Python raises
-- AttributeError for an object of the wrong kind.
local function agrees(got, want)
  if got == want then return true end
  if want == "ABSENT" and got == "None" then return true end
  if want:find("^EXC AttributeError") and got:find("^LUAERR .*bad argument") then return true end
  return false
end

local cases, results = nil, {}
local function outcome_of(c)
  local ok, v, name = pcall(run[c.op], c)
  if not ok then return err_canon(v) end
  local ok2, s = pcall(canon, v, name)
  return ok2 and s or ("CANON FAILED " .. tostring(s))
end

local function check(op)
  cases = cases or load_cases()
  local bad, n = {}, 0
  for _, c in ipairs(cases) do
    if c.op == op then
      n = n + 1
      local got = outcome_of(c)
      if not agrees(got, c.want) then
        bad[#bad + 1] = c.line .. "\n    lua:    " .. got .. "\n    python: " .. c.want
        if #bad >= 25 then break end
      end
    end
  end
  results[op] = n
  return bad, n
end

describe("ipaddress against python3 (generated cases)", function()
  for _, t in ipairs {
    {"new", "constructors and ip_address/ip_network/ip_interface on text, ints, bytes, pairs", 2000},
    {"get", "every property of addresses, networks and interfaces", 2000},
    {"call", "methods: iter, hosts, subnets, supernet, getitem, contains, exclusion, format, int", 1000},
    {"bin", "arithmetic and ordering metamethods", 1000},
    {"fn", "collapse_addresses, summarize_address_range, int_to_packed, get_mixed_type_key", 100},
    {"key", "x:key() equality is Python's ==", 400},
    {"sort", "sorting with get_mixed_type_key", 10},
  } do
    local op, what, min = t[1], t[2], t[3]
    it(what, function()
      local bad, n = check(op)
      assert(n >= min, ("only %d '%s' cases generated"):format(n, op))
      assert(#bad == 0, #bad .. " of " .. n .. " '" .. op .. "' cases differ:\n" .. table.concat(bad, "\n"))
    end)
  end

  it("compared several hundred cases in all", function()
    cases = cases or load_cases()
    for _, op in ipairs {"new", "get", "call", "bin", "fn", "key", "sort"} do
      assert(results[op], "the '" .. op .. "' cases did not run")
    end
    assert(#cases >= 500, "too few cases: " .. #cases)
    print(("# ipaddress: %d cases compared with python3"):format(#cases))
  end)
end)

-- ---- the Lua spellings, against python3's answers ----

local function py(code) return h.python("import ipaddress\n" .. code) end

local function lines(s)
  local t = {}
  for l in s:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

describe("ipaddress in Lua", function()
  it("iterates with for ... in net:iter() and net:hosts(), and lists print like Python's", function()
    for _, text in ipairs {"192.0.2.0/29", "192.0.2.0/31", "192.0.2.7/32", "2001:db8::/126", "2001:db8::/127"} do
      local net = ipaddress.ip_network(text)
      local all, hosts = {}, {}
      for a in net:iter() do all[#all + 1] = tostring(a) end
      for a in net:hosts() do hosts[#hosts + 1] = tostring(a) end
      local want = lines(py(("n = ipaddress.ip_network(%q)\nprint(' '.join(map(str, n)))\n"
        .. "print(' '.join(map(str, n.hosts())))\nprint(repr(list(n.hosts())))"):format(text)))
      assert.are.equal(want[1], table.concat(all, " "))
      assert.are.equal(want[2] or "", table.concat(hosts, " "))
      assert.are.equal(want[3], tostring(net:hosts():list()))
    end
  end)

  it("an exhausted iterator stays exhausted, and list() takes what is left", function()
    local it_ = ipaddress.ip_network("10.0.0.0/30"):iter()
    local first = it_()
    local rest = it_:list()
    local want = lines(py("n = ipaddress.ip_network('10.0.0.0/30')\ng = iter(n)\nprint(next(g))\nprint(list(g))\n"
      .. "print(list(g))"))
    assert.are.equal(want[1], tostring(first))
    assert.are.equal(want[2], tostring(rest))
    assert.are.equal(want[3], tostring(it_:list()))
    assert.is_nil(it_())
  end)

  it("subnets and supernet take an options table as Python takes keywords", function()
    local net = ipaddress.ip_network("10.0.0.0/22")
    local want = lines(py("n = ipaddress.ip_network('10.0.0.0/22')\nprint(list(n.subnets(new_prefix=24)))\n"
      .. "print(list(n.subnets(prefixlen_diff=1)))\nprint(repr(n.supernet(new_prefix=8)))"))
    assert.are.equal(want[1], tostring(net:subnets({new_prefix = 24}):list()))
    assert.are.equal(want[1], tostring(net:subnets(nil, 24):list()))
    assert.are.equal(want[2], tostring(net:subnets({prefixlen_diff = 1}):list()))
    assert.are.equal(want[3], net:supernet({new_prefix = 8}):repr())
  end)

  it("key() makes equal objects one table key, as Python's set does", function()
    local texts = {"::1", "0::1", "0:0:0:0:0:0:0:1", "::0.0.0.1", "::2", "1.2.3.4", "fe80::1%eth0", "fe80::1"}
    local set, n = {}, 0
    for _, t in ipairs(texts) do
      local k = ipaddress.ip_address(t):key()
      if not set[k] then set[k] = true; n = n + 1 end
    end
    local quoted = {}
    for i, t in ipairs(texts) do quoted[i] = ("%q"):format(t) end
    local want = py("print(len(set(map(ipaddress.ip_address, [" .. table.concat(quoted, ",") .. "]))))")
    assert.are.equal(tonumber(want), n)
  end)

  it("error classes: matches() follows Python's class hierarchy, tostring() is str(exc)", function()
    local inputs = {
      {"IPv4Address", "1.2.3"}, {"IPv4Network", "1.2.3.0/33"}, {"IPv4Network", "1.2.3.4/24"},
      {"ip_address", "nonsense"}, {"IPv6Address", "1::2::3"}, {"IPv6Network", "::/ffff::"},
      {"summarize_address_range", nil},
    }
    local classes = {"AddressValueError", "NetmaskValueError", "ValueError", "TypeError"}
    for _, c in ipairs(inputs) do
      local f, arg = c[1], c[2]
      local ok, err
      if arg then
        ok, err = pcall(ipaddress[f], arg)
      else
        ok, err = pcall(ipaddress[f], ipaddress.ip_network("1.2.3.0/24"), ipaddress.ip_address("1.2.3.4"))
      end
      assert.is_false(ok)
      local call = arg and ("ipaddress.%s(%q)"):format(f, arg)
        or "list(ipaddress.summarize_address_range(ipaddress.ip_network('1.2.3.0/24'), "
          .. "ipaddress.ip_address('1.2.3.4')))"
      local want = lines(py(("try:\n  %s\nexcept Exception as e:\n  print(str(e))\n"
        .. "  for c in %s: print(isinstance(e, getattr(ipaddress, c, None) or __builtins__.__dict__[c]))")
        :format(call, "['AddressValueError', 'NetmaskValueError', 'ValueError', 'TypeError']")))
      assert.are.equal(want[1], tostring(err))
      for i, cname in ipairs(classes) do
        local cls = ipaddress[cname] or errors[cname]
        assert.are.equal(want[i + 1] == "True", cls:matches(err), f .. " " .. cname)
      end
    end
  end)

  it("int() is an integer for IPv4 and a decimal string for IPv6, and constructors take both back", function()
    local want = lines(py("for t in ['0.0.0.0', '255.255.255.255', '::', '::ffff:1.2.3.4', "
      .. "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '8000::1']:\n  print(int(ipaddress.ip_address(t)))"))
    local texts = {"0.0.0.0", "255.255.255.255", "::", "::ffff:1.2.3.4", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                   "8000::1"}
    for i, t in ipairs(texts) do
      local a = ipaddress.ip_address(t)
      local v = a:int()
      if a.version == 4 then assert.are.equal("integer", math.type(v)) else assert.are.equal("string", type(v)) end
      assert.are.equal(want[i], tostring(v))
      assert.is_true(ipaddress[a.version == 4 and "IPv4Address" or "IPv6Address"](v) == a)
    end
  end)

  it("packed bytes come back through ipaddress.bytes()", function()
    local texts = {"1.2.3.4", "0.0.0.0", "::1", "2001:db8::8a2e:370:7334", "::ffff:10.0.0.1"}
    local want = lines(py("for t in " .. "['1.2.3.4', '0.0.0.0', '::1', '2001:db8::8a2e:370:7334', '::ffff:10.0.0.1']"
      .. ":\n  print(repr(ipaddress.ip_address(ipaddress.ip_address(t).packed)))"))
    for i, t in ipairs(texts) do
      local a = ipaddress.ip_address(t)
      assert.are.equal(want[i], ipaddress.ip_address(ipaddress.bytes(a.packed)):repr())
    end
  end)

  it("isinstance() and the callable classes follow Python's hierarchy", function()
    local objs = {"ip_address('1.2.3.4')", "ip_interface('1.2.3.4/24')", "ip_network('::/64')",
                  "ip_interface('::1/64')"}
    local classes = {"IPv4Address", "IPv4Interface", "IPv4Network", "IPv6Address", "IPv6Interface", "IPv6Network"}
    local code = {}
    for _, o in ipairs(objs) do
      for _, c in ipairs(classes) do
        code[#code + 1] = ("print(isinstance(ipaddress.%s, ipaddress.%s))"):format(o, c)
      end
    end
    local want = lines(py(table.concat(code, "\n")))
    local i = 0
    for _, o in ipairs(objs) do
      local f, arg = o:match("^([%w_]+)%('(.-)'%)$")
      local obj = ipaddress[f](arg)
      for _, c in ipairs(classes) do
        i = i + 1
        assert.are.equal(want[i] == "True", obj:isinstance(ipaddress[c]), o .. " " .. c)
      end
    end
    assert.are.equal("<class 'ipaddress.IPv4Address'>", tostring(ipaddress.IPv4Address))
    assert.are.equal(ipaddress.IPv4Address, getmetatable(ipaddress.IPv4Address("1.2.3.4")))
  end)

  it("get_mixed_type_key gives nil where Python gives NotImplemented", function()
    assert.are.equal("NotImplemented", py("print(ipaddress.get_mixed_type_key('1.2.3.4'))"):match("%S+"))
    assert.is_nil(ipaddress.get_mixed_type_key("1.2.3.4"))
    assert.is_nil(ipaddress.get_mixed_type_key(5))
  end)

  -- The error names the argument and blames the caller's line (the pcall
  -- below is a C function, so the line is this spec's), as Lua's own
  -- argument errors do; it used to carry no position at all.
  it("wrong Lua types raise errors naming the argument", function()
    for _, c in ipairs {
      {ipaddress.ip_address, {true}, "ip_address"}, {ipaddress.IPv4Address, {1.5}, "IPv4Address"},
      {ipaddress.IPv6Network, {nil}, "IPv6Network"}, {ipaddress.v6_int_to_packed, {"x"}, "v6_int_to_packed"},
    } do
      local ok, err = pcall(c[1], table.unpack(c[2], 1, 1))
      assert.is_false(ok)
      assert.matches("^spec/ipaddress_spec%.lua:%d+: bad argument #1 to '" .. c[3] .. "' %(", err)
    end
    local net = ipaddress.ip_network("10.0.0.0/8")
    assert.matches("bad argument #1 to 'contains'", select(2, pcall(net.contains, net, "10.0.0.1")))
    assert.matches("bad argument #1 to 'subnets'", select(2, pcall(net.subnets, net, "2")))
  end)
end)
