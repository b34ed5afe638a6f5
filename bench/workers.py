#!/usr/bin/env python3
"""Several worker processes on one port (issue 6): does the work spread, and
what does a request cost the server, with 1 worker and with 2?

Reuses bench/run.py's machinery (the pinned Server, load.c, summarize). The
server runs on CPU 0 (its workers inherit the pin) and the load on CPU 1, as
in run.py: on this 2-core machine both workers share CPU 0, so the question
is not more requests per second but an even spread at no extra CPU per
request.

1. echo 64 B, 100 connections (load.c) against examples/prefork_echo.lua with
   1 and with 2 workers: requests/s, server CPU per request summed over the
   parent and every worker (/proc/PID/stat utime+stime of each, read at the
   ends of each window), and the connections each worker holds (the kernel's
   answer: /proc/net/tcp's established sockets on the port, found among each
   worker's fds).
2. The same load against socketserver.PreforkThreadingTCPServer with 2
   workers, with a shared listening socket and with SO_REUSEPORT.
3. How evenly each way spreads connections over 2 workers, the measurement
   behind PreforkMixIn.reuse_port's default, on a fresh server each run:
   100 connections opened at once and held (counted by the kernel, as in 1),
   then 1,000 short connections one at a time and 1,000 50 at a time, each
   asking the worker's pid. Which worker takes a connection depends on
   scheduling with a shared socket, so this is repeated.

Run: python3 bench/workers.py (after scripts/build and gcc for bench/build/load,
as scripts/bench does). Environment: BENCH_REPS, BENCH_WINDOW, BENCH_WARMUP
as for run.py; BENCH_SPREAD_N (short connections per pattern, 1000),
BENCH_SPREAD_RUNS (runs of part 3 per way, 4). About 100 s with the
defaults.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  bench/run.py: Server, LOAD, pinned, summarize, REPS...

EXAMPLE = os.path.join(run.ROOT, "examples", "prefork_echo.lua")
SPREAD_N = int(os.environ.get("BENCH_SPREAD_N", "1000"))
SPREAD_RUNS = int(os.environ.get("BENCH_SPREAD_RUNS", "4"))

# socketserver's prefork server: an echo handler, except that a connection
# whose first message is "?pid\n" gets the worker's pid and is closed.
SOCKETSERVER_ECHO = r'''
local socketserver = require "socketserver"
local socket = require "socket"
local posix = require "moonsock.posix"
local port, workers, mode = tonumber(arg[1]), tonumber(arg[2]), arg[3]
local Echo = socketserver.BaseRequestHandler:extend{handle = function(self)
  local conn = self.request
  conn:setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
  pcall(function()
    local data = conn:recv(65536)
    if data == "?pid\n" then return conn:sendall(tostring(posix.getpid())) end
    while data ~= "" do
      conn:sendall(data)
      data = conn:recv(65536)
    end
  end)
end}
local Server = socketserver.PreforkThreadingTCPServer:extend{
  workers = workers, reuse_port = mode == "reuseport", allow_reuse_address = true,
  request_queue_size = 1024, daemon_threads = true,
}
local server <close> = Server({"127.0.0.1", port}, Echo)
server:serve_forever(0.1)
'''


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def cpu_s(pids):
    """user+sys seconds of these processes, summed (a process gone counts 0)."""
    total = 0.0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def socket_inodes(port, state):
    """Inodes of the loopback TCP sockets with this local port and state
    ("01" established, "0A" listening), from the kernel's table."""
    out = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(path) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    out.add(fields[9])
    return out


def fds_among(pid, inodes):
    n = 0
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return 0
    for fd in fds:
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]$", link)
        if m and m.group(1) in inodes:
            n += 1
    return n


def conns_per_worker(workers, port):
    est = socket_inodes(port, "01")
    return [fds_among(w, est) for w in workers]


def start(cmd, workers):
    """A Server (run.py's: pinned to CPU 0, SIGTERM then kill at the end)
    whose workers all listen (or, sharing the parent's socket, are there)."""
    server = run.Server(cmd, "echo")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError("server exited with status %d" % server.proc.returncode)
        kids = children(server.pid)
        listening = socket_inodes(server.port, "0A")
        if len(kids) == workers and listening and all(fds_among(k, listening) for k in kids):
            server.wait_ready()
            return server, kids
        time.sleep(0.05)
    server.__exit__(None, None, None)
    raise RuntimeError("%d workers not listening after 10 s" % workers)


def echo_load(server, workers):
    """load.c's echo job, 100 connections of 64 B; one window more than
    REPS, the first of which only marks where measuring starts: load.c reads
    one pid's CPU, here it is the sum over the parent and every worker."""
    pids = [server.pid] + workers
    reps = run.REPS + 1
    cmd = [run.LOAD, "echo", str(server.port), "100", "64", str(run.WARMUP), str(run.WINDOW),
           str(reps), str(server.pid)]
    p = subprocess.Popen(run.pinned(run.LOAD_CPU, cmd), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(run.WARMUP + run.WINDOW * reps + 20, p.kill)
    timer.start()
    windows, spread, last = [], None, None
    try:
        for line in p.stdout:
            c = cpu_s(pids)
            _, n, secs, _ = line.split()
            if last is not None:
                windows.append((int(n), float(secs), c - last))
            else:
                spread = conns_per_worker(workers, server.port)
            last = c
        err = p.stderr.read()
        p.wait()
    finally:
        timer.cancel()
    if p.returncode != 0 or len(windows) != run.REPS:
        raise RuntimeError("load: " + (err.strip() or "status %d" % p.returncode))
    out = run.summarize(windows)
    out["conns"] = spread
    return out


def ask_pid(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"?pid\n")
        return int(c.recv(64))


def short_spread(port, workers, parallel):
    """SPREAD_N connections, `parallel` at a time: how many each worker took."""
    counts = {w: 0 for w in workers}
    lock = threading.Lock()
    left = [SPREAD_N]

    def client():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            pid = ask_pid(port)
            with lock:
                counts[pid] = counts.get(pid, 0) + 1

    # The clients run on the load's CPU, as the load does.
    os.sched_setaffinity(0, {int(run.LOAD_CPU)})
    try:
        threads = [threading.Thread(target=client) for _ in range(parallel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count())))
    return [counts.get(w, 0) for w in workers]


def held_spread(port, workers, n=100):
    """n connections opened at once and held: how many each worker holds
    once all are accepted (the kernel's answer)."""
    os.sched_setaffinity(0, {int(run.LOAD_CPU)})
    conns = []
    try:
        for _ in range(n):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            conns.append(c)
        deadline = time.monotonic() + 10
        while True:
            counts = conns_per_worker(workers, port)
            if sum(counts) >= n or time.monotonic() > deadline:
                return counts
            time.sleep(0.02)
    finally:
        for c in conns:
            c.close()
        os.sched_setaffinity(0, set(range(os.cpu_count())))


def fmt_conns(counts):
    return " / ".join(str(c) for c in counts)


def main():
    for f in (run.LOAD, run.MOONSOCK):
        if not os.path.exists(f):
            sys.exit("workers.py: %s is missing: run scripts/build and build bench/build/load" % f)
    t0 = time.monotonic()
    rows = []
    for w in (1, 2):
        server, workers = start(lambda m, p, w=w: [run.MOONSOCK, EXAMPLE, str(p), str(w)], w)
        with server:
            r = echo_load(server, workers)
        rows.append(("examples/prefork_echo.lua", "SO_REUSEPORT", w, r))
        run.log("echo64 prefork_echo %d worker(s): %s/s, %.2f µs CPU, conns %s" % (
            w, run.fmt_rate(r["rate"]), r["cpu_us"], fmt_conns(r["conns"])))
    spreads = {"shared socket": [], "SO_REUSEPORT": []}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(SOCKETSERVER_ECHO)
        script = f.name

    def socketserver_echo(mode):
        return start(lambda m, p: [run.MOONSOCK, script, str(p), "2", mode], 2)

    try:
        for mode in ("shared", "reuseport"):
            label = "shared socket" if mode == "shared" else "SO_REUSEPORT"
            server, workers = socketserver_echo(mode)
            with server:
                r = echo_load(server, workers)
            rows.append(("PreforkThreadingTCPServer", label, 2, r))
            run.log("echo64 socketserver %s: %s/s, %.2f µs CPU, conns %s" % (
                label, run.fmt_rate(r["rate"]), r["cpu_us"], fmt_conns(r["conns"])))
        for i in range(SPREAD_RUNS):
            for mode in ("shared", "reuseport"):
                label = "shared socket" if mode == "shared" else "SO_REUSEPORT"
                server, workers = socketserver_echo(mode)
                with server:
                    held = held_spread(server.port, workers)
                    seq = short_spread(server.port, workers, 1)
                    par = short_spread(server.port, workers, 50)
                spreads[label].append((held, seq, par))
                run.log("spread run %d, %s: 100 held %s; %d one at a time %s; 50 at a time %s" % (
                    i + 1, label, fmt_conns(held), SPREAD_N, fmt_conns(seq), fmt_conns(par)))
    finally:
        os.unlink(script)

    meta = run.machine()
    print("Machine: %d CPUs, %s, Linux %s; %s; load average %s before, %s after; moonsock %s. "
          "Server (parent and workers) on CPU %s, load on CPU %s; %d windows of %gs after %gs "
          "warm-up; %.0f s." % (meta["nproc"], meta["cpu"], meta["kernel"], meta["date"],
                                meta["loadavg_before"], open("/proc/loadavg").read().split()[0],
                                meta["moonsock"], run.SERVER_CPU, run.LOAD_CPU, run.REPS,
                                run.WINDOW, run.WARMUP, time.monotonic() - t0))
    print()
    print("echo 64 B, 100 connections (load.c):")
    print()
    print("| server | sockets | workers | requests/s (median) | spread | server CPU per request "
          "(all processes) | spread | connections per worker |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for name, how, w, r in rows:
        print("| %s | %s | %d | %s | ±%.0f%% | %.2f µs | ±%.0f%% | %s |" % (
            name, how, w, run.fmt_rate(r["rate"]), r["rate_spread"] / 2, r["cpu_us"],
            r["cpu_spread"] / 2, fmt_conns(r["conns"])))
    print()
    print("Connections per worker, PreforkThreadingTCPServer with 2 workers, %d runs (a fresh "
          "server each); in brackets the smaller share over the runs:" % SPREAD_RUNS)
    print()
    print("| sockets | 100 opened at once, held | %d one at a time | %d, 50 at a time |" % (
        SPREAD_N, SPREAD_N))
    print("|---|---|---|---|")
    for label, runs in spreads.items():
        cells = []
        for k in range(3):
            shares = [min(r[k]) / max(sum(r[k]), 1) for r in runs]
            cells.append("%s (%.0f%%–%.0f%%)" % (", ".join(fmt_conns(r[k]) for r in runs),
                                                min(shares) * 100, max(shares) * 100))
        print("| %s | %s |" % (label, " | ".join(cells)))


if __name__ == "__main__":
    main()
