# Python 3 reference for examples/getprotobyname_table.lua (used only by spec/examples_spec.lua).
# Source: 004_7274023ea630b289.txt, section "Finding Service Information" (getprotobyname).
import socket
import sys


def get_constants(prefix):
    '''Create a dictionary mapping socket module
    contants to their names.
    '''
    return {
        getattr(socket, n): n for n in dir(socket)
        if n.startswith(prefix)
    }


protocols = get_constants('IPPROTO_')
for name in sys.argv[1:] or ['icmp', 'udp', 'tcp']:
    proto_num = socket.getprotobyname(name)
    const_naem = protocols[proto_num]
    print('{:>4} -> {:2d} (socket.{:<12} = {:2d})'.format(
        name, proto_num, const_naem,
        getattr(socket, const_naem)
    ))
