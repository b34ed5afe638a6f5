-- thread_per_client_server.lua
-- Source: ../shared/seeds/001_b22fa077275f9854.txt ("Python Module_Socket_网络编程"),
--   section "Socket 编程 > Demo > TCP 服务端", NOTE2 (one thread per client:
--   client_thread and start_new_thread).
-- Shows: the main task accepts connections and hands each to its own task
--   with thread.start_new_thread (moonsock's tasks stand in for threads), so
--   many clients are served at once. Each client gets a welcome message,
--   then "OK..." .. data for everything it sends, until it closes.
-- Usage: bin/moonsock examples/thread_per_client_server.lua [port [host [clients]]]
--   port defaults to 8888 and host to "" (all interfaces), as in the
--   tutorial. The tutorial accepts forever; with `clients` the server stops
--   accepting after that many clients and ends once they have all been
--   served (the client tasks keep the process alive until they finish).
--   Talk to it with examples/line_client.lua (or telnet).
local socket = require "socket"
local thread = require "thread"

local PORT = math.tointeger(tonumber(arg[1] or "8888"))
local HOST = arg[2] or ""
local clients = arg[3] and math.tointeger(tonumber(arg[3]))

-- Handles one connection; runs as its own task.
local function client_thread(conn)
  -- Sending message to connected client
  conn:send("Welcome to the server. Type something and hit enter\n")

  -- loop until the client closes its side
  while true do
    local data = conn:recv(1024)
    local reply = "OK..." .. data
    if data == "" then break end
    conn:sendall(reply)
  end

  -- came out of loop
  conn:close()
end

local s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s:bind({HOST, PORT})
s:listen(5)

local accepted = 0
while clients == nil or accepted < clients do
  -- wait to accept a connection (parks only this task)
  local conn, addr = s:accept()
  accepted = accepted + 1
  print("Connected with " .. addr[1] .. ":" .. addr[2])

  -- start_new_thread takes the function to run and the table of its arguments
  thread.start_new_thread(client_thread, {conn})
end

s:close()
