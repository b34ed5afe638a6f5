# Python 3 reference for examples/getaddrinfo_canonname.lua (used only by spec/examples_spec.lua).
# Source: 002_0236391d9d2b22b5.txt, section "11.1.1.3" (socket_getaddrinfo_extra_args.py).
import socket
import sys


def get_constants(prefix):
    """Create a dictionary mapping socket module
    constants to their names.
    """
    return dict((getattr(socket, n), n)
                for n in dir(socket)
                if n.startswith(prefix)
                )


families = get_constants('AF_')
types = get_constants('SOCK_')
protocols = get_constants('IPPROTO_')

hosts = sys.argv[1:] or ['localhost', socket.gethostname(), '127.0.0.1', '::1',
                         'nosuchname.invalid']
for host in hosts:
    print(host)
    try:
        responses = socket.getaddrinfo(host, 'http',
                                       socket.AF_INET,  # family
                                       socket.SOCK_STREAM,  # socktype
                                       socket.IPPROTO_TCP,  # protocol
                                       socket.AI_CANONNAME,  # flags
                                       )
    except socket.gaierror as msg:
        print('ERROR:', msg)
        continue
    for response in responses:
        # Unpack the response tuple
        family, socktype, proto, canonname, sockaddr = response
        print('Family :', families[family])
        print('Type :', types[socktype])
        print('Protocol :', protocols[proto])
        print('Canonical name:', canonname)
        print('Socket address:', sockaddr)
