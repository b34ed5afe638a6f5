#!/usr/bin/env python3
"""Runs every peer through the same jobs on loopback and writes the results.

Run by scripts/bench, which installs the tools and builds first. The server
runs on CPU 0, the load on CPU 1 (taskset). Each measured job warms up, then
measures REPS windows; the table shows medians and spreads over the windows.

Writes bench/results/results.json, bench/results/table.md, bench/results/ratios.dat
and bench/chart.png. Environment: BENCH_REPS, BENCH_WINDOW, BENCH_WARMUP (seconds),
BENCH_JOBS and BENCH_PEERS (comma-separated subsets, by key; the job "tls" stands for
every TLS job), BENCH_IDLE and BENCH_TLS_IDLE (connections).
"""
import json
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
OUT = os.path.join(BENCH, "results")
LOAD = os.path.join(BENCH, "build", "load")
CSERVER = os.path.join(BENCH, "build", "server")
CTLSSERVER = os.path.join(BENCH, "build", "tls_server")
# The TLS servers' certificate: ECDSA P-256 for localhost, made by tls_cert().
TLS_CERT = os.path.join(BENCH, "build", "tls-cert.pem")
TLS_KEY = os.path.join(BENCH, "build", "tls-key.pem")
MOONSOCK = os.path.join(ROOT, "bin", "moonsock")

REPS = int(os.environ.get("BENCH_REPS", "5"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "2"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "1"))
IDLE = int(os.environ.get("BENCH_IDLE", "10000"))
TLS_IDLE = int(os.environ.get("BENCH_TLS_IDLE", "2000"))
SERVER_CPU, LOAD_CPU = "0", "1"


# The peers run Debian's Python, whatever python3 runs this script.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"


def srv(path):
    return os.path.join(BENCH, "servers", path)


# Each peer: how to start its server for a mode ("echo", "http", "udp"),
# and the jobs it cannot do, with the reason shown in the table.
PEERS = {
    "c": {"name": "C epoll", "cmd": lambda m, p: [CSERVER, m, str(p)]},
    "moonsock": {"name": "moonsock",
                 "cmd": lambda m, p: [MOONSOCK, srv("moonsock_%s.lua" % m), str(p)]},
    "asyncio": {"name": "Python asyncio",
                "cmd": lambda m, p: [PYTHON, srv("asyncio_server.py"), m, str(p)]},
    "socketserver": {"name": "Python socketserver (threads)",
                     "cmd": lambda m, p: [PYTHON, srv("socketserver_server.py"), m, str(p)]},
    "node": {"name": "Node.js net",
             "cmd": lambda m, p: ["node", srv("node_server.js"), m, str(p)]},
    "luasocket": {"name": "Lua 5.4 LuaSocket+select",
                  "cmd": lambda m, p: ["lua5.4", srv("luasocket_server.lua"), m, str(p)],
                  "skip": {"idle": "select() stops at FD_SETSIZE (1024) descriptors"}},
    "cqueues": {"name": "Lua 5.4 cqueues",
                "cmd": lambda m, p: ["lua5.4", srv("cqueues_server.lua"), m, str(p)],
                "skip": {"udp": "cqueues.socket has no datagram server API"}},
    "luv": {"name": "Lua 5.4 luv",
            "cmd": lambda m, p: ["lua5.4", srv("luv_server.lua"), m, str(p)]},
}

# Job 4 has peers of its own: the real redis-server, and moonsock's Lua one.
REDIS_PEERS = {
    "redis-server": {"name": "redis-server",
                     "cmd": lambda m, p: ["redis-server", "--port", str(p), "--bind", "127.0.0.1",
                                          "--save", "", "--appendonly", "no",
                                          "--protected-mode", "no", "--loglevel", "warning"]},
    "moonsock": {"name": "moonsock (Lua)",
                 "cmd": lambda m, p: [MOONSOCK, srv("moonsock_redis.lua"), str(p)]},
}
REDIS_N = int(os.environ.get("BENCH_REDIS_N", "40000"))

# The TLS jobs have peers of their own, each an echo server over TLS with the
# same certificate; "c" (C epoll with OpenSSL) is their baseline.
TLS_PEERS = {
    "c": {"name": "C epoll + OpenSSL",
          "cmd": lambda m, p: [CTLSSERVER, str(p), TLS_CERT, TLS_KEY]},
    "moonsock": {"name": "moonsock",
                 "cmd": lambda m, p: [MOONSOCK, srv("moonsock_tls_echo.lua"), str(p), TLS_CERT, TLS_KEY]},
    "asyncio": {"name": "Python asyncio",
                "cmd": lambda m, p: [PYTHON, srv("asyncio_tls_server.py"), str(p), TLS_CERT, TLS_KEY]},
}

# kind "load": bench/build/load with these arguments; "wrk": HTTP; "idle": memory.
JOBS = {
    "echo64": {"short": "echo 64 B", "title": "echo 64 B, 100 conns", "kind": "load", "mode": "echo",
               "args": ["echo", 100, 64], "unit": "req"},
    "echo16k": {"short": "echo 16 KiB", "title": "echo 16 KiB, 10 conns", "kind": "load", "mode": "echo",
                "args": ["echo", 10, 16384], "unit": "msg"},
    "http": {"short": "HTTP hello", "title": "HTTP hello, wrk -c100", "kind": "wrk", "mode": "http", "unit": "req"},
    "idle": {"short": "idle RSS/conn", "title": "%d idle conns, RSS" % IDLE, "kind": "idle", "mode": "echo", "unit": "conn"},
    "connect": {"short": "connect/close", "title": "connect+64 B+close, 50 at once", "kind": "load", "mode": "echo",
                "args": ["connect", 50, 64], "unit": "conn"},
    "redis1": {"short": "redis P1 *", "title": "redis-benchmark -c50", "kind": "redis", "mode": "redis", "pipeline": 1,
               "unit": "req"},
    "redis16": {"short": "redis P16 *", "title": "redis-benchmark -c50 -P16", "kind": "redis", "mode": "redis",
                "pipeline": 16, "unit": "req"},
    "udp": {"short": "UDP 64 B", "title": "UDP 64 B, 32 in flight", "kind": "load", "mode": "udp",
            "args": ["udp", 32, 64], "unit": "dgram"},
    # TLS 1.3, X25519, ECDSA P-256; a handshake is a full one (no resumption).
    "tls-handshake": {"short": "TLS handshake", "title": "TLS connect+handshake+64 B+close, 50 at once",
                      "kind": "load", "mode": "tls", "args": ["tls-handshake", 50, 64], "unit": "conn"},
    "tls-echo64": {"short": "TLS echo 64 B", "title": "TLS echo 64 B, 100 conns", "kind": "load", "mode": "tls",
                   "args": ["tls-echo", 100, 64], "unit": "req"},
    "tls-echo16k": {"short": "TLS echo 16 KiB", "title": "TLS echo 16 KiB, 10 conns", "kind": "load",
                    "mode": "tls", "args": ["tls-echo", 10, 16384], "unit": "msg"},
    "tls-idle": {"short": "TLS idle RSS/conn", "title": "%d idle TLS conns, RSS" % TLS_IDLE, "kind": "idle",
                 "mode": "tls", "load": "tls-idle", "conns": TLS_IDLE, "unit": "conn"},
}
TLS_JOBS = [j for j in JOBS if JOBS[j]["mode"] == "tls"]


def peers_of(jkey):
    kind = JOBS[jkey]["kind"]
    return REDIS_PEERS if kind == "redis" else TLS_PEERS if JOBS[jkey]["mode"] == "tls" else PEERS


def tls_cert():
    """The TLS servers' certificate and key, made once with the openssl command."""
    if os.path.exists(TLS_CERT) and os.path.exists(TLS_KEY):
        return
    subprocess.run(["openssl", "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", TLS_KEY, "-out", TLS_CERT,
                    "-subj", "/CN=localhost", "-days", "3650",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cpu, cmd):
    return ["taskset", "-c", cpu] + cmd


class Server:
    """A peer's server on CPU 0; killed by pid on exit."""

    def __init__(self, cmd, mode):
        self.mode = mode
        self.port = free_port(socket.SOCK_DGRAM if mode == "udp" else socket.SOCK_STREAM)
        self.log = open(os.path.join(OUT, "server.log"), "ab")
        self.proc = subprocess.Popen(pinned(SERVER_CPU, cmd(mode, self.port)), cwd=ROOT,
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.pid = self.proc.pid  # taskset execs the server: same pid

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with status %d" % self.proc.returncode)
            try:
                if self.mode == "udp":
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                        s.settimeout(0.2)
                        s.sendto(b"probe-ping", ("127.0.0.1", self.port))
                        if s.recv(64) == b"probe-ping":
                            return
                else:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server not ready after %ds" % timeout)

    def rss_kb(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_s(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(2)
        self.log.close()


def run_load(server, args):
    cmd = [LOAD, args[0], str(server.port)] + [str(a) for a in args[1:]] + \
        [str(WARMUP), str(WINDOW), str(REPS), str(server.pid)]
    r = subprocess.run(pinned(LOAD_CPU, cmd), capture_output=True, text=True,
                       timeout=WARMUP + WINDOW * REPS + 20)
    if r.returncode != 0:
        raise RuntimeError("load: " + (r.stderr.strip() or "status %d" % r.returncode))
    if r.stderr.strip():
        log("   ", r.stderr.strip())
    windows = []
    for line in r.stdout.splitlines():
        _, n, secs, cpu = line.split()
        windows.append((int(n), float(secs), float(cpu)))
    return windows


def run_wrk(server):
    url = "http://127.0.0.1:%d/" % server.port

    def wrk(secs):
        cmd = pinned(LOAD_CPU, ["wrk", "-t1", "-c100", "-d%gs" % secs, url])
        c0, t0 = server.cpu_s(), time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 20)
        c1, t1 = server.cpu_s(), time.monotonic()
        m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", r.stdout)
        if r.returncode != 0 or not m:
            raise RuntimeError("wrk: " + (r.stderr.strip() or r.stdout.strip()))
        if "Non-2xx" in r.stdout or "Socket errors" in r.stdout:
            raise RuntimeError("wrk: " + r.stdout.strip().splitlines()[-3])
        scale = {"s": 1, "ms": 1e-3, "us": 1e-6, "m": 60}[m.group(3)]
        return int(m.group(1)), float(m.group(2)) * scale, c1 - c0

    wrk(max(WARMUP, 1))
    return [wrk(WINDOW) for _ in range(REPS)]


def run_idle(server, mode="idle", conns=IDLE):
    before = server.rss_kb()
    p = subprocess.Popen(pinned(LOAD_CPU, [LOAD, mode, str(server.port), str(conns), "60"]),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        line = p.stdout.readline()
        if not line.startswith("ready"):
            p.wait(5)
            raise RuntimeError("idle: " + (p.stderr.read().strip() or "no ready line"))
        # Let the server finish parking the last tasks before reading its RSS.
        time.sleep(0.5)
        after = server.rss_kb()
    finally:
        p.stdin.close()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return {"rss_before_kb": before, "rss_after_kb": after,
            "bytes_per_conn": (after - before) * 1024 / conns}


def run_redis(server, pipeline):
    def bench(n):
        cmd = pinned(LOAD_CPU, ["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port),
                                "-c", "50", "-n", str(n), "-P", str(pipeline),
                                "-t", "ping,set,get,incr", "--csv"])
        c0, t0 = server.cpu_s(), time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        c1, t1 = server.cpu_s(), time.monotonic()
        rps = {m.group(1): float(m.group(2))
               for m in re.finditer(r'^"(\w+)","([\d.]+)"', r.stdout, re.M)}
        if r.returncode != 0 or len(rps) != 5:
            raise RuntimeError("redis-benchmark: " + (r.stderr.strip() or r.stdout.strip()))
        # All the requests over the time the five tests took.
        secs = sum(n / v for v in rps.values())
        return len(rps) * n, secs, c1 - c0, rps

    bench(max(REDIS_N // 10, 1000))
    runs = [bench(REDIS_N * (4 if pipeline > 1 else 1)) for _ in range(max(REPS // 2, 2))]
    out = summarize([run[:3] for run in runs])
    out["tests"] = {t: statistics.median(run[3][t] for run in runs) for t in runs[0][3]}
    return out


def summarize(windows):
    rates = [n / s for n, s, _ in windows]
    cpus = [c / n * 1e6 for n, _, c in windows if n]
    med_rate = statistics.median(rates)
    med_cpu = statistics.median(cpus)
    return {"windows": windows,
            "rate": med_rate, "rate_spread": (max(rates) - min(rates)) / med_rate * 100,
            "cpu_us": med_cpu, "cpu_spread": (max(cpus) - min(cpus)) / med_cpu * 100}


def run_job(jkey, pkey):
    job = JOBS[jkey]
    peer = peers_of(jkey)[pkey]
    with Server(peer["cmd"], job["mode"]) as server:
        server.wait_ready()
        if job["kind"] == "idle":
            return run_idle(server, job.get("load", "idle"), job.get("conns", IDLE))
        if job["kind"] == "redis":
            return run_redis(server, job["pipeline"])
        if job["kind"] == "wrk":
            return summarize(run_wrk(server))
        return summarize(run_load(server, job["args"]))


def machine():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10,
                                  shell=isinstance(cmd, str)).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    pkgs = "lua5.4 lua-socket lua-cqueues lua-luv nodejs wrk redis-tools redis-server gcc python3 libssl3"
    versions = out("dpkg-query -W -f='${Package} ${Version}\\n' " + pkgs + " 2>/dev/null")
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "python": out([PYTHON, "--version"]), "node": out(["node", "--version"]),
            "moonsock": out(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
            "packages": versions.splitlines(),
            "loadavg_before": open("/proc/loadavg").read().split()[0],
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def name_of(jkey, pkey):
    return peers_of(jkey)[pkey]["name"]


def fmt_rate(x):
    return "%.0f" % x if x < 1e4 else "%.1fk" % (x / 1e3)


def table(results, meta):
    lines = ["| job | peer | per second (median) | spread | server CPU per op (median) | spread | vs C |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for jkey, job in JOBS.items():
        if jkey not in results:
            continue
        if JOBS[jkey]["kind"] == "redis":
            continue
        base = results[jkey].get("c", {})
        for pkey, r in results[jkey].items():
            name = name_of(jkey, pkey)
            if "error" in r or "skipped" in r:
                lines.append("| %s | %s | %s | | | | |" % (
                    job["title"], name, "n/a: " + r.get("skipped", r.get("error", ""))))
            elif job["kind"] == "idle":
                ratio = r["bytes_per_conn"] / base["bytes_per_conn"] if "bytes_per_conn" in base else None
                lines.append("| %s | %s | | | %.0f B per conn | | %s |" % (
                    job["title"], name, r["bytes_per_conn"], "%.2f" % ratio if ratio else ""))
            else:
                ratio = r["cpu_us"] / base["cpu_us"] if "cpu_us" in base else None
                extra = ""
                if job.get("args", [None] * 3)[2] == 16384:
                    extra = " (%.0f MB/s)" % (r["rate"] * 16384 / 1e6)
                lines.append("| %s | %s | %s%s | ±%.0f%% | %.2f µs | ±%.0f%% | %s |" % (
                    job["title"], name, fmt_rate(r["rate"]), extra, r["rate_spread"] / 2,
                    r["cpu_us"], r["cpu_spread"] / 2, "%.2f" % ratio if ratio else ""))
    head = ("Machine: %d CPUs, %s, Linux %s; %s; load average %s before, %s after. moonsock %s. "
            "Server on CPU %s, load on CPU %s; "
            "%d windows of %gs after %gs warm-up; spread = (max-min)/2 over the windows, "
            "as a share of the median. \"vs C\": server CPU per op (memory per connection "
            "for the idle jobs) divided by the C epoll server's (for the TLS jobs, the C epoll "
            "server with OpenSSL's); lower is better." % (
                meta["nproc"], meta["cpu"], meta["kernel"], meta["date"], meta["loadavg_before"],
                meta["loadavg_after"], meta["moonsock"],
                SERVER_CPU, LOAD_CPU, REPS, WINDOW, WARMUP))
    text = head + "\n\n" + "\n".join(lines) + "\n"
    redis = [j for j in JOBS if j in results and JOBS[j]["kind"] == "redis"]
    if redis:
        tests = ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR"]
        rows = ["| job | server | " + " | ".join(tests) + " | all, per second | server CPU per req "
                "| rps vs redis-server | CPU vs redis-server |",
                "|---|---|" + "---:|" * (len(tests) + 4)]
        for jkey in redis:
            base = results[jkey].get("redis-server", {})
            for pkey, r in results[jkey].items():
                if "error" in r:
                    rows.append("| %s | %s | n/a: %s |" % (JOBS[jkey]["title"], name_of(jkey, pkey),
                                                         r["error"]))
                    continue
                rows.append("| %s | %s | %s | %s ±%.0f%% | %.2f µs ±%.0f%% | %s | %s |" % (
                    JOBS[jkey]["title"], name_of(jkey, pkey),
                    " | ".join(fmt_rate(r["tests"][t]) for t in tests),
                    fmt_rate(r["rate"]), r["rate_spread"] / 2, r["cpu_us"], r["cpu_spread"] / 2,
                    "%.2f" % (r["rate"] / base["rate"]) if "rate" in base else "",
                    "%.2f" % (r["cpu_us"] / base["cpu_us"]) if "cpu_us" in base else ""))
        text += ("\nJob 4, the Redis protocol: redis-benchmark -t ping,set,get,incr, medians of "
                 "each test's requests per second; \"all\" counts every request over the time of "
                 "the five tests.\n\n" + "\n".join(rows) + "\n")
    return text


def chart(results):
    peers = [p for p in PEERS if p != "c"]
    jobs = [j for j in JOBS if j in results and (
        "cpu_us" in results[j].get("c", results[j].get("redis-server", {})) or
        "bytes_per_conn" in results[j].get("c", {}))]
    # The C TLS server's idle RSS is a few KB, asyncio's hundreds of times that: the
    # TLS idle job would flatten the log scale, and its figure is in the table.
    jobs = [j for j in jobs if j != "tls-idle"]
    # gnuplot refuses a column without a single point
    peers = [p for p in peers if any(
        k in results[j].get(p, {}) for j in jobs for k in ("cpu_us", "bytes_per_conn"))]
    dat = os.path.join(OUT, "ratios.dat")
    with open(dat, "w") as f:
        f.write("job " + " ".join('"%s"' % PEERS[p]["name"] for p in peers) + "\n")
        for j in jobs:
            # job 4 compares with redis-server instead of the C echo server
            base = results[j].get("c") or results[j]["redis-server"]
            key = "bytes_per_conn" if JOBS[j]["kind"] == "idle" else "cpu_us"
            row = []
            for p in peers:
                r = results[j].get(p, {})
                row.append("%.4f" % (r[key] / base[key]) if key in r else "NaN")
            f.write('"%s" %s\n' % (JOBS[j]["short"], " ".join(row)))
    png = os.path.join(BENCH, "chart.png")
    script = """
set terminal pngcairo size 1400,650 font "sans,10"
set key inside left top
set output '%s'
set title "Server CPU per operation (idle job: RSS per connection) relative to the C epoll server (* redis jobs: to redis-server); 1 = the baseline, lower is better"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set datafile missing "NaN"
set logscale y 2
set yrange [0.5:*]
set grid ytics
set ylabel "ratio to C (log scale)"
set xtics noenhanced
set key noenhanced
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)
""" % (png, len(peers) + 1, dat)
    subprocess.run(["gnuplot"], input=script, text=True, check=True, timeout=60)
    return png


def main():
    os.makedirs(OUT, exist_ok=True)
    open(os.path.join(OUT, "server.log"), "w").close()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    jobs = []
    for j in os.environ.get("BENCH_JOBS", ",".join(JOBS)).split(","):
        jobs += TLS_JOBS if j == "tls" else [j]
    peers = os.environ.get("BENCH_PEERS", ",".join(PEERS)).split(",")
    if any(JOBS[j]["mode"] == "tls" for j in jobs):
        tls_cert()
    meta = machine()
    results = {}
    start = time.monotonic()
    for jkey in jobs:
        results[jkey] = {}
        own = peers_of(jkey)
        # Jobs with peers of their own always run their baseline.
        for pkey in (own if own is not PEERS else peers):
            if own is not PEERS and pkey not in peers and pkey not in ("redis-server", "c"):
                continue
            skip = own[pkey].get("skip", {}).get(jkey)
            if skip:
                results[jkey][pkey] = {"skipped": skip}
                continue
            t = time.monotonic()
            try:
                r = run_job(jkey, pkey)
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
                r = {"error": str(e).splitlines()[0][:120]}
            results[jkey][pkey] = r
            summary = r.get("error") or (
                "%.0f B/conn" % r["bytes_per_conn"] if "bytes_per_conn" in r else
                "%s/s, %.2f µs CPU" % (fmt_rate(r["rate"]), r["cpu_us"]))
            log("%-8s %-30s %s  (%.0fs)" % (jkey, name_of(jkey, pkey), summary, time.monotonic() - t))
    meta["seconds"] = round(time.monotonic() - start)
    meta["loadavg_after"] = open("/proc/loadavg").read().split()[0]
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump({"machine": meta, "results": results}, f, indent=1)
    text = table(results, meta)
    with open(os.path.join(OUT, "table.md"), "w") as f:
        f.write(text)
    print(text)
    print("chart:", os.path.relpath(chart(results), ROOT))


if __name__ == "__main__":
    main()
