/*
 * fd readiness over libuv, with no Lua in sight: a socket (or any fd) owns one
 * ms_io; tasks wait on it through an ms_waiter they embed.
 */
#ifndef MS_IO_H
#define MS_IO_H

#include <uv.h>

/* The status a waiter gets when its io is closed under it. libuv reports a
 * POLLERR as UV_EBADF, so closing needs a status of its own. */
#define MS_IO_CLOSED (-0x4d53)

typedef struct ms_waiter ms_waiter;
struct ms_waiter {
  ms_waiter *next, **pprev; /* links in the io's list while waiting */
  int events;               /* UV_READABLE and/or UV_WRITABLE */
  /* Called once when the wait ends: status 0 ready, MS_IO_CLOSED, or a
   * libuv poll error (then the syscall tells what is wrong). The waiter is already unlinked. */
  void (*ready)(ms_waiter *w, int status);
};

typedef struct ms_io ms_io;

/* fd -> the ms_io watching it. libuv keeps one watcher per fd, so a socket
 * object and a select() on the same fd must share one ms_io. */
typedef struct ms_iomap {
  ms_io **slot;
  int size;
} ms_iomap;

struct ms_io {
  int fd;
  uv_loop_t *loop;
  ms_iomap *map;   /* where it is registered while it has an fd */
  uv_poll_t *poll; /* allocated on the first wait; freed after uv_close */
  int polled;      /* the events the poll handle watches now */
  /* A read found the fd's buffer empty, and no poll reported it readable
   * since: while the poll watches for that, the next read can wait for it
   * first instead of trying a syscall that will say EAGAIN. */
  int drained;
  /* In the order they started waiting: woken first come, first served. */
  ms_waiter *waiters, **waiters_tail;
  int refs;        /* for select's own ios of bare fds: waits in progress */
  int temporary;   /* made by select for a bare fd; freed when refs drop to 0 */
};

/* Initialises io for fd and registers it in map (when fd >= 0 and map). */
void ms_io_init(ms_io *io, uv_loop_t *loop, ms_iomap *map, int fd);
ms_io *ms_iomap_get(ms_iomap *map, int fd);
void ms_iomap_free(ms_iomap *map);
/* Makes io's poll handle now, leaving the fd's O_NONBLOCK as it was (for an
 * inherited fd); 0, or a libuv error code (UV_EPERM: a regular file). */
int ms_io_prepare(ms_io *io);
/* Starts waiting for events on io; returns 0 or a libuv error code. */
int ms_io_wait(ms_io *io, ms_waiter *w, int events);
/* Stops a wait that has not ended yet (a timeout, a cancel). */
void ms_io_unwait(ms_io *io, ms_waiter *w);
/* Ends every wait with MS_IO_CLOSED and releases the poll handle; the caller
 * closes the fd afterwards. Safe to call twice. */
void ms_io_close(ms_io *io);

#endif
