# Python 3 reference for examples/socketserver_tcp_server.lua (used only by
# spec/socketserver_examples_spec.lua). Source: the socketserver.TCPServer
# example of the Python documentation, StreamRequestHandler form. Changes:
# port, host and a request count from the command line (handle_request that
# many times instead of serve_forever), and the data printed decoded (Lua
# strings are bytes; Python would print b'...').
import socketserver
import sys


class MyTCPHandler(socketserver.StreamRequestHandler):

    def handle(self):
        # self.rfile is a file-like object created by the handler;
        # we can now use e.g. readline() instead of raw recv() calls
        self.data = self.rfile.readline().strip()
        print("{} wrote:".format(self.client_address[0]))
        print(self.data.decode())
        # Likewise, self.wfile is a file-like object used to write back
        # to the client
        self.wfile.write(self.data.upper())


if __name__ == "__main__":
    PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
    HOST = sys.argv[2] if len(sys.argv) > 2 else "localhost"
    REQUESTS = int(sys.argv[3]) if len(sys.argv) > 3 else None

    # Create the server, binding to HOST on PORT
    with socketserver.TCPServer((HOST, PORT), MyTCPHandler) as server:
        if REQUESTS is not None:
            for _ in range(REQUESTS):
                server.handle_request()
        else:
            # Activate the server; this will keep running until you
            # interrupt the program with Ctrl-C
            server.serve_forever()
