# An FTP server for the socket.ftp spec (Debian's python3-pyftpdlib, run by
# /usr/bin/python3): read-only, serving argv[2] to the user and password
# socket.ftp logs in with by default; the port goes to argv[1] once it
# listens.
import logging, os, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

logging.disable(logging.CRITICAL)
authorizer = DummyAuthorizer()
authorizer.add_user("ftp", "anonymous@anonymous.org", sys.argv[2], perm="elr")
handler = FTPHandler
handler.authorizer = authorizer
server = FTPServer(("127.0.0.1", 0), handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
