/*
 * What the terminal front ends (line mode, terminal UI) share to read the
 * commands the user types and to word what the core reports.
 */
#ifndef MISSIVE_CLIENT_CMD_H
#define MISSIVE_CLIENT_CMD_H

#include "client/session.h"

/*
 * The next word of *p (ending at a space or the end), NUL-terminated in
 * place; *p moves past it.  "" at the end.
 */
char *cmd_word(char **p);

/* The next word as a room name: "#dev" or "dev" give "dev". */
char *cmd_room_arg(char **p);

/* A key's trust level in words ("pinned, not verified", ...). */
const char *cmd_trust_word(enum session_trust t);

/*
 * The exit status of the terminal front ends for how a session ended
 * (client/main.c lists them): 0 quit, 3 login refused, 4 server key
 * mismatch, 5 unreachable, 6 key not enrolled, 1 otherwise.
 */
int cmd_exit_status(enum session_end end);

#endif
