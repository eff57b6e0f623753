/* Error reporting and exit codes shared by every tool.
 *
 * Library functions report failure with ar_fail(), which records a one-line
 * message and an exit code and returns -1, so callers write
 * `return ar_fail(AR_EINPUT, "card %s: not found", id);`. The front end
 * then calls ar_die_last() to print "prog: message" and exit with that code.
 * Messages are lower-case, start with what failed, name the path, field or
 * value, and never end with a period. */
#ifndef AR_ERR_H
#define AR_ERR_H

enum ar_exit {
    AR_OK = 0,      /* success */
    AR_EFAIL = 1,   /* failure at run time: I/O, lock timeout, crash */
    AR_EINPUT = 2,  /* usage error or invalid input */
};

#define AR_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Name printed before every message; set once in main (argv[0]'s base). */
void ar_set_prog(const char *argv0);
const char *ar_prog(void);

/* Records message and code of the latest failure; returns -1. */
int ar_fail(int code, const char *fmt, ...) AR_PRINTF(2, 3);
/* Adds context in front of the recorded message: "ctx: old message". */
int ar_fail_prefix(const char *fmt, ...) AR_PRINTF(1, 2);
const char *ar_last_error(void);
int ar_last_code(void);

/* Prints "prog: message" for the recorded failure and exits with its code. */
void ar_die_last(void) __attribute__((noreturn));
void ar_die(int code, const char *fmt, ...) AR_PRINTF(2, 3) __attribute__((noreturn));
void ar_warn(const char *fmt, ...) AR_PRINTF(1, 2);

/* Call before returning from main: a failed write to stdout (full disk,
 * closed pipe) is an error, not silent success. Returns the exit code. */
int ar_finish_stdout(int code);

#endif
