/*
 * libedit glue for the moonsock command (the REPL and the attach client),
 * with the history file and the locale keys are decoded in. No Lua here.
 * libedit's readline emulation offers a callback interface
 * (rl_callback_handler_install / rl_callback_read_char) that reads one key
 * per call: the REPL calls le_read only once the loop has seen fd 0
 * readable, so tasks keep running while the user types.
 *
 * Two libedit habits shape this file. Its callback mode turns itself off when
 * a line ends (the terminal goes back to cooked mode), so every new line needs
 * le_prompt, which also redraws the prompt. And it catches signals itself
 * unless told not to: SIGINT must reach moonsock's scheduler instead.
 */
#include "lineedit.h"

#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>

#define LE_HISTORY_MAX 1000     /* statements kept in the history file */
#define LE_HISTORY_PATH_MAX 4096
#define LE_HISTORY_UMASK 077    /* the history file is the user's alone */
#define LE_DEFAULT_COLUMNS 80   /* when the terminal does not say */
#define LE_UTF8_CONT_MASK 0xC0  /* a continuation byte has its top two bits 10 */
#define LE_UTF8_CONT 0x80

static struct {
  int open;
  int active;          /* a prompt and the line being edited are on screen */
  int done;            /* the callback handed over a line (or EOF) */
  char *line;          /* that line; NULL at EOF */
  char *histfile;
  char *last;          /* the last statement remembered, not stored twice */
  le_completer complete;
  void *ud;
} le;

/* ---- completion ---- */

static char **le_matches;
static size_t le_next_match;

static void le_free_matches(void) {
  if (!le_matches) return;
  for (size_t i = 0; le_matches[i]; i++) free(le_matches[i]);
  free(le_matches);
  le_matches = NULL;
}

/* readline's generator protocol: state 0 starts a new word. */
static char *le_generate(const char *text, int state) {
  if (state == 0) {
    le_free_matches();
    le_matches = le.complete ? le.complete(text, le.ud) : NULL;
    le_next_match = 0;
  }
  if (!le_matches || !le_matches[le_next_match]) return NULL;
  return strdup(le_matches[le_next_match++]);
}

static char **le_attempt(const char *text, int start, int end) {
  rl_attempted_completion_over = 1; /* never fall back to file names */
  return rl_completion_matches(text, le_generate);
}

/* ---- opening and closing ---- */

/* $MOONSOCK_HISTORY (set and empty: no history), else ~/.moonsock_history. */
static const char *le_history_path(char *buf, size_t size) {
  const char *env = getenv("MOONSOCK_HISTORY");
  if (env) return *env ? env : NULL;
  const char *home = getenv("HOME");
  if (!home || !*home) return NULL;
  snprintf(buf, size, "%s/.moonsock_history", home);
  return buf;
}

/* libedit decodes keys by the locale's character set, and drops what the
 * C locale's ASCII cannot say: take the user's locale for LC_CTYPE, and
 * UTF-8 when that is plain C (as Python does). Lua's lexer ignores it. */
static void le_editing_locale(void) {
  setlocale(LC_CTYPE, "");
  const char *cs = nl_langinfo(CODESET);
  if (!cs || strcmp(cs, "ANSI_X3.4-1968") == 0) setlocale(LC_CTYPE, "C.UTF-8");
}

void le_open(le_completer complete, void *ud) {
  static int registered;
  char pathbuf[LE_HISTORY_PATH_MAX];
  const char *histfile = le_history_path(pathbuf, sizeof pathbuf);
  le_editing_locale();
  memset(&le, 0, sizeof le);
  le.complete = complete;
  le.ud = ud;
  rl_readline_name = "moonsock"; /* for ~/.editrc */
  rl_catch_signals = 0;
  rl_instream = stdin;
  rl_outstream = stdout;
  rl_attempted_completion_function = le_attempt;
  /* '.' and ':' stay inside a word, so socket.geth and s:set complete whole. */
  rl_basic_word_break_characters = " \t\n\"'`@$><=;|&{}()[],+-*/%^~#";
  rl_completion_append_character = '\0';
  using_history(); /* initialises libedit */
  if (!registered++) atexit(le_close); /* os.exit() at a prompt must not leave the tty raw */
  stifle_history(LE_HISTORY_MAX);
  if (histfile && *histfile) {
    le.histfile = strdup(histfile);
    read_history(le.histfile);
  }
  le.open = 1;
}

void le_close(void) {
  if (!le.open) return;
  if (le.active) rl_callback_handler_remove();
  le.active = 0;
  le_free_matches();
  free(le.histfile);
  free(le.last);
  free(le.line);
  le.open = 0;
}

/* ---- reading ---- */

static void le_on_line(char *line) {
  le.done = 1;
  le.line = line;
}

void le_prompt(const char *prompt) {
  if (le.active) rl_callback_handler_remove();
  free(le.line);
  le.line = NULL;
  le.done = 0;
  le.active = 1;
  rl_callback_handler_install(prompt, le_on_line); /* draws the prompt */
  rl_point = rl_end = 0; /* libedit updates them only after a key */
  fflush(stdout);
}

/* A hung-up terminal stays readable and libedit then reads nothing, which
 * would spin: readable with no byte waiting means the input has ended. */
static int le_input_ended(void) {
  struct pollfd p = {0, POLLIN, 0};
  if (poll(&p, 1, 0) < 0) return 0;
  if (p.revents & (POLLERR | POLLNVAL)) return 1;
  if (!(p.revents & (POLLIN | POLLHUP))) return 0;
  int n = 0;
  if (ioctl(0, FIONREAD, &n) < 0) return 1;
  return n == 0;
}

int le_read(char **line) {
  *line = NULL;
  if (!le.active) return 0;
  if (le_input_ended()) {
    rl_callback_handler_remove();
    le.active = 0;
    return -1;
  }
  rl_callback_read_char();
  fflush(stdout);
  if (!le.done) return 0;
  le.active = 0; /* libedit has left callback mode and the cooked tty is back */
  le.done = 0;
  *line = le.line;
  le.line = NULL;
  return *line ? 1 : -1;
}

/* ---- the screen ---- */

/* Terminal columns taken by s[0..n), skipping what the prompt marks as
 * invisible (between \1 and \2) and UTF-8 continuation bytes. */
static int le_width(const char *s, size_t n) {
  int w = 0, hidden = 0;
  for (size_t i = 0; i < n && s[i]; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == RL_PROMPT_START_IGNORE) hidden = 1;
    else if (c == RL_PROMPT_END_IGNORE) hidden = 0;
    else if (!hidden && (c & LE_UTF8_CONT_MASK) != LE_UTF8_CONT) w++;
  }
  return w;
}

static int le_columns(void) {
  int cols = 0;
  rl_get_screen_size(NULL, &cols);
  return cols > 0 ? cols : LE_DEFAULT_COLUMNS;
}

/* How many rows the cursor sits below the prompt's row, and how many rows
 * the edited line reaches below the cursor. */
static void le_rows(int *above, int *below, int *endcol) {
  int cols = le_columns();
  int plen = rl_prompt ? le_width(rl_prompt, strlen(rl_prompt)) : 0;
  const char *buf = rl_line_buffer ? rl_line_buffer : "";
  int at = plen + le_width(buf, (size_t)rl_point);
  int end = plen + le_width(buf, (size_t)rl_end);
  *above = at / cols;
  *below = end / cols - at / cols;
  *endcol = end % cols;
}

/* Leaves the line on screen, followed by mark, with the cursor below. */
void le_abandon(const char *mark) {
  if (!le.active) return;
  int above, below, endcol;
  le_rows(&above, &below, &endcol);
  if (below > 0) printf("\033[%dB", below);
  fputs("\r", stdout);
  if (endcol > 0) printf("\033[%dC", endcol);
  rl_callback_handler_remove();
  le.active = 0;
  fputs(mark, stdout);
  fputs("\n", stdout);
  fflush(stdout);
}

void le_hide(void) {
  if (!le.active) return;
  int above, below, endcol;
  le_rows(&above, &below, &endcol);
  fputs("\r", stdout);
  if (above > 0) printf("\033[%dA", above);
  fputs("\033[J", stdout);
  fflush(stdout);
}

void le_show(int at_line_start) {
  if (!le.active) return;
  if (!at_line_start) fputs("\n", stdout);
  fflush(stdout);
  rl_forced_update_display(); /* the prompt and the line, from column 0 */
  fflush(stdout);
}

/* ---- history ---- */

void le_remember(const char *statement) {
  if (!le.open || !*statement) return;
  if (le.last && strcmp(le.last, statement) == 0) return;
  free(le.last);
  le.last = strdup(statement);
  add_history(statement);
  if (le.histfile) {
    /* The history may hold secrets typed at the prompt. */
    mode_t old = umask(LE_HISTORY_UMASK);
    write_history(le.histfile);
    umask(old);
  }
}
