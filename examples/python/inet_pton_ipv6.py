# Python 3 reference for examples/inet_pton_ipv6.lua (used only by spec/examples_spec.lua).
# Source: 002_0236391d9d2b22b5.txt, section "11.1.1.4" (socket_ipv6_address_packing.py).
import binascii
import socket
import sys

for string_address in sys.argv[1:] or ['2002:ac10:10a:1234:21e:52ff:fe74:40e']:
    packed = socket.inet_pton(socket.AF_INET6, string_address)
    print('Original:', string_address)
    print('Packed :', binascii.hexlify(packed).decode())
    print('Unpacked:', socket.inet_ntop(socket.AF_INET6, packed))
