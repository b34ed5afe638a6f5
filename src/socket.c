/*
 * The socket type: Python's socket object over a non-blocking fd.
 *
 * Every fd is non-blocking and close-on-exec; Python's timeout is emulated:
 * a call tries the syscall, and on EAGAIN parks its task until libuv reports
 * the fd ready (or the deadline passes), then retries in its continuation.
 * Conveniences (name resolution, makefile, repr, create_connection...) live
 * in lua/socket.lua on top of this core.
 *
 * Over 800 lines, and one thing: the socket type. Every method below shares
 * the checker (socket_check), the kinds that make method calls cheap, and the
 * retry-or-park tail (socket_park_or_raise); split across files, those would
 * have to become an internal interface of their own for one type.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ms.h"

#define SOCKET_META "moonsock.socket"
/* recv of up to this many bytes reads into the module's reused buffer and
 * copies once into the Lua string; a larger one builds the string in a
 * luaL_Buffer instead, so one huge recv does not pin a huge buffer for ever. */
#define SOCKET_SCRATCH_MAX (1 << 20)
/* Past this many kinds the kinds table starts afresh (see socket_push_kind). */
#define SOCKET_KINDS_MAX 64
/* sendfile(2) sends at most about 2 GiB per call; asking for 1 GiB at a
 * time keeps the count well inside its ssize_t result. */
#define SOCKET_SENDFILE_CHUNK ((size_t)1 << 30)
/* CPython's getsockopt refuses a buflen outside 1..1024. */
#define SOCKET_GETSOCKOPT_BUFLEN_MAX 1024
/* CMSG_LEN/CMSG_SPACE of a length near INT_MAX would overflow an int: this
 * much room covers the header and the alignment padding (CPython computes
 * the exact bound, a few bytes higher). */
#define SOCKET_CMSG_HEADROOM 64

typedef struct {
  ms_io io;        /* io.fd is the fd, -1 once closed */
  int family, type, proto;
  double timeout;  /* < 0: None (blocking); 0: non-blocking; > 0: seconds */
  const void *kind; /* the metatable socket_set_kind gave it: see socket_test */
} sock;

/* Module state, the first upvalue of every function here. Its user value:
 * the kinds (below), by family, type, proto and timeout. */
typedef struct {
  double default_timeout;
  char *scratch; /* recv buffer: one copy into the Lua string, no allocation */
  size_t scratch_size;
  int kinds;     /* entries in the kinds table */
  /* The runtime's, looked up once: they live as long as the Lua state. */
  uv_loop_t *loop;
  ms_iomap *map;
} socket_state;

static socket_state *socket_module_state(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* ---- checking ---- */

/*
 * Kinds. A method call looks the method up through __index on every call;
 * an __index function costs a C call each time, a table only a lookup (a
 * sixth of the server's instructions per echo). So a socket's metatable is
 * a "kind": a copy of socket.SocketType (the second upvalue of every
 * function here) whose __index is a table of the attributes Python's socket
 * has (family, type, proto, timeout) and the methods. Sockets
 * that agree on all four share one kind; settimeout and setblocking switch
 * a socket to another. Every kind's own metatable is SocketType, and its
 * __metatable field answers getmetatable with SocketType.
 *
 * A socket is a full userdata of a socket's size whose metatable is the
 * kind it records itself: the kind's address is known only to the socket
 * and Lua, so no other userdata matches by accident, and the check costs
 * half of comparing metatables through the API (it runs on every call).
 */
static sock *socket_test(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TUSERDATA || lua_rawlen(L, idx) != sizeof(sock)) return NULL;
  sock *s = lua_touserdata(L, idx);
  if (!lua_getmetatable(L, idx)) return NULL;
  int same = lua_topointer(L, -1) == s->kind;
  lua_pop(L, 1);
  return same ? s : NULL;
}

static sock *socket_to(lua_State *L, int idx) {
  sock *s = socket_test(L, idx);
  if (!s) luaL_typeerror(L, idx, SOCKET_META);
  return s;
}

static void socket_push_timeout(lua_State *L, double t) {
  if (t < 0)
    lua_pushnil(L);
  else
    lua_pushnumber(L, t);
}

static void socket_copy_fields(lua_State *L, int from, int to) {
  lua_pushnil(L);
  while (lua_next(L, from)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, to);
  }
}

/* Pushes the kind of s's current attributes, made on first use. */
/* The kinds table holds kinds strongly, so that a kind is not made again
 * (a copy of some forty fields) each time its last socket is collected;
 * it starts afresh past 64 kinds, which only timeouts of many different
 * values reach. Its keys are the attributes' bytes: a short string, which
 * Lua interns, so no text is formatted per socket. */
static void socket_make_kind(lua_State *L, const sock *s);

static void socket_push_kind(lua_State *L, const sock *s) {
  struct {
    int family, type, proto;
    double timeout;
  } key;
  memset(&key, 0, sizeof key); /* the padding is part of the key */
  key.family = s->family;
  key.type = s->type;
  key.proto = s->proto;
  key.timeout = s->timeout;
  socket_state *st = socket_module_state(L);
  lua_getiuservalue(L, lua_upvalueindex(1), 1);
  lua_pushlstring(L, (const char *)&key, sizeof key);
  if (lua_rawget(L, -2) == LUA_TTABLE) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  if (st->kinds >= SOCKET_KINDS_MAX) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, lua_upvalueindex(1), 1);
    st->kinds = 0;
  }
  socket_make_kind(L, s);
  lua_pushlstring(L, (const char *)&key, sizeof key);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  st->kinds++;
  lua_remove(L, -2);
}

/* Pushes a new kind for s's attributes. */
static void socket_make_kind(lua_State *L, const sock *s) {
  lua_newtable(L);
  int kind = lua_gettop(L);
  /* Copies made now: socket.lua sets SocketType's metamethods and wraps
   * some methods as it loads, before the first socket exists, and nothing
   * changes them later. A flat table: one lookup per method call. */
  socket_copy_fields(L, lua_upvalueindex(2), kind);
  lua_createtable(L, 0, 40);
  socket_copy_fields(L, lua_upvalueindex(3), kind + 1);
  lua_pushinteger(L, s->family);
  lua_setfield(L, -2, "family");
  lua_pushinteger(L, s->type);
  lua_setfield(L, -2, "type");
  lua_pushinteger(L, s->proto);
  lua_setfield(L, -2, "proto");
  socket_push_timeout(L, s->timeout);
  lua_setfield(L, -2, "timeout");
  lua_setfield(L, kind, "__index");
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_setfield(L, kind, "__metatable");
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_setmetatable(L, kind);
}

/* Gives the socket at idx the kind of its attributes, after a change. */
static void socket_set_kind(lua_State *L, int idx, sock *s) {
  idx = lua_absindex(L, idx);
  socket_push_kind(L, s);
  s->kind = lua_topointer(L, -1);
  lua_setmetatable(L, idx);
}

/* Every method but fileno/close/detach/repr rejects a closed socket the way
 * Python does: OSError EBADF. */
static sock *socket_check(lua_State *L, int idx) {
  sock *s = socket_to(L, idx);
  if (s->io.fd < 0) ms_raise_errno(L, EBADF);
  return s;
}

static const char *socket_check_data(lua_State *L, int idx, size_t *len) {
  if (lua_type(L, idx) != LUA_TSTRING) luaL_typeerror(L, idx, "string");
  return lua_tolstring(L, idx, len);
}

/* bind, connect, connect_ex, sendto and sendmsg are reached through Lua
 * wrappers (socket.lua resolves names first), where Lua would name the
 * wrapper's upvalue and line: these name the method, number arguments after
 * self, and blame the user's line (ms_argerror). */
static int socket_argerror(lua_State *L, int idx, const char *fname, const char *msg) {
  return ms_argerror(L, idx - 1, fname, msg);
}

static const char *socket_check_data_named(lua_State *L, int idx, size_t *len, const char *fname) {
  if (lua_type(L, idx) != LUA_TSTRING)
    socket_argerror(L, idx, fname, lua_pushfstring(L, "string expected, got %s", luaL_typename(L, idx)));
  return lua_tolstring(L, idx, len);
}

static int socket_opt_flags(lua_State *L, int idx) {
  lua_Integer f = luaL_optinteger(L, idx, 0);
  luaL_argcheck(L, f >= INT_MIN && f <= INT_MAX, idx, "flags out of range");
  return (int)f;
}

/* settimeout and setdefaulttimeout: nil is None (blocking). */
static double socket_check_timeout(lua_State *L, int idx) {
  return ms_timeout_opt(L, idx, 1, "Timeout value out of range");
}

/* ---- creating ---- */

/* Sockets dropped without close() keep their fds until the collector runs,
 * and the collector knows nothing of fds: when the table is full, collect
 * and try once more (Python frees them at once, by reference count). */
static int socket_collect_for_fds(lua_State *L, int *retried) {
  if ((errno != EMFILE && errno != ENFILE) || *retried) return 0;
  *retried = 1;
  lua_gc(L, LUA_GCCOLLECT);
  return 1;
}

/* A socket object is created closed and then given its fd, so a memory
 * error in between leaks nothing. */
static sock *socket_new_closed(lua_State *L) {
  sock *s = lua_newuserdatauv(L, sizeof *s, 0);
  ms_io_init(&s->io, socket_module_state(L)->loop, NULL, -1);
  s->family = s->type = s->proto = 0;
  s->timeout = -1;
  socket_set_kind(L, -1, s);
  return s;
}

/* The socket at s takes fd: from now on closing s closes it. */
static void socket_own_fd(lua_State *L, sock *s, int fd) {
  socket_state *st = socket_module_state(L);
  ms_io_init(&s->io, st->loop, st->map, fd);
}

static int socket_setup_fd(lua_State *L, sock *s, int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) return -1;
  socket_own_fd(L, s, fd);
  return 0;
}

static int socket_getopt_int(int fd, int level, int opt, int *out) {
  socklen_t len = sizeof *out;
  return getsockopt(fd, level, opt, out, &len);
}

/* socket(family=AF_INET, type=SOCK_STREAM, proto=0, fileno=nil) */
static int socket_socket(lua_State *L) {
  int has_fd = !lua_isnoneornil(L, 4);
  lua_Integer family = luaL_optinteger(L, 1, has_fd ? -1 : AF_INET);
  lua_Integer type = luaL_optinteger(L, 2, has_fd ? -1 : SOCK_STREAM);
  lua_Integer proto = luaL_optinteger(L, 3, has_fd ? -1 : 0);
  /* Python's socket(family=-1, type=-1, proto=-1): -1 is "not given" */
  if (!has_fd) {
    if (family == -1) family = AF_INET;
    if (type == -1) type = SOCK_STREAM;
    if (proto == -1) proto = 0;
  }
  luaL_argcheck(L, family >= -1 && family <= INT_MAX, 1, "family out of range");
  luaL_argcheck(L, type >= -1 && type <= INT_MAX, 2, "type out of range");
  luaL_argcheck(L, proto >= -1 && proto <= INT_MAX, 3, "proto out of range");
  sock *s = socket_new_closed(L);
  int fd;
  if (has_fd) {
    lua_Integer f = luaL_checkinteger(L, 4);
    luaL_argcheck(L, f >= 0 && f <= INT_MAX, 4, "negative file descriptor");
    fd = (int)f;
    int v;
    /* Like CPython, ask the kernel what the fd is when not told, and refuse
     * an fd that is no socket even when told (ENOTSOCK, EBADF). */
    if (family < 0) family = socket_getopt_int(fd, SOL_SOCKET, SO_DOMAIN, &v) ? ms_raise_errno(L, errno) : v;
    if (socket_getopt_int(fd, SOL_SOCKET, SO_TYPE, &v)) return ms_raise_errno(L, errno);
    if (type < 0) type = v;
    if (proto < 0) proto = socket_getopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &v) ? ms_raise_errno(L, errno) : v;
  } else {
    int retried = 0;
    do fd = socket((int)family, (int)type | SOCK_CLOEXEC | SOCK_NONBLOCK, (int)proto);
    while (fd < 0 && socket_collect_for_fds(L, &retried));
    if (fd < 0) return ms_raise_errno(L, errno);
  }
  if (socket_setup_fd(L, s, fd) < 0) {
    int e = errno;
    if (!has_fd) close(fd);
    return ms_raise_errno(L, e);
  }
  s->family = (int)family;
  s->type = (int)type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  s->proto = (int)proto;
  s->timeout = ((int)type & SOCK_NONBLOCK) ? 0 : socket_module_state(L)->default_timeout;
  socket_set_kind(L, -1, s);
  return 1;
}

/* ---- closing ---- */

/* The one closer of close, __close and __gc: wakes any task parked on the
 * socket (it gets EBADF) and is a no-op the second time. */
static int socket_closer(sock *s) {
  int fd = s->io.fd;
  if (fd < 0) return 0;
  ms_io_close(&s->io);
  return close(fd);
}

static int socket_close(lua_State *L) {
  sock *s = socket_to(L, 1);
  /* Python ignores ECONNRESET from close; other errors are raised. */
  if (socket_closer(s) < 0 && errno != ECONNRESET) return ms_raise_errno(L, errno);
  return 0;
}

static int socket_gc(lua_State *L) {
  socket_closer(socket_to(L, 1));
  return 0;
}

static int socket_detach(lua_State *L) {
  sock *s = socket_to(L, 1);
  int fd = s->io.fd;
  if (fd >= 0) ms_io_close(&s->io);
  lua_pushinteger(L, fd);
  return 1;
}

static int socket_fileno(lua_State *L) {
  lua_pushinteger(L, socket_to(L, 1)->io.fd);
  return 1;
}

/* ---- waiting ---- */

/*
 * Parks until s is ready for events. The deadline of the whole call sits in
 * stack slot `slot` (pushed on the first wait), so retries after a spurious
 * wake-up do not restart the clock, as in CPython's sock_call_ex.
 */
static int socket_wait(lua_State *L, sock *s, int events, int slot, lua_KContext ctx,
                     lua_KFunction k) {
  double timeout = -1;
  if (s->timeout > 0) {
    if (lua_gettop(L) < slot || lua_isnil(L, slot)) {
      lua_settop(L, slot - 1);
      lua_pushnumber(L, ms_now(L) + s->timeout);
    }
    timeout = lua_tonumber(L, slot) - ms_now(L);
    if (timeout < 0) timeout = 0;
  }
  lua_settop(L, slot);
  return ms_park_io(L, &s->io, events, timeout, ctx, k);
}

static int socket_would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

/* Whether a call with these flags waits when it would block. A socket with
 * a timeout waits whatever the flags (CPython polls before the syscall); a
 * blocking one waits unless the call said MSG_DONTWAIT, which makes that one
 * call non-blocking (the kernel's answer on a blocking fd); a non-blocking
 * one never waits. */
static int socket_call_waits(const sock *s, int flags) {
  return s->timeout > 0 || (s->timeout < 0 && !(flags & MSG_DONTWAIT));
}

/*
 * The tail of every call whose syscall failed with errno (EINTR aside: the
 * caller's loop retries that at once): on a would-block, a call that waits
 * (socket_call_waits: flags are the call's own) parks until s is ready for
 * events, then k retries; anything else, or a would-block on a call that
 * does not wait, raises (BlockingIOError). Small enough to be inlined into
 * recv and send, the echo's hot path.
 */
static int socket_park_or_raise(lua_State *L, sock *s, int flags, int events, int slot, lua_KContext ctx,
                         lua_KFunction k) {
  if (!socket_would_block(errno) || !socket_call_waits(s, flags)) return ms_raise_errno(L, errno);
  return socket_wait(L, s, events, slot, ctx, k);
}

/* After a wait: raise for a timeout, a close, a cancel; then the socket must
 * still be open. Slot 1 was checked to be a socket by the call that began
 * the wait, and nothing replaces it since. */
static sock *socket_resume_check(lua_State *L, int status) {
  sock *s = lua_touserdata(L, 1);
  if (status == LUA_YIELD) ms_check_wake(L);
  if (s->io.fd < 0) ms_raise_errno(L, EBADF);
  return s;
}

/* ---- accept ---- */

/* Slot 2 holds the new socket object, made by socket_accept before any fd
 * exists (running out of memory after accept4 would leak the connection);
 * slot 3 the deadline. */
static int socket_accept_k(lua_State *L, int status, lua_KContext ctx) {
  sock *s = socket_resume_check(L, status);
  sock *c = lua_touserdata(L, 2);
  struct sockaddr_storage ss;
  int retried = 0;
  for (;;) {
    socklen_t len = sizeof ss;
    int fd = accept4(s->io.fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0 && socket_collect_for_fds(L, &retried)) continue;
    if (fd >= 0) {
      socket_own_fd(L, c, fd);
      c->family = s->family;
      c->type = s->type;
      c->proto = s->proto;
      c->timeout = socket_module_state(L)->default_timeout;
      lua_settop(L, 2);
      socket_set_kind(L, 2, c);
      ms_push_sockaddr(L, (struct sockaddr *)&ss, len);
      return 2;
    }
    if (errno != EINTR) return socket_park_or_raise(L, s, 0, UV_READABLE, 3, ctx, socket_accept_k);
  }
}

static int socket_accept(lua_State *L) {
  socket_check(L, 1);
  lua_settop(L, 1);
  socket_new_closed(L);
  return socket_accept_k(L, LUA_OK, 0);
}

/* ---- bind, listen, connect ---- */

static int socket_bind(lua_State *L) {
  sock *s = socket_check(L, 1);
  struct sockaddr_storage ss;
  socklen_t len = ms_check_sockaddr(L, 2, s->family, &ss, "bind");
  if (bind(s->io.fd, (struct sockaddr *)&ss, len) < 0) return ms_raise_errno(L, errno);
  return 0;
}

static int socket_listen(lua_State *L) {
  sock *s = socket_check(L, 1);
  /* Python's default backlog: min(SOMAXCONN, 128); negative means 0. */
  lua_Integer backlog = luaL_optinteger(L, 2, SOMAXCONN < 128 ? SOMAXCONN : 128);
  luaL_argcheck(L, backlog >= INT_MIN && backlog <= INT_MAX, 2, "backlog out of range");
  if (backlog < 0) backlog = 0;
  if (listen(s->io.fd, (int)backlog) < 0) return ms_raise_errno(L, errno);
  return 0;
}

/* ctx bit 0: connect_ex (return the errno instead of raising);
 * bit 1: the connect is in progress, only its outcome is left to read. */
static int socket_connect_finish(lua_State *L, int err, lua_KContext ctx) {
  if (ctx & 1) {
    lua_pushinteger(L, err);
    return 1;
  }
  if (err) return ms_raise_errno(L, err);
  return 0;
}

static int socket_connect_k(lua_State *L, int status, lua_KContext ctx) {
  if (status == LUA_YIELD && (ctx & 1) && ms_wake_reason(L) == MS_WAKE_TIMEOUT)
    return socket_connect_finish(L, EWOULDBLOCK, ctx);
  sock *s = socket_resume_check(L, status);
  if (ctx & 2) {
    int err = 0;
    if (socket_getopt_int(s->io.fd, SOL_SOCKET, SO_ERROR, &err) < 0) err = errno;
    return socket_connect_finish(L, err, ctx);
  }
  struct sockaddr_storage ss;
  socklen_t len = ms_check_sockaddr(L, 2, s->family, &ss, (ctx & 1) ? "connect_ex" : "connect");
  for (;;) {
    if (connect(s->io.fd, (struct sockaddr *)&ss, len) == 0) return socket_connect_finish(L, 0, ctx);
    int e = errno;
    if (e == EINTR) e = EINPROGRESS;
    /* An AF_UNIX connect says EAGAIN when the backlog is full: wait and
     * connect again. A TCP connect says EINPROGRESS: wait, then read the
     * outcome from SO_ERROR. */
    if ((e != EINPROGRESS && !socket_would_block(e)) || s->timeout == 0) return socket_connect_finish(L, e, ctx);
    return socket_wait(L, s, UV_WRITABLE, 3, ctx | (e == EINPROGRESS ? 2 : 0), socket_connect_k);
  }
}

static int socket_connect(lua_State *L) {
  socket_check(L, 1);
  lua_settop(L, 2);
  return socket_connect_k(L, LUA_OK, 0);
}

static int socket_connect_ex(lua_State *L) {
  socket_check(L, 1);
  lua_settop(L, 2);
  return socket_connect_k(L, LUA_OK, 1);
}

/* ---- receiving ---- */

static lua_Integer check_bufsize(lua_State *L, int idx, const char *fname) {
  lua_Integer n = luaL_checkinteger(L, idx);
  if (n < 0) luaL_argerror(L, idx, lua_pushfstring(L, "negative buffersize in %s", fname));
  return n;
}

static char *socket_scratch(lua_State *L, size_t n) {
  socket_state *st = socket_module_state(L);
  if (n > st->scratch_size) {
    char *p = realloc(st->scratch, n);
    if (!p) luaL_error(L, "not enough memory");
    st->scratch = p;
    st->scratch_size = n;
  }
  return st->scratch;
}

/* recv and recvfrom: ctx 1 asks for the sender's address too. */
static int socket_recv_k(lua_State *L, int status, lua_KContext ctx) {
  sock *s = socket_resume_check(L, status);
  size_t n = (size_t)lua_tointeger(L, 2);
  int flags = (int)lua_tointeger(L, 3);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  luaL_Buffer b;
  /* A request/response peer has not answered yet when the task reads
   * again right after replying: the read that emptied the buffer says so,
   * and the poll still watching the fd will say when that changes. Waiting
   * first saves the EAGAIN syscall (a third of an echo's syscalls). */
  if (status == LUA_OK && s->io.drained && (s->io.polled & UV_READABLE) && socket_call_waits(s, flags))
    return socket_wait(L, s, UV_READABLE, 4, ctx, socket_recv_k);
  char *buf = n <= SOCKET_SCRATCH_MAX ? socket_scratch(L, n ? n : 1) : luaL_buffinitsize(L, &b, n);
  for (;;) {
    ssize_t got = ctx ? recvfrom(s->io.fd, buf, n, flags, (struct sockaddr *)&ss, &len)
                      : recv(s->io.fd, buf, n, flags);
    if (got >= 0) {
      /* A short read of a stream emptied its buffer (unless it only
       * peeked); a datagram says nothing about the ones queued after it. */
      if ((size_t)got < n && s->type == SOCK_STREAM && !(flags & MSG_PEEK)) s->io.drained = 1;
      if (n <= SOCKET_SCRATCH_MAX)
        lua_pushlstring(L, buf, (size_t)got);
      else
        luaL_pushresultsize(&b, (size_t)got);
      if (!ctx) return 1;
      ms_push_sockaddr(L, (struct sockaddr *)&ss, len);
      return 2;
    }
    if (errno == EINTR) continue;
    /* the buffer is empty: the next recv may wait for the poll first */
    if (socket_would_block(errno)) s->io.drained = 1;
    return socket_park_or_raise(L, s, flags, UV_READABLE, 4, ctx, socket_recv_k);
  }
}

static int socket_recv_start(lua_State *L, const char *fname, lua_KContext ctx) {
  socket_check(L, 1);
  lua_Integer n = check_bufsize(L, 2, fname);
  socket_opt_flags(L, 3);
  lua_settop(L, 3);
  /* Python returns b'' for recv(0) at once, without waiting for data. */
  if (n == 0 && !ctx) {
    lua_pushliteral(L, "");
    return 1;
  }
  return socket_recv_k(L, LUA_OK, ctx);
}

static int socket_recv(lua_State *L) { return socket_recv_start(L, "recv", 0); }
static int socket_recvfrom(lua_State *L) { return socket_recv_start(L, "recvfrom", 1); }

/* ---- sending ---- */

static int socket_send_k(lua_State *L, int status, lua_KContext ctx) {
  sock *s = socket_resume_check(L, status);
  size_t len;
  const char *data = lua_tolstring(L, 2, &len);
  int flags = (int)lua_tointeger(L, 3) | MSG_NOSIGNAL;
  for (;;) {
    ssize_t n = send(s->io.fd, data, len, flags);
    if (n >= 0) {
      lua_pushinteger(L, n);
      return 1;
    }
    if (errno != EINTR) return socket_park_or_raise(L, s, flags, UV_WRITABLE, 4, ctx, socket_send_k);
  }
}

/* send and sendall take (data[, flags]): checked once, before the first
 * try, so the continuations can trust the stack. */
static void socket_check_send_args(lua_State *L) {
  size_t len;
  socket_check(L, 1);
  socket_check_data(L, 2, &len);
  socket_opt_flags(L, 3);
  lua_settop(L, 3);
}

static int socket_send(lua_State *L) {
  socket_check_send_args(L);
  return socket_send_k(L, LUA_OK, 0);
}

/* sendall: ctx is how much is already sent, so a wake-up resumes mid-way;
 * the timeout bounds the whole call. */
static int socket_sendall_k(lua_State *L, int status, lua_KContext ctx) {
  sock *s = socket_resume_check(L, status);
  size_t len;
  const char *data = lua_tolstring(L, 2, &len);
  int flags = (int)lua_tointeger(L, 3) | MSG_NOSIGNAL;
  size_t off = (size_t)ctx;
  while (off < len) {
    ssize_t n = send(s->io.fd, data + off, len - off, flags);
    if (n >= 0) {
      off += (size_t)n;
      continue;
    }
    if (errno != EINTR) return socket_park_or_raise(L, s, flags, UV_WRITABLE, 4, (lua_KContext)off, socket_sendall_k);
  }
  return 0;
}

static int socket_sendall(lua_State *L) {
  socket_check_send_args(L);
  return socket_sendall_k(L, LUA_OK, 0);
}

/* sendto(data, address) or sendto(data, flags, address), as in Python;
 * normalised to (data, flags, address) before the first try. */
static int socket_sendto_k(lua_State *L, int status, lua_KContext ctx);

/* The address is parsed once by the call and again only after a wait. */
static int socket_sendto_try(lua_State *L, sock *s, const struct sockaddr_storage *ss, socklen_t alen,
                      lua_KContext ctx) {
  size_t len;
  const char *data = lua_tolstring(L, 2, &len);
  int flags = (int)lua_tointeger(L, 3) | MSG_NOSIGNAL;
  for (;;) {
    ssize_t n = sendto(s->io.fd, data, len, flags, (const struct sockaddr *)ss, alen);
    if (n >= 0) {
      lua_pushinteger(L, n);
      return 1;
    }
    if (errno != EINTR) return socket_park_or_raise(L, s, flags, UV_WRITABLE, 5, ctx, socket_sendto_k);
  }
}

static int socket_sendto_k(lua_State *L, int status, lua_KContext ctx) {
  sock *s = socket_resume_check(L, status);
  struct sockaddr_storage ss;
  socklen_t alen = ms_check_sockaddr(L, 4, s->family, &ss, "sendto");
  return socket_sendto_try(L, s, &ss, alen, ctx);
}

static int socket_sendto(lua_State *L) {
  sock *s = socket_check(L, 1);
  size_t len;
  socket_check_data_named(L, 2, &len, "sendto");
  /* Check the address where the caller put it, so the error numbers it right. */
  struct sockaddr_storage ss;
  socklen_t alen = ms_check_sockaddr(L, lua_gettop(L) <= 3 ? 3 : 4, s->family, &ss, "sendto");
  if (lua_gettop(L) <= 3) {
    lua_settop(L, 3);
    lua_pushinteger(L, 0);
    lua_insert(L, 3);
  } else {
    if (!lua_isinteger(L, 3)) socket_argerror(L, 3, "sendto", "flags must be an integer");
    lua_Integer f = lua_tointeger(L, 3);
    if (f < INT_MIN || f > INT_MAX) socket_argerror(L, 3, "sendto", "flags out of range");
    lua_settop(L, 4);
  }
  return socket_sendto_try(L, s, &ss, alen, 0);
}

/* ---- recvmsg / sendmsg ---- */

/* recvmsg(bufsize[, ancbufsize[, flags]]) -> data, ancdata, msg_flags, address */
static int socket_recvmsg_k(lua_State *L, int status, lua_KContext ctx) {
  sock *s = socket_resume_check(L, status);
  size_t n = (size_t)lua_tointeger(L, 2);
  size_t anc = (size_t)lua_tointeger(L, 3);
  int flags = (int)lua_tointeger(L, 4);
  /* The control buffer starts where struct cmsghdr may start. */
  size_t align = _Alignof(struct cmsghdr);
  size_t coff = (n + align - 1) / align * align;
  char *buf = socket_scratch(L, coff + anc + 1);
  struct sockaddr_storage ss;
  struct iovec iov = {buf, n};
  for (;;) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &ss;
    msg.msg_namelen = sizeof ss;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = anc ? buf + coff : NULL;
    msg.msg_controllen = anc;
    ssize_t got = recvmsg(s->io.fd, &msg, flags | MSG_CMSG_CLOEXEC);
    if (got >= 0) {
      lua_pushlstring(L, buf, (size_t)got);
      ms_push_list(L, 0);
      int i = 0;
      for (struct cmsghdr *c = anc ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
        ms_push_tuple(L, 3);
        lua_pushinteger(L, c->cmsg_level);
        lua_rawseti(L, -2, 1);
        lua_pushinteger(L, c->cmsg_type);
        lua_rawseti(L, -2, 2);
        lua_pushlstring(L, (const char *)CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
        lua_rawseti(L, -2, 3);
        lua_rawseti(L, -2, ++i);
      }
      /* MSG_CMSG_CLOEXEC is ours, not the caller's: do not echo it. */
      lua_pushinteger(L, msg.msg_flags & ~MSG_CMSG_CLOEXEC);
      ms_push_sockaddr(L, (struct sockaddr *)&ss, msg.msg_namelen);
      return 4;
    }
    if (errno != EINTR) return socket_park_or_raise(L, s, flags, UV_READABLE, 5, ctx, socket_recvmsg_k);
  }
}

static int socket_recvmsg(lua_State *L) {
  socket_check(L, 1);
  check_bufsize(L, 2, "recvmsg");
  lua_Integer anc = luaL_optinteger(L, 3, 0);
  luaL_argcheck(L, anc >= 0 && anc <= INT_MAX, 3, "negative buffer size in recvmsg");
  int flags = socket_opt_flags(L, 4); /* before the settop below drops it */
  lua_settop(L, 4);
  lua_pushinteger(L, anc);
  lua_replace(L, 3);
  lua_pushinteger(L, flags);
  lua_replace(L, 4);
  return socket_recvmsg_k(L, LUA_OK, 0);
}

/* sendmsg(buffers[, ancdata[, flags[, address]]]); buffers is a string or a
 * list of strings, ancdata a list of {level, type, data}. */
static int socket_sendmsg_k(lua_State *L, int status, lua_KContext ctx) {
  sock *s = socket_resume_check(L, status);
  int nbuf = (int)lua_rawlen(L, 2);
  int nanc = (int)lua_rawlen(L, 3);
  int flags = (int)lua_tointeger(L, 4) | MSG_NOSIGNAL;
  struct sockaddr_storage ss;
  socklen_t alen = 0;
  if (!lua_isnil(L, 5)) alen = ms_check_sockaddr(L, 5, s->family, &ss, "sendmsg");
  struct iovec *iov = lua_newuserdatauv(L, sizeof *iov * (size_t)(nbuf ? nbuf : 1), 0);
  for (int i = 0; i < nbuf; i++) {
    lua_rawgeti(L, 2, i + 1);
    iov[i].iov_base = (void *)lua_tolstring(L, -1, &iov[i].iov_len);
    lua_pop(L, 1); /* the string stays alive in the table */
  }
  size_t space = 0;
  for (int i = 0; i < nanc; i++) {
    lua_rawgeti(L, 3, i + 1);
    lua_rawgeti(L, -1, 3);
    space += CMSG_SPACE(lua_rawlen(L, -1));
    lua_pop(L, 2);
  }
  char *control = space ? lua_newuserdatauv(L, space, 0) : NULL;
  if (control) memset(control, 0, space);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = alen ? &ss : NULL;
  msg.msg_namelen = alen;
  msg.msg_iov = iov;
  msg.msg_iovlen = (size_t)nbuf;
  msg.msg_control = control;
  msg.msg_controllen = space;
  struct cmsghdr *c = space ? CMSG_FIRSTHDR(&msg) : NULL;
  for (int i = 0; i < nanc && c; i++, c = CMSG_NXTHDR(&msg, c)) {
    lua_rawgeti(L, 3, i + 1);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    lua_rawgeti(L, -3, 3);
    size_t dlen;
    const char *d = lua_tolstring(L, -1, &dlen);
    c->cmsg_level = (int)lua_tointeger(L, -3);
    c->cmsg_type = (int)lua_tointeger(L, -2);
    c->cmsg_len = CMSG_LEN(dlen);
    memcpy(CMSG_DATA(c), d, dlen);
    lua_pop(L, 4);
  }
  for (;;) {
    ssize_t n = sendmsg(s->io.fd, &msg, flags);
    if (n >= 0) {
      lua_pushinteger(L, n);
      return 1;
    }
    if (errno == EINTR) continue;
    lua_settop(L, 5);
    return socket_park_or_raise(L, s, flags, UV_WRITABLE, 6, ctx, socket_sendmsg_k);
  }
}

/* Normalises the arguments to (buffers list, ancdata list, flags, address)
 * and checks every element once, so the continuation can trust them. */
static int socket_sendmsg(lua_State *L) {
  socket_check(L, 1);
  lua_settop(L, 5);
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 1);
    lua_replace(L, 2);
  }
  if (!lua_istable(L, 2)) socket_argerror(L, 2, "sendmsg", "buffers must be a string or a list of strings");
  for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, 2); i <= n; i++) {
    if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
      socket_argerror(L, 2, "sendmsg", lua_pushfstring(L, "buffers[%d] must be a string", (int)i));
    lua_pop(L, 1);
  }
  if (lua_isnil(L, 3)) {
    lua_newtable(L);
    lua_replace(L, 3);
  }
  if (!lua_istable(L, 3)) socket_argerror(L, 3, "sendmsg", "ancdata must be a list of {level, type, data}");
  for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, 3); i <= n; i++) {
    int ok = lua_rawgeti(L, 3, i) == LUA_TTABLE;
    ok = ok && lua_rawgeti(L, -1, 1) == LUA_TNUMBER && lua_isinteger(L, -1);
    ok = ok && lua_rawgeti(L, -2, 2) == LUA_TNUMBER && lua_isinteger(L, -1);
    ok = ok && lua_rawgeti(L, -3, 3) == LUA_TSTRING;
    if (!ok) socket_argerror(L, 3, "sendmsg", lua_pushfstring(L, "ancdata[%d] must be {level, type, data}", (int)i));
    lua_pop(L, 4);
  }
  if (!lua_isnil(L, 4) && !lua_isinteger(L, 4)) socket_argerror(L, 4, "sendmsg", "flags must be an integer");
  if (lua_tointeger(L, 4) < INT_MIN || lua_tointeger(L, 4) > INT_MAX)
    socket_argerror(L, 4, "sendmsg", "flags out of range");
  lua_pushinteger(L, lua_tointeger(L, 4));
  lua_replace(L, 4);
  return socket_sendmsg_k(L, LUA_OK, 0);
}

/* ---- sendfile ---- */

/* sendfile(2) has no MSG_NOSIGNAL: block SIGPIPE around it and consume the
 * one a closed peer raised, so a host that has not ignored SIGPIPE (stock
 * lua5.4, an embedding program) gets EPIPE instead of dying. */
static ssize_t socket_sendfile_nosigpipe(int out, int in, off_t *pos, size_t n) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigpending(&pending);
  int was_pending = sigismember(&pending, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t r = sendfile(out, in, pos, n);
  int e = errno;
  if (r < 0 && e == EPIPE && !was_pending) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = e;
  return r;
}

/* sendfile(file[, offset[, count]]): file is a Lua io file or an fd. Like
 * Python, offset defaults to 0, and the file's position ends after the last
 * byte sent. */
static int socket_sendfile_k(lua_State *L, int status, lua_KContext ctx) {
  sock *s = socket_resume_check(L, status);
  luaL_Stream *f = luaL_testudata(L, 2, LUA_FILEHANDLE);
  int in = f ? fileno(f->f) : (int)lua_tointeger(L, 2);
  off_t offset = (off_t)lua_tointeger(L, 3);
  lua_Integer count = lua_tointeger(L, 4); /* -1: to the end of the file */
  size_t sent = (size_t)ctx;
  for (;;) {
    size_t want = SOCKET_SENDFILE_CHUNK;
    if (count >= 0) {
      if ((lua_Integer)sent >= count) break;
      if ((size_t)(count - (lua_Integer)sent) < want) want = (size_t)(count - (lua_Integer)sent);
    }
    off_t pos = offset + (off_t)sent;
    ssize_t n = socket_sendfile_nosigpipe(s->io.fd, in, &pos, want);
    if (n > 0) {
      sent += (size_t)n;
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (!socket_would_block(errno) && f) {
      /* the file's position after the last byte sent, even on an error */
      int e = errno;
      fseeko(f->f, offset + (off_t)sent, SEEK_SET);
      errno = e;
    }
    /* socket_sendfile refused a non-blocking socket: this parks or raises */
    return socket_park_or_raise(L, s, 0, UV_WRITABLE, 5, (lua_KContext)sent, socket_sendfile_k);
  }
  if (f) fseeko(f->f, offset + (off_t)sent, SEEK_SET);
  lua_pushinteger(L, (lua_Integer)sent);
  return 1;
}

static int socket_sendfile(lua_State *L) {
  sock *s = socket_check(L, 1);
  luaL_Stream *f = luaL_testudata(L, 2, LUA_FILEHANDLE);
  if (f) {
    if (!f->closef) luaL_argerror(L, 2, "attempt to use a closed file");
    fflush(f->f);
  } else if (!lua_isinteger(L, 2)) {
    luaL_typeerror(L, 2, "file or file descriptor");
  }
  lua_Integer offset = luaL_optinteger(L, 3, 0);
  luaL_argcheck(L, offset >= 0, 3, "offset must be non-negative");
  lua_Integer count = -1; /* to the end of the file */
  if (!lua_isnoneornil(L, 4)) {
    count = luaL_checkinteger(L, 4);
    if (count <= 0)
      luaL_argerror(L, 4, lua_pushfstring(L, "count must be a positive integer (got %I)", count));
  }
  if (s->type != SOCK_STREAM) luaL_error(L, "only SOCK_STREAM type sockets are supported");
  if (s->timeout == 0) luaL_error(L, "non-blocking sockets are not supported");
  lua_settop(L, 2);
  lua_pushinteger(L, offset);
  lua_pushinteger(L, count);
  return socket_sendfile_k(L, LUA_OK, 0);
}

/* ---- the rest ---- */

static int socket_shutdown(lua_State *L) {
  sock *s = socket_check(L, 1);
  lua_Integer how = luaL_checkinteger(L, 2);
  luaL_argcheck(L, how >= INT_MIN && how <= INT_MAX, 2, "how out of range");
  if (shutdown(s->io.fd, (int)how) < 0) return ms_raise_errno(L, errno);
  return 0;
}

static int socket_dup(lua_State *L) {
  sock *s = socket_check(L, 1);
  int fd, retried = 0;
  sock *d = socket_new_closed(L); /* before the fd, which a memory error would leak */
  do fd = fcntl(s->io.fd, F_DUPFD_CLOEXEC, 0);
  while (fd < 0 && socket_collect_for_fds(L, &retried));
  if (fd < 0) return ms_raise_errno(L, errno);
  socket_own_fd(L, d, fd);
  d->family = s->family;
  d->type = s->type;
  d->proto = s->proto;
  d->timeout = s->timeout;
  socket_set_kind(L, -1, d);
  return 1;
}

static int socket_name_of(lua_State *L, int peer) {
  sock *s = socket_check(L, 1);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int rc = peer ? getpeername(s->io.fd, (struct sockaddr *)&ss, &len)
                : getsockname(s->io.fd, (struct sockaddr *)&ss, &len);
  if (rc < 0) return ms_raise_errno(L, errno);
  if (len == 0 && s->family == AF_UNIX) {
    lua_pushliteral(L, "");
    return 1;
  }
  ms_push_sockaddr(L, (struct sockaddr *)&ss, len);
  return 1;
}

static int socket_getsockname(lua_State *L) { return socket_name_of(L, 0); }
static int socket_getpeername(lua_State *L) { return socket_name_of(L, 1); }

static int socket_check_int(lua_State *L, int idx) {
  lua_Integer v = luaL_checkinteger(L, idx);
  luaL_argcheck(L, v >= INT_MIN && v <= INT_MAX, idx, "value out of range");
  return (int)v;
}

/* getsockopt(level, opt[, buflen]): an integer, or the raw bytes. */
static int socket_getsockopt(lua_State *L) {
  sock *s = socket_check(L, 1);
  int level = socket_check_int(L, 2), opt = socket_check_int(L, 3);
  if (lua_isnoneornil(L, 4)) {
    int v = 0;
    socklen_t len = sizeof v;
    if (getsockopt(s->io.fd, level, opt, &v, &len) < 0) return ms_raise_errno(L, errno);
    lua_pushinteger(L, v);
    return 1;
  }
  lua_Integer buflen = socket_check_int(L, 4);
  if (buflen <= 0 || buflen > SOCKET_GETSOCKOPT_BUFLEN_MAX)
    return ms_raise(L, "OSError", 0, "getsockopt buflen out of range");
  char buf[SOCKET_GETSOCKOPT_BUFLEN_MAX];
  socklen_t len = (socklen_t)buflen;
  if (getsockopt(s->io.fd, level, opt, buf, &len) < 0) return ms_raise_errno(L, errno);
  lua_pushlstring(L, buf, len);
  return 1;
}

/* setsockopt(level, opt, value): an integer (or boolean), or raw bytes. */
static int socket_setsockopt(lua_State *L) {
  sock *s = socket_check(L, 1);
  int level = socket_check_int(L, 2), opt = socket_check_int(L, 3);
  int rc;
  if (lua_type(L, 4) == LUA_TSTRING) {
    size_t len;
    const char *v = lua_tolstring(L, 4, &len);
    rc = setsockopt(s->io.fd, level, opt, v, (socklen_t)len);
  } else {
    int v = lua_isboolean(L, 4) ? lua_toboolean(L, 4) : socket_check_int(L, 4);
    rc = setsockopt(s->io.fd, level, opt, &v, sizeof v);
  }
  if (rc < 0) return ms_raise_errno(L, errno);
  return 0;
}

static int socket_settimeout(lua_State *L) {
  sock *s = socket_check(L, 1);
  s->timeout = socket_check_timeout(L, 2);
  socket_set_kind(L, 1, s);
  return 0;
}

static int socket_gettimeout(lua_State *L) {
  socket_push_timeout(L, socket_to(L, 1)->timeout);
  return 1;
}

static int socket_setblocking(lua_State *L) {
  sock *s = socket_check(L, 1);
  /* CPython wants an int (True/False are ints): nil, a string or a table is
   * a mistake, not a truth value; 0 means non-blocking, as in Python */
  int block;
  if (lua_isboolean(L, 2))
    block = lua_toboolean(L, 2);
  else if (lua_isinteger(L, 2))
    block = lua_tointeger(L, 2) != 0;
  else
    return luaL_typeerror(L, 2, "boolean or integer");
  s->timeout = block ? -1 : 0;
  socket_set_kind(L, 1, s);
  return 0;
}

static int socket_getblocking(lua_State *L) {
  lua_pushboolean(L, socket_to(L, 1)->timeout != 0);
  return 1;
}

/* ---- module functions ---- */

static int socket_socketpair(lua_State *L) {
  lua_Integer family = luaL_optinteger(L, 1, AF_UNIX);
  lua_Integer type = luaL_optinteger(L, 2, SOCK_STREAM);
  lua_Integer proto = luaL_optinteger(L, 3, 0);
  luaL_argcheck(L, family >= 0 && family <= INT_MAX, 1, "family out of range");
  luaL_argcheck(L, type >= 0 && type <= INT_MAX, 2, "type out of range");
  luaL_argcheck(L, proto >= 0 && proto <= INT_MAX, 3, "proto out of range");
  sock *a = socket_new_closed(L);
  sock *b = socket_new_closed(L);
  int fds[2];
  int rc, retried = 0;
  do rc = socketpair((int)family, (int)type | SOCK_CLOEXEC | SOCK_NONBLOCK, (int)proto, fds);
  while (rc < 0 && socket_collect_for_fds(L, &retried));
  if (rc < 0) return ms_raise_errno(L, errno);
  sock *both[2] = {a, b};
  /* Both objects own their fds before anything that can fail (socket_set_kind
   * can run out of memory): then the collector closes them. */
  for (int i = 0; i < 2; i++) {
    socket_own_fd(L, both[i], fds[i]);
    both[i]->family = (int)family;
    both[i]->type = (int)type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    both[i]->proto = (int)proto;
    both[i]->timeout = ((int)type & SOCK_NONBLOCK) ? 0 : socket_module_state(L)->default_timeout;
  }
  for (int i = 0; i < 2; i++) socket_set_kind(L, i - 2, both[i]);
  return 2;
}

static int socket_fdclose(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  luaL_argcheck(L, fd >= 0 && fd <= INT_MAX, 1, "file descriptor out of range");
  if (close((int)fd) < 0 && errno != ECONNRESET) return ms_raise_errno(L, errno);
  return 0;
}

static int socket_getdefaulttimeout(lua_State *L) {
  socket_push_timeout(L, socket_module_state(L)->default_timeout);
  return 1;
}

static int socket_setdefaulttimeout(lua_State *L) {
  socket_module_state(L)->default_timeout = socket_check_timeout(L, 1);
  return 0;
}

static int socket_issocket(lua_State *L) {
  lua_pushboolean(L, socket_test(L, 1) != NULL);
  return 1;
}

/* For fromfd: a close-on-exec duplicate the new socket object can own. */
static int socket_dupfd(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  luaL_argcheck(L, fd >= 0 && fd <= INT_MAX, 1, "file descriptor out of range");
  int d, retried = 0;
  do d = fcntl((int)fd, F_DUPFD_CLOEXEC, 0);
  while (d < 0 && socket_collect_for_fds(L, &retried));
  if (d < 0) return ms_raise_errno(L, errno);
  lua_pushinteger(L, d);
  return 1;
}

static lua_Integer check_cmsg_len(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 0 && n <= INT_MAX - SOCKET_CMSG_HEADROOM, 1, "CMSG_LEN() argument out of range");
  return n;
}

static int socket_cmsg_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)CMSG_LEN((size_t)check_cmsg_len(L)));
  return 1;
}

static int socket_cmsg_space(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)CMSG_SPACE((size_t)check_cmsg_len(L)));
  return 1;
}

static int socket_state_gc(lua_State *L) {
  socket_state *st = lua_touserdata(L, 1);
  free(st->scratch);
  st->scratch = NULL;
  return 0;
}

/* For C modules that do their own I/O on a socket's fd (ssl.c): the open
 * socket at idx's io, and its timeout as a socket method would use it now.
 * Raises as any method does on a wrong or closed object. */
ms_io *ms_socket_io(lua_State *L, int idx, double *timeout) {
  sock *s = socket_check(L, idx);
  if (timeout) *timeout = s->timeout;
  return &s->io;
}

int ms_open_socket(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"accept", socket_accept},         {"bind", socket_bind},
      {"listen", socket_listen},         {"connect", socket_connect},
      {"connect_ex", socket_connect_ex}, {"recv", socket_recv},
      {"recvfrom", socket_recvfrom},     {"recvmsg", socket_recvmsg},
      {"send", socket_send},             {"sendall", socket_sendall},
      {"sendto", socket_sendto},         {"sendmsg", socket_sendmsg},
      {"sendfile", socket_sendfile},     {"shutdown", socket_shutdown},
      {"close", socket_close},           {"detach", socket_detach},
      {"dup", socket_dup},               {"fileno", socket_fileno},
      {"getpeername", socket_getpeername}, {"getsockname", socket_getsockname},
      {"getsockopt", socket_getsockopt}, {"setsockopt", socket_setsockopt},
      {"settimeout", socket_settimeout}, {"gettimeout", socket_gettimeout},
      {"setblocking", socket_setblocking}, {"getblocking", socket_getblocking},
      {NULL, NULL}};
  static const luaL_Reg funcs[] = {
      {"socket", socket_socket},
      {"socketpair", socket_socketpair},
      {"close", socket_fdclose},
      {"getdefaulttimeout", socket_getdefaulttimeout},
      {"setdefaulttimeout", socket_setdefaulttimeout},
      {"issocket", socket_issocket},
      {"_dupfd", socket_dupfd},
      {"CMSG_LEN", socket_cmsg_len},
      {"CMSG_SPACE", socket_cmsg_space},
      {NULL, NULL}};
  lua_getglobal(L, "require");
  lua_pushliteral(L, "moonsock.repr"); /* the tuple and list metatables */
  lua_call(L, 1, 0);

  lua_newtable(L);
  int mod = lua_gettop(L);
  socket_state *st = lua_newuserdatauv(L, sizeof *st, 1);
  int st_idx = lua_gettop(L);
  st->default_timeout = -1;
  st->scratch = NULL;
  st->scratch_size = 0;
  st->kinds = 0;
  st->loop = ms_loop(L);
  st->map = ms_iomap_of(L);
  lua_newtable(L);
  lua_pushcfunction(L, socket_state_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, st_idx);
  luaL_newmetatable(L, SOCKET_META);
  int mt = lua_gettop(L);
  lua_newtable(L);
  int methods_idx = lua_gettop(L);
  lua_newtable(L); /* the kinds */
  lua_setiuservalue(L, st_idx, 1);

/* Every C function here shares (state, metatable, methods) as upvalues. */
#define PUSH_UPVALUES()            \
  (lua_pushvalue(L, st_idx), lua_pushvalue(L, mt), lua_pushvalue(L, methods_idx))
  lua_pushvalue(L, methods_idx);
  PUSH_UPVALUES();
  luaL_setfuncs(L, methods, 3);
  lua_pop(L, 1);
  lua_pushvalue(L, mod);
  PUSH_UPVALUES();
  luaL_setfuncs(L, funcs, 3);
  lua_pop(L, 1);
  /* SocketType's own __index is only for code that reads it as a class
   * (the REPL's completion): sockets have their kinds' (socket_push_kind). */
  lua_pushvalue(L, methods_idx);
  lua_setfield(L, mt, "__index");
  PUSH_UPVALUES();
  lua_pushcclosure(L, socket_gc, 3);
  lua_pushvalue(L, -1);
  lua_setfield(L, mt, "__gc");
  lua_setfield(L, mt, "__close");
#undef PUSH_UPVALUES
  lua_pushliteral(L, "socket");
  lua_setfield(L, mt, "__name");
  lua_pushvalue(L, methods_idx);
  lua_setfield(L, mod, "methods");
  lua_pushvalue(L, mt);
  lua_setfield(L, mod, "metatable");
  lua_settop(L, mod);
  ms_socket_constants(L);
  ms_open_resolver(L);
  return 1;
}
