/*
 * Lua memory errors, swept (issue 7). The host gives its lua_State an
 * allocator that refuses growth request number N (never a free or a shrink:
 * Lua's manual says those cannot fail) and, as a variant, every growth
 * request from the Nth on. Each scenario is a script spawned with
 * moonsock_spawnstring and run with moonsock_run; it is run once with no
 * failure to count its allocation points A, then for N over 1..A (all of
 * them, or the first and last few hundred and a stride in between).
 *
 * The verdict for each N:
 *   - no crash, no hang (a watchdog alarm), no abort through lua_atpanic;
 *   - moonsock_run returns 0 with the script finished, or -1 with
 *     moonsock_lasterror saying "not enough memory" (or the scenario's own
 *     expected error);
 *   - the same state is usable once the allocator succeeds again: a small
 *     script does a socketpair round trip through a coroutine of its own
 *     and gets a Python OSError (what a half-opened runtime lacks);
 *   - moonsock_close leaves no fd open that was not open before (counted in
 *     /proc/self/fd) and gives back every byte Lua allocated.
 * Lua retries a refused request once after an emergency collection, so a
 * single refusal mostly ends in a full collection at that point, and the
 * run goes on: that variant sweeps the collector over every allocation
 * point. Its memory errors come from where Lua cannot retry: while
 * lua_newstate and luaL_openlibs build the state, and in the auxiliary
 * library's string buffers (table.concat), which call the allocator
 * directly. The second variant makes the errors real.
 *
 * Each sweep (and each counting run) runs in a child process, so a crash or
 * a hang costs only that N: the child reports each N it starts and how it
 * ended through a pipe, and the parent starts a new child after the one
 * that died. The parent runs nothing of moonsock's itself. The child's stderr
 * (the uncaught errors of tasks, printed as Python prints a thread's) goes
 * to a temporary file, searched afterwards for sanitizer reports.
 *
 * Expected values (the scenarios' results without any failure) come from
 * python3, run once before the sweeps.
 *
 * usage: bin/tests/test_alloc [--points K] [--at N] [--no-fork] [scenario...]
 *   --points K  at most K allocation points per scenario and variant
 *               (default 700, or $MOONSOCK_ALLOC_POINTS)
 *   --at N      only allocation point N (to reproduce one)
 *   --no-fork   sweep in this process: for valgrind, which does not follow
 *               forked children; a crash then ends the program
 *   scenario    run only these (open, tasks, sockets, select, resolver,
 *               modules, errors, uncaught)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include "tap.h"

/* Seconds one allocation point may take before the watchdog kills it: the
 * scripts' own timeouts are 5 s, and a point normally takes milliseconds. */
#define WATCHDOG 20
/* How long the scripts' waits last at most (their global T), in seconds.
 * When every allocation from N on fails, a task the script waits for may
 * die before it can act, or before it even starts, and the wait then lasts
 * until its timeout: a short one keeps that sweep short. Nothing waited for
 * takes more than a few milliseconds otherwise, even under valgrind. */
#define WAIT 5.0
#define DOOMED_WAIT 0.25
/* A sweep gives up after this many dead children. */
#define MAX_DEATHS 25
/* The exit status of a child that reached lua_atpanic. */
#define PANIC_STATUS 70

/* ---- the allocator ---- */

typedef struct {
  size_t live;      /* bytes the state holds, as Lua counts them */
  long count;       /* growth requests since the last arm() */
  long fail_at;     /* refuse request number fail_at; 0: refuse nothing */
  int from_on;      /* ... and every request after it */
  long refused;     /* requests refused since the last arm() */
} heap;

static heap H;

static void *heap_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  heap *h = ud;
  size_t old = ptr ? osize : 0; /* for a new block osize is a type tag */
  if (nsize == 0) {
    free(ptr);
    h->live -= old;
    return NULL;
  }
  if (nsize > old) {
    long n = ++h->count;
    if (h->fail_at > 0 && (n == h->fail_at || (h->from_on && n > h->fail_at))) {
      h->refused++;
      return NULL;
    }
  }
  void *p = realloc(ptr, nsize);
  /* A shrink must not fail: the old block is big enough. */
  if (!p && nsize <= old) p = ptr;
  if (p) h->live = h->live - old + nsize;
  return p;
}

static void arm(long fail_at, int from_on) {
  H.count = 0;
  H.refused = 0;
  H.fail_at = fail_at;
  H.from_on = from_on;
}

static void disarm(void) { H.fail_at = 0; }

/* ---- the scenarios ---- */

typedef struct {
  const char *name;
  /* Run before the allocator is armed: what the scenario needs loaded. */
  const char *prelude;
  const char *code;   /* the script; it sets DONE = true at its end */
  const char *expect; /* part of the scenario's own expected error, or NULL */
  int opening;        /* the allocator is armed from lua_newstate on */
} scenario;

static const scenario scenarios[] = {
    {"open",
     "",
     "local socket = require 'socket'\n"
     "local task = require 'task'\n"
     "require 'select'\n"
     "local a, b = socket.socketpair()\n"
     "task.spawn(function() a:sendall('x') end):join(T)\n"
     "assert(b:recv(1) == 'x')\n"
     "a:close() b:close()\n"
     "DONE = true\n",
     NULL, 1},

    {"tasks",
     "require 'task'",
     "local task = require 'task'\n"
     "local hs, count = {}, 0\n"
     "for i = 1, 50 do\n"
     "  hs[i] = task.spawn(function(k) task.sleep(0) count = count + 1 return k * 2 end, i)\n"
     "end\n"
     /* No timeout: a task whose own bookkeeping fails must still end its joins. */
     "for i = 1, 50 do assert(hs[i]:join() == i * 2, 'join') end\n"
     "assert(count == 50, 'count')\n"
     "local ev, q = task.Event(), task.Queue(4)\n"
     "local consumer = task.spawn_daemon(function()\n"
     "  assert(ev:wait(T), 'event')\n"
     "  local sum = 0\n"
     "  for _ = 1, 20 do sum = sum + q:get(true, T) end\n"
     "  return sum\n"
     "end)\n"
     "task.sleep(0)\n"
     "ev:set()\n"
     "for i = 1, 20 do q:put(i, true, T) end\n"
     "assert(consumer:join(T) == 210, 'sum')\n"
     "DONE = true\n",
     NULL, 0},

    {"sockets",
     "require 'socket' require 'task'",
     "local socket, task = require 'socket', require 'task'\n"
     "local a, b = socket.socketpair()\n"
     "a:settimeout(T) b:settimeout(T)\n"
     "local payload = string.rep('0123456789abcdef', 6400)\n"
     /* The sender closes its end however it ends, so the reader sees EOF
      * and the join raises the sender's error. */
     "local sender = task.spawn_daemon(function()\n"
     "  local s <close> = a\n"
     "  s:sendall(payload)\n"
     "end)\n"
     "local got, n = {}, 0\n"
     "while n < #payload do\n"
     "  local chunk = b:recv(65536)\n"
     "  if chunk == '' then break end\n"
     "  got[#got + 1] = chunk\n"
     "  n = n + #chunk\n"
     "end\n"
     "sender:join(T)\n"
     "b:close()\n"
     "assert(table.concat(got) == payload, 'bytes differ')\n"
     "local srv <close> = socket.create_server({'127.0.0.1', 0})\n"
     "srv:settimeout(T)\n"
     "local port = srv:getsockname()[2]\n"
     "local client = task.spawn_daemon(function()\n"
     "  local c <close> = socket.create_connection({'127.0.0.1', port}, T)\n"
     "  c:sendall('hello')\n"
     "  return c:recv(5)\n"
     "end)\n"
     "local conn <close>, peer = srv:accept()\n"
     "conn:settimeout(T)\n"
     "assert(peer[1] == '127.0.0.1', 'peer')\n"
     "local copy <close> = conn:dup()\n"
     "assert(copy:getpeername()[2] == peer[2], 'dup')\n"
     "local data = conn:recv(5)\n"
     "conn:sendall(data:upper())\n"
     "assert(client:join(T) == 'HELLO', 'echo')\n"
     "DONE = true\n",
     NULL, 0},

    {"select",
     "require 'socket' require 'task' require 'select'",
     "local socket, task, select = require 'socket', require 'task', require 'select'\n"
     "local a, b = socket.socketpair()\n"
     "local close_a <close> = a\n"
     "local close_b <close> = b\n"
     "a:settimeout(T) b:settimeout(T)\n"
     /* Each wait parks first: the writer sends only after a turn of the loop. */
     "local function later(data) return task.spawn_daemon(function() task.sleep(0) a:send(data) end) end\n"
     "local w = later('x')\n"
     "local r = select.select({b}, {}, {}, T)\n"
     "assert(#r == 1 and r[1] == b, 'select')\n"
     "w:join(T)\n"
     "assert(b:recv(1) == 'x')\n"
     "local _, wr = select.select({}, {a}, {}, 0)\n"
     "assert(#wr == 1, 'writable')\n"
     "local p = select.poll()\n"
     "p:register(b, select.POLLIN)\n"
     "w = later('y')\n"
     "local ev = p:poll(T * 1000)\n"
     "assert(#ev == 1 and ev[1][1] == b:fileno() and ev[1][2] & select.POLLIN ~= 0, 'poll')\n"
     "w:join(T)\n"
     "assert(b:recv(1) == 'y')\n"
     "p:unregister(b)\n"
     "local ep <close> = select.epoll()\n"
     "ep:register(b:fileno(), select.EPOLLIN)\n"
     "w = later('z')\n"
     "ev = ep:poll(T)\n"
     "assert(#ev == 1 and ev[1][1] == b:fileno() and ev[1][2] & select.EPOLLIN ~= 0, 'epoll')\n"
     "w:join(T)\n"
     "assert(b:recv(1) == 'z')\n"
     "DONE = true\n",
     NULL, 0},

    {"resolver",
     "require 'socket'",
     "local socket = require 'socket'\n"
     "local infos = socket.getaddrinfo('127.0.0.1', 80)\n"
     "assert(tostring(infos) == EXPECT.getaddrinfo, 'getaddrinfo: ' .. tostring(infos))\n"
     "local six = socket.getaddrinfo('::1', '8080', socket.AF_INET6, socket.SOCK_STREAM)\n"
     "assert(tostring(six) == EXPECT.getaddrinfo6, 'getaddrinfo6: ' .. tostring(six))\n"
     "assert(socket.gethostbyname('127.0.0.1') == '127.0.0.1', 'gethostbyname')\n"
     "local host, port = socket.getnameinfo({'127.0.0.1', 80}, socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)\n"
     "assert(host == '127.0.0.1' and port == '80', 'getnameinfo')\n"
     "assert(socket.inet_ntoa(socket.inet_aton('10.1.2.3')) == '10.1.2.3', 'inet_aton')\n"
     "assert(socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, '2001:db8::1')) == '2001:db8::1')\n"
     "DONE = true\n",
     NULL, 0},

    {"modules",
     "require 'socket' require 'ipaddress' require 'urllib.parse'",
     "local socket, ipaddress, parse = require 'socket', require 'ipaddress', require 'urllib.parse'\n"
     "local u = parse.urlparse('http://user@example.com:8080/p/a;x?q=1&r=a+b#frag')\n"
     "assert(tostring(u) == EXPECT.urlparse, tostring(u))\n"
     "assert(u.port == 8080 and u.hostname == 'example.com', 'port')\n"
     "assert(parse.quote('a b/c~d&') == EXPECT.quote, 'quote')\n"
     "assert(parse.urlencode({{'a', '1'}, {'b', 'x y&'}}) == EXPECT.urlencode, 'urlencode')\n"
     "assert(tostring(parse.parse_qsl('q=1&r=a+b')) == EXPECT.parse_qsl, 'parse_qsl')\n"
     "assert(tostring(ipaddress.ip_network('192.168.0.0/29'):hosts():list()) == EXPECT.hosts, 'hosts')\n"
     "assert(tostring(ipaddress.ip_interface('10.1.2.3/20').network) == EXPECT.network, 'network')\n"
     "assert(ipaddress.ip_address('2001:db8::1').exploded == EXPECT.exploded, 'exploded')\n"
     "local a, b = socket.socketpair()\n"
     "local close_a <close> = a\n"
     "local close_b <close> = b\n"
     "a:settimeout(T) b:settimeout(T)\n"
     "local wf, rf = a:makefile('wb'), b:makefile('rb')\n"
     "wf:write('line one\\n', 'line two\\n', 42, '\\n')\n"
     "wf:flush()\n"
     "assert(rf:readline() == 'line one\\n', 'readline')\n"
     "assert(rf:read('l') == 'line two', 'read l')\n"
     "assert(rf:read('n') == 42, 'read n')\n"
     "wf:close() rf:close()\n"
     "DONE = true\n",
     NULL, 0},

    {"errors",
     "require 'socket'",
     "local socket = require 'socket'\n"
     "local a, b = socket.socketpair()\n"
     "local close_a <close> = a\n"
     "local close_b <close> = b\n"
     "b:settimeout(0.01)\n"
     "local ok, err = pcall(b.recv, b, 1)\n"
     "if ok or not socket.timeout:matches(err) then error(err, 0) end\n"
     "assert(tostring(err) == EXPECT.timeout, 'timeout text')\n"
     "local s <close> = socket.socket()\n"
     "s:settimeout(T)\n"
     "DONE = true\n"
     /* uncaught, so moonsock_lasterror shows it as Python would */
     "s:connect({'127.0.0.1', EXPECT.closed_port})\n",
     "ConnectionRefusedError", 0},

    /* Uncaught errors: a task's, printed, and the host's, kept for
     * moonsock_lasterror; the loop's callbacks report them. */
    {"uncaught",
     "require 'task'",
     "local task = require 'task'\n"
     "local child = task.spawn(function() error('child failed', 0) end)\n"
     "local ok, err = pcall(child.join, child)\n"
     "if ok or err ~= 'child failed' then error(err, 0) end\n"
     "DONE = true\n"
     "error('host failed', 0)\n",
     "host failed", 0},
};
#define NSCENARIOS ((int)(sizeof scenarios / sizeof scenarios[0]))

/* Run with the allocator succeeding again, on the state a failure left: a
 * round trip, a blocking call inside a coroutine of the script's own (the
 * boot code's doing) and an error that is Python's OSError (the error
 * factory's): what a half-opened runtime lacks. */
static const char *recovery =
    "local socket, task = require 'socket', require 'task'\n"
    "local a, b = socket.socketpair()\n"
    "a:settimeout(5) b:settimeout(5)\n"
    "local reader = coroutine.wrap(function() return b:recv(4) end)\n"
    "local h = task.spawn(function() task.sleep(0) a:sendall('ping') end)\n"
    "assert(reader() == 'ping', 'round trip')\n"
    "h:join(5)\n"
    "a:close() b:close()\n"
    "local ok, err = pcall(a.send, a, 'x')\n"
    "assert(not ok and socket.error:matches(err) and err.errno == 9, 'OSError')\n"
    "RECOVERED = true\n";

/* The Lua code that sets EXPECT from python3's answers (malloc'd). */
static char *expectations;
static int closed_port_number;

/* A loopback port with nothing listening: bound, then closed. */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return ntohs(sa.sin_port);
}

/* python3 prints one "EXPECT.name = [==[text]==]" line per value. */
static char *python_expectations(int port, char **refused_text) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "python3 -c '\n"
           "import socket, ipaddress, urllib.parse as p\n"
           "def out(k, v): print(\"EXPECT.%%s = [==[%%s]==]\" %% (k, v))\n"
           "gai = lambda *a: [(int(f), int(t), pr, c, s) for f, t, pr, c, s in socket.getaddrinfo(*a)]\n"
           "out(\"getaddrinfo\", gai(\"127.0.0.1\", 80))\n"
           "out(\"getaddrinfo6\", gai(\"::1\", \"8080\", socket.AF_INET6, socket.SOCK_STREAM))\n"
           "out(\"urlparse\", p.urlparse(\"http://user@example.com:8080/p/a;x?q=1&r=a+b#frag\"))\n"
           "out(\"quote\", p.quote(\"a b/c~d&\"))\n"
           "out(\"urlencode\", p.urlencode([(\"a\", \"1\"), (\"b\", \"x y&\")]))\n"
           "out(\"parse_qsl\", p.parse_qsl(\"q=1&r=a+b\"))\n"
           "out(\"hosts\", list(ipaddress.ip_network(\"192.168.0.0/29\").hosts()))\n"
           "out(\"network\", ipaddress.ip_interface(\"10.1.2.3/20\").network)\n"
           "out(\"exploded\", ipaddress.ip_address(\"2001:db8::1\").exploded)\n"
           "a, b = socket.socketpair()\n"
           "b.settimeout(0.01)\n"
           "try: b.recv(1)\n"
           "except socket.timeout as e: out(\"timeout\", e)\n"
           "try: socket.create_connection((\"127.0.0.1\", %d))\n"
           "except OSError as e: print(\"--\" + type(e).__name__ + \": \" + str(e))\n"
           "'",
           port);
  FILE *p = popen(cmd, "r");
  if (!p) return NULL;
  size_t cap = 8192, len = 0;
  char *buf = malloc(cap);
  char line[2048];
  *refused_text = NULL;
  while (fgets(line, sizeof line, p)) {
    if (strncmp(line, "--", 2) == 0) {
      line[strcspn(line, "\n")] = '\0';
      *refused_text = strdup(line + 2);
      continue;
    }
    size_t n = strlen(line);
    if (len + n + 1 > cap) buf = realloc(buf, cap *= 2);
    memcpy(buf + len, line, n + 1);
    len += n;
  }
  if (pclose(p) != 0 || len == 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* ---- one allocation point ---- */

enum verdict { V_COMPLETED, V_MEMORY, V_EXPECTED, V_BAD };

typedef struct {
  long n;          /* the allocation point; 0 for the counting run */
  int verdict;     /* enum verdict */
  long count;      /* growth requests the armed part made */
  long refused;    /* of which refused */
  char why[480];   /* for V_BAD: what went wrong */
  char error[240]; /* the first line of the run's error, if any */
  double ms;       /* how long the point took */
} outcome;

static long current_point;
static int report_fd = -1; /* the pipe to the parent; -1 in --no-fork */
static int verbose;        /* --at: each run's whole error as diagnostics */

/* Records the child writes to the parent. */
enum { R_START = 1, R_DONE, R_PANIC };
typedef struct {
  int kind;
  outcome o;
} record;

static void send_record(int kind, const outcome *o) {
  if (report_fd < 0) return;
  record r;
  memset(&r, 0, sizeof r);
  r.kind = kind;
  if (o) r.o = *o;
  const char *p = (const char *)&r;
  size_t left = sizeof r;
  while (left > 0) {
    ssize_t w = write(report_fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    p += w;
    left -= (size_t)w;
  }
}

/* lua_atpanic: a memory error escaped every protected call. Tell the parent
 * which N, then end the child (Lua would abort). */
static int on_panic(lua_State *L) {
  outcome o;
  memset(&o, 0, sizeof o);
  o.n = current_point;
  o.verdict = V_BAD;
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
  snprintf(o.why, sizeof o.why, "lua_atpanic: %s", msg);
  if (report_fd >= 0) {
    send_record(R_PANIC, &o);
  } else {
    printf("# N=%ld: %s\n", o.n, o.why);
    fflush(stdout);
  }
  _exit(PANIC_STATUS);
  return 0;
}

static int openlibs_p(lua_State *L) {
  luaL_openlibs(L);
  return 0;
}

__attribute__((format(printf, 2, 3))) static void set_bad(outcome *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  o->verdict = V_BAD;
  vsnprintf(o->why, sizeof o->why, fmt, ap);
  va_end(ap);
}

static const char *first_line(const char *s, char *buf, size_t size) {
  if (!s) return "(none)";
  size_t n = strcspn(s, "\n");
  if (n >= size) n = size - 1;
  memmove(buf, s, n);
  buf[n] = '\0';
  return buf;
}

/* Runs code in L outside any task; 0 if it ran. */
static int eval_quiet(lua_State *L, const char *code) {
  int top = lua_gettop(L);
  int rc = luaL_loadstring(L, code) == LUA_OK && lua_pcall(L, 0, 0, 0) == LUA_OK ? 0 : -1;
  lua_settop(L, top);
  return rc;
}

static int global_true(lua_State *L, const char *name) {
  lua_getglobal(L, name);
  int t = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return t;
}

/* Opens moonsock into L with the allocator as it is; 0 or -1. */
static int open_state(lua_State *L, char *err, size_t size) {
  lua_pushcfunction(L, openlibs_p);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK || moonsock_open(L, NULL) != 0) {
    snprintf(err, size, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
    lua_settop(L, 0);
    return -1;
  }
  return 0;
}

/*
 * One run of scenario sc with request fail_at refused (0: none), and every
 * later one too when from_on. Fills o; never returns without closing the
 * state it made.
 */
static void run_point(const scenario *sc, long fail_at, int from_on, outcome *o) {
  char buf[480], line[480];
  double t0 = now_ms();
  memset(o, 0, sizeof *o);
  o->n = fail_at;
  current_point = fail_at;
  int fds_before = open_fds();
  memset(&H, 0, sizeof H);

  if (sc->opening) arm(fail_at, from_on);
  lua_State *L = lua_newstate(heap_alloc, &H);
  if (!L) {
    /* The documented failure of lua_newstate; nothing to close. */
    o->count = H.count;
    o->refused = H.refused;
    disarm();
    o->verdict = H.live == 0 ? V_MEMORY : V_BAD;
    if (H.live) snprintf(o->why, sizeof o->why, "lua_newstate failed and kept %zu bytes", H.live);
    return;
  }
  lua_atpanic(L, on_panic);
  int opened = open_state(L, buf, sizeof buf) == 0;
  if (!opened && !sc->opening) {
    disarm();
    set_bad(o, "opening the state failed with no allocation refused: %s", buf);
    lua_close(L);
    return;
  }
  if (opened) {
    if (!sc->opening) disarm();
    /* Under lua_pcall: for "open" the allocator is armed already. */
    char setup[128];
    snprintf(setup, sizeof setup, "T = %g EXPECT = {closed_port = %d}", from_on ? DOOMED_WAIT : WAIT,
             closed_port_number);
    if (eval_quiet(L, setup) != 0 || eval_quiet(L, expectations) != 0 || eval_quiet(L, sc->prelude) != 0) {
      if (!sc->opening || H.refused == 0) {
        disarm();
        set_bad(o, "the prelude failed");
        lua_close(L);
        return;
      }
      opened = 0; /* a memory error in the prelude of "open" */
      snprintf(buf, sizeof buf, "not enough memory (prelude)");
    }
  }
  if (!sc->opening) arm(fail_at, from_on);

  int rc = -1;
  const char *msg = buf;
  if (opened) {
    if (moonsock_spawnstring(L, sc->code, sc->name) != 0) {
      snprintf(buf, sizeof buf, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
      lua_settop(L, 0);
    } else {
      rc = moonsock_run(L);
      msg = rc == 0 ? NULL : moonsock_lasterror(L);
    }
  }
  o->count = H.count;
  o->refused = H.refused;
  disarm();
  if (rc != 0) first_line(msg, o->error, sizeof o->error);
  if (verbose && msg) diag("N=%ld (%s): %s", fail_at, from_on ? "from N on" : "at N", msg);

  if (rc == 0) {
    if (global_true(L, "DONE"))
      o->verdict = V_COMPLETED;
    else
      set_bad(o, "moonsock_run returned 0 but the script did not finish");
  } else if (contains(msg, "not enough memory")) {
    o->verdict = V_MEMORY;
  } else if (sc->expect && contains(msg, sc->expect) && global_true(L, "DONE")) {
    o->verdict = V_EXPECTED;
  } else {
    set_bad(o, "unexpected error: %s", first_line(msg, line, sizeof line));
  }
  if (o->verdict != V_BAD) {
    /* The same state, with the allocator succeeding again. */
    if (!opened && open_state(L, buf, sizeof buf) != 0) {
      set_bad(o, "moonsock_open failed again once memory was back: %s", buf);
    } else if (!opened && (eval_quiet(L, "EXPECT = {}") != 0 || eval_quiet(L, sc->prelude) != 0)) {
      set_bad(o, "the prelude failed once memory was back");
    } else if (moonsock_spawnstring(L, recovery, "=recovery") != 0) {
      set_bad(o, "the state is unusable: spawning failed: %s", lua_tostring(L, -1));
      lua_settop(L, 0);
    } else if (moonsock_run(L) != 0 || !global_true(L, "RECOVERED")) {
      set_bad(o, "the state is unusable: the round trip failed: %s",
              first_line(moonsock_lasterror(L), line, sizeof line));
    }
  }
  moonsock_close(L);
  int fds_after = open_fds();
  if (o->verdict != V_BAD && H.live != 0) set_bad(o, "lua_close left %zu bytes allocated", H.live);
  if (o->verdict != V_BAD && fds_after != fds_before)
    set_bad(o, "fd leak: %d fds before, %d after", fds_before, fds_after);
  o->ms = now_ms() - t0;
}

/* ---- sweeping ---- */

/* The allocation points to try, out of 1..total: all of them when at most
 * max, else the first and last quarter of max and a stride in between. */
static long *choose_points(long total, long max, long *count) {
  long *pts = malloc(sizeof *pts * (size_t)(max > total ? total : max) + sizeof *pts);
  long n = 0;
  if (total <= max) {
    for (long i = 1; i <= total; i++) pts[n++] = i;
  } else {
    long edge = max / 4, middle = max - 2 * edge;
    for (long i = 1; i <= edge; i++) pts[n++] = i;
    double stride = (double)(total - 2 * edge) / (double)(middle + 1);
    for (long k = 1; k <= middle; k++) {
      long p = edge + (long)(stride * (double)k);
      if (p > pts[n - 1] && p <= total - edge) pts[n++] = p;
    }
    for (long i = total - edge + 1; i <= total; i++) pts[n++] = i;
  }
  *count = n;
  return pts;
}

typedef struct {
  long swept, completed, memory, expected, bad, crashes, hangs, panics, refused_none;
  long shown;
  long slowest;      /* the allocation point that took longest */
  double slowest_ms;
} tally;

static void show(tally *t, const char *sc, const char *variant, const outcome *o) {
  if (t->shown++ < 8) diag("%s (%s), N=%ld: %s", sc, variant, o->n, o->why);
}

static void count_outcome(tally *t, const char *sc, const char *variant, const outcome *o) {
  t->swept++;
  if (o->ms > t->slowest_ms) {
    t->slowest_ms = o->ms;
    t->slowest = o->n;
  }
  if (o->refused == 0) t->refused_none++;
  switch (o->verdict) {
    case V_COMPLETED: t->completed++; break;
    case V_MEMORY: t->memory++; break;
    case V_EXPECTED: t->expected++; break;
    default:
      t->bad++;
      show(t, sc, variant, o);
  }
}

/* Reads a whole record; 0 at the end of the pipe. */
static int read_record(int fd, record *r) {
  char *p = (char *)r;
  size_t got = 0;
  while (got < sizeof *r) {
    ssize_t n = read(fd, p + got, sizeof *r - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    got += (size_t)n;
  }
  return 1;
}

/* libuv makes process-wide fds with its first loop (the signal lock's
 * pipe): made before the first run, they are not counted as any run's. */
static void warm_up(void) {
  static int done;
  if (!done) moonsock_close(moonsock_newstate());
  done = 1;
}

/* In the child: sweep pts[from..count), reporting through fd. */
static void child_sweep(const scenario *sc, int from_on, const long *pts, long from, long count, int fd,
                        int errfd) {
  report_fd = fd;
  dup2(errfd, 2);
  close(errfd);
  signal(SIGALRM, SIG_DFL);
  warm_up();
  for (long i = from; i < count; i++) {
    outcome o;
    memset(&o, 0, sizeof o);
    o.n = pts[i];
    send_record(R_START, &o);
    alarm(WATCHDOG);
    run_point(sc, pts[i], from_on, &o);
    alarm(0);
    send_record(R_DONE, &o);
  }
  close(fd);
  fflush(stdout);
  exit(0);
}

/* Copies the sanitizer reports in the runs' stderr, from the first one
 * on, into diagnostics; returns how many reports there were. The rest of
 * that stderr is the uncaught errors of tasks, expected here. */
static int scan_stderr(int errfd, const char *label) {
  lseek(errfd, 0, SEEK_SET);
  FILE *f = fdopen(dup(errfd), "r");
  if (!f) return 0;
  char line[1024];
  int reports = 0, shown = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (strstr(line, "ERROR: AddressSanitizer") || strstr(line, "ERROR: LeakSanitizer") ||
        strstr(line, "runtime error:"))
      reports++;
    if (reports > 0 && shown < 60) {
      diag("%s stderr: %s", label, line);
      shown++;
    }
  }
  fclose(f);
  return reports;
}

static void sweep(const scenario *sc, int from_on, const long *pts, long count, int fork_each, tally *t,
                  outcome *last_done) {
  const char *variant = from_on ? "fail from N on" : "fail at N";
  memset(t, 0, sizeof *t);
  char errpath[] = "/tmp/moonsock-alloc-stderr-XXXXXX";
  int errfd = mkstemp(errpath);
  if (errfd >= 0) unlink(errpath);
  char label[64];
  snprintf(label, sizeof label, "%s (%s)", sc->name, variant);
  if (!fork_each) {
    int saved = dup(2);
    if (errfd >= 0) dup2(errfd, 2);
    for (long i = 0; i < count; i++) {
      outcome o;
      alarm(WATCHDOG);
      run_point(sc, pts[i], from_on, &o);
      alarm(0);
      count_outcome(t, sc->name, variant, &o);
      if (last_done) *last_done = o;
    }
    dup2(saved, 2);
    close(saved);
    if (errfd >= 0) {
      t->crashes += scan_stderr(errfd, label);
      close(errfd);
    }
    return;
  }
  long from = 0;
  int deaths = 0;
  while (from < count && deaths < MAX_DEATHS) {
    int fds[2];
    if (pipe(fds) != 0) break;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
      close(fds[0]);
      close(fds[1]);
      break;
    }
    if (pid == 0) {
      close(fds[0]);
      child_sweep(sc, from_on, pts, from, count, fds[1], errfd >= 0 ? errfd : open("/dev/null", O_WRONLY));
    }
    close(fds[1]);
    record r;
    long started = -1;
    outcome last;
    memset(&last, 0, sizeof last);
    int panicked = 0;
    while (read_record(fds[0], &r)) {
      if (r.kind == R_START) {
        started = r.o.n;
      } else if (r.kind == R_DONE) {
        count_outcome(t, sc->name, variant, &r.o);
        if (last_done) *last_done = r.o;
        started = -1;
        from++;
      } else if (r.kind == R_PANIC) {
        last = r.o;
        panicked = 1;
      }
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (started < 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) break;
    /* The child died at allocation point `started` (or after its last one:
     * a sanitizer's exit-time report). */
    deaths++;
    outcome o;
    memset(&o, 0, sizeof o);
    o.n = started;
    o.verdict = V_BAD;
    t->swept += started >= 0;
    if (panicked) {
      t->panics++;
      snprintf(o.why, sizeof o.why, "%s", last.why);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
      t->hangs++;
      snprintf(o.why, sizeof o.why, "hung: killed by the %d s watchdog", WATCHDOG);
    } else {
      t->crashes++;
      snprintf(o.why, sizeof o.why, "the child died: %s", describe_status(status));
    }
    show(t, sc->name, variant, &o);
    if (started >= 0) from++;
    else break;
  }
  if (from < count) {
    t->bad++;
    diag("%s (%s): gave up after %d dead children, %ld points not swept", sc->name, variant, deaths,
         count - from);
  }
  if (errfd >= 0) {
    t->crashes += scan_stderr(errfd, label);
    close(errfd);
  }
}

static int wanted(const char *name, int argc, char **argv, int first) {
  if (first >= argc) return 1;
  for (int i = first; i < argc; i++)
    if (strcmp(argv[i], name) == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  tap_name = "test_alloc";
  long max_points = 700;
  const char *env = getenv("MOONSOCK_ALLOC_POINTS");
  if (env && atol(env) > 0) max_points = atol(env);
  int fork_each = 1, first = 1;
  long only_point = 0;
  while (first < argc && strncmp(argv[first], "--", 2) == 0) {
    if (strcmp(argv[first], "--no-fork") == 0) {
      fork_each = 0;
      first++;
    } else if (strcmp(argv[first], "--at") == 0 && first + 1 < argc) {
      only_point = atol(argv[first + 1]);
      verbose = 1;
      first += 2;
    } else if (strcmp(argv[first], "--points") == 0 && first + 1 < argc) {
      max_points = atol(argv[first + 1]);
      first += 2;
    } else {
      fprintf(stderr, "usage: %s [--points K] [--at N] [--no-fork] [scenario...]\n", argv[0]);
      return 2;
    }
  }
  if (max_points < 1) max_points = 1;

  /* The parent runs nothing of moonsock's: a child forked after libuv
   * started its thread pool would join the parent's threads at exit. */
  if (!fork_each) warm_up();
  closed_port_number = closed_port();
  char *refused_text = NULL;
  expectations = python_expectations(closed_port_number, &refused_text);
  if (!ok(expectations != NULL && refused_text != NULL, "python3 gave the expected values")) return done_testing();

  for (int i = 0; i < NSCENARIOS; i++) {
    const scenario *sc = &scenarios[i];
    if (!wanted(sc->name, argc, argv, first)) continue;
    /* The counting run: nothing refused, everything as Python says. */
    outcome base;
    tally bt;
    long zero = 0;
    memset(&base, 0, sizeof base);
    snprintf(base.why, sizeof base.why, "the run did not end");
    base.verdict = V_BAD;
    sweep(sc, 0, &zero, 1, fork_each, &bt, &base);
    /* The refused connect's text is Python's; "uncaught" raises its own. */
    const char *want = sc->expect && strcmp(sc->expect, "ConnectionRefusedError") == 0 ? refused_text : sc->expect;
    if (want)
      ok(strcmp(base.error, want) == 0, "%s: without failures the script ends with \"%s\" (%s)", sc->name, want,
         base.error);
    int base_ok = base.verdict == (sc->expect ? V_EXPECTED : V_COMPLETED);
    if (!ok(base_ok, "%s: runs to its end with no allocation refused (%ld allocation points)\n%s", sc->name,
            base.count, base.why))
      continue;
    long npts;
    long *pts = choose_points(base.count, max_points, &npts);
    if (only_point > 0) {
      pts[0] = only_point;
      npts = 1;
    }
    for (int from_on = 0; from_on <= 1; from_on++) {
      tally t;
      double t0 = now_ms();
      sweep(sc, from_on, pts, npts, fork_each, &t, NULL);
      double secs = (now_ms() - t0) / 1000;
      diag("%s (%s): the slowest point, N=%ld, took %.0f ms", sc->name, from_on ? "fail from N on" : "fail at N",
           t.slowest, t.slowest_ms);
      ok(t.bad == 0 && t.crashes == 0 && t.hangs == 0 && t.panics == 0,
         "%s (%s): %ld of %ld allocation points swept in %.1f s: %ld completed, %ld failed with "
         "MemoryError, %ld with the expected error, %ld nothing refused; %ld crashes, %ld hangs, "
         "%ld panics, %ld other failures",
         sc->name, from_on ? "fail from N on" : "fail at N", t.swept, base.count, secs, t.completed, t.memory,
         t.expected, t.refused_none, t.crashes, t.hangs, t.panics, t.bad);
    }
    free(pts);
  }
  free(expectations);
  free(refused_text);
  return done_testing();
}
