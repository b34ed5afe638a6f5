-- asynchat_chat_server.lua
-- Source: 002_0236391d9d2b22b5.txt introduces asynchat ("asynchat框架在
--   asyncore的基础上简化了创建的双向基于消息协议的过程"); this is the usual
--   first asynchat program, a line-based chat server.
-- Shows: asynchat.async_chat with set_terminator("\n"),
--   collect_incoming_data and found_terminator cutting the input into
--   lines, push queueing output for every client, and an asyncore.dispatcher
--   listening and making a handler per client, all in one asyncore.loop.
-- Usage: bin/moonsock examples/asynchat_chat_server.lua [port [host [clients]]]
--   port defaults to 8080 and host to "localhost"; with `clients` the server
--   ends once that many clients have left, and prints what it did. Talk to it
--   with examples/asynchat_chat_client.lua (or a few `nc localhost 8080`).
local asyncore = require "asyncore"
local asynchat = require "asynchat"
local socket = require "socket"

local PORT = math.tointeger(tonumber(arg[1] or "8080"))
local HOST = arg[2] or "localhost"
local CLIENTS = arg[3] and math.tointeger(tonumber(arg[3]))

local ChatHandler = asynchat.async_chat:extend {__name = "ChatHandler"}

function ChatHandler:__init__(sock, server)
  asynchat.async_chat.__init__(self, sock)
  self.server = server
  self:set_terminator("\n")
  self.buffer = {}
end

function ChatHandler:collect_incoming_data(data)
  self.buffer[#self.buffer + 1] = data
end

function ChatHandler:found_terminator()
  local line = table.concat(self.buffer)
  self.buffer = {}
  self.server:broadcast(line .. "\n")
end

function ChatHandler:handle_close()
  self:close()
  self.server:remove(self)
end

local ChatServer = asyncore.dispatcher:extend {__name = "ChatServer"}

function ChatServer:__init__(host, port, clients)
  asyncore.dispatcher.__init__(self)
  self:create_socket(socket.AF_INET, socket.SOCK_STREAM)
  self:set_reuse_addr()
  self:bind({host, port})
  self:listen(64)
  self.clients = clients
  self.handlers = {}
  self.served = 0
  self.lines = 0
end

function ChatServer:handle_accepted(sock, addr)
  print("Incoming connection from " .. tostring(addr))
  self.handlers[#self.handlers + 1] = ChatHandler(sock, self)
end

function ChatServer:broadcast(line)
  self.lines = self.lines + 1
  -- A push to a client that has gone closes it, which removes it from the
  -- list: walk a copy.
  for _, handler in ipairs(table.move(self.handlers, 1, #self.handlers, 1, {})) do
    handler:push(line)
  end
end

function ChatServer:remove(handler)
  for i, h in ipairs(self.handlers) do
    if h == handler then
      table.remove(self.handlers, i)
      self.served = self.served + 1
      break
    end
  end
  if self.clients and self.served >= self.clients then self:close() end
end

local server = ChatServer(HOST, PORT, CLIENTS)
asyncore.loop()
print(string.format("Served %d clients, broadcast %d lines", server.served, server.lines))
