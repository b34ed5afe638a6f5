# Python 3 reference for examples/tcp_echo_client.lua (used only by spec/examples_spec.lua).
# Source: 001_b22fa077275f9854.txt, "Demo > TCP 客户端", Steps 1-5 (Python 2 in the
# tutorial; the message is sent as UTF-8 bytes and the reply printed decoded).
import socket
import sys

remote_hostname = sys.argv[1] if len(sys.argv) > 1 else 'localhost'
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8888
message = sys.argv[3] if len(sys.argv) > 3 else 'Hello, server'

try:
    # create an AF_INET, STREAM socket (TCP)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
except socket.error as msg:
    print('Failed to create socket. Error code: ' + str(msg.errno) + ' , Error message : '
          + str(msg.strerror))
    sys.exit()

try:
    # 获得远程主机的 IP 地址
    remote_ip = socket.gethostbyname(remote_hostname)
except socket.gaierror:
    # could not resolve
    print('Hostname could not be resolved. Exiting')
    sys.exit()

s.connect((remote_ip, port))

try:
    # Set the whole string
    s.sendall(message.encode())
except socket.error:
    # Send failed
    print('Send failed')
    sys.exit()

reply = s.recv(4096)
print(reply.decode())

s.close()
