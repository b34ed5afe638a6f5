# Python 3 reference for examples/getservbyport_urls.lua (used only by spec/examples_spec.lua).
# Source: 002_0236391d9d2b22b5.txt "11.1.1.2" and 004_7274023ea630b289.txt
# "Finding Service Information" (the same output; 002's urlunparse form).
import socket
import sys
from urllib.parse import urlunparse

ports = [int(a) for a in sys.argv[1:]] or [80, 443, 21, 70, 25, 143, 993, 110, 995]
for port in ports:
    print(urlunparse((socket.getservbyport(port), 'example.com', '/', '', '', '')))
