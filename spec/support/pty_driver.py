#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and lets a spec drive it: type keys,
read the screen as a terminal would show it, wait for text, collect the exit
status. A test tool only (moonsock never needs Python).

usage: pty_driver.py CONTROL_SOCKET ROWS COLS COMMAND [ARGS...]

The spec connects to CONTROL_SOCKET (a UNIX stream socket) and sends one
command per line; every answer is "<length>\\n<payload>".
  K <hex>               type these bytes
  S                     the screen: its lines, trailing blanks and blank lines
                        stripped
  W <seconds> <hex>     wait until the screen matches the regex (hex of its
                        UTF-8); the answer is "1" or "0", a newline, the screen
  X <seconds>           wait for the command to end: its exit status, or
                        "signal N", or "running"
  T                     everything the command wrote so far (raw bytes)
When the spec disconnects the command is killed if it still runs.

The screen is a small VT100/xterm model: enough for what libedit and the
REPL write (printable text with xterm's deferred wrap, CR, LF, BS, TAB, and
the CSI sequences for cursor moves and erasing).
"""
import fcntl
import os
import pty
import re
import signal
import socket
import struct
import sys
import termios
import threading
import time


class Screen:
    def __init__(self, rows, cols):
        self.rows, self.cols = rows, cols
        self.grid = [[" "] * cols for _ in range(rows)]
        self.y = self.x = 0
        self.wrap_pending = False
        self.state = "text"
        self.params = ""
        self.pending = b""

    def scroll(self):
        self.grid.pop(0)
        self.grid.append([" "] * self.cols)

    def linefeed(self):
        if self.y == self.rows - 1:
            self.scroll()
        else:
            self.y += 1

    def put(self, ch):
        if self.wrap_pending:
            self.x = 0
            self.linefeed()
            self.wrap_pending = False
        self.grid[self.y][self.x] = ch
        if self.x == self.cols - 1:
            self.wrap_pending = True
        else:
            self.x += 1

    def csi(self, final, params):
        private = params.startswith("?")
        nums = [int(p) if p.isdigit() else 0 for p in params.lstrip("?").split(";")] if params else []
        n = nums[0] if nums and nums[0] > 0 else 1
        self.wrap_pending = False
        if private or final in "hlmrtsu":
            return
        if final == "A":
            self.y = max(0, self.y - n)
        elif final == "B":
            self.y = min(self.rows - 1, self.y + n)
        elif final == "C":
            self.x = min(self.cols - 1, self.x + n)
        elif final == "D":
            self.x = max(0, self.x - n)
        elif final == "G":
            self.x = min(self.cols - 1, n - 1)
        elif final in "Hf":
            row = nums[0] if nums and nums[0] > 0 else 1
            col = nums[1] if len(nums) > 1 and nums[1] > 0 else 1
            self.y, self.x = min(self.rows, row) - 1, min(self.cols, col) - 1
        elif final == "K":
            mode = nums[0] if nums else 0
            line = self.grid[self.y]
            rng = {0: range(self.x, self.cols), 1: range(0, self.x + 1), 2: range(self.cols)}[mode]
            for i in rng:
                line[i] = " "
        elif final == "J":
            mode = nums[0] if nums else 0
            if mode == 0:
                self.csi("K", "0")
                for r in range(self.y + 1, self.rows):
                    self.grid[r] = [" "] * self.cols
            elif mode == 2:
                self.grid = [[" "] * self.cols for _ in range(self.rows)]
        elif final == "P":
            line = self.grid[self.y]
            del line[self.x:self.x + n]
            line.extend([" "] * (self.cols - len(line)))
        elif final == "@":
            line = self.grid[self.y]
            for _ in range(n):
                line.insert(self.x, " ")
            del line[self.cols:]
        elif final == "X":
            for i in range(self.x, min(self.cols, self.x + n)):
                self.grid[self.y][i] = " "

    def feed(self, data):
        text = (self.pending + data).decode("utf-8", errors="replace")
        self.pending = b""
        for ch in text:
            if self.state == "esc":
                if ch == "[":
                    self.state, self.params = "csi", ""
                else:
                    self.state = "text"  # ESC = and the like: nothing to draw
                continue
            if self.state == "csi":
                if ch.isdigit() or ch in ";?":
                    self.params += ch
                else:
                    self.state = "text"
                    self.csi(ch, self.params)
                continue
            if ch == "\x1b":
                self.state = "esc"
            elif ch == "\r":
                self.x, self.wrap_pending = 0, False
            elif ch == "\n":
                self.wrap_pending = False
                self.linefeed()
            elif ch == "\b":
                self.wrap_pending = False
                self.x = max(0, self.x - 1)
            elif ch == "\t":
                self.x = min(self.cols - 1, (self.x // 8 + 1) * 8)
            elif ch == "\x07" or ord(ch) < 32:
                pass
            else:
                self.put(ch)

    def text(self):
        return "\n".join("".join(r).rstrip() for r in self.grid).rstrip("\n")


def main():
    path, rows, cols, argv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    pid, master = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        # Started in the background by a shell, the driver ignores SIGINT;
        # a terminal's program must not inherit that.
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
            signal.signal(sig, signal.SIG_DFL)
        os.environ.setdefault("TERM", "xterm")
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    screen = Screen(rows, cols)
    lock = threading.Condition()
    raw = bytearray()
    status = [None]

    def reader():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            with lock:
                if not data:
                    break
                raw.extend(data)
                screen.feed(data)
                lock.notify_all()
        _, st = os.waitpid(pid, 0)
        with lock:
            status[0] = st
            lock.notify_all()

    threading.Thread(target=reader, daemon=True).start()

    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(30)
    conn, _ = srv.accept()
    f = conn.makefile("rb")

    def answer(payload):
        if isinstance(payload, str):
            payload = payload.encode()
        conn.sendall(str(len(payload)).encode() + b"\n" + payload)

    for line in f:
        parts = line.decode().split()
        if not parts:
            continue
        cmd = parts[0]
        if cmd == "K":
            os.write(master, bytes.fromhex(parts[1]) if len(parts) > 1 else b"")
            answer("ok")
        elif cmd == "S":
            with lock:
                answer(screen.text())
        elif cmd == "T":
            with lock:
                answer(bytes(raw))
        elif cmd == "W":
            deadline = time.time() + float(parts[1])
            pattern = re.compile(bytes.fromhex(parts[2]).decode(), re.S)
            with lock:
                while not pattern.search(screen.text()) and time.time() < deadline:
                    lock.wait(max(0.0, min(0.1, deadline - time.time())))
                ok = pattern.search(screen.text()) is not None
                answer(("1" if ok else "0") + "\n" + screen.text())
        elif cmd == "X":
            deadline = time.time() + float(parts[1])
            with lock:
                while status[0] is None and time.time() < deadline:
                    lock.wait(max(0.0, min(0.1, deadline - time.time())))
                st = status[0]
            if st is None:
                answer("running")
            elif os.WIFSIGNALED(st):
                answer("signal %d" % os.WTERMSIG(st))
            else:
                answer(str(os.WEXITSTATUS(st)))
    with lock:
        running = status[0] is None
    if running:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    main()
