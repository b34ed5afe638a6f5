-- asyncore_echo_client.lua
-- Source: the client side of the asyncore echo server of the Python
--   documentation (its HTTPClient example, talking to the echo server).
-- Shows: `clients` asyncore dispatchers in one loop, each connecting with a
--   non-blocking connect, sending its own payload as the socket takes it
--   (writable/handle_write) and reading the echo (handle_read); at the end
--   each client says whether the echo matched what it sent.
-- Usage: bin/moonsock examples/asyncore_echo_client.lua [port [host [clients]]]
--   port defaults to 8080, host to "localhost", clients to 1. Every 25th
--   client sends about a megabyte, the others a few hundred bytes.
local asyncore = require "asyncore"
local socket = require "socket"

local PORT = math.tointeger(tonumber(arg[1] or "8080"))
local HOST = arg[2] or "localhost"
local CLIENTS = math.tointeger(tonumber(arg[3] or "1"))

local function payload(index)
  local count = index % 25 == 0 and 50000 or 10 * (index % 7 + 1)
  local lines = {}
  for j = 0, count - 1 do lines[#lines + 1] = string.format("client %d line %d\n", index, j) end
  return table.concat(lines)
end

local EchoClient = asyncore.dispatcher:extend {__name = "EchoClient"}

function EchoClient:__init__(host, port, index)
  asyncore.dispatcher.__init__(self)
  self.index = index
  self.expected = payload(index)
  self.outgoing = self.expected
  self.received = {}
  self.nreceived = 0
  self:create_socket(socket.AF_INET, socket.SOCK_STREAM)
  self:connect({host, port})
end

function EchoClient.handle_connect() end

function EchoClient:writable() return #self.outgoing > 0 end

function EchoClient:handle_write()
  local sent = self:send(self.outgoing:sub(1, 65536))
  self.outgoing = self.outgoing:sub(sent + 1)
end

function EchoClient:handle_read()
  local data = self:recv(65536)
  self.received[#self.received + 1] = data
  self.nreceived = self.nreceived + #data
  if self.nreceived >= #self.expected then self:close() end
end

function EchoClient:handle_close() self:close() end

local clients = {}
for i = 1, CLIENTS do clients[i] = EchoClient(HOST, PORT, i) end
asyncore.loop()
for _, c in ipairs(clients) do
  local echoed = table.concat(c.received)
  print(string.format("client %d: sent %d bytes, %s", c.index, #c.expected,
    echoed == c.expected and "echo intact" or "ECHO DIFFERS"))
end
print(string.format("%d clients done", #clients))
