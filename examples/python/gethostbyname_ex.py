# Python 3 reference for examples/gethostbyname_ex.lua (used only by spec/examples_spec.lua).
# Source: 000_0a258178844726fa.txt, section "gethostbyname_ex()与gethostbyname()".
import socket
import sys

host_str = sys.argv[1:] or ['localhost', socket.gethostname(), '127.0.0.1', '::1',
                            'nosuchname.invalid']
for host in host_str:
    try:
        name, aliases, addresses = socket.gethostbyname_ex(host)
        print(host)
        print("主机名:", name)
        print("所有别名:", aliases)
        print("所有可用IP地址:", addresses)
    except socket.error as msg:
        print(host, msg)
