-- asynchat_chat_client.lua
-- Source: the client side of examples/asynchat_chat_server.lua.
-- Shows: `clients` asynchat.async_chat clients in one asyncore.loop, each
--   connecting with a non-blocking connect, pushing lines and cutting what
--   comes back at "\n". Each says "join N"; once every client has seen its
--   own join come back (so the server has them all), each sends `messages`
--   lines "msg N J", and each checks that it received every client's lines,
--   each sender's in order.
-- Usage: bin/moonsock examples/asynchat_chat_client.lua [port [host [clients [messages]]]]
--   port defaults to 8080, host to "localhost", clients to 1, messages to 20.
local asyncore = require "asyncore"
local asynchat = require "asynchat"
local socket = require "socket"

local PORT = math.tointeger(tonumber(arg[1] or "8080"))
local HOST = arg[2] or "localhost"
local CLIENTS = math.tointeger(tonumber(arg[3] or "1"))
local MESSAGES = math.tointeger(tonumber(arg[4] or "20"))

local clients = {}
local ready = 0

local ChatClient = asynchat.async_chat:extend {__name = "ChatClient"}

function ChatClient:__init__(host, port, index)
  asynchat.async_chat.__init__(self)
  self.index = index
  self.buffer = {}
  self.next_from = {}   -- sender -> the message number expected next
  self.senders = 0
  self.received = 0
  self.in_order = true
  self:set_terminator("\n")
  self:create_socket(socket.AF_INET, socket.SOCK_STREAM)
  self:connect({host, port})
end

function ChatClient:handle_connect()
  self:push(string.format("join %d\n", self.index))
end

function ChatClient:collect_incoming_data(data)
  self.buffer[#self.buffer + 1] = data
end

function ChatClient:found_terminator()
  local words = {}
  for w in table.concat(self.buffer):gmatch("%S+") do words[#words + 1] = w end
  self.buffer = {}
  if words[1] == "join" and tonumber(words[2]) == self.index then
    ready = ready + 1
    if ready == #clients then
      for _, c in ipairs(clients) do c:send_messages() end
    end
  elseif words[1] == "msg" then
    local sender, number = tonumber(words[2]), tonumber(words[3])
    if self.next_from[sender] == nil then self.senders = self.senders + 1 end
    if (self.next_from[sender] or 0) ~= number then self.in_order = false end
    self.next_from[sender] = number + 1
    self.received = self.received + 1
    if self.received == #clients * MESSAGES then self:close() end
  end
end

function ChatClient:send_messages()
  for j = 0, MESSAGES - 1 do self:push(string.format("msg %d %d\n", self.index, j)) end
end

function ChatClient:handle_close() self:close() end

for i = 1, CLIENTS do clients[i] = ChatClient(HOST, PORT, i) end
asyncore.loop()
for _, c in ipairs(clients) do
  print(string.format("client %d: %d messages from %d clients, %s", c.index, c.received, c.senders,
    c.in_order and "in order" or "OUT OF ORDER"))
end
print(string.format("%d clients done", #clients))
