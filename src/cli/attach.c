/*
 * moonsock --attach path: the client of repl.serve (lua/repl.lua).
 *
 * The server evaluates; this side edits lines, sends each one, and prints
 * what comes back until the server's next prompt. It needs no Lua at all.
 * Frames both ways: a kind byte, a 4-byte big-endian length, the payload.
 * Without a terminal, stdin's lines are sent one per prompt, so a script
 * piped in runs statement by statement as if typed.
 */
#include "attach.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "lineedit.h"

#define ATTACH_HEAD_LEN 5       /* kind byte + 4-byte length */
#define ATTACH_RECV_MIN 4096    /* room made before each read from the server */
#define ATTACH_RECV_FIRST 16384 /* the receive buffer's first size */
#define ATTACH_STDIN_CHUNK 4096 /* plain mode: bytes read from stdin at once */

/* Frame kinds, as lua/repl.lua's Session sends and reads them. */
enum {
  ATTACH_OUTPUT = 'O',    /* server: text the program printed */
  ATTACH_BANNER = 'B',    /* server: the greeting, shown on a terminal only */
  ATTACH_PROMPT = 'P',    /* server: waiting for a line, with this prompt */
  ATTACH_REFUSED = 'X',   /* server: the session is refused, with why */
  ATTACH_COMPLETE = 'C',  /* both: text to complete / its candidates */
  ATTACH_LINE = 'L',      /* client: a line typed */
  ATTACH_INTERRUPT = 'I'  /* client: Ctrl-C */
};

/* What the session loop does after a step. */
enum { ATTACH_WAIT, ATTACH_AGAIN, ATTACH_DONE, ATTACH_FAILED };

static struct {
  const char *progname;
  int fd;
  char *in;        /* received from the server, not yet whole frames */
  size_t len, cap;
  volatile sig_atomic_t sigint;
  int edit;        /* libedit on a terminal; else plain lines, no prompts */
  int at_prompt;   /* the server waits for a line */
  int input_done;  /* plain mode: stdin has ended */
  char *pending;   /* plain mode: lines read, sent one per prompt */
  size_t plen;
} attach;

static void attach_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void attach_error(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", attach.progname);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fflush(stderr);
}

static int attach_send(char kind, const char *data, size_t len) {
  unsigned char head[ATTACH_HEAD_LEN] = {(unsigned char)kind, (unsigned char)(len >> 24),
                                         (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                                         (unsigned char)len};
  struct iovec iov[2] = {{head, ATTACH_HEAD_LEN}, {(void *)data, len}};
  size_t left = ATTACH_HEAD_LEN + len;
  while (left > 0) {
    ssize_t n = writev(attach.fd, iov, 2);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    left -= (size_t)n;
    for (int i = 0; i < 2 && n > 0; i++) {
      size_t take = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
      iov[i].iov_base = (char *)iov[i].iov_base + take;
      iov[i].iov_len -= take;
      n -= (ssize_t)take;
    }
  }
  return 0;
}

/* Takes a whole frame out of what was received: 1, or 0 if none yet. */
static int attach_next_frame(char *kind, char **data, size_t *len) {
  if (attach.len < ATTACH_HEAD_LEN) return 0;
  const unsigned char *h = (const unsigned char *)attach.in;
  size_t n = ((size_t)h[1] << 24) | ((size_t)h[2] << 16) | ((size_t)h[3] << 8) | h[4];
  if (attach.len < ATTACH_HEAD_LEN + n) return 0;
  *kind = attach.in[0];
  *data = malloc(n + 1);
  if (!*data) return 0;
  memcpy(*data, attach.in + ATTACH_HEAD_LEN, n);
  (*data)[n] = '\0';
  *len = n;
  memmove(attach.in, attach.in + ATTACH_HEAD_LEN + n, attach.len - ATTACH_HEAD_LEN - n);
  attach.len -= ATTACH_HEAD_LEN + n;
  return 1;
}

/* Reads what the server sent: >0, 0 when it closed, -1 on EINTR. */
static ssize_t attach_receive(void) {
  if (attach.cap - attach.len < ATTACH_RECV_MIN) {
    size_t cap = attach.cap ? attach.cap * 2 : ATTACH_RECV_FIRST;
    char *b = realloc(attach.in, cap);
    if (!b) return 0;
    attach.in = b;
    attach.cap = cap;
  }
  ssize_t n = read(attach.fd, attach.in + attach.len, attach.cap - attach.len);
  if (n < 0 && errno == EINTR) return -1;
  if (n <= 0) return 0;
  attach.len += (size_t)n;
  return n;
}

/* The prompt and the line being typed move below the output. */
static void attach_show(const char *data, size_t len, int edit) {
  if (!len) return;
  if (edit) le_hide();
  fwrite(data, 1, len, stdout);
  fflush(stdout);
  if (edit) le_show(data[len - 1] == '\n');
}

/* The candidates, one per line of the server's answer, as lineedit takes them. */
static char **attach_split_lines(char *data, size_t len) {
  size_t n = 1;
  for (size_t i = 0; i < len; i++) n += data[i] == '\n';
  char **list = calloc(n + 1, sizeof *list);
  size_t k = 0;
  for (char *p = data; list && len > 0 && p;) {
    char *nl = strchr(p, '\n');
    if (nl) *nl = '\0';
    list[k++] = strdup(p);
    p = nl ? nl + 1 : NULL;
  }
  return list;
}

/* Asks the server to complete text and waits for the answer: Tab is
 * pressed at a prompt, so the server is idle and answers at once. Output
 * that arrives meanwhile is shown. */
static char **attach_complete(const char *text, void *ud) {
  if (attach_send(ATTACH_COMPLETE, text, strlen(text)) < 0) return NULL;
  for (;;) {
    char kind, *data;
    size_t len;
    while (attach_next_frame(&kind, &data, &len)) {
      if (kind != ATTACH_COMPLETE) {
        if (kind == ATTACH_OUTPUT) attach_show(data, len, 0);
        free(data);
        continue;
      }
      char **list = attach_split_lines(data, len);
      free(data);
      return list;
    }
    if (attach_receive() == 0) return NULL;
  }
}

static void attach_on_sigint(int sig) {
  attach.sigint = 1;
}

static int attach_connect(const char *path) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) {
    attach_error("cannot attach to %s: path too long\n", path);
    return -1;
  }
  strcpy(sa.sun_path, path);
  attach.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (attach.fd < 0 || connect(attach.fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    attach_error("cannot attach to %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* Whoever can write the socket's directory can put a server of their own
 * at the path: it would see every line typed. Only a server of our own
 * uid (the kernel's record of who called listen) gets a line. */
static int attach_check_peer(const char *path) {
  struct ucred cred;
  socklen_t clen = sizeof cred;
  memset(&cred, 0, sizeof cred);
  int known = getsockopt(attach.fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0;
  if (known && cred.uid == geteuid()) return 0;
  if (known)
    attach_error("attach refused: the server at %s runs as uid %ld, not this user's uid %ld\n",
                 path, (long)cred.uid, (long)geteuid());
  else
    attach_error("attach refused: the server at %s gave no credentials: %s\n", path,
                 strerror(errno));
  return -1;
}

/* Handles the whole frames received: -1 if the server refused the session. */
static int attach_take_frames(void) {
  char kind, *data;
  size_t len;
  while (attach_next_frame(&kind, &data, &len)) {
    int refused = 0;
    if (kind == ATTACH_OUTPUT || (kind == ATTACH_BANNER && attach.edit)) {
      attach_show(data, len, attach.edit);
    } else if (kind == ATTACH_PROMPT) {
      attach.at_prompt = 1;
      if (attach.edit) le_prompt(data);
    } else if (kind == ATTACH_REFUSED) {
      fwrite(data, 1, len, stderr);
      refused = 1;
    }
    free(data);
    if (refused) return -1;
  }
  return 0;
}

/* Ctrl-C: the server raises KeyboardInterrupt in what runs, or drops the
 * statement being typed. */
static int attach_interrupt(void) {
  attach.sigint = 0;
  if (attach.edit && attach.at_prompt) le_abandon("^C");
  attach.at_prompt = 0;
  return attach_send(ATTACH_INTERRUPT, "", 0) < 0 ? ATTACH_DONE : ATTACH_AGAIN;
}

/* Plain mode at a prompt: sends the next line read, if a whole one is. */
static int attach_send_pending(void) {
  char *nl = attach.plen ? memchr(attach.pending, '\n', attach.plen) : NULL;
  if (nl || (attach.input_done && attach.plen)) {
    size_t n = nl ? (size_t)(nl - attach.pending) : attach.plen;
    if (attach_send(ATTACH_LINE, attach.pending, n) < 0) return ATTACH_DONE;
    size_t used = nl ? n + 1 : n;
    memmove(attach.pending, attach.pending + used, attach.plen - used);
    attach.plen -= used;
    attach.at_prompt = 0;
    return ATTACH_AGAIN;
  }
  return attach.input_done ? ATTACH_DONE : ATTACH_WAIT;
}

/* Edit mode: feeds libedit the key typed; sends the line once it is whole. */
static int attach_read_edited(void) {
  char *line;
  int r = le_read(&line);
  if (r < 0) return ATTACH_DONE;
  if (r == 1) {
    int failed = attach_send(ATTACH_LINE, line, strlen(line)) < 0;
    le_remember(line);
    free(line);
    attach.at_prompt = 0;
    if (failed) return ATTACH_DONE;
  }
  return ATTACH_AGAIN;
}

/* Plain mode: keeps what stdin has for attach_send_pending. */
static int attach_read_plain(void) {
  char chunk[ATTACH_STDIN_CHUNK];
  ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
  if (n <= 0) {
    if (!(n < 0 && errno == EINTR)) attach.input_done = 1;
    return ATTACH_AGAIN;
  }
  char *b = realloc(attach.pending, attach.plen + (size_t)n);
  if (!b) return ATTACH_DONE;
  attach.pending = b;
  memcpy(attach.pending + attach.plen, chunk, (size_t)n);
  attach.plen += (size_t)n;
  return ATTACH_AGAIN;
}

/* Waits for the server, and for stdin while the server waits for a line:
 * what the server sends is taken first. */
static int attach_wait(void) {
  struct pollfd p[2] = {{attach.fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  int nfds = attach.at_prompt && !attach.input_done ? 2 : 1;
  if (poll(p, (nfds_t)nfds, -1) < 0) return ATTACH_AGAIN; /* EINTR: Ctrl-C */
  if (p[0].revents) {
    if (attach_receive() == 0) { /* the program ended, or closed its server */
      if (attach.edit) le_abandon("");
      fprintf(stderr, "%s: the program closed the connection\n", attach.progname);
      fflush(stderr);
      return ATTACH_FAILED;
    }
    return ATTACH_AGAIN;
  }
  if (nfds < 2 || !p[1].revents) return ATTACH_AGAIN;
  return attach.edit ? attach_read_edited() : attach_read_plain();
}

/* The session: frames shown, Ctrl-C passed on, lines sent at prompts. */
static int attach_session(void) {
  for (;;) {
    if (attach_take_frames() < 0) return EXIT_FAILURE;
    int step = ATTACH_WAIT;
    if (attach.sigint)
      step = attach_interrupt();
    else if (attach.at_prompt && !attach.edit)
      step = attach_send_pending();
    if (step == ATTACH_WAIT) step = attach_wait();
    if (step == ATTACH_DONE) return EXIT_SUCCESS;
    if (step == ATTACH_FAILED) return EXIT_FAILURE;
  }
}

int attach_run(const char *progname, const char *path) {
  memset(&attach, 0, sizeof attach);
  attach.progname = progname;
  if (attach_connect(path) < 0) return EXIT_FAILURE;
  if (attach_check_peer(path) < 0) {
    close(attach.fd);
    return EXIT_FAILURE;
  }
  attach.edit = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  if (attach.edit) le_open(attach_complete, NULL);
  struct sigaction sa_int;
  memset(&sa_int, 0, sizeof sa_int);
  sa_int.sa_handler = attach_on_sigint; /* no SA_RESTART: poll must return */
  sigemptyset(&sa_int.sa_mask);
  sigaction(SIGINT, &sa_int, NULL);
  int code = attach_session();
  if (attach.edit) {
    fputs("\n", stdout);
    fflush(stdout);
    le_close();
  }
  free(attach.pending);
  free(attach.in);
  close(attach.fd);
  return code;
}
