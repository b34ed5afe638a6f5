/*
 * Python's select module: select(), poll objects and, on Linux, epoll
 * objects, all cooperative: they park only the calling task.
 *
 * select() and poll() first ask poll(2) with a zero timeout, which has no
 * FD_SETSIZE limit and tells the truth about every fd. Only if nothing is
 * ready do they attach a waiter to each fd's ms_io (the socket's own, or one
 * made for a bare fd), park, and on wake-up ask poll(2) again. epoll objects
 * own a real epoll fd, which is itself pollable: they park on it.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ms.h"

#define POLL_META "moonsock.select.poll"
#define EPOLL_META "moonsock.select.epoll"
#define WAITS_META "moonsock.select.waits"

/* ---- file descriptors of Python's "file objects" ---- */

/* An integer, or anything with a fileno() method (sockets, makefile
 * objects, selectors' file objects), as CPython's PyObject_AsFileDescriptor. */
static int check_fd(lua_State *L, int idx, const char *what) {
  idx = lua_absindex(L, idx);
  lua_Integer fd;
  if (lua_isinteger(L, idx)) {
    fd = lua_tointeger(L, idx);
  } else {
    int t = lua_type(L, idx);
    if ((t != LUA_TTABLE && t != LUA_TUSERDATA) || lua_getfield(L, idx, "fileno") != LUA_TFUNCTION)
      return luaL_error(L, "bad argument to '%s' (argument must be an int, or have a fileno() method.)",
                        what);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    if (!lua_isinteger(L, -1))
      return luaL_error(L, "bad argument to '%s' (fileno() returned a non-integer)", what);
    fd = lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if (fd < 0) return ms_raise(L, "ValueError", 0, lua_pushfstring(L, "file descriptor cannot be a negative integer (%d)", (int)fd));
  if (fd > INT_MAX) return ms_raise(L, "ValueError", 0, "file descriptor out of range");
  return (int)fd;
}

static int to_uv_events(int pollev) {
  return ((pollev & (POLLIN | POLLRDNORM | POLLRDBAND)) ? UV_READABLE : 0) |
         ((pollev & (POLLOUT | POLLWRNORM | POLLWRBAND)) ? UV_WRITABLE : 0) |
         ((pollev & POLLPRI) ? UV_PRIORITIZED : 0);
}

/* ---- waiting on many fds ---- */

typedef struct {
  ms_waiter w;
  ms_task *task;
  ms_io *io;
} fdwait;

typedef struct {
  int n;
  int attached;
  fdwait item[];
} waits;

/* A socket's io may be closed and collected before the task resumes: keep a
 * pointer only to select's own ios, which live until their refs drop. */
static void on_ready(ms_waiter *w, int status) {
  fdwait *fw = (fdwait *)w;
  (void)status;
  if (fw->io && !fw->io->temporary) fw->io = NULL;
  if (fw->task) ms_task_wake(fw->task, MS_WAKE_READY);
}

/* Unlinks every waiter still attached and drops select's own ios: done
 * first thing on wake-up, and by __gc if the task never resumes. */
static void detach_all(waits *ws) {
  if (!ws->attached) return;
  for (int i = 0; i < ws->n; i++) {
    fdwait *fw = &ws->item[i];
    ms_io *io = fw->io;
    if (!io) continue;
    if (fw->w.pprev) ms_io_unwait(io, &fw->w);
    if (io->temporary && --io->refs == 0 && !io->waiters) {
      ms_io_close(io);
      free(io);
    }
    fw->io = NULL;
  }
  ws->attached = 0;
}

static int waits_gc(lua_State *L) {
  detach_all(luaL_checkudata(L, 1, WAITS_META));
  return 0;
}

static waits *new_waits(lua_State *L, int n) {
  waits *ws = lua_newuserdatauv(L, sizeof *ws + sizeof ws->item[0] * (size_t)(n ? n : 1), 0);
  ws->n = n;
  ws->attached = 0;
  memset(ws->item, 0, sizeof ws->item[0] * (size_t)n);
  luaL_setmetatable(L, WAITS_META);
  return ws;
}

/*
 * Attaches a waiter per pollfd. An fd libuv cannot watch (a regular file:
 * epoll says EPERM) is always ready for poll(2) too, so attaching fails only
 * where the fd is ready anyway; the caller then polls again at once.
 */
static int attach(lua_State *L, waits *ws, struct pollfd *pfd, int n) {
  ms_task *t = ms_current(L);
  ms_iomap *map = ms_iomap_of(L);
  int ok = 1;
  ws->attached = 1;
  for (int i = 0; i < n; i++) {
    fdwait *fw = &ws->item[i];
    int ev = to_uv_events(pfd[i].events);
    if (!ev) continue;
    ms_io *io = ms_iomap_get(map, pfd[i].fd);
    if (!io) {
      io = calloc(1, sizeof *io);
      if (!io) return luaL_error(L, "not enough memory");
      ms_io_init(io, ms_loop(L), map, pfd[i].fd);
      io->temporary = 1;
    }
    if (io->temporary) io->refs++;
    fw->io = io;
    fw->task = t;
    fw->w.ready = on_ready;
    if (ms_io_wait(io, &fw->w, ev) != 0) ok = 0;
  }
  return ok;
}

/* ---- select.select ---- */

/* Collects the fds of list at idx into pfd (merging duplicates across the
 * three lists) with the given poll events. */
static int collect(lua_State *L, int idx, short events, struct pollfd *pfd, int n, int *fdidx,
                   int base) {
  int len = (int)luaL_len(L, idx);
  for (int i = 1; i <= len; i++) {
    lua_geti(L, idx, i);
    int fd = check_fd(L, -1, "select");
    lua_pop(L, 1);
    int j;
    for (j = 0; j < n; j++)
      if (pfd[j].fd == fd) break;
    if (j == n) {
      pfd[n].fd = fd;
      pfd[n].events = 0;
      pfd[n].revents = 0;
      n++;
    }
    pfd[j].events |= events;
    fdidx[base + i - 1] = j;
  }
  return n;
}

static void push_ready(lua_State *L, int idx, short mask, struct pollfd *pfd, int *fdidx, int base) {
  int len = (int)luaL_len(L, idx);
  ms_push_list(L, 0);
  int k = 0;
  for (int i = 1; i <= len; i++) {
    struct pollfd *p = &pfd[fdidx[base + i - 1]];
    if (p->revents & (mask | POLLERR | POLLHUP | POLLNVAL)) {
      /* POLLHUP/POLLERR make an fd readable (and writable) for select(2). */
      if (mask == POLLPRI && !(p->revents & POLLPRI)) continue;
      lua_geti(L, idx, i);
      lua_rawseti(L, -2, ++k);
    }
  }
}

/* Stack of select after the first call: 1-3 lists, 4 deadline or nil,
 * 5 pollfd buffer, 6 index buffer, 7 waits. */
static int select_k(lua_State *L, int status, lua_KContext ctx) {
  int n = (int)ctx;
  struct pollfd *pfd = lua_touserdata(L, 5);
  int *fdidx = lua_touserdata(L, 6);
  if (status == LUA_YIELD) {
    detach_all(lua_touserdata(L, 7));
    int reason = ms_wake_reason(L);
    if (reason != MS_WAKE_TIMEOUT) ms_check_wake(L);
  }
  for (;;) {
    int rc = poll(pfd, (nfds_t)n, 0);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return ms_raise_errno(L, errno);
    int expired = !lua_isnil(L, 4) && lua_tonumber(L, 4) <= ms_now(L);
    if (rc > 0 || expired || (status == LUA_YIELD && ms_wake_reason(L) == MS_WAKE_TIMEOUT)) break;
    waits *ws = lua_touserdata(L, 7);
    if (!attach(L, ws, pfd, n)) {
      detach_all(ws);
      continue;
    }
    double timeout = lua_isnil(L, 4) ? -1 : lua_tonumber(L, 4) - ms_now(L);
    return ms_park(L, timeout < 0 && !lua_isnil(L, 4) ? 0 : timeout, ctx, select_k);
  }
  int len1 = (int)luaL_len(L, 1), len2 = (int)luaL_len(L, 2);
  push_ready(L, 1, POLLIN, pfd, fdidx, 0);
  push_ready(L, 2, POLLOUT, pfd, fdidx, len1);
  push_ready(L, 3, POLLPRI, pfd, fdidx, len1 + len2);
  return 3;
}

static void check_list(lua_State *L, int idx, const char *name) {
  if (lua_istable(L, idx)) return;
  luaL_argerror(L, idx, lua_pushfstring(L, "%s must be a table (list)", name));
}

/* select.select(rlist, wlist, xlist[, timeout]) -> three lists */
static int sel_select(lua_State *L) {
  check_list(L, 1, "rlist");
  check_list(L, 2, "wlist");
  check_list(L, 3, "xlist");
  double timeout = -1;
  if (!lua_isnoneornil(L, 4)) {
    timeout = luaL_checknumber(L, 4);
    luaL_argcheck(L, !isnan(timeout), 4, "Invalid value NaN (not a number)");
    luaL_argcheck(L, timeout >= 0, 4, "timeout must be non-negative");
  }
  lua_settop(L, 3);
  if (timeout >= 0)
    lua_pushnumber(L, ms_now(L) + timeout);
  else
    lua_pushnil(L);
  int total = (int)(luaL_len(L, 1) + luaL_len(L, 2) + luaL_len(L, 3));
  struct pollfd *pfd = lua_newuserdatauv(L, sizeof *pfd * (size_t)(total ? total : 1), 0);
  int *fdidx = lua_newuserdatauv(L, sizeof *fdidx * (size_t)(total ? total : 1), 0);
  int n = 0;
  int len1 = (int)luaL_len(L, 1), len2 = (int)luaL_len(L, 2);
  n = collect(L, 1, POLLIN, pfd, n, fdidx, 0);
  n = collect(L, 2, POLLOUT, pfd, n, fdidx, len1);
  n = collect(L, 3, POLLPRI, pfd, n, fdidx, len1 + len2);
  new_waits(L, n);
  return select_k(L, LUA_OK, n);
}

/* ---- poll objects ---- */

/* A poll object keeps its registrations in a table fd -> eventmask (its
 * uservalue), in registration order through a list for stable results. */
typedef struct {
  int busy; /* a poll() is in progress: Python raises on concurrent use */
} pollobj;

static pollobj *check_poll(lua_State *L) { return luaL_checkudata(L, 1, POLL_META); }

static int poll_new(lua_State *L) {
  pollobj *p = lua_newuserdatauv(L, sizeof *p, 1);
  p->busy = 0;
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, POLL_META);
  return 1;
}

static int check_mask(lua_State *L, int idx, int def) {
  if (lua_isnoneornil(L, idx)) return def;
  lua_Integer m = luaL_checkinteger(L, idx);
  luaL_argcheck(L, m >= 0 && m <= 0xffff, idx, "eventmask out of range");
  return (int)m;
}

static int poll_register(lua_State *L) {
  check_poll(L);
  int fd = check_fd(L, 2, "register");
  int mask = check_mask(L, 3, POLLIN | POLLPRI | POLLOUT);
  lua_getiuservalue(L, 1, 1);
  lua_pushinteger(L, mask);
  lua_rawseti(L, -2, fd);
  return 0;
}

static int poll_modify(lua_State *L) {
  check_poll(L);
  int fd = check_fd(L, 2, "modify");
  int mask = check_mask(L, 3, POLLIN | POLLPRI | POLLOUT);
  lua_getiuservalue(L, 1, 1);
  if (lua_rawgeti(L, -1, fd) == LUA_TNIL) return ms_raise_errno(L, ENOENT);
  lua_pop(L, 1);
  lua_pushinteger(L, mask);
  lua_rawseti(L, -2, fd);
  return 0;
}

static int poll_unregister(lua_State *L) {
  check_poll(L);
  int fd = check_fd(L, 2, "unregister");
  lua_getiuservalue(L, 1, 1);
  if (lua_rawgeti(L, -1, fd) == LUA_TNIL)
    return ms_raise(L, "KeyError", 0, lua_pushfstring(L, "%d", fd));
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_rawseti(L, -2, fd);
  return 0;
}

/* Stack after the first call: 1 pollobj, 2 deadline or nil, 3 pollfd buffer,
 * 4 waits. */
static int poll_k(lua_State *L, int status, lua_KContext ctx) {
  int n = (int)ctx;
  pollobj *p = lua_touserdata(L, 1);
  struct pollfd *pfd = lua_touserdata(L, 3);
  if (status == LUA_YIELD) {
    detach_all(lua_touserdata(L, 4));
    if (ms_wake_reason(L) != MS_WAKE_TIMEOUT) {
      p->busy = 0;
      ms_check_wake(L);
      p->busy = 1;
    }
  }
  int rc;
  for (;;) {
    rc = poll(pfd, (nfds_t)n, 0);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) {
      p->busy = 0;
      return ms_raise_errno(L, errno);
    }
    int expired = !lua_isnil(L, 2) && lua_tonumber(L, 2) <= ms_now(L);
    if (rc > 0 || expired || (status == LUA_YIELD && ms_wake_reason(L) == MS_WAKE_TIMEOUT)) break;
    waits *ws = lua_touserdata(L, 4);
    if (!attach(L, ws, pfd, n)) {
      detach_all(ws);
      continue;
    }
    double timeout = lua_isnil(L, 2) ? -1 : lua_tonumber(L, 2) - ms_now(L);
    return ms_park(L, timeout < 0 && !lua_isnil(L, 2) ? 0 : timeout, ctx, poll_k);
  }
  p->busy = 0;
  ms_push_list(L, 0);
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (!pfd[i].revents) continue;
    ms_push_tuple(L, 2);
    lua_pushinteger(L, pfd[i].fd);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, pfd[i].revents);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, ++k);
  }
  return 1;
}

/* poll.poll([timeout_ms]) -> list of {fd, events}; nil or negative: forever. */
static int poll_poll(lua_State *L) {
  pollobj *p = check_poll(L);
  double timeout_ms = -1;
  if (!lua_isnoneornil(L, 2)) {
    timeout_ms = luaL_checknumber(L, 2);
    luaL_argcheck(L, !isnan(timeout_ms), 2, "Invalid value NaN (not a number)");
  }
  if (p->busy) return ms_raise(L, "RuntimeError", 0, "concurrent poll() invocation");
  lua_settop(L, 1);
  if (timeout_ms >= 0)
    lua_pushnumber(L, ms_now(L) + timeout_ms / 1000.0);
  else
    lua_pushnil(L);
  lua_getiuservalue(L, 1, 1);
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    n++;
    lua_pop(L, 1);
  }
  struct pollfd *pfd = lua_newuserdatauv(L, sizeof *pfd * (size_t)(n ? n : 1), 0);
  int i = 0;
  lua_pushnil(L);
  while (lua_next(L, 3)) {
    pfd[i].fd = (int)lua_tointeger(L, -2);
    pfd[i].events = (short)lua_tointeger(L, -1);
    pfd[i].revents = 0;
    i++;
    lua_pop(L, 1);
  }
  lua_remove(L, 3);
  new_waits(L, n);
  p->busy = 1;
  return poll_k(L, LUA_OK, n);
}

/* ---- epoll objects ---- */

typedef struct {
  ms_io io; /* the epoll fd, watched for readability */
} epollobj;

static epollobj *to_epoll(lua_State *L) { return luaL_checkudata(L, 1, EPOLL_META); }

static epollobj *check_epoll(lua_State *L) {
  epollobj *e = to_epoll(L);
  if (e->io.fd < 0) ms_raise(L, "ValueError", 0, "I/O operation on closed epoll object");
  return e;
}

static int epoll_new(lua_State *L) {
  lua_Integer sizehint = luaL_optinteger(L, 1, -1);
  lua_Integer flags = luaL_optinteger(L, 2, 0);
  luaL_argcheck(L, sizehint == -1 || sizehint > 0, 1, "negative sizehint");
  luaL_argcheck(L, flags == 0 || flags == EPOLL_CLOEXEC, 2, "invalid flags");
  epollobj *e = lua_newuserdatauv(L, sizeof *e, 0);
  ms_io_init(&e->io, ms_loop(L), NULL, -1);
  luaL_setmetatable(L, EPOLL_META);
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return ms_raise_errno(L, errno);
  ms_io_init(&e->io, ms_loop(L), ms_iomap_of(L), fd);
  return 1;
}

static int epoll_close(lua_State *L) {
  epollobj *e = to_epoll(L);
  int fd = e->io.fd;
  if (fd >= 0) {
    ms_io_close(&e->io);
    close(fd);
  }
  return 0;
}

static int epoll_ctl_op(lua_State *L, int op) {
  epollobj *e = check_epoll(L);
  int fd = check_fd(L, 2, op == EPOLL_CTL_DEL ? "unregister" : "register");
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  if (op != EPOLL_CTL_DEL) {
    lua_Integer mask = luaL_optinteger(L, 3, EPOLLIN | EPOLLPRI | EPOLLOUT);
    luaL_argcheck(L, mask >= 0 && mask <= UINT32_MAX, 3, "eventmask out of range");
    ev.events = (uint32_t)mask;
  }
  ev.data.fd = fd;
  if (epoll_ctl(e->io.fd, op, fd, &ev) < 0) return ms_raise_errno(L, errno);
  return 0;
}

static int epoll_register(lua_State *L) { return epoll_ctl_op(L, EPOLL_CTL_ADD); }
static int epoll_modify(lua_State *L) { return epoll_ctl_op(L, EPOLL_CTL_MOD); }
static int epoll_unregister(lua_State *L) { return epoll_ctl_op(L, EPOLL_CTL_DEL); }

/* Stack: 1 epoll, 2 deadline or nil, 3 maxevents. */
static int epoll_k(lua_State *L, int status, lua_KContext ctx) {
  if (status == LUA_YIELD && ms_wake_reason(L) != MS_WAKE_TIMEOUT) ms_check_wake(L);
  epollobj *e = check_epoll(L);
  int maxevents = (int)lua_tointeger(L, 3);
  struct epoll_event *evs = lua_newuserdatauv(L, sizeof *evs * (size_t)maxevents, 0);
  int n;
  do n = epoll_wait(e->io.fd, evs, maxevents, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return ms_raise_errno(L, errno);
  int expired = !lua_isnil(L, 2) && lua_tonumber(L, 2) <= ms_now(L);
  if (n == 0 && !expired && !(status == LUA_YIELD && ms_wake_reason(L) == MS_WAKE_TIMEOUT)) {
    lua_settop(L, 3);
    double timeout = lua_isnil(L, 2) ? -1 : lua_tonumber(L, 2) - ms_now(L);
    if (timeout < 0 && !lua_isnil(L, 2)) timeout = 0;
    return ms_park_io(L, &e->io, UV_READABLE, timeout, ctx, epoll_k);
  }
  ms_push_list(L, n);
  for (int i = 0; i < n; i++) {
    ms_push_tuple(L, 2);
    lua_pushinteger(L, evs[i].data.fd);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, evs[i].events);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* epoll.poll([timeout[, maxevents]]): timeout in seconds, nil or negative
 * for ever; maxevents -1 for FD_SETSIZE-1 as in CPython. */
static int epoll_poll(lua_State *L) {
  check_epoll(L);
  double timeout = -1;
  if (!lua_isnoneornil(L, 2)) {
    timeout = luaL_checknumber(L, 2);
    luaL_argcheck(L, !isnan(timeout), 2, "Invalid value NaN (not a number)");
  }
  lua_Integer maxevents = luaL_optinteger(L, 3, -1);
  if (maxevents == -1) maxevents = 1023;
  if (maxevents <= 0 || maxevents > INT_MAX / (lua_Integer)sizeof(struct epoll_event))
    return luaL_argerror(L, 3, lua_pushfstring(L, "maxevents must be greater than 0, got %d", (int)maxevents));
  lua_settop(L, 1);
  if (timeout >= 0)
    lua_pushnumber(L, ms_now(L) + timeout);
  else
    lua_pushnil(L);
  lua_pushinteger(L, maxevents);
  return epoll_k(L, LUA_OK, 0);
}

static int epoll_fileno(lua_State *L) {
  epollobj *e = check_epoll(L);
  lua_pushinteger(L, e->io.fd);
  return 1;
}

static int epoll_index(lua_State *L) {
  epollobj *e = to_epoll(L);
  const char *k = lua_tostring(L, 2);
  if (k && strcmp(k, "closed") == 0) {
    lua_pushboolean(L, e->io.fd < 0);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int epoll_tostring(lua_State *L) {
  epollobj *e = to_epoll(L);
  lua_pushfstring(L, "<select.epoll fd=%d%s>", e->io.fd, e->io.fd < 0 ? " closed" : "");
  return 1;
}

static const struct {
  const char *name;
  int value;
} constants[] = {
    {"POLLIN", POLLIN},         {"POLLPRI", POLLPRI},       {"POLLOUT", POLLOUT},
    {"POLLERR", POLLERR},       {"POLLHUP", POLLHUP},       {"POLLNVAL", POLLNVAL},
    {"POLLRDNORM", POLLRDNORM}, {"POLLRDBAND", POLLRDBAND}, {"POLLWRNORM", POLLWRNORM},
    {"POLLWRBAND", POLLWRBAND}, {"POLLMSG", POLLMSG},       {"POLLRDHUP", POLLRDHUP},
    {"EPOLLIN", EPOLLIN},       {"EPOLLOUT", EPOLLOUT},     {"EPOLLPRI", EPOLLPRI},
    {"EPOLLERR", EPOLLERR},     {"EPOLLHUP", EPOLLHUP},     {"EPOLLET", (int)EPOLLET},
    {"EPOLLONESHOT", EPOLLONESHOT}, {"EPOLLEXCLUSIVE", EPOLLEXCLUSIVE},
    {"EPOLLRDHUP", EPOLLRDHUP}, {"EPOLLRDNORM", EPOLLRDNORM}, {"EPOLLRDBAND", EPOLLRDBAND},
    {"EPOLLWRNORM", EPOLLWRNORM}, {"EPOLLWRBAND", EPOLLWRBAND}, {"EPOLLMSG", EPOLLMSG},
    {"EPOLL_CLOEXEC", EPOLL_CLOEXEC}, {NULL, 0}};

int ms_open_select(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"select", sel_select}, {"poll", poll_new}, {"epoll", epoll_new}, {NULL, NULL}};
  static const luaL_Reg poll_methods[] = {{"register", poll_register},
                                          {"modify", poll_modify},
                                          {"unregister", poll_unregister},
                                          {"poll", poll_poll},
                                          {NULL, NULL}};
  static const luaL_Reg epoll_methods[] = {
      {"register", epoll_register}, {"modify", epoll_modify}, {"unregister", epoll_unregister},
      {"poll", epoll_poll},         {"close", epoll_close},   {"fileno", epoll_fileno},
      {NULL, NULL}};
  luaL_newmetatable(L, WAITS_META);
  lua_pushcfunction(L, waits_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  luaL_newmetatable(L, POLL_META);
  luaL_newlib(L, poll_methods);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "select.poll");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newmetatable(L, EPOLL_META);
  luaL_newlib(L, epoll_methods);
  lua_pushcclosure(L, epoll_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, epoll_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, epoll_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, epoll_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "select.epoll");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newlib(L, funcs);
  for (int i = 0; constants[i].name; i++) {
    lua_pushinteger(L, constants[i].value);
    lua_setfield(L, -2, constants[i].name);
  }
  return 1;
}
