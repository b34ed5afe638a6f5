# Python 3 reference for examples/line_client.lua (used only by spec/examples_spec.lua).
# Source: 001_b22fa077275f9854.txt, NOTE2 (the client of the thread-per-client server).
import socket
import sys

host = sys.argv[1] if len(sys.argv) > 1 else 'localhost'
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8888

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((host, port))

sys.stdout.write(s.recv(1024).decode())  # the welcome message
while True:
    try:
        line = input()
    except EOFError:
        break
    s.sendall((line + '\n').encode())
    sys.stdout.write(s.recv(1024).decode())
s.close()
