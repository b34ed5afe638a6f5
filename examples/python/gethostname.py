# Python 3 reference for examples/gethostname.lua (used only by spec/examples_spec.lua).
# Source: 003_deff83d1aeb1e326.txt, the interactive gethostname/gethostbyname/
# gethostbyname_ex examples.
import socket
import sys

hosts = sys.argv[1:] or ['localhost', '127.0.0.1', 'nosuchname.invalid']


def session(text, fn, *args):
    print('>>> ' + text)
    try:
        print(repr(fn(*args)))
    except socket.gaierror as e:
        print('socket.gaierror:', e)


session('socket.gethostname()', socket.gethostname)
for host in hosts:
    session('socket.gethostbyname(%r)' % host, socket.gethostbyname, host)
myname = socket.gethostname()
session('socket.gethostbyname(%r)' % myname, socket.gethostbyname, myname)
for host in hosts:
    session('socket.gethostbyname_ex(%r)' % host, socket.gethostbyname_ex, host)
