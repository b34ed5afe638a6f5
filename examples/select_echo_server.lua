-- select_echo_server.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", a
--   translation of PyMOTW), opening line: select watches several sockets at once,
--   so one server talks to many clients. The program is PyMOTW-3's
--   select_echo_server.py ("select - Wait for I/O Efficiently"), which 002 points to.
-- Shows: the classic select-based echo server: one task, a non-blocking listening
--   socket and non-blocking client sockets, and a loop around
--   select.select(inputs, outputs, inputs). A readable listening socket means a
--   new connection; a readable client means data (queued for echoing, and the
--   client joins outputs) or, when recv gives "", a client that has gone; a
--   writable client gets its queued bytes; an exceptional one is dropped.
--   PyMOTW's queue of messages is a byte buffer per client here (and in the
--   Python reference), so that a partial send keeps the rest for the next turn.
--   Deterministic lines go to stdout; the ones whose order depends on timing
--   ("waiting for the next event", "output buffer ... is empty") to stderr.
-- Usage: bin/moonsock examples/select_echo_server.lua [port [host [clients]]]
--   port defaults to PyMOTW's 10000 and host to "localhost". PyMOTW serves
--   forever; with `clients` it stops listening once that many clients have come,
--   and ends when they have all gone.
--   Talk to it with examples/select_echo_client.lua.
local select = require "select"
local socket = require "socket"

local PORT = math.tointeger(tonumber(arg[1] or "10000"))
local HOST = arg[2] or "localhost"
local clients = arg[3] and math.tointeger(tonumber(arg[3]))

local function remove(list, item)
  for i = #list, 1, -1 do
    if list[i] == item then table.remove(list, i) end
  end
end

local function contains(list, item)
  for _, v in ipairs(list) do
    if v == item then return true end
  end
  return false
end

-- Create a TCP/IP socket
local server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server:setblocking(false)
server:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

-- Bind the socket to the port
print(string.format("starting up on %s port %d", HOST, PORT))
server:bind({HOST, PORT})

-- Listen for incoming connections
server:listen(socket.SOMAXCONN)

-- Sockets from which we expect to read
local inputs = {server}
-- Sockets to which we expect to write
local outputs = {}
-- Outgoing bytes per client, and the address each came from
local pending, peers = {}, {}
local served = 0

local function drop(s)
  remove(inputs, s)
  remove(outputs, s)
  s:close()
  pending[s], peers[s] = nil, nil
end

while #inputs > 0 do
  -- Wait for at least one of the sockets to be ready for processing
  io.stderr:write("waiting for the next event\n")
  local readable, writable, exceptional = select.select(inputs, outputs, inputs)

  -- Handle inputs
  for _, s in ipairs(readable) do
    if s == server then
      -- A "readable" server socket is ready to accept a connection
      local connection, client_address = s:accept()
      print("new connection from " .. tostring(client_address))
      connection:setblocking(false)
      inputs[#inputs + 1] = connection
      -- Give the connection a buffer for data we want to send
      pending[connection], peers[connection] = "", client_address
      served = served + 1
      if clients and served >= clients then
        -- The last client has come: stop listening; the loop ends when it has gone.
        remove(inputs, server)
        server:close()
      end
    elseif peers[s] then
      local data = s:recv(1024)
      if data ~= "" then
        -- A readable client socket has data
        print(string.format("  received %d bytes from %s", #data, tostring(peers[s])))
        pending[s] = pending[s] .. data
        -- Add output channel for response
        if not contains(outputs, s) then outputs[#outputs + 1] = s end
      else
        -- Interpret empty result as closed connection
        print(string.format("  closing %s after reading no data", tostring(peers[s])))
        -- Stop listening for input on the connection
        drop(s)
      end
    end
  end

  -- Handle outputs
  for _, s in ipairs(writable) do
    local next_msg = pending[s]
    -- (nil: closed above, in this same turn)
    if next_msg == "" then
      -- No messages waiting so stop checking for writability.
      io.stderr:write(string.format("  output buffer for %s is empty\n", tostring(peers[s])))
      remove(outputs, s)
    elseif next_msg then
      local sent = s:send(next_msg)
      print(string.format("  sending %d bytes to %s", sent, tostring(peers[s])))
      pending[s] = next_msg:sub(sent + 1)
    end
  end

  -- Handle "exceptional conditions"
  for _, s in ipairs(exceptional) do
    if peers[s] then
      print("handling exceptional condition for " .. tostring(peers[s]))
      drop(s)
    end
  end
end
print(string.format("served %d clients", served))
