# Python 3 reference for examples/select_echo_client.lua (used only by
# spec/select_examples_spec.lua).
# Source: PyMOTW-3 select_echo_multiclient.py, the client of select_echo_server.py; the host,
# port and number of connections come from the command line, messages print as text on
# stdout, and the sockets are closed at the end.
import socket
import sys

messages = [
    'This is the message. ',
    'It will be sent ',
    'in parts.',
]
server_address = (sys.argv[1] if len(sys.argv) > 1 else 'localhost',
                  int(sys.argv[2]) if len(sys.argv) > 2 else 10000)
connections = int(sys.argv[3]) if len(sys.argv) > 3 else 2

# Create TCP/IP sockets
socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(connections)]

# Connect the sockets to the port where the server is listening
print('connecting to {} port {}'.format(*server_address))
for s in socks:
    s.connect(server_address)

open_ = {s: str(s.getsockname()) for s in socks}

for message in messages:
    # Send the message on every socket
    for s in socks:
        if s in open_:
            print('{}: sending {!r}'.format(open_[s], message))
            s.send(message.encode())

    # Read the responses on every socket
    for s in socks:
        if s in open_:
            data = s.recv(1024)
            print('{}: received {!r}'.format(open_[s], data.decode()))
            if not data:
                print('closing socket', open_[s])
                s.close()
                del open_[s]

for s in socks:
    if s in open_:
        print('closing socket', open_[s])
        s.close()
