/*
 * Validation of user-controlled text: account names, nicknames, and UTF-8.
 *
 * User names: 1 to NAME_USER_MAX bytes of lowercase ASCII letters, digits,
 * '.', '_' and '-', starting with a letter or a digit.  Lowercase only, so
 * that "Alice" and "alice" cannot be two accounts that look alike.
 *
 * Nicknames: 1 to NAME_NICK_MAX bytes of valid UTF-8 without control
 * characters and without '|' (the wire protocol's field separator).
 */
#ifndef MISSIVE_TEXT_H
#define MISSIVE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define NAME_USER_MAX 32
#define NAME_NICK_MAX 64

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates), else 0. */
int utf8_valid(const uint8_t *s, size_t len);

/* 0 if name is a valid user name, else E_BAD_NAME. */
int name_check_user(const char *name);

/* 0 if nick is a valid nickname, else E_BAD_NICK. */
int name_check_nick(const char *nick);

/*
 * Chat text must be 1 to max bytes of valid UTF-8 without control
 * characters (C0, DEL, C1), TAB excepted.  NULL if s is, else why not,
 * as a phrase for an error message ("it is too long").
 */
const char *text_chat_problem(const uint8_t *s, size_t len, size_t max);

/*
 * Make valid UTF-8 safe for a terminal, in place: each control character
 * (C0, DEL, C1) becomes '?', TAB included unless keep_tab.  Returns the
 * new length (never more than before).
 */
size_t text_sanitize(char *s, int keep_tab);

#endif
