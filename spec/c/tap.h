/*
 * The C tests' TAP output and the helpers they share. Each check prints one
 * "ok N - text" or "not ok N - text" line; the plan "1..N" comes last, so a
 * program that dies halfway has no plan and spec/c/run counts it as failed.
 */
#ifndef SPEC_C_TAP_H
#define SPEC_C_TAP_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "moonsock.h"

static int tap_count, tap_failures;
static const char *tap_name = "c"; /* the program's name, in every line */

/* One line per check: the rest of a multi-line description (an error and
 * its traceback) follows as diagnostics when the check failed. */
__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...) {
  va_list ap;
  char buf[4096];
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  tap_count++;
  if (!cond) tap_failures++;
  char *rest = strchr(buf, '\n');
  if (rest) *rest++ = '\0';
  printf("%sok %d - %s: %s\n", cond ? "" : "not ", tap_count, tap_name, buf);
  if (!cond && rest)
    for (char *line = strtok(rest, "\n"); line; line = strtok(NULL, "\n")) printf("#   %s\n", line);
  fflush(stdout);
  return cond;
}

/* Diagnostics: "# " lines, which TAP readers (and spec/c/run) ignore. */
__attribute__((format(printf, 1, 2))) static inline void diag(const char *fmt, ...) {
  va_list ap;
  char buf[4096];
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) printf("# %s\n", line);
  fflush(stdout);
}

static inline int done_testing(void) {
  printf("1..%d\n", tap_count);
  fflush(stdout);
  return tap_failures ? 1 : 0;
}

/* ---- helpers ---- */

/* Monotonic milliseconds. */
static inline double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int contains(const char *s, const char *part) { return s && part && strstr(s, part); }

/* The kernel's count of this process's open fds. */
static inline int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1; /* the directory's own fd */
}

/* Resident set size in bytes, from /proc/self/statm. */
static inline long rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = -1;
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* Runs code in L outside any task; returns the first result as a string
 * (static buffer), or NULL with the error printed as a diagnostic. */
static inline const char *eval(lua_State *L, const char *code) {
  static char buf[4096];
  int top = lua_gettop(L);
  if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    diag("eval(%s): %s", code, lua_tostring(L, -1));
    lua_settop(L, top);
    return NULL;
  }
  snprintf(buf, sizeof buf, "%s", luaL_tolstring(L, -1, NULL));
  lua_settop(L, top);
  return buf;
}

/* The integer value of global name, or fallback when it is not one. */
static inline long long global_int(lua_State *L, const char *name, long long fallback) {
  lua_getglobal(L, name);
  int isnum;
  long long v = lua_tointegerx(L, -1, &isnum);
  lua_pop(L, 1);
  return isnum ? v : fallback;
}

/* The string value of global name (static buffer), or NULL. */
static inline const char *global_str(lua_State *L, const char *name) {
  static char buf[4096];
  lua_getglobal(L, name);
  const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  if (s) snprintf(buf, sizeof buf, "%s", s);
  lua_pop(L, 1);
  return s ? buf : NULL;
}

/* Spawns code as a host task; reports a failure as a diagnostic. */
static inline int spawn_code(lua_State *L, const char *code, const char *chunkname) {
  if (moonsock_spawnstring(L, code, chunkname) == 0) return 0;
  diag("spawnstring(%s): %s", chunkname ? chunkname : code, lua_tostring(L, -1));
  lua_pop(L, 1);
  return -1;
}

/* Writes content to a new temp file; returns its path (malloc'd). */
static inline char *temp_file(const char *content, const char *suffix) {
  char *path = malloc(64);
  snprintf(path, 64, "/tmp/moonsock-ctest-XXXXXX%s", suffix);
  int fd = mkstemps(path, (int)strlen(suffix));
  if (fd < 0) {
    free(path);
    return NULL;
  }
  size_t len = strlen(content);
  if (write(fd, content, len) != (ssize_t)len) {
    close(fd);
    unlink(path);
    free(path);
    return NULL;
  }
  close(fd);
  return path;
}

/* The first line a shell command prints (static buffer), or NULL. */
static inline const char *command_line(const char *cmd) {
  static char buf[4096];
  FILE *p = popen(cmd, "r");
  if (!p) return NULL;
  char *line = fgets(buf, sizeof buf, p);
  int status = pclose(p);
  if (!line || status != 0) return NULL;
  buf[strcspn(buf, "\n")] = '\0';
  return buf;
}

/* Runs fn(arg) in a child process; returns its wait status, so a check
 * whose failure mode is a crash cannot take the other checks with it. */
static inline int in_child(int (*fn)(void *), void *arg) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) _exit(fn(arg));
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

static inline const char *describe_status(int status) {
  static char buf[64];
  if (status == -1) snprintf(buf, sizeof buf, "fork failed");
  else if (WIFSIGNALED(status)) snprintf(buf, sizeof buf, "killed by signal %d", WTERMSIG(status));
  else snprintf(buf, sizeof buf, "exit status %d", WEXITSTATUS(status));
  return buf;
}

#endif
