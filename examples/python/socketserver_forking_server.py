# Python 3 reference for examples/socketserver_forking_server.lua (used only
# by spec/socketserver_examples_spec.lua). Written for moonsock in the form
# of the documentation's TCPServer example, with ForkingTCPServer.
import os
import socketserver
import sys

SERVER_PID = os.getpid()


class ForkingHandler(socketserver.StreamRequestHandler):

    def handle(self):
        # This runs in a child process: the server forked for this request.
        data = self.rfile.readline().strip().decode()
        reply = "pid {} (a child of the server: {}): {}".format(
            os.getpid(), os.getppid() == SERVER_PID, data.upper())
        self.wfile.write(reply.encode())


if __name__ == "__main__":
    PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
    HOST = sys.argv[2] if len(sys.argv) > 2 else "localhost"
    REQUESTS = int(sys.argv[3]) if len(sys.argv) > 3 else None

    server = socketserver.ForkingTCPServer((HOST, PORT), ForkingHandler)
    with server:
        print("Forking server pid {}".format(SERVER_PID))
        if REQUESTS is not None:
            for _ in range(REQUESTS):
                server.handle_request()
        else:
            server.serve_forever()
    # server_close waited for every child (block_on_close) and reaped it.
    print("children left after server_close: {}".format(len(server.active_children or ())))
