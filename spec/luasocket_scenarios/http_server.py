# The HTTP server the socket.http specs talk to, on loopback: GET, POST
# echo, a redirect, a chunked answer, and /slow that waits before answering
# (the concurrency spec). Writes its port to argv[1], then serves until
# killed; argv[2] is /slow's delay in seconds.
import http.server, sys, time

DELAY = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/":
            self.reply(200, b"hello from python\n", [("Content-Type", "text/plain")])
        elif self.path == "/redirect":
            self.reply(302, b"", [("Location", "/")])
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first,", b"second,", b"third" * 300):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path.startswith("/slow"):
            time.sleep(DELAY)
            self.reply(200, self.path.encode())
        else:
            self.reply(404, b"not found\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.reply(200, b"got " + str(len(body)).encode() + b": " + body)

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the concurrency spec connects 100 at once

server = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
