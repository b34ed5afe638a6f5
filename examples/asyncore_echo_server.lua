-- asyncore_echo_server.lua
-- Source: the asyncore echo server of the Python documentation
--   (EchoHandler/EchoServer); 002_0236391d9d2b22b5.txt introduces asyncore.
-- Shows: asyncore.dispatcher_with_send and asyncore.dispatcher subclassed
--   the moonsock way (Class:extend, __init__ calling the parent's), a
--   listening dispatcher whose handle_accepted makes a handler per client,
--   and asyncore.loop serving every client from one task.
-- Usage: bin/moonsock examples/asyncore_echo_server.lua [port [host [clients]]]
--   port defaults to 8080 and host to "localhost", as in the documentation;
--   with `clients` the server ends once that many clients have left and
--   prints how many it served. Talk to it with examples/asyncore_echo_client.lua.
local asyncore = require "asyncore"
local socket = require "socket"

local PORT = math.tointeger(tonumber(arg[1] or "8080"))
local HOST = arg[2] or "localhost"
local CLIENTS = arg[3] and math.tointeger(tonumber(arg[3]))

local EchoHandler = asyncore.dispatcher_with_send:extend {__name = "EchoHandler"}

function EchoHandler:__init__(sock, server)
  asyncore.dispatcher_with_send.__init__(self, sock)
  self.server = server
end

function EchoHandler:handle_read()
  local data = self:recv(8192)
  if data ~= "" then self:send(data) end
end

function EchoHandler:handle_close()
  self:close()
  self.server:client_closed()
end

local EchoServer = asyncore.dispatcher:extend {__name = "EchoServer"}

function EchoServer:__init__(host, port, clients)
  asyncore.dispatcher.__init__(self)
  self:create_socket(socket.AF_INET, socket.SOCK_STREAM)
  self:set_reuse_addr()
  self:bind({host, port})
  -- The documentation listens with 5: 64 lets 50 clients connect at once
  -- without waiting for SYN retries.
  self:listen(64)
  self.clients = clients
  self.served = 0
end

function EchoServer:handle_accepted(sock, addr)
  print("Incoming connection from " .. tostring(addr))
  EchoHandler(sock, self)
end

function EchoServer:client_closed()
  self.served = self.served + 1
  if self.clients and self.served >= self.clients then self:close() end
end

local server = EchoServer(HOST, PORT, CLIENTS)
asyncore.loop()
print(string.format("Served %d clients", server.served))
