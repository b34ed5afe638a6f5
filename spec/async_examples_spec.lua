-- The asyncore and asynchat examples against their Python 3.11 twins:
-- examples/asyncore_echo_server.lua + asyncore_echo_client.lua and
-- examples/asynchat_chat_server.lua + asynchat_chat_client.lua, each also in
-- examples/python/ under the same base name. A server runs in the background
-- on a free loopback port; one client process runs 50 concurrent clients
-- against it. All four pairings (moonsock or Python server, moonsock or
-- Python client) must print, on both sides, what the Python/Python pairing
-- prints, once ports are normalised (normalise below is the only rule).
--
-- Run: bin/moonsock /usr/bin/busted spec/async_examples_spec.lua
-- The binary running this spec (bin-asan/moonsock under scripts/test --sanitize).
local MOONSOCK = "'" .. require("spec.support.helpers").moonsock:gsub("'", "'\\''") .. "'"
local socket = require "socket"
local task = require "task"

local ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]*$") or "."
local CLIENTS = 50

-- The kernel's ephemeral port range: the ports it picks for clients.
local EPHEMERAL_LOW, EPHEMERAL_HIGH = (function()
  local f = assert(io.open("/proc/sys/net/ipv4/ip_local_port_range"))
  local low, high = f:read("n", "n")
  f:close()
  return low, high
end)()

-- The only differences allowed between two runs: the server's port (chosen
-- afresh per run: a label), ports the kernel picked (numbered by first
-- appearance, so one port printed twice must stay one port) and fd numbers.
local function normalise(text, server_port)
  local ephemeral, count = {}, 0
  local function port(p)
    local n = tonumber(p)
    if n == server_port then return "<port>" end
    if n >= EPHEMERAL_LOW and n <= EPHEMERAL_HIGH then
      if not ephemeral[n] then
        count = count + 1
        ephemeral[n] = "<ephemeral" .. count .. ">"
      end
      return ephemeral[n]
    end
    return p
  end
  text = text:gsub("fd=%d+", "fd=<fd>")
  text = text:gsub("(%('[^']*', )(%d+)", function(pre, p) return pre .. port(p) end)
  return text
end

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function tmpdir()
  local p = assert(io.popen("mktemp -d"))
  local dir = p:read("l")
  p:close()
  return assert(dir, "mktemp -d failed")
end

local function command(lang, name, args)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = sh_quote(a) end
  local prog = lang == "lua" and (MOONSOCK .. " examples/" .. name .. ".lua")
    or ("python3 examples/python/" .. name .. ".py")
  return prog .. " " .. table.concat(quoted, " ")
end

local function wait_until(pred, seconds)
  local deadline = task.now() + seconds
  while not pred() do
    if task.now() > deadline then return false end
    task.sleep(0.05)
  end
  return true
end

-- Is something listening on TCP port `port`? Asked of the kernel's tables,
-- as a test connection would count as one of the server's clients.
local function listening(port)
  for _, path in ipairs {"/proc/net/tcp", "/proc/net/tcp6"} do
    local text = read_file(path) or ""
    for lport, state in text:gmatch("\n%s*%d+: %x+:(%x+) %x+:%x+ (%x%x)") do
      if tonumber(lport, 16) == port and state == "0A" then return true end
    end
  end
  return false
end

local function free_port()
  local s = socket.socket()
  s:bind({"127.0.0.1", 0})
  local port = s:getsockname()[2]
  s:close()
  return port
end

-- Runs a server in the background and a client in the foreground, both
-- bounded by timeout(1); -> {server = {out, err, code}, client = {...}}.
local function session(example, server_lang, client_lang, extra_client_args)
  local port = free_port()
  local dir = tmpdir()
  local d = sh_quote(dir)
  os.execute(string.format(
    "cd %s && ( timeout 60 %s < /dev/null > %s/sout 2> %s/serr & echo $! > %s/spid; wait $!; echo $? > %s/src )"
    .. " > /dev/null 2>&1 &", sh_quote(ROOT),
    command(server_lang, example .. "_server", {port, "127.0.0.1", CLIENTS}), d, d, d, d))
  local result = {}
  local ok, err = pcall(function()
    assert(wait_until(function() return listening(port) end, 10),
      "server never listened: " .. tostring(read_file(dir .. "/serr")))
    local args = {port, "127.0.0.1", CLIENTS}
    for _, a in ipairs(extra_client_args or {}) do args[#args + 1] = a end
    os.execute(string.format("cd %s && timeout 60 %s < /dev/null > %s/cout 2> %s/cerr; echo $? > %s/crc",
      sh_quote(ROOT), command(client_lang, example .. "_client", args), d, d, d))
    -- "echo $? > src" creates the file before it writes the number.
    assert(wait_until(function() return tonumber(read_file(dir .. "/src") or "") ~= nil end, 30),
      "server did not end: " .. tostring(read_file(dir .. "/serr")))
    result.server = {out = normalise(read_file(dir .. "/sout"), port), err = read_file(dir .. "/serr"),
                     code = tonumber(read_file(dir .. "/src"))}
    result.client = {out = normalise(read_file(dir .. "/cout"), port), err = read_file(dir .. "/cerr"),
                     code = tonumber(read_file(dir .. "/crc"))}
  end)
  local pid = tonumber(read_file(dir .. "/spid"))
  if pid and not read_file(dir .. "/src") then os.execute("kill " .. pid .. " 2> /dev/null") end
  os.execute("rm -rf " .. d)
  if not ok then error(err, 0) end
  return result
end

local function check_pairings(example, extra_client_args)
  local expected = session(example, "python", "python", extra_client_args)
  assert.are.equal(0, expected.server.code, expected.server.err)
  assert.are.equal(0, expected.client.code, expected.client.err)
  for _, pair in ipairs {{"lua", "lua"}, {"lua", "python"}, {"python", "lua"}} do
    local got = session(example, pair[1], pair[2], extra_client_args)
    local what = pair[1] .. " server, " .. pair[2] .. " client: "
    assert.are.equal(0, got.server.code, what .. tostring(got.server.err))
    assert.are.equal(0, got.client.code, what .. tostring(got.client.err))
    assert.are.equal("", got.server.err, what .. "server stderr")
    assert.are.equal("", got.client.err, what .. "client stderr")
    assert.are.equal(expected.server.out, got.server.out, what .. "server output")
    assert.are.equal(expected.client.out, got.client.out, what .. "client output")
  end
  return expected
end

describe("async examples", function()
  it("normalise labels the server's port and numbers the kernel's ports by first appearance", function()
    local low = EPHEMERAL_LOW
    local text = string.format("('127.0.0.1', %d) ('127.0.0.1', 8080) ('127.0.0.1', %d) ('::1', %d) fd=7",
      low + 5, low + 9, low + 5)
    assert.are.equal("('127.0.0.1', <ephemeral1>) ('127.0.0.1', <port>) ('127.0.0.1', <ephemeral2>)"
      .. " ('::1', <ephemeral1>) fd=<fd>", normalise(text, 8080))
  end)

  it("asyncore echo server and client, 50 concurrent clients, print what Python prints", function()
    local expected = check_pairings("asyncore_echo")
    -- What the Python pair printed is itself the story the example tells.
    local _, incoming = expected.server.out:gsub("Incoming connection from %('127%.0%.0%.1', <ephemeral%d+>%)\n", "")
    assert.are.equal(CLIENTS, incoming)
    assert.truthy(expected.server.out:find("Served " .. CLIENTS .. " clients\n", 1, true))
    local _, intact = expected.client.out:gsub("echo intact\n", "")
    assert.are.equal(CLIENTS, intact)
    assert.truthy(expected.client.out:find("client 50: sent 1038890 bytes, echo intact", 1, true))
  end)

  it("asynchat chat server and client, 50 concurrent clients, print what Python prints", function()
    local expected = check_pairings("asynchat_chat", {20})
    local _, incoming = expected.server.out:gsub("Incoming connection from %('127%.0%.0%.1', <ephemeral%d+>%)\n", "")
    assert.are.equal(CLIENTS, incoming)
    assert.truthy(expected.server.out:find(string.format("Served %d clients, broadcast %d lines\n",
      CLIENTS, CLIENTS + CLIENTS * 20), 1, true))
    local _, complete = expected.client.out:gsub(string.format(": %d messages from %d clients, in order\n",
      CLIENTS * 20, CLIENTS), "")
    assert.are.equal(CLIENTS, complete)
  end)
end)
