"""Python's threaded socketserver peer: a thread per connection.
usage: python3 socketserver_server.py echo|http|udp PORT"""
import socket
import socketserver
import sys

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        conn = self.request
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)


class Http(socketserver.BaseRequestHandler):
    def handle(self):
        conn = self.request
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        while True:
            data = conn.recv(65536)
            if not data:
                break
            pending += data
            n = pending.count(b"\r\n\r\n")
            if n:
                pending = pending[pending.rfind(b"\r\n\r\n") + 4:]
                conn.sendall(RESPONSE * n)


class Udp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


class TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024


mode, port = sys.argv[1], int(sys.argv[2])
if mode == "udp":
    # A thread per datagram would measure thread creation, not the server:
    # the plain UDPServer answers each datagram in the serving thread.
    server = socketserver.UDPServer(("127.0.0.1", port), Udp)
else:
    server = TCPServer(("127.0.0.1", port), Http if mode == "http" else Echo)
server.serve_forever()
