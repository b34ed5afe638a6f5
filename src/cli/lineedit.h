/*
 * Line editing for the moonsock command (the REPL and the attach client),
 * over libedit's readline callback interface: the caller feeds a character
 * whenever fd 0 is readable, so waiting for the user never blocks anything
 * else. No Lua here; only bin/moonsock links it (libedit stays out of the
 * libraries).
 */
#ifndef MS_LINEEDIT_H
#define MS_LINEEDIT_H

/* Returns the completions of text as a malloc'd, NULL-terminated array of
 * malloc'd strings (or NULL for none); lineedit frees them. */
typedef char **(*le_completer)(const char *text, void *ud);

/* Sets the terminal up for editing, with the user's locale (UTF-8 for
 * plain C) for decoding keys; history comes from and goes to
 * $MOONSOCK_HISTORY (set and empty: none) or ~/.moonsock_history. */
void le_open(le_completer complete, void *ud);
/* Restores the terminal. */
void le_close(void);

/* Shows prompt and starts editing a new line. */
void le_prompt(const char *prompt);
/* Reads what fd 0 has: 0 while the line is being edited, 1 when it is
 * complete (*line is malloc'd, the caller frees it; the prompt is gone),
 * -1 on end of input (Ctrl-D on an empty line). */
int le_read(char **line);
/* Gives up the line being edited: it stays on screen followed by mark ("^C"
 * for Ctrl-C, as bash shows it), the cursor moves below it, and the prompt
 * is gone until le_prompt. */
void le_abandon(const char *mark);
/* Adds a complete statement to the history (and saves the file). */
void le_remember(const char *statement);

/* Around output written while a prompt is shown: le_hide clears the prompt
 * and the partial line, le_show draws them again below the output (after a
 * newline if the output did not end a line). Both do nothing otherwise. */
void le_hide(void);
void le_show(int at_line_start);

#endif
