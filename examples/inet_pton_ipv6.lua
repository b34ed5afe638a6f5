-- inet_pton_ipv6.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", PyMOTW
--   translation), section "11.1.1.4 IP地址表示", "适用于ipv6的例子"
--   (socket_ipv6_address_packing.py).
-- Shows: socket.inet_pton(AF_INET6, text) -> the 16-byte packed address (in
--   hex) and socket.inet_ntop(AF_INET6, packed) -> the canonical text.
-- Usage: bin/moonsock examples/inet_pton_ipv6.lua [ipv6-address ...]
--   (default: 2002:ac10:10a:1234:21e:52ff:fe74:40e, as in the tutorial)
local binascii = require "binascii"
local socket = require "socket"

local addresses = {"2002:ac10:10a:1234:21e:52ff:fe74:40e"}
if #arg > 0 then addresses = arg end

for _, string_address in ipairs(addresses) do
  local packed = socket.inet_pton(socket.AF_INET6, string_address)
  print("Original: " .. string_address)
  print("Packed : " .. binascii.hexlify(packed))
  print("Unpacked: " .. socket.inet_ntop(socket.AF_INET6, packed))
end
