# Python 3 reference for examples/getservbyport_smtp.lua (used only by spec/examples_spec.lua).
# Source: 000_0a258178844726fa.txt, section "getservbyname()与getservbyport()".
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 25
url = '{}://smtp.qq.com'.format(socket.getservbyport(port))
print(url)
