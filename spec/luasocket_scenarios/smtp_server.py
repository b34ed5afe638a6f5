# An SMTP sink for the socket.smtp spec (Debian's python3-aiosmtpd, run by
# /usr/bin/python3): every message is appended to argv[2]; the port goes to
# argv[1] once it listens.
import os, socket, sys, time
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        with open(sys.argv[2], "ab") as f:
            f.write(b"FROM " + envelope.mail_from.encode() + b"\n")
            for r in envelope.rcpt_tos:
                f.write(b"TO " + r.encode() + b"\n")
            f.write(envelope.original_content + b"\n.\n")
        return "250 OK"

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(port))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    time.sleep(3600)
