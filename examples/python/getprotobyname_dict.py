# Python 3 reference for examples/getprotobyname_dict.lua (used only by spec/examples_spec.lua).
# Source: 002_0236391d9d2b22b5.txt, section "11.1.1.2" (socket.getprotobyname).
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


protocols = get_constants('IPPROTO_')
print(protocols)
for name in sys.argv[1:] or ['icmp', 'udp', 'tcp']:
    proto_num = socket.getprotobyname(name)
    print(proto_num)
    const_name = protocols[proto_num]
    print('%4s -> %2d (socket.%-12s =%2d)' %
          (name, proto_num, const_name, getattr(socket, const_name)))
