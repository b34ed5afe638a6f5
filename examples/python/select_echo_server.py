# Python 3 reference for examples/select_echo_server.lua (used only by
# spec/select_examples_spec.lua).
# Source: PyMOTW-3 select_echo_server.py ("select - Wait for I/O Efficiently"), which
# 002_0236391d9d2b22b5.txt's opening line points to; a byte buffer per client instead of a
# queue.Queue of messages (so a partial send keeps the rest), the server stops listening
# once `clients` clients have come, and the timing-dependent lines go to stderr.
import select
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
HOST = sys.argv[2] if len(sys.argv) > 2 else 'localhost'
clients = int(sys.argv[3]) if len(sys.argv) > 3 else None

# Create a TCP/IP socket
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setblocking(0)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

# Bind the socket to the port
print('starting up on {} port {}'.format(HOST, PORT))
server.bind((HOST, PORT))

# Listen for incoming connections
server.listen(socket.SOMAXCONN)

# Sockets from which we expect to read
inputs = [server]
# Sockets to which we expect to write
outputs = []
# Outgoing bytes per client, and the address each came from
pending, peers = {}, {}
served = 0


def drop(s):
    if s in inputs:
        inputs.remove(s)
    if s in outputs:
        outputs.remove(s)
    s.close()
    del pending[s], peers[s]


while inputs:
    # Wait for at least one of the sockets to be ready for processing
    print('waiting for the next event', file=sys.stderr)
    readable, writable, exceptional = select.select(inputs, outputs, inputs)

    # Handle inputs
    for s in readable:
        if s is server:
            # A "readable" server socket is ready to accept a connection
            connection, client_address = s.accept()
            print('new connection from', client_address)
            connection.setblocking(0)
            inputs.append(connection)
            # Give the connection a buffer for data we want to send
            pending[connection], peers[connection] = b'', client_address
            served += 1
            if clients and served >= clients:
                # The last client has come: stop listening; the loop ends when it has gone.
                inputs.remove(server)
                server.close()
        elif s in peers:
            data = s.recv(1024)
            if data:
                # A readable client socket has data
                print('  received {} bytes from {}'.format(len(data), peers[s]))
                pending[s] += data
                # Add output channel for response
                if s not in outputs:
                    outputs.append(s)
            else:
                # Interpret empty result as closed connection
                print('  closing {} after reading no data'.format(peers[s]))
                # Stop listening for input on the connection
                drop(s)

    # Handle outputs
    for s in writable:
        next_msg = pending.get(s)
        if next_msg is None:
            pass  # closed above, in this same turn
        elif not next_msg:
            # No messages waiting so stop checking for writability.
            print('  output buffer for {} is empty'.format(peers[s]), file=sys.stderr)
            outputs.remove(s)
        else:
            sent = s.send(next_msg)
            print('  sending {} bytes to {}'.format(sent, peers[s]))
            pending[s] = next_msg[sent:]

    # Handle "exceptional conditions"
    for s in exceptional:
        if s in peers:
            print('handling exceptional condition for', peers[s])
            drop(s)
print('served {} clients'.format(served))
