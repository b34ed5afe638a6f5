/*
 * A host that creates and destroys the runtime over and over: each round is
 * moonsock_newstate, a small task (a socket pair, a sleep, a refused
 * connect), moonsock_run and moonsock_close. The process must end with the
 * fds it had, and with its memory flat once the first rounds have warmed up
 * malloc and libuv's process-wide state.
 *
 * The bounds, measured between the end of the warm-up and the last round:
 *   open fds (/proc/self/fd): no growth at all;
 *   resident set (/proc/self/statm): at most 1 MiB;
 *   heap in use (mallinfo2): at most 64 KiB, i.e. under 100 bytes a round
 *     for 1,000 rounds, when one runtime alone takes hundreds of KiB.
 *
 * usage: bin/tests/test_lifecycle [rounds]   (default 1000; TAP on stdout)
 */
#include <malloc.h>

#include "tap.h"

#define RSS_BOUND (1024L * 1024)
#define HEAP_BOUND (64L * 1024)

static const char *round_task =
    "local socket, task = require 'socket', require 'task'\n"
    "local a, b = socket.socketpair()\n"
    "local h = task.spawn(function() return b:recv(16) end)\n"
    "task.sleep(0)\n"
    "a:sendall('ping')\n"
    "assert(h:join(5) == 'ping')\n"
    "a:close() b:close()\n"
    "local ok = pcall(socket.create_connection, {'127.0.0.1', 1}, 1)\n"
    "assert(not ok)\n";

static size_t heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

int main(int argc, char **argv) {
  tap_name = "test_lifecycle";
  int rounds = argc > 1 ? atoi(argv[1]) : 1000;
  if (rounds < 2) rounds = 2;
  int warmup = rounds / 10 > 50 ? 50 : rounds / 10 > 0 ? rounds / 10 : 1;
  int failures = 0, fds0 = 0;
  long rss0 = 0;
  size_t heap0 = 0;
  double t0 = now_ms();
  for (int i = 0; i < rounds; i++) {
    lua_State *L = moonsock_newstate();
    if (!L) {
      failures++;
      continue;
    }
    if (moonsock_spawnstring(L, round_task, "=round") != 0 || moonsock_run(L) != 0) {
      if (failures++ == 0) diag("round %d: %s", i, moonsock_lasterror(L) ? moonsock_lasterror(L) : lua_tostring(L, -1));
    }
    moonsock_close(L);
    if (i + 1 == warmup) {
      fds0 = open_fds();
      rss0 = rss_bytes();
      heap0 = heap_in_use();
    }
  }
  double elapsed = now_ms() - t0;
  int fds1 = open_fds();
  long rss1 = rss_bytes();
  size_t heap1 = heap_in_use();
  diag("%d rounds in %.0f ms; after round %d / %d: fds %d / %d, rss %ld / %ld KiB, heap %zu / %zu bytes", rounds,
       elapsed, warmup, rounds, fds0, fds1, rss0 / 1024, rss1 / 1024, heap0, heap1);
  ok(failures == 0, "%d rounds of newstate, a task, run and close: every run returned 0 (%d failed)", rounds, failures);
  ok(fds1 == fds0, "open fds did not grow (%d after round %d, %d after round %d)", fds0, warmup, fds1, rounds);
  ok(rss1 - rss0 <= RSS_BOUND, "resident memory grew by at most 1 MiB (%+ld KiB)", (rss1 - rss0) / 1024);
  ok((long)(heap1 - heap0) <= HEAP_BOUND, "heap in use grew by at most 64 KiB (%+ld bytes)", (long)(heap1 - heap0));
  return done_testing();
}
