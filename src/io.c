/*
 * One uv_poll_t per fd, started only while some task waits on it: a level-
 * triggered poll left running on a readable fd nobody reads would spin.
 */
#include "io.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

static int map_put(ms_iomap *map, int fd, ms_io *io) {
  if (fd >= map->size) {
    int size = map->size ? map->size : 64;
    while (size <= fd) size *= 2;
    ms_io **slot = realloc(map->slot, sizeof *slot * (size_t)size);
    if (!slot) return UV_ENOMEM;
    memset(slot + map->size, 0, sizeof *slot * (size_t)(size - map->size));
    map->slot = slot;
    map->size = size;
  }
  map->slot[fd] = io;
  return 0;
}

void ms_io_init(ms_io *io, uv_loop_t *loop, ms_iomap *map, int fd) {
  io->fd = fd;
  io->loop = loop;
  io->map = NULL;
  io->poll = NULL;
  io->polled = 0;
  io->drained = 0;
  io->waiters = NULL;
  io->waiters_tail = &io->waiters;
  io->refs = 0;
  io->temporary = 0;
  /* Without a slot the io still works; select just cannot find it and
   * watches the fd through an io of its own. */
  if (map && fd >= 0 && map_put(map, fd, io) == 0) io->map = map;
}

ms_io *ms_iomap_get(ms_iomap *map, int fd) {
  return fd >= 0 && fd < map->size ? map->slot[fd] : NULL;
}

void ms_iomap_free(ms_iomap *map) {
  free(map->slot);
  map->slot = NULL;
  map->size = 0;
}

static void on_poll(uv_poll_t *h, int status, int events);

static void unlink_waiter(ms_io *io, ms_waiter *w) {
  if (!w->pprev) return;
  *w->pprev = w->next;
  if (w->next)
    w->next->pprev = w->pprev;
  else
    io->waiters_tail = w->pprev;
  w->next = NULL;
  w->pprev = NULL;
}

/* Makes the poll handle watch exactly the union of the waiters' events. */
static int update_poll(ms_io *io) {
  int want = 0;
  for (ms_waiter *w = io->waiters; w; w = w->next) want |= w->events;
  if (want == io->polled) return 0;
  io->polled = want;
  if (!want) return uv_poll_stop(io->poll);
  return uv_poll_start(io->poll, want, on_poll);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  ms_io *io = h->data;
  if (status < 0 || (events & UV_READABLE)) io->drained = 0;
  /* Wake every waiter whose events came (all of them on an error): each
   * retries its syscall, so waking one too many only costs an EAGAIN. */
  ms_waiter *w = io->waiters;
  ms_waiter *ready = NULL, **tail = &ready;
  while (w) {
    ms_waiter *next = w->next;
    if (status < 0 || (w->events & events)) {
      unlink_waiter(io, w);
      *tail = w;
      w->next = NULL;
      tail = &w->next;
    }
    w = next;
  }
  /* A woken task usually waits again for the same events right away: keep
   * watching, so that costs no epoll_ctl. Only a callback that finds nobody
   * waiting narrows or stops the watch. On an error libuv has stopped the
   * handle itself. */
  if (status < 0) io->polled = 0;
  if (status < 0 || !ready) update_poll(io);
  while (ready) {
    ms_waiter *next = ready->next;
    ready->next = NULL;
    ready->ready(ready, status < 0 ? status : 0);
    ready = next;
  }
}

static int make_poll(ms_io *io) {
  io->poll = malloc(sizeof *io->poll);
  if (!io->poll) return UV_ENOMEM;
  int rc = uv_poll_init_socket(io->loop, io->poll, io->fd);
  if (rc) {
    free(io->poll);
    io->poll = NULL;
    return rc;
  }
  io->poll->data = io;
  return 0;
}

/* libuv makes every fd it polls non-blocking. An inherited fd (stdin,
 * stdout) shares that flag with the other processes using its open file,
 * which would then see EAGAIN where they expect to block: it is put back. */
int ms_io_prepare(ms_io *io) {
  if (io->fd < 0) return UV_EBADF;
  if (io->poll) return 0;
  int flags = fcntl(io->fd, F_GETFL);
  int rc = make_poll(io);
  if (flags >= 0) fcntl(io->fd, F_SETFL, flags);
  return rc;
}

int ms_io_wait(ms_io *io, ms_waiter *w, int events) {
  if (io->fd < 0) return UV_EBADF;
  if (!io->poll) {
    int rc = make_poll(io);
    if (rc) return rc;
  }
  /* Appended: several tasks waiting on one socket (acceptors, readers)
   * are woken, and so served, in the order they came. */
  w->events = events;
  w->next = NULL;
  w->pprev = io->waiters_tail;
  *io->waiters_tail = w;
  io->waiters_tail = &w->next;
  int want = io->polled | events;
  if (want != io->polled) {
    int rc = uv_poll_start(io->poll, want, on_poll);
    if (rc) {
      unlink_waiter(io, w);
      return rc;
    }
    io->polled = want;
  }
  return 0;
}

void ms_io_unwait(ms_io *io, ms_waiter *w) {
  unlink_waiter(io, w);
  if (io->poll) update_poll(io);
}

static void free_handle(uv_handle_t *h) { free(h); }

void ms_io_close(ms_io *io) {
  ms_waiter *w = io->waiters;
  io->waiters = NULL;
  io->waiters_tail = &io->waiters;
  if (io->poll) {
    uv_poll_stop(io->poll);
    io->poll->data = NULL;
    uv_close((uv_handle_t *)io->poll, free_handle);
    io->poll = NULL;
  }
  io->polled = 0;
  io->drained = 0;
  if (io->map && io->fd >= 0 && io->fd < io->map->size && io->map->slot[io->fd] == io)
    io->map->slot[io->fd] = NULL;
  io->map = NULL;
  io->fd = -1;
  while (w) {
    ms_waiter *next = w->next;
    w->next = NULL;
    w->pprev = NULL;
    w->ready(w, MS_IO_CLOSED);
    w = next;
  }
}
