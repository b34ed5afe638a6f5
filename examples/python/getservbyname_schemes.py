# Python 3 reference for examples/getservbyname_schemes.lua (used only by spec/examples_spec.lua).
# Source: 002_0236391d9d2b22b5.txt "11.1.1.2" and 004_7274023ea630b289.txt
# "Finding Service Information" (the same program, Python 2 and Python 3).
import socket
import sys
from urllib.parse import urlparse

URLS = sys.argv[1:] or [
    'http://www.python.org',
    'https://www.mybank.com',
    'ftp://prep.ai.mit.edu',
    'gopher://gopher.micro.umn.edu',
    'smtp://mail.example.com',
    'imap://mail.example.com',
    'imaps://mail.example.com',
    'pop3://pop.example.com',
    'pop3s://pop.example.com',
]
for url in URLS:
    parsed_url = urlparse(url)
    port = socket.getservbyname(parsed_url.scheme)
    print('{:>6} : {}'.format(parsed_url.scheme, port))
