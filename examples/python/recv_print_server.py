# Python 3 reference for examples/recv_print_server.lua (used only by spec/examples_spec.lua).
# Source: 003_deff83d1aeb1e326.txt, "示例: 利用socket模块进行通信", 服务端.
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9080
host = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

sk = socket.socket()
address = (host, port)
sk.bind(address)
sk.listen(5)
conn, addr = sk.accept()
data = conn.recv(1024)
print(str(data, 'utf8'))
conn.close()
sk.close()
