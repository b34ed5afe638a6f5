# Passes fds to a command the way systemd's socket activation does, for
# spec/systemd_spec.lua: makes one fd of each kind, moves them to 3, 4, ...,
# sets LISTEN_PID (the child's own pid unless told), LISTEN_FDS and
# LISTEN_FDNAMES, and execs the command; both python-systemd and moonsock's
# systemd.daemon are run through it with the same fds and environment.
# usage: python3 sd_passfds.py DIR PIDFMT FDS NAMES cmd args...
#   PIDFMT: "%d" for the child's pid (a format), "-" to leave LISTEN_PID unset
#   FDS: "auto" for the number of fds made, "-" unset, else the text itself
#   NAMES: "-" unset, else LISTEN_FDNAMES's text
# The command finds what the fds are bound to in T_PORT, T_UPATH, T_FIFO and
# T_ABSTRACT (an abstract name, without its leading NUL).
import os
import socket
import sys

d, pidfmt, nfds, names = sys.argv[1:5]
cmd = sys.argv[5:]
keep = []
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.bind(("127.0.0.1", 0)); tcp.listen()
keep.append(tcp)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0)); keep.append(udp)
ustream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ustream.bind(os.path.join(d, "s")); ustream.listen(); keep.append(ustream)
udgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
udgram.bind(os.path.join(d, "d")); keep.append(udgram)
abstract = "moonsock-sd-%d" % os.getpid()
uabs = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
uabs.bind("\0" + abstract); uabs.listen(); keep.append(uabs)
pair = socket.socketpair(); keep.append(pair[0])
# A connected TCP socket, whose peer is not the listener passed: a connection
# queued there would be the first one a server under test accepts.
side = socket.create_server(("127.0.0.1", 0))
conn = socket.create_connection(side.getsockname()); keep.append(conn)
peer = side.accept()[0]
fifo = os.path.join(d, "f")
os.mkfifo(fifo)
fifofd = os.open(fifo, os.O_RDWR)
r, w = os.pipe()
regular = os.open(os.path.join(d, "file"), os.O_RDWR | os.O_CREAT)
fds = [k.fileno() for k in keep] + [fifofd, r, regular]
env = dict(os.environ, T_PORT=str(tcp.getsockname()[1]), T_UPATH=os.path.join(d, "s"),
           T_FIFO=fifo, T_ABSTRACT=abstract)
for k in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
    env.pop(k, None)
if nfds != "-":
    env["LISTEN_FDS"] = str(len(fds)) if nfds == "auto" else nfds
if names != "-":
    env["LISTEN_FDNAMES"] = names
pid = os.fork()
if pid == 0:
    # Out of the way first, so that moving one fd to 3+i clobbers none still to move.
    high = [os.dup2(fd, 100 + i) for i, fd in enumerate(fds)]
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i, inheritable=True)
        os.close(fd)
    if pidfmt != "-":
        env["LISTEN_PID"] = pidfmt % os.getpid() if "%" in pidfmt else pidfmt
    os.execve(cmd[0], cmd, env)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
