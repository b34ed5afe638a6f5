# Python 3 reference for examples/gethostbyaddr.lua (used only by spec/examples_spec.lua).
# Source: 002_0236391d9d2b22b5.txt, section "11.1.1.1 查找主机" (socket.gethostbyaddr).
import socket
import sys

for addr in sys.argv[1:] or ['127.0.0.1', '::1', 'nosuchname.invalid']:
    print(addr)
    try:
        hostname, aliases, addresses = socket.gethostbyaddr(addr)
        print('Hostname :', hostname)
        print('Aliases :', aliases)
        print('Addresses:', addresses)
    except socket.error as msg:
        print('ERROR:', msg)
