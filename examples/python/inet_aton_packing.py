# Python 3 reference for examples/inet_aton_packing.lua (used only by spec/examples_spec.lua).
# Source: 002_0236391d9d2b22b5.txt, section "11.1.1.4" (socket_address_packing.py).
# hexlify returns bytes in Python 3; .decode() prints the hex digits as the
# tutorial's Python 2 output does.
import binascii
import socket
import sys

for string_address in sys.argv[1:] or ['192.168.1.1', '127.0.0.1']:
    packed = socket.inet_aton(string_address)
    print('Original:', string_address)
    print('Packed :', binascii.hexlify(packed).decode())
    print('Unpacked:', socket.inet_ntoa(packed))
