# Python 3 reference for examples/socketserver_udp_server.lua (used only by
# spec/socketserver_examples_spec.lua). Source: the socketserver.UDPServer
# example of the Python documentation. Changes: port, host and a request
# count from the command line (handle_request that many times instead of
# serve_forever), and the data printed decoded.
import socketserver
import sys


class MyUDPHandler(socketserver.BaseRequestHandler):
    """
    This class works similar to the TCP handler class, except that
    self.request consists of a pair of data and client socket, and since
    there is no connection the client address must be given explicitly
    when sending data back via sendto().
    """

    def handle(self):
        data = self.request[0].strip()
        socket = self.request[1]
        print("{} wrote:".format(self.client_address[0]))
        print(data.decode())
        socket.sendto(data.upper(), self.client_address)


if __name__ == "__main__":
    PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
    HOST = sys.argv[2] if len(sys.argv) > 2 else "localhost"
    REQUESTS = int(sys.argv[3]) if len(sys.argv) > 3 else None

    with socketserver.UDPServer((HOST, PORT), MyUDPHandler) as server:
        if REQUESTS is not None:
            for _ in range(REQUESTS):
                server.handle_request()
        else:
            server.serve_forever()
