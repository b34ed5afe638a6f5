# Python 3 reference for examples/getaddrinfo_list.lua (used only by spec/examples_spec.lua).
# Source: 002_0236391d9d2b22b5.txt, section "11.1.1.3" (interactive getaddrinfo call).
# Python 3 returns AddressFamily/SocketKind enum members where the tutorial's
# Python 2 session showed plain numbers; int() prints them as the tutorial does.
import socket
import sys

hosts = sys.argv[1:] or ['localhost', socket.gethostname(), '127.0.0.1', '::1',
                         'nosuchname.invalid']
for host in hosts:
    print('>>> socket.getaddrinfo(%r, 80, 0, 0, socket.SOL_TCP)' % host)
    try:
        res = socket.getaddrinfo(host, 80, 0, 0, socket.SOL_TCP)
        print([(int(family), int(socktype), proto, canonname, sockaddr)
               for family, socktype, proto, canonname, sockaddr in res])
    except socket.gaierror as e:
        print('socket.gaierror:', e)
