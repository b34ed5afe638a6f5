-- socketserver_threaded.lua
-- Source: the "Asynchronous Mixins" example of the Python documentation
--   (ThreadedTCPRequestHandler, ThreadedTCPServer).
-- Shows: a server class made with a mixin
--   (socketserver.ThreadingMixIn:mixin(socketserver.TCPServer), Python's
--   class ThreadedTCPServer(ThreadingMixIn, TCPServer)), serve_forever in a
--   daemon task of its own, a task per request (each handler prints the
--   task serving it, where Python prints the thread's name), port 0 filled
--   in in server_address, and shutdown() from the main task.
-- Usage: bin/moonsock examples/socketserver_threaded.lua
--   It is its own client: three requests, then shutdown.
local socket = require "socket"
local socketserver = require "socketserver"
local task = require "task"

local ThreadedTCPRequestHandler = socketserver.BaseRequestHandler:extend{
  __name = "ThreadedTCPRequestHandler",
}

function ThreadedTCPRequestHandler:handle()
  local data = self.request:recv(1024)
  local cur_thread = task.current()
  local response = string.format("%s: %s", tostring(cur_thread), data)
  self.request:sendall(response)
end

local ThreadedTCPServer = socketserver.ThreadingMixIn:mixin(socketserver.TCPServer,
  {__name = "ThreadedTCPServer"})

local function client(ip, port, message)
  local sock <close> = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  sock:connect({ip, port})
  sock:sendall(message)
  local response = sock:recv(1024)
  print(string.format("Received: %s", response))
end

-- Port 0 means to select an arbitrary unused port
local HOST, PORT = "localhost", 0

local server <close> = ThreadedTCPServer({HOST, PORT}, ThreadedTCPRequestHandler)
local ip, port = server.server_address[1], server.server_address[2]

-- Start a task with the server -- that task will then start one more task
-- for each request. A daemon task: it does not keep the process alive.
local server_thread = task.spawn_daemon(function() server:serve_forever() end)
print("Server loop running in thread: " .. tostring(server_thread))

client(ip, port, "Hello World 1")
client(ip, port, "Hello World 2")
client(ip, port, "Hello World 3")

server:shutdown()
