-- The text of IPv4 addresses moonsock gives back (recvfrom, getsockname,
-- accept), formatted by src/address.c itself rather than inet_ntop, against
-- Python's for the same sockets. Every 127.x.y.z is loopback on Linux, so
-- senders can be bound to addresses with one, two and three digits in each
-- place.
local socket = require "socket"
local h = require "spec.support.helpers"

local HOSTS = {"127.0.0.1", "127.1.2.3", "127.10.100.200", "127.255.255.254", "127.0.10.99",
               "127.99.0.9", "127.200.20.2", "127.9.99.199"}

describe("IPv4 address text", function()
  it("from recvfrom and getsockname is Python's for the same sockets", function()
    local list = {}
    for i, host in ipairs(HOSTS) do list[i] = "'" .. host .. "'" end
    local py = h.python([[
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
for host in []] .. table.concat(list, ", ") .. [[]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.sendto(b"x", r.getsockname())
    data, addr = r.recvfrom(10)
    print(addr[0], s.getsockname()[0], addr[1] == s.getsockname()[1])
    s.close()]])
    local r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r:bind({"127.0.0.1", 0})
    r:settimeout(5)
    local out = {}
    for _, host in ipairs(HOSTS) do
      local s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
      s:bind({host, 0})
      s:sendto("x", r:getsockname())
      local _, addr = r:recvfrom(10)
      out[#out + 1] = string.format("%s %s %s", addr[1], s:getsockname()[1],
        addr[2] == s:getsockname()[2] and "True" or "False")
      s:close()
    end
    r:close()
    assert.are.equal(py, table.concat(out, "\n") .. "\n")
  end)
end)
