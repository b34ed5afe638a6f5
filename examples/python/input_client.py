# Python 3 reference for examples/input_client.lua (used only by spec/examples_spec.lua).
# Source: 003_deff83d1aeb1e326.txt, "示例: 利用socket模块进行通信", 客户端.
import socket
import sys

host = sys.argv[1] if len(sys.argv) > 1 else '127.0.0.1'
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9080

sk = socket.socket()
address = (host, port)
sk.connect(address)
inp = input('>>')
sk.send(bytes(inp, 'utf8'))
sk.close()
