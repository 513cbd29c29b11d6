/*
 * The log: one line per event, each starting with an ISO 8601 timestamp
 * (UTC, milliseconds) and a level.  Writes to stderr or to a file that
 * log_reopen() reopens (for SIGHUP after rotation).  Secrets never go here:
 * callers log names, addresses and sizes, never passwords or keys.
 */
#ifndef MISSIVE_LOG_H
#define MISSIVE_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Log to path (appending; NULL = stderr).  quiet: only warnings and errors. */
int log_open(const char *path, int quiet) __attribute__((warn_unused_result));
/* Reopen the log file after rotation; a failure keeps the old stream. */
int log_reopen(void);
void log_close(void);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Format the current time as ISO 8601 UTC with milliseconds (24 bytes + NUL). */
void log_timestamp(char out[32]);

#endif
