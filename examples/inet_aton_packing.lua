-- inet_aton_packing.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", PyMOTW
--   translation), section "11.1.1.4 IP地址表示" (socket_address_packing.py).
-- Shows: socket.inet_aton(text) -> the 4-byte packed address (shown in hex,
--   as binascii.hexlify shows it) and socket.inet_ntoa(packed) -> the text.
-- Usage: bin/moonsock examples/inet_aton_packing.lua [ipv4-address ...]
--   (default: 192.168.1.1 127.0.0.1, as in the tutorial)
local binascii = require "binascii"
local socket = require "socket"

local addresses = {"192.168.1.1", "127.0.0.1"}
if #arg > 0 then addresses = arg end

for _, string_address in ipairs(addresses) do
  local packed = socket.inet_aton(string_address)
  print("Original: " .. string_address)
  print("Packed : " .. binascii.hexlify(packed))
  print("Unpacked: " .. socket.inet_ntoa(packed))
end
