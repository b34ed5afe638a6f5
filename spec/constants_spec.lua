-- socket's integer constants against Python 3's socket module on this machine.
-- Both take their values from the same C headers, so every name Python has
-- must be in moonsock with the same value, and moonsock must have no such
-- name Python lacks, save the exceptions listed below with their reasons.
-- Run: bin/moonsock /usr/bin/busted spec/constants_spec.lua (needs python3).

local socket = require "socket"

-- Names Python has and moonsock deliberately lacks: CPython makes these up
-- (fallback #defines in Modules/socketmodule.c) when the headers lack them,
-- and moonsock exposes only what the platform's headers define. Keep in step
-- with PYTHON_ONLY in scripts/gen-constants.
local PYTHON_ONLY = {
  ALG_SET_PUBKEY = "CPython fallback for an AF_ALG patch Linux never merged",
  ALG_OP_SIGN = "CPython fallback for the same unmerged AF_ALG patch",
  ALG_OP_VERIFY = "CPython fallback for the same unmerged AF_ALG patch",
  UDPLITE_SEND_CSCOV = "CPython fallback: no userspace header defines it",
  UDPLITE_RECV_CSCOV = "CPython fallback: no userspace header defines it",
}

-- Integer names moonsock has and Python lacks on purpose: none so far.
-- An entry is name = "reason".
-- LuaSocket's integer names on the same table (issue 13): Python has none of them.
local MOONSOCK_ONLY = {BLOCKSIZE = true, _DATAGRAMSIZE = true, _SETSIZE = true, _SOCKETINVALID = true}

-- Python's str.isupper(): some cased letter, and no lower-case one.
local function isupper(name)
  return name:find("%u") ~= nil and name:find("%l") == nil
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- {name = integer} of Python's socket module, plus has_ipv6 (a boolean).
local function python_constants()
  local script = [[
import socket
for n in sorted(dir(socket)):
    v = getattr(socket, n)
    if n.isupper() and isinstance(v, int):
        print(n, int(v))
print("has_ipv6", int(socket.has_ipv6))
]]
  local p = assert(io.popen("python3 -c '" .. script .. "'", "r"))
  local out = p:read("a")
  local ok, how, code = p:close()
  assert(ok, ("python3 failed (%s %s)"):format(tostring(how), tostring(code)))
  local consts, has_ipv6, lines = {}, nil, 0
  for line in out:gmatch("[^\n]+") do
    lines = lines + 1
    local name, value = line:match("^(%S+) (%-?%d+)$")
    assert(name, "unexpected line from python3: " .. line)
    if name == "has_ipv6" then
      has_ipv6 = value == "1"
    else
      consts[name] = math.tointeger(tonumber(value))
    end
  end
  assert(has_ipv6 ~= nil, "python3 did not report has_ipv6")
  return consts, has_ipv6, lines - 1
end

describe("socket constants", function()
  local py, py_has_ipv6, py_count

  setup(function()
    py, py_has_ipv6, py_count = python_constants()
  end)

  it("gets Python's list of integer constants", function()
    -- Guards the comparisons below against an empty or truncated list.
    assert.is_true(py_count > 300, "python3 listed only " .. py_count .. " constants")
    assert.are.equal(2, py.AF_INET)
    assert.are.equal(1, py.SOCK_STREAM)
  end)

  it("has every constant Python has, with the same integer value", function()
    local wrong = {}
    for _, name in ipairs(sorted_keys(py)) do
      if not PYTHON_ONLY[name] then
        local v = socket[name]
        if math.type(v) ~= "integer" or v ~= py[name] then
          wrong[#wrong + 1] = ("%s: moonsock %s, Python %d"):format(name, tostring(v), py[name])
        end
      end
    end
    assert.are.same({}, wrong)
  end)

  it("lacks exactly the listed Python-only names, which Python has", function()
    local wrong = {}
    for _, name in ipairs(sorted_keys(PYTHON_ONLY)) do
      if py[name] == nil then
        wrong[#wrong + 1] = name .. ": Python no longer has it; drop the exception"
      end
      if socket[name] ~= nil then
        wrong[#wrong + 1] = name .. ": moonsock has it; drop the exception"
      end
    end
    assert.are.same({}, wrong)
  end)

  it("has no integer constant that Python lacks", function()
    local extra = {}
    for name, v in pairs(socket) do
      if type(name) == "string" and isupper(name) and math.type(v) == "integer"
          and py[name] == nil and not MOONSOCK_ONLY[name] then
        extra[#extra + 1] = name
      end
    end
    table.sort(extra)
    assert.are.same({}, extra)
    for _, name in ipairs(sorted_keys(MOONSOCK_ONLY)) do
      assert.are.equal("integer", math.type(socket[name]), name .. " is listed as moonsock-only")
      assert.is_nil(py[name], name .. " is listed as moonsock-only but Python has it")
    end
  end)

  it("has as many integer constants as Python, less the Python-only ones", function()
    local n = 0
    for name, v in pairs(socket) do
      if type(name) == "string" and isupper(name) and math.type(v) == "integer" then
        n = n + 1
      end
    end
    local exceptions = #sorted_keys(PYTHON_ONLY)
    assert.are.equal(py_count - exceptions + #sorted_keys(MOONSOCK_ONLY), n)
  end)

  it("says has_ipv6 as Python does, as a boolean", function()
    assert.are.equal("boolean", type(socket.has_ipv6))
    assert.are.equal(py_has_ipv6, socket.has_ipv6)
    assert.are.equal(socket.AF_INET6 ~= nil, socket.has_ipv6)
  end)

  it("maps IPPROTO_ values back to names by iterating the module", function()
    -- The tutorials' idiom: {value -> names} from pairs() over the module.
    local names_of, count = {}, 0
    for name, value in pairs(socket) do
      if type(name) == "string" and name:find("^IPPROTO_") then
        names_of[value] = names_of[value] or {}
        table.insert(names_of[value], name)
        count = count + 1
      end
    end
    for _, names in pairs(names_of) do table.sort(names) end
    local py_count_ipproto = 0
    for name in pairs(py) do
      if name:find("^IPPROTO_") then py_count_ipproto = py_count_ipproto + 1 end
    end
    assert.are.equal(py_count_ipproto, count)
    -- getprotobyname's numbers (IANA's), in Python and in moonsock.
    for name, number in pairs { IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_ICMP = 1 } do
      assert.are.equal(number, py[name], "Python's " .. name)
      assert.are.same({ name }, names_of[number])
    end
    -- IPPROTO_IP and IPPROTO_HOPOPTS share 0: the map keeps both.
    assert.are.same({ "IPPROTO_HOPOPTS", "IPPROTO_IP" }, names_of[0])
  end)
end)
