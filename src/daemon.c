/*
 * `moonsock.core.daemon`: the fd and environment checks under
 * lua/systemd/daemon.lua (python-systemd's systemd.daemon). They follow
 * sd_listen_fds(3), sd_is_socket(3) and sd_booted(3) as libsystemd does,
 * without linking it: the protocol is a few environment variables, fstat and
 * getsockopt, and libsystemd would be a dependency for twenty syscalls.
 *
 * Each check returns what libsystemd returns (1, 0, or -errno) to its
 * binding, which turns a negative answer into OSError as python-systemd does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

#include "ms.h"

/* The kind, and when asked the type and listening state, of a socket fd:
 * sd-daemon's is_socket_internal. type 0 and listening -1 mean "any". */
static int daemon_socket_kind(int fd, int type, int listening) {
  struct stat st;
  if (fstat(fd, &st) < 0) return -errno;
  if (!S_ISSOCK(st.st_mode)) return 0;
  if (type != 0) {
    int other = 0;
    socklen_t l = sizeof other;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &other, &l) < 0) return -errno;
    if (l != sizeof other) return -EINVAL;
    if (other != type) return 0;
  }
  if (listening >= 0) {
    int accepting = 0;
    socklen_t l = sizeof accepting;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &l) < 0) return -errno;
    if (l != sizeof accepting) return -EINVAL;
    if (!accepting != !listening) return 0;
  }
  return 1;
}

static int daemon_sockname(int fd, struct sockaddr_storage *ss, socklen_t *len) {
  *len = sizeof *ss;
  memset(ss, 0, sizeof *ss);
  if (getsockname(fd, (struct sockaddr *)ss, len) < 0) return -errno;
  if (*len < sizeof(sa_family_t)) return -EINVAL;
  return 0;
}

/* Binding tail: a negative answer is the OSError libsystemd's errno gives. */
static int daemon_result(lua_State *L, int r) {
  if (r < 0) return ms_raise_errno(L, -r);
  lua_pushboolean(L, r > 0);
  return 1;
}

static int daemon_fd(lua_State *L, int idx) {
  lua_Integer fd = luaL_checkinteger(L, idx);
  /* libsystemd's assert_return(fd >= 0, -EBADF); a C int past that is EBADF too */
  return fd < 0 || fd > INT_MAX ? -1 : (int)fd;
}

static int daemon_int(lua_State *L, int idx) {
  lua_Integer v = luaL_checkinteger(L, idx);
  luaL_argcheck(L, v >= INT_MIN && v <= INT_MAX, idx, "value out of range");
  return (int)v;
}

/* is_socket(fd, family, type, listening) */
static int daemon_is_socket(lua_State *L) {
  int fd = daemon_fd(L, 1), family = daemon_int(L, 2);
  int type = daemon_int(L, 3), listening = daemon_int(L, 4);
  if (fd < 0) return daemon_result(L, -EBADF);
  if (family < 0 || type < 0) return daemon_result(L, -EINVAL);
  int r = daemon_socket_kind(fd, type, listening);
  if (r <= 0 || family == 0) return daemon_result(L, r);
  struct sockaddr_storage ss;
  socklen_t len;
  if ((r = daemon_sockname(fd, &ss, &len)) < 0) return daemon_result(L, r);
  return daemon_result(L, ss.ss_family == family);
}

/* is_socket_inet(fd, family, type, listening, port); port 0 means any */
static int daemon_is_socket_inet(lua_State *L) {
  int fd = daemon_fd(L, 1), family = daemon_int(L, 2);
  int type = daemon_int(L, 3), listening = daemon_int(L, 4), port = daemon_int(L, 5);
  if (fd < 0) return daemon_result(L, -EBADF);
  if ((family != 0 && family != AF_INET && family != AF_INET6) || type < 0)
    return daemon_result(L, -EINVAL);
  int r = daemon_socket_kind(fd, type, listening);
  if (r <= 0) return daemon_result(L, r);
  struct sockaddr_storage ss;
  socklen_t len;
  if ((r = daemon_sockname(fd, &ss, &len)) < 0) return daemon_result(L, r);
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return daemon_result(L, 0);
  if (family != 0 && ss.ss_family != family) return daemon_result(L, 0);
  if (port > 0) {
    in_port_t p = ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                          : ((struct sockaddr_in6 *)&ss)->sin6_port;
    return daemon_result(L, ntohs(p) == port);
  }
  return daemon_result(L, 1);
}

/* is_socket_unix(fd, type, listening[, path]): an empty path is an unnamed
 * socket, one starting with NUL an abstract name, as sd_is_socket_unix. */
static int daemon_is_socket_unix(lua_State *L) {
  int fd = daemon_fd(L, 1), type = daemon_int(L, 2), listening = daemon_int(L, 3);
  size_t plen = 0;
  const char *path = luaL_optlstring(L, 4, NULL, &plen);
  if (fd < 0) return daemon_result(L, -EBADF);
  if (type < 0) return daemon_result(L, -EINVAL);
  int r = daemon_socket_kind(fd, type, listening);
  if (r <= 0) return daemon_result(L, r);
  struct sockaddr_storage ss;
  socklen_t len;
  if ((r = daemon_sockname(fd, &ss, &len)) < 0) return daemon_result(L, r);
  if (ss.ss_family != AF_UNIX) return daemon_result(L, 0);
  if (!path) return daemon_result(L, 1);
  const char *sun = ((struct sockaddr_un *)&ss)->sun_path;
  size_t base = offsetof(struct sockaddr_un, sun_path);
  if (plen == 0) return daemon_result(L, len == base);
  if (path[0]) return daemon_result(L, len >= base + plen + 1 && memcmp(path, sun, plen + 1) == 0);
  return daemon_result(L, len == base + plen && memcmp(path, sun, plen) == 0);
}

/* is_fifo(fd[, path]): a path that names nothing is "no", not an error. */
static int daemon_is_fifo(lua_State *L) {
  int fd = daemon_fd(L, 1);
  const char *path = luaL_optstring(L, 2, NULL);
  if (fd < 0) return daemon_result(L, -EBADF);
  struct stat st, sp;
  if (fstat(fd, &st) < 0) return daemon_result(L, -errno);
  if (!S_ISFIFO(st.st_mode)) return daemon_result(L, 0);
  if (!path) return daemon_result(L, 1);
  if (stat(path, &sp) < 0) return daemon_result(L, errno == ENOENT || errno == ENOTDIR ? 0 : -errno);
  return daemon_result(L, sp.st_dev == st.st_dev && sp.st_ino == st.st_ino);
}

/* is_mq(fd[, path]): mq_getattr answers EBADF for an fd that is open but
 * no queue, so the fd is checked first. path is the queue's name ("/q"). */
static int daemon_is_mq(lua_State *L) {
  int fd = daemon_fd(L, 1);
  const char *path = luaL_optstring(L, 2, NULL);
  if (fd < 0 || fcntl(fd, F_GETFD) < 0) return daemon_result(L, -EBADF);
  struct mq_attr attr;
  if (mq_getattr(fd, &attr) < 0) return daemon_result(L, errno == EBADF ? 0 : -errno);
  if (!path) return daemon_result(L, 1);
  if (path[0] != '/') return daemon_result(L, -EINVAL);
  struct stat a, b;
  if (fstat(fd, &a) < 0) return daemon_result(L, -errno);
  lua_pushfstring(L, "/dev/mqueue%s", path);
  if (stat(lua_tostring(L, -1), &b) < 0) return daemon_result(L, -errno);
  return daemon_result(L, a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

/* booted(): systemd is PID 1 when it made /run/systemd/system/. */
static int daemon_booted(lua_State *L) {
  if (access("/run/systemd/system/", F_OK) == 0) return daemon_result(L, 1);
  return daemon_result(L, errno == ENOENT ? 0 : -errno);
}

/* _parse(s) -> integer, or nil and errno: libsystemd's reading of
 * LISTEN_PID and LISTEN_FDS (leading blanks, C's 0x and 0 prefixes, and
 * systemd's 0o and 0b; nothing after the digits). */
static int daemon_parse(lua_State *L) {
  const char *s = luaL_checkstring(L, 1);
  s += strspn(s, " \t\n\r");
  int base = 0;
  if (s[0] == '0' && (s[1] == 'o' || s[1] == 'b')) {
    base = s[1] == 'o' ? 8 : 2;
    s += 2;
    if (*s == '+' || *s == '-') return lua_pushnil(L), lua_pushinteger(L, EINVAL), 2;
  }
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, base);
  if (errno) return lua_pushnil(L), lua_pushinteger(L, errno), 2;
  if (end == s || *end) return lua_pushnil(L), lua_pushinteger(L, EINVAL), 2;
  lua_pushinteger(L, v);
  return 1;
}

/* _cloexec(fd) -> 0 or errno: listen_fds keeps the fds from the children. */
static int daemon_cloexec(lua_State *L) {
  int fd = daemon_int(L, 1);
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || (!(flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0))
    lua_pushinteger(L, errno);
  else
    lua_pushinteger(L, 0);
  return 1;
}

/* _unsetenv(name): Lua's os has getenv only. */
static int daemon_unsetenv(lua_State *L) {
  unsetenv(luaL_checkstring(L, 1));
  return 0;
}

int ms_open_daemon(lua_State *L) {
  static const luaL_Reg funcs[] = {{"is_socket", daemon_is_socket},
                                   {"is_socket_inet", daemon_is_socket_inet},
                                   {"is_socket_unix", daemon_is_socket_unix},
                                   {"is_fifo", daemon_is_fifo},
                                   {"is_mq", daemon_is_mq},
                                   {"booted", daemon_booted},
                                   {"_parse", daemon_parse},
                                   {"_cloexec", daemon_cloexec},
                                   {"_unsetenv", daemon_unsetenv},
                                   {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
