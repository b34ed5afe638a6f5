-- examples/select_echo_server.lua and examples/select_echo_client.lua: the
-- pair must print what the Python reference pair (examples/python/) prints,
-- in every moonsock/Python pairing, and the server must serve 1,000
-- concurrent clients (run by a separate moonsock process) byte for byte.
local task = require "task"
local h = require "spec.support.helpers"

local ex = require "spec.support.examples"
local free_port, wait_until, command = ex.free_port, ex.wait_until, ex.command
local listening = ex.tcp_listening

-- Processes in the background with more fds than the default soft limit
-- (1,000 clients).
local function start(cmd, seconds) return ex.start(cmd, seconds, "ulimit -n 4096;") end
local function finish(proc, seconds) return ex.finish(proc, seconds or 30) end

-- Ports that differ between runs: the server's (chosen here) becomes
-- <port>, the kernel's ephemeral ones <client1>, <client2>... by first
-- appearance, or all <client> when `one_label`.
local function normalise(text, port, one_label)
  local seen, count = {}, 0
  text = text:gsub("port " .. port .. "\n", "port <port>\n")
  return (text:gsub("%('127%.0%.0%.1', (%d+)%)", function(p)
    if one_label then return "('127.0.0.1', <client>)" end
    if not seen[p] then
      count = count + 1
      seen[p] = "<client" .. count .. ">"
    end
    return "('127.0.0.1', " .. seen[p] .. ")"
  end))
end

-- One session: the client program with `connections` connections, and a
-- server that stops after as many clients.
local function session(server_lang, client_lang, connections)
  local port = free_port()
  local srv = start(command(server_lang, "select_echo_server", {port, "127.0.0.1", connections}))
  assert(wait_until(function() return listening(port) end, 10), "the server never listened")
  local cli = finish(start(command(client_lang, "select_echo_client", {"127.0.0.1", port, connections})))
  local s = finish(srv)
  return {server = s, client = cli, port = port}
end

local function sorted_lines(text)
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  table.sort(lines)
  return table.concat(lines, "\n")
end

describe("select_echo_server and select_echo_client", function()
  it("print what the Python pair prints, in every pairing (one connection)", function()
    local py = session("python", "python", 1)
    assert.are.equal(0, py.server.code, py.server.err)
    assert.are.equal(0, py.client.code, py.client.err)
    assert.matches("served 1 clients\n$", py.server.out)
    local want_server = normalise(py.server.out, py.port)
    local want_client = normalise(py.client.out, py.port)
    for _, pair in ipairs {{"lua", "lua"}, {"lua", "python"}, {"python", "lua"}} do
      local got = session(pair[1], pair[2], 1)
      local what = pair[1] .. " server, " .. pair[2] .. " client: "
      assert.are.equal(want_server, normalise(got.server.out, got.port), what .. tostring(got.server.err))
      assert.are.equal(want_client, normalise(got.client.out, got.port), what .. tostring(got.client.err))
      assert.are.equal(0, got.server.code, what .. tostring(got.server.err))
      assert.are.equal(0, got.client.code, what .. tostring(got.client.err))
    end
  end)

  it("print what the Python pair prints with PyMOTW's two connections", function()
    -- The server's lines for two connections interleave as the data comes:
    -- compared as a set, with the client ports alike.
    local py = session("python", "python", 2)
    assert.are.equal(0, py.server.code, py.server.err)
    local got = session("lua", "lua", 2)
    assert.are.equal(0, got.server.code, got.server.err)
    assert.are.equal(0, got.client.code, got.client.err)
    assert.are.equal(normalise(py.client.out, py.port), normalise(got.client.out, got.port))
    assert.are.equal(sorted_lines(normalise(py.server.out, py.port, true)),
      sorted_lines(normalise(got.server.out, got.port, true)))
  end)

  it("the server serves 1,000 concurrent clients, echoing every byte", function()
    local N = 1000
    local port = free_port()
    local t0 = task.now()
    local srv = start(command("lua", "select_echo_server", {port, "127.0.0.1", N}), 120)
    assert(wait_until(function() return listening(port) end, 10), "the server never listened")
    -- Every client connects and gets its first echo, waits until all N are
    -- connected (so the server holds N clients at once), then sends the
    -- rest: all 256 byte values and a message longer than the server's
    -- recv(1024), and checks every byte that comes back.
    local clients = h.write_temp([[
local socket = require "socket"
local task = require "task"
local port, n = tonumber(arg[1]), tonumber(arg[2])
local all_connected = task.Event()
local connected, sent = 0, 0
local function bytes(i)
  local t = {}
  for b = 0, 255 do t[#t + 1] = string.char((b + i) % 256) end
  return table.concat(t)
end
local function echo(s, msg)
  s:sendall(msg)
  local got, len = {}, 0
  while len < #msg do
    local d = s:recv(65536)
    assert(d ~= "", "the server closed the connection early")
    got[#got + 1] = d
    len = len + #d
  end
  local back = table.concat(got)
  if back ~= msg then
    for k = 1, #msg do
      if back:byte(k) ~= msg:byte(k) then error(string.format("byte %d differs", k)) end
    end
    error("the echo is longer than the message")
  end
  sent = sent + #msg
end
local function client(i)
  local s = socket.create_connection({"127.0.0.1", port}, 30)
  echo(s, "hello from client " .. i)
  connected = connected + 1
  if connected == n then all_connected:set() end
  assert(all_connected:wait(60), "not all clients connected")
  echo(s, bytes(i))
  echo(s, string.rep(string.format("%04d", i), 1000))
  s:close()
end
local tasks = {}
for i = 1, n do tasks[i] = task.spawn(client, i) end
for _, t in ipairs(tasks) do t:join(90) end
print(connected, sent)
]], ".lua")
    local cli = finish(start(h.shell_quote(h.moonsock) .. " " .. h.shell_quote(clients) .. " " .. port .. " " .. N,
      120), 120)
    os.remove(clients)
    local s = finish(srv, 30)
    local took = task.now() - t0
    assert.are.equal(0, cli.code, cli.err)
    local per_client = #"hello from client " + 256 + 4000
    local digits = 0
    for i = 1, N do digits = digits + #tostring(i) end
    local total = N * per_client + digits
    assert.are.equal(string.format("%d\t%d\n", N, total), cli.out)
    assert.are.equal(0, s.code, s.err)
    local _, connections = s.out:gsub("\nnew connection from ", "")
    local _, closings = s.out:gsub("\n  closing %('127%.0%.0%.1', %d+%) after reading no data", "")
    local received, sending = 0, 0
    for n in s.out:gmatch("\n  received (%d+) bytes") do received = received + tonumber(n) end
    for n in s.out:gmatch("\n  sending (%d+) bytes") do sending = sending + tonumber(n) end
    assert.are.same({N, N, total, total}, {connections, closings, received, sending})
    assert.matches("\nserved 1000 clients\n$", s.out)
    assert.is_true(took < 120, "took " .. took .. " s")
  end)
end)
