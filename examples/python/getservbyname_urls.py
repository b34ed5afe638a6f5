# Python 3 reference for examples/getservbyname_urls.lua (used only by spec/examples_spec.lua).
# Source: 000_0a258178844726fa.txt, section "getservbyname()与getservbyport()".
import socket
import sys
from urllib.parse import urlparse

url_str = sys.argv[1:] or [
    'https://www.baidu.com',
    'https://www.csdn.net',
    'smtp://smtp.qq.com',
    'nosuchscheme://localhost',
]
for url in url_str:
    try:
        parsed_url = urlparse(url)
        port = socket.getservbyname(parsed_url.scheme)
        print(url)
        print("端口号:", port)
    except socket.error as msg:
        print(url, msg)
