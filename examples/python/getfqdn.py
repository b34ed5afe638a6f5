# Python 3 reference for examples/getfqdn.lua (used only by spec/examples_spec.lua).
# Source: 002_0236391d9d2b22b5.txt, section "11.1.1.1 查找主机" (socket.getfqdn).
import socket
import sys

hosts = sys.argv[1:] or ['localhost', socket.gethostname(), '127.0.0.1', '::1',
                         'nosuchname.invalid']
for host in hosts:
    print('%6s : %s' % (host, socket.getfqdn(host)))
