/*
 * Hosts that keep their own loop: a poll() loop driven by moonsock_fd and
 * moonsock_timeout, and a libuv loop of the host's (moonsock_open with it,
 * the host's uv_run driving both). The host side talks plain C sockets to a
 * server written in Lua, so what it sends is what it must get back.
 *
 * usage: bin/tests/test_hostloop        (TAP on stdout)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <uv.h>

#include "tap.h"

/* A Lua echo server for one client; PORT is set once it listens. */
static const char *echo_server =
    "local socket = require 'socket'\n"
    "local server = socket.create_server({'127.0.0.1', 0})\n"
    "PORT = server:getsockname()[2]\n"
    "local conn = server:accept()\n"
    "server:close()\n"
    "while true do\n"
    "  local data = conn:recv(4096)\n"
    "  if data == '' then break end\n"
    "  conn:sendall(data)\n"
    "end\n"
    "conn:close()\n";

static int connect_nonblocking(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

/* ---- a poll() loop of the host's ---- */

static void test_poll_loop(void) {
  lua_State *L = moonsock_newstate();
  spawn_code(L, echo_server, "=echo");
  const char message[] = "hello from the host's own poll loop";
  char reply[256] = "";
  size_t sent = 0, got = 0;
  int client = -1, steps = 0, fd_wakeups = 0, done = 0, eof = 0;
  double t0 = now_ms();
  /* The host's loop: moonsock's fd and the host's own socket in one poll. */
  while (!done && steps < 10000 && now_ms() - t0 < 10000) {
    steps++;
    if (client < 0 && global_int(L, "PORT", 0) > 0) client = connect_nonblocking((int)global_int(L, "PORT", 0));
    struct pollfd fds[2] = {{.fd = moonsock_fd(L), .events = POLLIN}, {.fd = client, .events = 0}};
    if (client >= 0 && !eof) fds[1].events = sent < sizeof message ? POLLOUT : POLLIN;
    int n = poll(fds, client >= 0 ? 2 : 1, moonsock_timeout(L));
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) fd_wakeups++;
    if (client >= 0 && (fds[1].revents & POLLOUT)) {
      ssize_t w = send(client, message + sent, sizeof message - sent, MSG_NOSIGNAL);
      if (w > 0) sent += (size_t)w;
    }
    if (client >= 0 && (fds[1].revents & POLLIN)) {
      ssize_t r = recv(client, reply + got, sizeof reply - 1 - got, 0);
      if (r > 0) got += (size_t)r;
      if (r > 0 && got == sizeof message) shutdown(client, SHUT_WR); /* the server's recv gets '' */
      if (r == 0) eof = 1;
    }
    int r = moonsock_run_nowait(L);
    if (r == 0) done = 1;
    if (r < 0) {
      diag("run_nowait: %s", moonsock_lasterror(L));
      break;
    }
  }
  ok(client >= 0, "poll loop: the Lua server listened on a port the host could connect to");
  ok(got == sizeof message && memcmp(reply, message, sizeof message) == 0,
     "poll loop: the host's client got its message back (%zu of %zu bytes)", got, sizeof message);
  ok(done, "poll loop: run_nowait returned 0 once the server task ended (%d steps)", steps);
  ok(fd_wakeups > 0, "poll loop: moonsock_fd woke the host's poll (%d times)", fd_wakeups);
  if (client >= 0) close(client);

  /* A timer: the host sleeps in poll() for moonsock_timeout, not in a busy loop. */
  spawn_code(L, "require('task').sleep(0.15) TIMER_DONE = true", "=timer");
  int r = moonsock_run_nowait(L);
  int timeout = moonsock_timeout(L);
  /* At most 151: the scheduler adds 1 ms to every timer (see task.c). */
  ok(r == 1 && timeout > 100 && timeout <= 151, "poll loop: while a task sleeps 0.15 s moonsock_timeout is %d ms",
     timeout);
  t0 = now_ms();
  steps = 0;
  int timeouts = 0;
  while (r == 1 && steps < 1000) {
    steps++;
    struct pollfd pfd = {.fd = moonsock_fd(L), .events = POLLIN};
    if (poll(&pfd, 1, moonsock_timeout(L)) == 0) timeouts++;
    r = moonsock_run_nowait(L);
  }
  double elapsed = now_ms() - t0;
  lua_getglobal(L, "TIMER_DONE");
  int timer_done = lua_toboolean(L, -1);
  lua_pop(L, 1);
  ok(r == 0 && timer_done, "poll loop: the sleeping task ended");
  ok(elapsed >= 100 && steps <= 5 && timeouts >= 1,
     "poll loop: the host slept in poll (%d steps, %d poll timeouts, %.0f ms)", steps, timeouts, elapsed);
  moonsock_close(L);
}

/* ---- a libuv loop of the host's ---- */

static int ticks;
static void on_tick(uv_timer_t *t) {
  (void)t;
  ticks++;
}

static void test_uv_loop(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_timer_t timer;
  uv_timer_init(&loop, &timer);
  uv_timer_start(&timer, on_tick, 5, 5);
  uv_unref((uv_handle_t *)&timer); /* the host's loop then ends with moonsock's tasks */

  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  ok(moonsock_open(L, &loop) == 0, "uv loop: moonsock_open on the host's uv_loop_t returns 0");
  ok(moonsock_fd(L) == uv_backend_fd(&loop), "uv loop: moonsock_fd is the host loop's backend fd");
  spawn_code(L,
             "local socket, task = require 'socket', require 'task'\n"
             "local server = socket.create_server({'127.0.0.1', 0})\n"
             "local port = server:getsockname()[2]\n"
             "local echo = task.spawn(function()\n"
             "  local conn = server:accept()\n"
             "  conn:sendall(conn:recv(100))\n"
             "  conn:close()\n"
             "end)\n"
             "task.sleep(0.05)\n"
             "local c = socket.create_connection({'127.0.0.1', port}, 5)\n"
             "c:sendall('over the host loop')\n"
             "REPLY = c:recv(100)\n"
             "c:close()\n"
             "echo:join(5)\n"
             "server:close()\n",
             "=uvtask");
  double t0 = now_ms();
  int alive = uv_run(&loop, UV_RUN_DEFAULT);
  const char *reply = global_str(L, "REPLY");
  ok(alive == 0 && now_ms() - t0 < 10000, "uv loop: the host's uv_run returned when moonsock's tasks ended");
  ok(reply && strcmp(reply, "over the host loop") == 0, "uv loop: the task's echo came back (%s)", reply);
  ok(ticks >= 5, "uv loop: the host's own timer ran meanwhile (%d ticks)", ticks);

  /* moonsock_run on the host's loop, with a socket left open and a task
   * parked on it when the state closes. */
  spawn_code(L,
             "local socket, task = require 'socket', require 'task'\n"
             "LEFT = socket.create_server({'127.0.0.1', 0})\n"
             "task.spawn_daemon(function() LEFT:accept() end)\n"
             "task.sleep(0.01)\n",
             "=left");
  ok(moonsock_run(L) == 0, "uv loop: moonsock_run runs tasks on the host's loop too");
  moonsock_close(L);
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&loop);
  ok(rc == 0, "uv loop: after moonsock_close the host's loop closes: moonsock left no handle in it (%s)",
     rc ? uv_strerror(rc) : "0");
}

int main(void) {
  tap_name = "test_hostloop";
  test_poll_loop();
  test_uv_loop();
  return done_testing();
}
