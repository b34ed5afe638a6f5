/*
 * moonsock.core.stream: the standard streams (fds 0, 1, 2) read and written
 * so that only the calling task waits, under lua/moonsock/stdio.lua.
 *
 * Those fds are shared with other processes (the shell, a pipeline's other
 * commands), so they are never made non-blocking: a call first asks poll(2)
 * whether the fd is ready, parks the task on the loop until it is, and only
 * then does the syscall, which cannot block for long then: read(2) returns
 * what a pipe, terminal or socket holds, and a pipe that polls writable has
 * room for PIPE_BUF bytes (a socket is sent to with MSG_DONTWAIT). Where a
 * task cannot park (a metamethod, a finalizer, a loop callback) the plain
 * blocking syscall runs, as stock Lua's would. Regular files never reach
 * here: stdio.lua leaves them to liolib.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ms.h"

#define STREAM_FDS 3
#define STREAM_SOCK 0x100 /* in a file's fd code: the fd is a socket */
#define STREAM_READ_MAX (1 << 20)

/* The ios of fds 0-2 this module made itself, one state per Lua state. An
 * io lives only while a task waits on it: the REPL (src/cli/repl.c) later
 * registers fd 0 with the loop, which would fail while this module's poll
 * handle still watched it. An io someone else registered (the REPL's, a
 * select's) is borrowed through the fd map instead. */
typedef struct {
  ms_io io[STREAM_FDS];
  int live[STREAM_FDS];
} stream_state;

static const char stream_key = 0;

static int stream_state_gc(lua_State *L) {
  stream_state *st = lua_touserdata(L, 1);
  for (int fd = 0; fd < STREAM_FDS; fd++)
    if (st->live[fd]) {
      ms_io_close(&st->io[fd]);
      st->live[fd] = 0;
    }
  return 0;
}

static stream_state *stream_get_state(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &stream_key);
  stream_state *st = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return st;
}

/* Closes this module's own io of fd once nobody waits on it. */
static void stream_release(lua_State *L, int fd) {
  stream_state *st = stream_get_state(L);
  if (st && fd >= 0 && fd < STREAM_FDS && st->live[fd] && !st->io[fd].waiters) {
    ms_io_close(&st->io[fd]);
    st->live[fd] = 0;
  }
}

/* poll(2) without waiting: would the syscall for events go through now?
 * An error (POLLNVAL, POLLERR, POLLHUP) counts as ready: the syscall then
 * reports it. */
static int stream_ready(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events, .revents = 0};
  int rc;
  do rc = poll(&p, 1, 0);
  while (rc < 0 && errno == EINTR);
  return rc != 0;
}

/* Blocks the whole process until fd is ready: the way out where a task
 * cannot park, or where the loop cannot watch the fd. */
static void stream_block(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events, .revents = 0};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
}

/* Parks the task until fd is ready for events, then continues in k.
 * Returns -1 without parking when the loop cannot watch fd: the caller
 * then blocks in the syscall. */
static int stream_wait(lua_State *L, int fd, int events, lua_KContext ctx, lua_KFunction k) {
  ms_iomap *map = ms_iomap_of(L);
  ms_io *io = ms_iomap_get(map, fd);
  if (!io) {
    stream_state *st = stream_get_state(L);
    if (!st || fd < 0 || fd >= STREAM_FDS) return -1;
    io = &st->io[fd];
    ms_io_init(io, ms_loop(L), map, fd);
    st->live[fd] = 1;
  }
  if (ms_io_prepare(io) != 0) {
    stream_release(L, fd);
    return -1;
  }
  return ms_park_io(L, io, events, -1, ctx, k);
}

static int stream_check_fd(lua_State *L, int idx, const char *fname) {
  lua_Integer fd = luaL_checkinteger(L, idx);
  if (fd < 0 || fd >= STREAM_FDS) ms_argerror(L, idx, fname, "fd must be 0, 1 or 2");
  return (int)fd;
}

/* kind(fd) -> "file" for what poll(2) cannot watch (a regular file, a
 * block device, a directory, a closed fd), "socket", or "pipe" for the
 * rest (pipes, FIFOs, terminals, character devices). */
static int stream_kind(lua_State *L) {
  int fd = stream_check_fd(L, 1, "kind");
  struct stat sb;
  const char *kind = "pipe";
  if (fstat(fd, &sb) != 0 || S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode) || S_ISDIR(sb.st_mode))
    kind = "file";
  else if (S_ISSOCK(sb.st_mode))
    kind = "socket";
  lua_pushstring(L, kind);
  return 1;
}

/* ---- reading ---- */

/* Stack: 1 fd, 2 n, 3 is a socket. */
static int stream_read_k(lua_State *L, int status, lua_KContext ctx) {
  int fd = (int)ctx;
  if (status == LUA_YIELD) {
    stream_release(L, fd);
    ms_check_wake(L);
  }
  size_t n = (size_t)lua_tointeger(L, 2);
  int sock = lua_toboolean(L, 3);
  for (;;) {
    int park = ms_can_park(L);
    if (park && !stream_ready(fd, POLLIN)) {
      int rc = stream_wait(L, fd, UV_READABLE, ctx, stream_read_k);
      if (rc >= 0) return rc;
      park = 0;
    }
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, n);
    ssize_t r = sock && park ? recv(fd, p, n, MSG_DONTWAIT) : read(fd, p, n);
    int err = errno;
    luaL_pushresultsize(&b, r > 0 ? (size_t)r : 0);
    if (r >= 0) return 1;
    lua_pop(L, 1);
    if (err == EINTR) continue;
    if (err != EAGAIN && err != EWOULDBLOCK) return ms_raise_errno(L, err);
    /* Someone else emptied the fd after poll said ready, or it is
     * non-blocking after all. */
    if (!park) stream_block(fd, POLLIN);
  }
}

/* read(fd, n[, is_socket]) -> up to n bytes, "" at EOF: waits for some
 * bytes, not for n of them, as a socket's recv. */
static int stream_read(lua_State *L) {
  int fd = stream_check_fd(L, 1, "read");
  lua_Integer n = luaL_checkinteger(L, 2);
  if (n < 1) ms_argerror(L, 2, "read", "size must be positive");
  if (n > STREAM_READ_MAX) n = STREAM_READ_MAX;
  lua_settop(L, 3);
  lua_pushinteger(L, n);
  lua_replace(L, 2);
  return stream_read_k(L, LUA_OK, fd);
}

/* ---- writing ---- */

/* The C library's FILE of fd 1 or 2, whose buffer io.write fills as
 * liolib's fwrite does; NULL for another fd. */
static FILE *stream_cfile(int fd) {
  return fd == STDOUT_FILENO ? stdout : fd == STDERR_FILENO ? stderr : NULL;
}

/* Whether len bytes go into f's buffer without a write(2): the buffer has
 * room for them (a full buffer is written out first, below), and a line
 * buffer gets no newline. An unbuffered stream's buffer holds one byte:
 * never. A buffer not allocated yet (no write so far) takes a write
 * smaller than BUFSIZ, which allocates it. */
static int stream_fits(FILE *f, const char *s, size_t len) {
  size_t size = __fbufsize(f), pending = __fpending(f);
  if (size == 0) size = BUFSIZ;
  if (pending + len >= size) return 0;
  return !(__flbf(f) && memchr(s, '\n', len));
}

/* Stack: 1 the file (to return), 2 the bytes, 3 how many are written, 4
 * the number of an argument that is no string (0: none) and 5 that
 * argument: liolib writes the ones before it, then raises. ctx: the fd
 * code, and STREAM_PRINT when the results are print's (none, and errors
 * ignored, as lua_writestring ignores them). */
#define STREAM_PRINT 0x200

/* luaL_typeerror's text for the value at idx, raised as argument arg. */
static int stream_type_error(lua_State *L, int arg, int idx) {
  const char *got;
  if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
    got = lua_tostring(L, -1);
  else if (lua_type(L, idx) == LUA_TLIGHTUSERDATA)
    got = "light userdata";
  else
    got = luaL_typename(L, idx);
  return luaL_argerror(L, arg, lua_pushfstring(L, "string expected, got %s", got));
}

static int stream_write_k(lua_State *L, int status, lua_KContext ctx) {
  int code = (int)ctx;
  int fd = code & 0xff, sock = (code & STREAM_SOCK) != 0, print = (code & STREAM_PRINT) != 0;
  if (status == LUA_YIELD) {
    stream_release(L, fd);
    ms_check_wake(L);
  }
  size_t len;
  const char *s = lua_tolstring(L, 2, &len);
  size_t off = (size_t)lua_tointeger(L, 3);
  FILE *f = stream_cfile(fd);
  /* io.write as stock Lua's: into C's buffer while it has room (no
   * syscall; lost at _exit, as there); print writes out at once, as
   * lua_writeline flushes. */
  if (f && off == 0 && !print && stream_fits(f, s, len)) {
    fwrite(s, 1, len, f);
    off = len;
  }
  /* Otherwise what C's buffer holds goes first, so that nothing written
   * before (by io.write, a host, the REPL's banner) is overtaken. It holds
   * at most a buffer of st_blksize (PIPE_BUF on a pipe), which a pipe that
   * polls writable takes at once. */
  if (f && off == 0 && __fpending(f) > 0) {
    if (ms_can_park(L) && !stream_ready(fd, POLLOUT)) {
      int rc = stream_wait(L, fd, UV_WRITABLE, ctx, stream_write_k);
      if (rc >= 0) return rc;
    }
    fflush(f);
    clearerr(f);
    if (!print && stream_fits(f, s, len)) {
      fwrite(s, 1, len, f);
      off = len;
    }
  }
  while (off < len) {
    int park = ms_can_park(L);
    if (park && !stream_ready(fd, POLLOUT)) {
      int rc = stream_wait(L, fd, UV_WRITABLE, ctx, stream_write_k);
      if (rc >= 0) return rc;
      park = 0;
    }
    size_t n = len - off;
    ssize_t r;
    if (park && sock) {
      r = send(fd, s + off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
      /* A pipe that polls writable takes PIPE_BUF bytes without blocking. */
      if (park && n > PIPE_BUF) n = PIPE_BUF;
      r = write(fd, s + off, n);
    }
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        if (!park) stream_block(fd, POLLOUT);
        continue;
      }
      if (print) return 0;
      /* liolib's g_write: fail, strerror, errno */
      luaL_pushfail(L);
      lua_pushstring(L, strerror(err));
      lua_pushinteger(L, err);
      return 3;
    }
    off += (size_t)r;
    lua_pushinteger(L, (lua_Integer)off);
    lua_replace(L, 3);
  }
  if (print) return 0;
  if (lua_tointeger(L, 4)) return stream_type_error(L, (int)lua_tointeger(L, 4), 5);
  lua_settop(L, 1);
  return 1;
}

/* Appends argument i as liolib's g_write writes it: numbers in Lua's
 * formats, strings as they are. */
static void stream_add_arg(lua_State *L, luaL_Buffer *b, int i) {
  if (lua_type(L, i) == LUA_TNUMBER) {
    char num[64];
    int len = lua_isinteger(L, i)
                  ? snprintf(num, sizeof num, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, i))
                  : snprintf(num, sizeof num, LUA_NUMBER_FMT, (LUAI_UACNUMBER)lua_tonumber(L, i));
    luaL_addlstring(b, num, (size_t)len);
  } else {
    size_t len;
    const char *s = luaL_checklstring(L, i, &len);
    luaL_addlstring(b, s, len);
  }
}

/* ---- the wrappers of liolib's functions ---- */

enum { HOW_METHOD, HOW_INPUT, HOW_LINES, HOW_OUTPUT, HOW_PRINT };
static const char *const stream_hows[] = {"method", "input", "lines", "output", "print", NULL};

/* Upvalues of a wrapper: 1 liolib's function, 2 how, 3 the table file ->
 * fd code of the streams it serves, 4 what gives the file (io.input,
 * io.output, or io.stdout itself), 5 the Lua handler of a read (nil for
 * writes). */
#define UP_ORIG lua_upvalueindex(1)
#define UP_HOW lua_upvalueindex(2)
#define UP_FILES lua_upvalueindex(3)
#define UP_GET lua_upvalueindex(4)
#define UP_HANDLER lua_upvalueindex(5)

static int stream_handler_k(lua_State *L, int status, lua_KContext ctx) {
  return lua_gettop(L) - (int)ctx;
}

/*
 * One C function in place of each of io.read, io.lines, io.write, print and
 * the read, lines and write methods. A file that is not a cooperative
 * standard stream goes to liolib's function by a direct C call, in this
 * frame: its argument errors then name the caller's line and function, and
 * count a method's arguments, exactly as before.
 */
static int stream_wrapper(lua_State *L) {
  int how = (int)lua_tointeger(L, UP_HOW);
  int first = 1;
  switch (how) {
    case HOW_METHOD:
      lua_pushvalue(L, 1);
      first = 2;
      break;
    case HOW_LINES:
      if (!lua_isnoneornil(L, 1)) return lua_tocfunction(L, UP_ORIG)(L);
      if (lua_isnone(L, 1)) lua_pushnil(L);
      first = 2;
      /* fallthrough */
    case HOW_INPUT:
    case HOW_OUTPUT:
      lua_pushvalue(L, UP_GET);
      lua_call(L, 0, 1);
      break;
    default: lua_pushvalue(L, UP_GET); break;
  }
  int top = lua_gettop(L); /* the file */
  lua_pushvalue(L, top);
  if (lua_rawget(L, UP_FILES) == LUA_TNIL) {
    lua_settop(L, top - 1);
    return lua_tocfunction(L, UP_ORIG)(L);
  }
  int code = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (!lua_isnil(L, UP_HANDLER)) {
    /* a read: handler(file, formats...) */
    lua_pushvalue(L, UP_HANDLER);
    lua_pushvalue(L, top);
    for (int i = first; i < top; i++) lua_pushvalue(L, i);
    /* the results take the handler's place, after the file */
    lua_callk(L, top - first + 1, LUA_MULTRET, top, stream_handler_k);
    return stream_handler_k(L, LUA_OK, top);
  }
  int bad = 0;
  if (how != HOW_PRINT)
    for (int i = first; i < top && !bad; i++)
      if (lua_type(L, i) != LUA_TNUMBER && lua_type(L, i) != LUA_TSTRING) bad = i;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = first; i < (bad ? bad : top); i++) {
    if (how == HOW_PRINT) {
      luaL_tolstring(L, i, NULL);
      luaL_addvalue(&b);
      if (i + 1 < top) luaL_addchar(&b, '\t');
    } else {
      stream_add_arg(L, &b, i);
    }
  }
  if (how == HOW_PRINT) luaL_addchar(&b, '\n');
  luaL_pushresult(&b);
  /* 1 file, 2 bytes, 3 written, 4 bad, 5 its value */
  lua_insert(L, 1);
  lua_pushvalue(L, top + 1);
  lua_insert(L, 1);
  if (bad) lua_pushvalue(L, bad + 2);
  else lua_pushnil(L);
  lua_replace(L, 3);
  lua_settop(L, 3);
  lua_pushinteger(L, 0);
  lua_insert(L, 3);
  lua_pushinteger(L, bad);
  lua_insert(L, 4);
  return stream_write_k(L, LUA_OK, code | (how == HOW_PRINT ? STREAM_PRINT : 0));
}

/* wrap(orig, how, files[, get[, handler]]) -> the wrapper of liolib's C
 * function orig. */
static int stream_wrap(lua_State *L) {
  if (!lua_iscfunction(L, 1)) ms_argerror(L, 1, "wrap", "C function expected");
  int how = luaL_checkoption(L, 2, NULL, stream_hows);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 5);
  lua_pushinteger(L, how);
  lua_replace(L, 2);
  lua_pushcclosure(L, stream_wrapper, 5);
  return 1;
}

int ms_open_stream(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &stream_key) == LUA_TNIL) {
    stream_state *st = lua_newuserdatauv(L, sizeof *st, 0);
    memset(st, 0, sizeof *st);
    lua_newtable(L);
    lua_pushcfunction(L, stream_state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &stream_key);
  }
  lua_pop(L, 1);
  static const luaL_Reg funcs[] = {
      {"kind", stream_kind}, {"read", stream_read}, {"wrap", stream_wrap}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  lua_pushinteger(L, STREAM_SOCK);
  lua_setfield(L, -2, "SOCKET");
  return 1;
}
