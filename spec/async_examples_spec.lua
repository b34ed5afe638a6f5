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
local ex = require "spec.support.examples"
local CLIENTS = 50

-- The kernel's ephemeral port range: the ports it picks for clients.
local EPHEMERAL_LOW, EPHEMERAL_HIGH = ex.EPHEMERAL_LOW, ex.EPHEMERAL_HIGH

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

-- Runs a server in the background, then a client, both bounded by
-- timeout(1); -> {server = {out, err, code}, client = {...}}.
local function session(example, server_lang, client_lang, extra_client_args)
  local port = ex.free_port()
  local srv = ex.start(ex.command(server_lang, example .. "_server", {port, "127.0.0.1", CLIENTS}), 60)
  local ok, result = pcall(function()
    assert(ex.wait_until(function() return ex.tcp_listening(port) end, 10),
      "server never listened: " .. tostring(ex.read_file(srv.dir .. "/err")))
    local args = {port, "127.0.0.1", CLIENTS}
    for _, a in ipairs(extra_client_args or {}) do args[#args + 1] = a end
    local c = ex.finish(ex.start(ex.command(client_lang, example .. "_client", args), 60), 60)
    local s = ex.finish(srv, 30)
    return {server = {out = normalise(s.out, port), err = s.err, code = s.code},
            client = {out = normalise(c.out, port), err = c.err, code = c.code}}
  end)
  if not ok then
    ex.stop(srv)
    error(result, 0)
  end
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
