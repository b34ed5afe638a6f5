# Python 3 reference for examples/gethostbyname.lua (used only by spec/examples_spec.lua).
# Source: 002_0236391d9d2b22b5.txt, section "11.1.1.1 查找主机" (socket.gethostbyname).
import socket
import sys

hosts = sys.argv[1:] or ['localhost', socket.gethostname(), '127.0.0.1', '::1',
                         'nosuchname.invalid']
for host in hosts:
    try:
        print('%s : %s' % (host, socket.gethostbyname(host)))
    except socket.error as msg:
        print('%s : %s' % (host, msg))
