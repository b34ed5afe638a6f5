# Python 3 reference for examples/socketserver_unix_server.lua (used only by
# spec/socketserver_examples_spec.lua). Written for moonsock: the
# documentation's TCPServer example in the form of a UnixStreamServer.
import os
import socketserver
import sys


class UpperHandler(socketserver.StreamRequestHandler):

    def handle(self):
        n = 0
        # Until the client shuts down its side of the connection.
        for line in self.rfile:
            self.wfile.write(line.upper())
            n += 1
        print("a client sent {} lines".format(n))


class UnlinkingServer(socketserver.UnixStreamServer):
    # The server removes its socket file when it closes.
    def server_close(self):
        socketserver.UnixStreamServer.server_close(self)
        os.remove(self.server_address)


if __name__ == "__main__":
    PATH = sys.argv[1] if len(sys.argv) > 1 else "/tmp/socketserver_example.sock"
    REQUESTS = int(sys.argv[2]) if len(sys.argv) > 2 else None

    try:
        os.remove(PATH)  # a socket file left by an earlier run would make bind fail
    except FileNotFoundError:
        pass
    with UnlinkingServer(PATH, UpperHandler) as server:
        print("serving on {}".format(server.server_address))
        if REQUESTS is not None:
            for _ in range(REQUESTS):
                server.handle_request()
        else:
            server.serve_forever()
