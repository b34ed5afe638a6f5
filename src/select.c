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
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

#include "ms.h"

#define POLL_META "moonsock.select.poll"
#define EPOLL_META "moonsock.select.epoll"
#define WAITS_META "moonsock.select.waits"

/* How often a wait re-asks poll(2) when some fd could not be watched for a
 * reason poll(2) does not explain (libuv already watching it elsewhere). */
#define REPOLL_INTERVAL 0.05

/* epoll.poll's maxevents when not given, as CPython's: FD_SETSIZE - 1. */
#define SELECT_EPOLL_MAXEVENTS_DEFAULT (FD_SETSIZE - 1)

/* ---- file descriptors of Python's "file objects" ---- */

/* An integer, or anything with a fileno() method (sockets, makefile
 * objects, selectors' file objects), as CPython's PyObject_AsFileDescriptor.
 * Errors name argument arg, and the entry pos of list `list` when list is set. */
static int select_fd_argerror(lua_State *L, int arg, const char *list, int pos, const char *msg) {
  if (list) return luaL_argerror(L, arg, lua_pushfstring(L, "%s[%d]: %s", list, pos, msg));
  return luaL_argerror(L, arg, msg);
}

static int select_check_fd(lua_State *L, int idx, int arg, const char *list, int pos) {
  idx = lua_absindex(L, idx);
  lua_Integer fd;
  if (lua_isinteger(L, idx)) {
    fd = lua_tointeger(L, idx);
  } else {
    int t = lua_type(L, idx);
    /* Indexing a userdata without __index would raise Lua's own error. */
    int indexable = t == LUA_TTABLE;
    if (t == LUA_TUSERDATA && luaL_getmetafield(L, idx, "__index") != LUA_TNIL) {
      lua_pop(L, 1);
      indexable = 1;
    }
    if (!indexable || lua_getfield(L, idx, "fileno") != LUA_TFUNCTION)
      return select_fd_argerror(L, arg, list, pos, "argument must be an int, or have a fileno() method.");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    if (!lua_isinteger(L, -1)) return select_fd_argerror(L, arg, list, pos, "fileno() returned a non-integer");
    fd = lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  /* CPython converts to a C int first (OverflowError), then checks the sign. */
  if (fd < INT_MIN) return select_fd_argerror(L, arg, list, pos, "fd is less than minimum");
  if (fd > INT_MAX) return select_fd_argerror(L, arg, list, pos, "fd is greater than maximum");
  if (fd < 0)
    return ms_raise(L, "ValueError", 0,
                    lua_pushfstring(L, "file descriptor cannot be a negative integer (%I)", fd));
  return (int)fd;
}

/* The libuv events that can wake a wait for poll(2) events pollev. epoll
 * always reports EPOLLHUP and EPOLLERR, but libuv needs some event to watch:
 * a mask asking for nothing else watches EPOLLPRI, which a socket sets only
 * while it has urgent data. */
static int select_uv_events(int pollev) {
  int ev = ((pollev & (POLLIN | POLLRDNORM | POLLRDBAND)) ? UV_READABLE : 0) |
           ((pollev & (POLLOUT | POLLWRNORM | POLLWRBAND)) ? UV_WRITABLE : 0) |
           ((pollev & POLLPRI) ? UV_PRIORITIZED : 0) |
           ((pollev & POLLRDHUP) ? UV_DISCONNECT : 0);
  return ev ? ev : UV_PRIORITIZED;
}

/* ---- waiting on many fds ---- */

typedef struct {
  ms_waiter w;
  ms_task *task;
  ms_io *io;
} fdwait;

/* The waiters of one select() or poll() call. It sits in a to-be-closed
 * stack slot: however the call ends (results, an error from the park itself
 * such as a pending cancel, or the task never resuming: __gc), closing
 * unlinks every waiter, so none can later wake the task out of some other
 * wait, and gives back the poll object's busy flag (the poll object is its
 * uservalue). */
typedef struct {
  int n;
  int attached;
  int holds_busy;
  fdwait item[];
} waits;

/* A socket's io may be closed and collected before the task resumes: keep a
 * pointer only to select's own ios, which live until their refs drop. */
static void select_on_ready(ms_waiter *w, int status) {
  fdwait *fw = (fdwait *)w;
  if (fw->io && !fw->io->temporary) fw->io = NULL;
  if (fw->task) ms_task_wake(fw->task, MS_WAKE_READY);
}

/* Unlinks every waiter still attached and drops select's own ios: done
 * first thing on wake-up, and by __gc if the task never resumes. */
static void select_detach_all(waits *ws) {
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

typedef struct {
  int busy; /* a poll() is in progress: Python raises on concurrent use */
  lua_Integer seq;
} pollobj;

/* __close and __gc. */
static int select_waits_close(lua_State *L) {
  waits *ws = luaL_checkudata(L, 1, WAITS_META);
  select_detach_all(ws);
  if (ws->holds_busy) {
    ws->holds_busy = 0;
    lua_getiuservalue(L, 1, 1);
    pollobj *p = lua_touserdata(L, -1);
    if (p) p->busy = 0;
  }
  return 0;
}

static waits *select_new_waits(lua_State *L, int n) {
  waits *ws = lua_newuserdatauv(L, sizeof *ws + sizeof ws->item[0] * (size_t)(n ? n : 1), 1);
  ws->n = n;
  ws->attached = 0;
  ws->holds_busy = 0;
  memset(ws->item, 0, sizeof ws->item[0] * (size_t)n);
  luaL_setmetatable(L, WAITS_META);
  return ws;
}

/* The task ms_park will park: the running one, or outside any task the
 * stand-in that core.current() returns there. Without it nothing but the
 * timeout could end such a wait. */
static ms_task *waiting_task(lua_State *L) { return ms_parking_task(L); }

/*
 * Attaches a waiter to each pollfd whose skip flag is 0. An fd libuv cannot
 * watch because epoll refuses it (EPERM: a regular file, a directory) is one
 * poll(2) calls always ready for reading and writing and never for anything
 * else, so no waiter is missed. Returns 0, or 1 when some other fd could
 * not be watched: the caller then re-asks poll(2) now and then.
 */
static int attach(lua_State *L, waits *ws, struct pollfd *pfd, const char *skip, int n) {
  ms_task *t = waiting_task(L);
  ms_iomap *map = ms_iomap_of(L);
  int blind = 0;
  ws->attached = 1;
  for (int i = 0; i < n; i++) {
    fdwait *fw = &ws->item[i];
    if (skip && skip[i]) continue;
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
    fw->w.ready = select_on_ready;
    int rc = ms_io_wait(io, &fw->w, select_uv_events(pfd[i].events));
    if (rc != 0 && rc != UV_EPERM) blind = 1;
  }
  return blind;
}

/* The park timeout for a deadline (nil: none) */
static double select_park_timeout(lua_State *L, int deadline_idx, int blind) {
  double timeout = -1;
  if (!lua_isnil(L, deadline_idx)) {
    timeout = lua_tonumber(L, deadline_idx) - ms_now(L);
    if (timeout < 0) timeout = 0;
  }
  if (blind && (timeout < 0 || timeout > REPOLL_INTERVAL)) timeout = REPOLL_INTERVAL;
  return timeout;
}

/* ---- select.select ---- */

/* What select(2) counts as ready in each set, from fs/select.c. */
#define SEL_IN_ASK (POLLIN | POLLRDNORM | POLLRDBAND)
#define SEL_OUT_ASK (POLLOUT | POLLWRNORM | POLLWRBAND)
#define SEL_EX_ASK (POLLPRI)
#define SEL_IN_SET (SEL_IN_ASK | POLLHUP | POLLERR)
#define SEL_OUT_SET (SEL_OUT_ASK | POLLERR)
#define SEL_EX_SET (POLLPRI)

static int select_ready(const struct pollfd *p, short set) {
  return ((set & SEL_IN_ASK) && (p->events & SEL_IN_ASK) && (p->revents & SEL_IN_SET)) ||
         ((set & SEL_OUT_ASK) && (p->events & SEL_OUT_ASK) && (p->revents & SEL_OUT_SET)) ||
         ((set & SEL_EX_ASK) && (p->events & SEL_EX_ASK) && (p->revents & SEL_EX_SET));
}

/* Copies the list at idx (argument arg) into the snapshot table at snap,
 * from position base+1, and its fds into pfd, merging duplicates across the
 * three lists through the table fd -> pfd index at seen. */
static int select_collect(lua_State *L, int idx, int arg, const char *name, short events,
                   struct pollfd *pfd, int n, int *fdidx, int base, int len, int snap, int seen) {
  for (int i = 1; i <= len; i++) {
    lua_geti(L, idx, i);
    int fd = select_check_fd(L, -1, arg, name, i);
    lua_rawseti(L, snap, base + i);
    int j;
    if (lua_rawgeti(L, seen, fd) == LUA_TNUMBER) {
      j = (int)lua_tointeger(L, -1);
    } else {
      j = n++;
      pfd[j].fd = fd;
      pfd[j].events = 0;
      pfd[j].revents = 0;
      lua_pushinteger(L, j);
      lua_rawseti(L, seen, fd);
    }
    lua_pop(L, 1);
    pfd[j].events |= events;
    fdidx[base + i - 1] = j;
  }
  return n;
}

/* Pushes the objects of one list (from the snapshot) whose fd is ready. */
static void select_push_ready(lua_State *L, int snap, short set, struct pollfd *pfd, int *fdidx,
                       int base, int len) {
  ms_push_list(L, 0);
  int k = 0;
  for (int i = 1; i <= len; i++) {
    if (!select_ready(&pfd[fdidx[base + i - 1]], set)) continue;
    lua_rawgeti(L, snap, base + i);
    lua_rawseti(L, -2, ++k);
  }
}

/* Stack of select after the first call: 1-3 lists, 4 deadline or nil,
 * 5 pollfd buffer, 6 ints: the three lengths, then each entry's pollfd
 * index, 7 waits, 8 the snapshot of the lists' objects, 9 skip flags. */
static int select_k(lua_State *L, int status, lua_KContext ctx) {
  int n = (int)ctx;
  struct pollfd *pfd = lua_touserdata(L, 5);
  int *lens = lua_touserdata(L, 6);
  int *fdidx = lens + 3;
  char *skip = lua_touserdata(L, 9);
  if (status == LUA_YIELD) {
    select_detach_all(lua_touserdata(L, 7));
    int reason = ms_wake_reason(L);
    if (reason != MS_WAKE_TIMEOUT) ms_check_wake(L);
  }
  for (;;) {
    int rc = poll(pfd, (nfds_t)n, 0);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return ms_raise_errno(L, errno);
    int ready = 0;
    for (int i = 0; i < n; i++) {
      /* select(2) refuses a closed fd where poll(2) reports it. */
      if (pfd[i].revents & POLLNVAL) return ms_raise_errno(L, EBADF);
      if (select_ready(&pfd[i], SEL_IN_ASK | SEL_OUT_ASK | SEL_EX_ASK))
        ready = 1;
      /* A hang-up or error poll(2) reports whatever was asked, and libuv
       * with it: watching such an fd for what select still waits for
       * would wake at once, every time. It cannot come anyway (a hung-up
       * pipe never becomes writable, a socket with an error has no urgent
       * data to come). */
      else
        skip[i] = (pfd[i].revents & (POLLHUP | POLLERR)) != 0;
    }
    int expired = !lua_isnil(L, 4) && lua_tonumber(L, 4) <= ms_now(L);
    if (ready || expired || (status == LUA_YIELD && ms_wake_reason(L) == MS_WAKE_TIMEOUT)) break;
    int blind = attach(L, lua_touserdata(L, 7), pfd, skip, n);
    return ms_park(L, select_park_timeout(L, 4, blind), ctx, select_k);
  }
  select_push_ready(L, 8, SEL_IN_ASK, pfd, fdidx, 0, lens[0]);
  select_push_ready(L, 8, SEL_OUT_ASK, pfd, fdidx, lens[0], lens[1]);
  select_push_ready(L, 8, SEL_EX_ASK, pfd, fdidx, lens[0] + lens[1], lens[2]);
  return 3;
}

static int select_check_list(lua_State *L, int idx, const char *name) {
  if (!lua_istable(L, idx))
    luaL_argerror(L, idx, lua_pushfstring(L, "%s must be a table (list)", name));
  lua_Integer len = luaL_len(L, idx);
  luaL_argcheck(L, len >= 0 && len <= INT_MAX / 4, idx, "list too long");
  return (int)len;
}

/* select.select(rlist, wlist, xlist[, timeout]) -> three lists. The lists
 * are copied first: another task may change them while this one waits. */
static int select_select(lua_State *L) {
  int len1 = select_check_list(L, 1, "rlist");
  int len2 = select_check_list(L, 2, "wlist");
  int len3 = select_check_list(L, 3, "xlist");
  luaL_argcheck(L, len1 + len2 <= INT_MAX / 4 - len3, 3, "lists too long");
  double timeout = ms_timeout_opt(L, 4, 1, "timeout must be non-negative");
  lua_settop(L, 3);
  if (timeout >= 0)
    lua_pushnumber(L, ms_now(L) + timeout);
  else
    lua_pushnil(L);
  int total = len1 + len2 + len3;
  struct pollfd *pfd = lua_newuserdatauv(L, sizeof *pfd * (size_t)(total ? total : 1), 0);
  int *lens = lua_newuserdatauv(L, sizeof *lens * (size_t)(total + 3), 0);
  lens[0] = len1;
  lens[1] = len2;
  lens[2] = len3;
  int *fdidx = lens + 3;
  lua_pushnil(L); /* the waits, once n is known */
  lua_createtable(L, total, 0); /* 8: the snapshot */
  lua_createtable(L, 0, 0);     /* 9: fd -> pollfd index, then the skip flags */
  int n = 0;
  n = select_collect(L, 1, 1, "rlist", SEL_IN_ASK, pfd, n, fdidx, 0, len1, 8, 9);
  n = select_collect(L, 2, 2, "wlist", SEL_OUT_ASK, pfd, n, fdidx, len1, len2, 8, 9);
  n = select_collect(L, 3, 3, "xlist", SEL_EX_ASK, pfd, n, fdidx, len1 + len2, len3, 8, 9);
  select_new_waits(L, n);
  lua_replace(L, 7);
  lua_toclose(L, 7);
  memset(lua_newuserdatauv(L, (size_t)(n ? n : 1), 0), 0, (size_t)(n ? n : 1));
  lua_replace(L, 9);
  return select_k(L, LUA_OK, n);
}

/* ---- poll objects ---- */

/* A poll object (a pollobj, defined above) keeps its registrations in a
 * table fd -> eventmask (its first uservalue) and, as CPython's dict does,
 * polls them in the order they were first registered: the second uservalue
 * maps fd -> sequence. */

static pollobj *select_poll_check(lua_State *L) { return luaL_checkudata(L, 1, POLL_META); }

static int select_poll_new(lua_State *L) {
  pollobj *p = lua_newuserdatauv(L, sizeof *p, 2);
  p->busy = 0;
  p->seq = 0;
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 2);
  luaL_setmetatable(L, POLL_META);
  return 1;
}

/* def < 0: the mask is required (modify). */
static int select_check_mask(lua_State *L, int idx, int def) {
  if (def >= 0 && lua_isnoneornil(L, idx)) return def;
  lua_Integer m = luaL_checkinteger(L, idx);
  luaL_argcheck(L, m >= 0 && m <= USHRT_MAX, idx, "eventmask out of range");
  return (int)m;
}

static int select_poll_register(lua_State *L) {
  pollobj *p = select_poll_check(L);
  int fd = select_check_fd(L, 2, 2, NULL, 0);
  int mask = select_check_mask(L, 3, POLLIN | POLLPRI | POLLOUT);
  lua_settop(L, 3);
  lua_getiuservalue(L, 1, 1);
  lua_pushinteger(L, mask);
  lua_rawseti(L, -2, fd);
  lua_getiuservalue(L, 1, 2);
  if (lua_rawgeti(L, -1, fd) == LUA_TNIL) {
    lua_pushinteger(L, ++p->seq);
    lua_rawseti(L, -3, fd);
  }
  return 0;
}

static int select_poll_modify(lua_State *L) {
  select_poll_check(L);
  int fd = select_check_fd(L, 2, 2, NULL, 0);
  int mask = select_check_mask(L, 3, -1);
  lua_getiuservalue(L, 1, 1);
  if (lua_rawgeti(L, -1, fd) == LUA_TNIL) return ms_raise_errno(L, ENOENT);
  lua_pop(L, 1);
  lua_pushinteger(L, mask);
  lua_rawseti(L, -2, fd);
  return 0;
}

/* Python raises KeyError(fd): its str() is the repr of the int. */
static int select_raise_keyerror(lua_State *L, int fd) {
  ms_push_error(L, "KeyError", 0, "");
  if (lua_getmetatable(L, -1) && luaL_getmetafield(L, -1, "__call") != LUA_TNIL) {
    lua_insert(L, -2);
    lua_pushinteger(L, fd);
    lua_call(L, 2, 1);
  } else {
    lua_settop(L, lua_gettop(L) - 1);
  }
  return lua_error(L);
}

static int select_poll_unregister(lua_State *L) {
  select_poll_check(L);
  int fd = select_check_fd(L, 2, 2, NULL, 0);
  lua_getiuservalue(L, 1, 1);
  if (lua_rawgeti(L, -1, fd) == LUA_TNIL) return select_raise_keyerror(L, fd);
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_rawseti(L, -2, fd);
  lua_getiuservalue(L, 1, 2);
  lua_pushnil(L);
  lua_rawseti(L, -2, fd);
  return 0;
}

/* Stack after the first call: 1 pollobj, 2 deadline or nil, 3 pollfd buffer,
 * 4 waits (to be closed: that also clears the busy flag). */
static int select_poll_k(lua_State *L, int status, lua_KContext ctx) {
  int n = (int)ctx;
  struct pollfd *pfd = lua_touserdata(L, 3);
  if (status == LUA_YIELD) {
    select_detach_all(lua_touserdata(L, 4));
    if (ms_wake_reason(L) != MS_WAKE_TIMEOUT) ms_check_wake(L);
  }
  int rc;
  for (;;) {
    rc = poll(pfd, (nfds_t)n, 0);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return ms_raise_errno(L, errno);
    int expired = !lua_isnil(L, 2) && lua_tonumber(L, 2) <= ms_now(L);
    if (rc > 0 || expired || (status == LUA_YIELD && ms_wake_reason(L) == MS_WAKE_TIMEOUT)) break;
    int blind = attach(L, lua_touserdata(L, 4), pfd, NULL, n);
    return ms_park(L, select_park_timeout(L, 2, blind), ctx, select_poll_k);
  }
  ms_push_list(L, rc);
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (!pfd[i].revents) continue;
    ms_push_tuple(L, 2);
    lua_pushinteger(L, pfd[i].fd);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, (unsigned short)pfd[i].revents);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, ++k);
  }
  return 1;
}

typedef struct {
  lua_Integer seq;
  struct pollfd pfd;
} pollent;

static int select_by_seq(const void *a, const void *b) {
  lua_Integer x = ((const pollent *)a)->seq, y = ((const pollent *)b)->seq;
  return (x > y) - (x < y);
}

/* poll.poll([timeout_ms]) -> list of {fd, events}; nil or negative: forever. */
static int select_poll_poll(lua_State *L) {
  pollobj *p = select_poll_check(L);
  /* milliseconds; a negative number waits for ever, as nil does */
  double timeout = ms_timeout_opt(L, 2, 1000, NULL);
  if (p->busy) return ms_raise(L, "RuntimeError", 0, "concurrent poll() invocation");
  lua_settop(L, 1);
  if (timeout >= 0)
    lua_pushnumber(L, ms_now(L) + timeout);
  else
    lua_pushnil(L);
  lua_getiuservalue(L, 1, 1); /* 3 */
  lua_getiuservalue(L, 1, 2); /* 4 */
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, 3)) {
    n++;
    lua_pop(L, 1);
  }
  pollent *ents = lua_newuserdatauv(L, sizeof *ents * (size_t)(n ? n : 1), 0); /* 5 */
  int i = 0;
  lua_pushnil(L);
  while (lua_next(L, 3)) {
    int fd = (int)lua_tointeger(L, -2);
    ents[i].pfd.fd = fd;
    ents[i].pfd.events = (short)lua_tointeger(L, -1);
    ents[i].pfd.revents = 0;
    lua_rawgeti(L, 4, fd);
    ents[i].seq = lua_tointeger(L, -1);
    lua_pop(L, 2);
    i++;
  }
  qsort(ents, (size_t)n, sizeof *ents, select_by_seq);
  struct pollfd *pfd = lua_newuserdatauv(L, sizeof *pfd * (size_t)(n ? n : 1), 0);
  for (i = 0; i < n; i++) pfd[i] = ents[i].pfd;
  lua_replace(L, 3);
  lua_settop(L, 3);
  waits *ws = select_new_waits(L, n);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, 4, 1);
  p->busy = 1;
  ws->holds_busy = 1;
  lua_toclose(L, 4);
  return select_poll_k(L, LUA_OK, n);
}

/* ---- epoll objects ---- */

typedef struct {
  ms_io io; /* the epoll fd, watched for readability */
} epollobj;

static epollobj *select_epoll_to(lua_State *L) { return luaL_checkudata(L, 1, EPOLL_META); }

static epollobj *select_epoll_check(lua_State *L) {
  epollobj *e = select_epoll_to(L);
  if (e->io.fd < 0) ms_raise(L, "ValueError", 0, "I/O operation on closed epoll object");
  return e;
}

static int select_epoll_new(lua_State *L) {
  lua_Integer sizehint = luaL_optinteger(L, 1, -1);
  lua_Integer flags = luaL_optinteger(L, 2, 0);
  /* CPython's "i" converters: C ints, OverflowError beyond */
  static const char too_large[] = "Python int too large to convert to C int";
  luaL_argcheck(L, sizehint >= INT_MIN && sizehint <= INT_MAX, 1, too_large);
  luaL_argcheck(L, flags >= INT_MIN && flags <= INT_MAX, 2, too_large);
  luaL_argcheck(L, sizehint == -1 || sizehint > 0, 1, "negative sizehint");
  if (flags && flags != EPOLL_CLOEXEC) return ms_raise_errno(L, EINVAL);
  epollobj *e = lua_newuserdatauv(L, sizeof *e, 0);
  ms_io_init(&e->io, ms_loop(L), NULL, -1);
  luaL_setmetatable(L, EPOLL_META);
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return ms_raise_errno(L, errno);
  ms_io_init(&e->io, ms_loop(L), ms_iomap_of(L), fd);
  return 1;
}

/* The one closer of close, __close and __gc: wakes a task parked on the
 * epoll fd and closes it; a no-op (0) the second time. */
static int select_epoll_release(epollobj *e) {
  int fd = e->io.fd;
  if (fd < 0) return 0;
  ms_io_close(&e->io);
  return close(fd);
}

static int select_epoll_close(lua_State *L) {
  if (select_epoll_release(select_epoll_to(L)) < 0 && errno != EINTR) return ms_raise_errno(L, errno);
  return 0;
}

static int select_epoll_gc(lua_State *L) {
  select_epoll_release(select_epoll_to(L));
  return 0;
}

static int select_epoll_ctl_op(lua_State *L, int op) {
  epollobj *e = select_epoll_check(L);
  int fd = select_check_fd(L, 2, 2, NULL, 0);
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  if (op != EPOLL_CTL_DEL) {
    /* register has a default mask; modify must be told one */
    lua_Integer mask = op == EPOLL_CTL_ADD ? luaL_optinteger(L, 3, EPOLLIN | EPOLLPRI | EPOLLOUT)
                                           : luaL_checkinteger(L, 3);
    luaL_argcheck(L, mask >= 0 && mask <= UINT32_MAX, 3, "eventmask out of range");
    ev.events = (uint32_t)mask;
  }
  ev.data.fd = fd;
  if (epoll_ctl(e->io.fd, op, fd, &ev) < 0) return ms_raise_errno(L, errno);
  return 0;
}

static int select_epoll_register(lua_State *L) { return select_epoll_ctl_op(L, EPOLL_CTL_ADD); }
static int select_epoll_modify(lua_State *L) { return select_epoll_ctl_op(L, EPOLL_CTL_MOD); }
static int select_epoll_unregister(lua_State *L) { return select_epoll_ctl_op(L, EPOLL_CTL_DEL); }

/* Stack: 1 epoll, 2 deadline or nil, 3 maxevents. */
static int select_epoll_k(lua_State *L, int status, lua_KContext ctx) {
  if (status == LUA_YIELD && ms_wake_reason(L) != MS_WAKE_TIMEOUT) ms_check_wake(L);
  epollobj *e = select_epoll_check(L);
  int maxevents = (int)lua_tointeger(L, 3);
  struct epoll_event *evs = lua_newuserdatauv(L, sizeof *evs * (size_t)maxevents, 0);
  int n;
  do n = epoll_wait(e->io.fd, evs, maxevents, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return ms_raise_errno(L, errno);
  int expired = !lua_isnil(L, 2) && lua_tonumber(L, 2) <= ms_now(L);
  if (n == 0 && !expired && !(status == LUA_YIELD && ms_wake_reason(L) == MS_WAKE_TIMEOUT)) {
    lua_settop(L, 3);
    return ms_park_io(L, &e->io, UV_READABLE, select_park_timeout(L, 2, 0), ctx, select_epoll_k);
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
static int select_epoll_poll(lua_State *L) {
  select_epoll_check(L);
  double timeout = ms_timeout_opt(L, 2, 1, NULL);
  lua_Integer maxevents = luaL_optinteger(L, 3, -1);
  if (maxevents == -1) maxevents = SELECT_EPOLL_MAXEVENTS_DEFAULT;
  if (maxevents <= 0 || maxevents > INT_MAX / (lua_Integer)sizeof(struct epoll_event))
    return luaL_argerror(L, 3, lua_pushfstring(L, "maxevents must be greater than 0, got %I", maxevents));
  lua_settop(L, 1);
  if (timeout >= 0)
    lua_pushnumber(L, ms_now(L) + timeout);
  else
    lua_pushnil(L);
  lua_pushinteger(L, maxevents);
  return select_epoll_k(L, LUA_OK, 0);
}

static int select_epoll_fileno(lua_State *L) {
  epollobj *e = select_epoll_check(L);
  lua_pushinteger(L, e->io.fd);
  return 1;
}

static int select_epoll_index(lua_State *L) {
  epollobj *e = select_epoll_to(L);
  const char *k = lua_tostring(L, 2);
  if (k && strcmp(k, "closed") == 0) {
    lua_pushboolean(L, e->io.fd < 0);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int select_epoll_tostring(lua_State *L) {
  epollobj *e = select_epoll_to(L);
  lua_pushfstring(L, "<select.epoll fd=%d%s>", e->io.fd, e->io.fd < 0 ? " closed" : "");
  return 1;
}

/* As <poll.h> and <sys/epoll.h> give them: EPOLLET is 1u << 31, which an
 * int would turn negative. */
static const struct {
  const char *name;
  lua_Integer value;
} constants[] = {
    {"POLLIN", POLLIN},         {"POLLPRI", POLLPRI},       {"POLLOUT", POLLOUT},
    {"POLLERR", POLLERR},       {"POLLHUP", POLLHUP},       {"POLLNVAL", POLLNVAL},
    {"POLLRDNORM", POLLRDNORM}, {"POLLRDBAND", POLLRDBAND}, {"POLLWRNORM", POLLWRNORM},
    {"POLLWRBAND", POLLWRBAND}, {"POLLMSG", POLLMSG},       {"POLLRDHUP", POLLRDHUP},
    {"EPOLLIN", EPOLLIN},       {"EPOLLOUT", EPOLLOUT},     {"EPOLLPRI", EPOLLPRI},
    {"EPOLLERR", EPOLLERR},     {"EPOLLHUP", EPOLLHUP},     {"EPOLLET", (uint32_t)EPOLLET},
    {"EPOLLONESHOT", (uint32_t)EPOLLONESHOT}, {"EPOLLEXCLUSIVE", (uint32_t)EPOLLEXCLUSIVE},
    {"EPOLLRDHUP", EPOLLRDHUP}, {"EPOLLRDNORM", EPOLLRDNORM}, {"EPOLLRDBAND", EPOLLRDBAND},
    {"EPOLLWRNORM", EPOLLWRNORM}, {"EPOLLWRBAND", EPOLLWRBAND}, {"EPOLLMSG", EPOLLMSG},
    {"EPOLL_CLOEXEC", EPOLL_CLOEXEC}, {"PIPE_BUF", PIPE_BUF}, {NULL, 0}};

int ms_open_select(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"select", select_select}, {"poll", select_poll_new}, {"epoll", select_epoll_new}, {NULL, NULL}};
  static const luaL_Reg poll_methods[] = {{"register", select_poll_register},
                                          {"modify", select_poll_modify},
                                          {"unregister", select_poll_unregister},
                                          {"poll", select_poll_poll},
                                          {NULL, NULL}};
  static const luaL_Reg epoll_methods[] = {
      {"register", select_epoll_register}, {"modify", select_epoll_modify}, {"unregister", select_epoll_unregister},
      {"poll", select_epoll_poll},         {"close", select_epoll_close},   {"fileno", select_epoll_fileno},
      {NULL, NULL}};
  static const luaL_Reg waits_meta[] = {
      {"__gc", select_waits_close}, {"__close", select_waits_close}, {NULL, NULL}};
  static const luaL_Reg epoll_meta[] = {{"__gc", select_epoll_gc},
                                        {"__close", select_epoll_close},
                                        {"__tostring", select_epoll_tostring},
                                        {NULL, NULL}};
  luaL_newmetatable(L, WAITS_META);
  luaL_setfuncs(L, waits_meta, 0);
  lua_pop(L, 1);

  luaL_newmetatable(L, POLL_META);
  luaL_newlib(L, poll_methods);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "select.poll");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newmetatable(L, EPOLL_META);
  luaL_setfuncs(L, epoll_meta, 0);
  luaL_newlib(L, epoll_methods);
  lua_pushcclosure(L, select_epoll_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "select.epoll");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  luaL_newlib(L, funcs);
  for (int i = 0; constants[i].name; i++) {
    lua_pushinteger(L, constants[i].value);
    lua_setfield(L, -2, constants[i].name);
  }
  /* select.error is OSError, as in Python 3: the class of any OSError. */
  ms_push_error(L, "OSError", 0, "");
  if (lua_getmetatable(L, -1)) {
    lua_setfield(L, -3, "error");
  }
  lua_pop(L, 1);
  return 1;
}
