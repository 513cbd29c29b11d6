/*
 * Secrets that come from files or the terminal: database passwords, user
 * passwords.  Every buffer returned here is wiped before it is freed.
 */
#ifndef MISSIVE_SECRET_H
#define MISSIVE_SECRET_H

#include <stddef.h>

#define SECRET_MAX 1024

/*
 * Read a secret from the file at path: its whole content without one
 * trailing newline.  Refuses a file that group or others may read or write
 * (E_KEY_PERM), an empty one (E_MALFORMED), one longer than SECRET_MAX
 * (E_TOO_LONG), and one with a NUL or a second line (E_MALFORMED).
 * On success *out is a NUL-terminated string for secret_free().
 */
int secret_read_file(const char *path, char **out)
    __attribute__((warn_unused_result));

/*
 * Ask for a secret on the controlling terminal without echo.  Fails with
 * E_IO if there is no terminal.  On success *out is for secret_free().
 */
int secret_prompt(const char *prompt, char **out)
    __attribute__((warn_unused_result));

/*
 * A password from file (if not NULL) or else from the terminal.  With
 * confirm set (choosing a new password) the terminal asks twice and both
 * must match (E_PASSWORD otherwise).
 */
int secret_password(const char *file, const char *prompt, int confirm,
    char **out) __attribute__((warn_unused_result));

/* Wipe and free a secret (NULL is fine). */
void secret_free(char *s);

#endif
