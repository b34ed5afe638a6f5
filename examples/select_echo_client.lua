-- select_echo_client.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", a
--   translation of PyMOTW), opening line: select serves many clients at once. The
--   program is PyMOTW-3's select_echo_multiclient.py, the client of
--   select_echo_server.py.
-- Shows: one program holding several connections to the same server: it connects
--   them all, then for each message sends it on every socket and reads the echo
--   from every socket, so the server sees its clients' data interleaved.
--   The messages and echoes print as text; recv giving "" closes that socket.
-- Usage: bin/moonsock examples/select_echo_client.lua [host [port [connections]]]
--   host defaults to "localhost", port to 10000 and connections to PyMOTW's 2.
--   Its server: examples/select_echo_server.lua.
local socket = require "socket"

local messages = {
  "This is the message. ",
  "It will be sent ",
  "in parts.",
}
local server_address = {arg[1] or "localhost", math.tointeger(tonumber(arg[2] or "10000"))}
local connections = math.tointeger(tonumber(arg[3] or "2"))

-- Create TCP/IP sockets
local socks = {}
for i = 1, connections do socks[i] = socket.socket(socket.AF_INET, socket.SOCK_STREAM) end

-- Connect the sockets to the port where the server is listening
print(string.format("connecting to %s port %d", server_address[1], server_address[2]))
for _, s in ipairs(socks) do s:connect(server_address) end

local open = {}
for _, s in ipairs(socks) do open[s] = tostring(s:getsockname()) end

for _, message in ipairs(messages) do
  -- Send the message on every socket
  for _, s in ipairs(socks) do
    if open[s] then
      print(string.format("%s: sending '%s'", open[s], message))
      s:send(message)
    end
  end

  -- Read the responses on every socket
  for _, s in ipairs(socks) do
    if open[s] then
      local data = s:recv(1024)
      print(string.format("%s: received '%s'", open[s], data))
      if data == "" then
        print("closing socket " .. open[s])
        s:close()
        open[s] = nil
      end
    end
  end
end

for _, s in ipairs(socks) do
  if open[s] then
    print("closing socket " .. open[s])
    s:close()
  end
end
