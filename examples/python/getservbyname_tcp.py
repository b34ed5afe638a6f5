# Python 3 reference for examples/getservbyname_tcp.lua (used only by spec/examples_spec.lua).
# Source: 003_deff83d1aeb1e326.txt, the interactive getservbyname examples.
import socket
import sys

for service in sys.argv[1:] or ['http', 'telnet']:
    print('>>> socket.getservbyname(%r, \'tcp\')' % service)
    try:
        print(repr(socket.getservbyname(service, 'tcp')))
    except OSError as e:
        print('OSError:', e)
