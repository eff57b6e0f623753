#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "ar";
static _Thread_local char last_msg[1024];   /* per thread: index workers fail apart */
static _Thread_local int last_code = AR_EFAIL;

void ar_set_prog(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    prog = slash ? slash + 1 : argv0;
}

const char *ar_prog(void) { return prog; }

int ar_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    last_code = code;
    return -1;
}

int ar_fail_prefix(const char *fmt, ...)
{
    char ctx[512], old[sizeof last_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    memcpy(old, last_msg, sizeof old);
    size_t n = strlen(ctx);
    if (n > sizeof last_msg - 3)
        n = sizeof last_msg - 3;
    memcpy(last_msg, ctx, n);
    memcpy(last_msg + n, ": ", 2);
    size_t room = sizeof last_msg - n - 3;
    size_t m = strlen(old) < room ? strlen(old) : room;
    memcpy(last_msg + n + 2, old, m);
    last_msg[n + 2 + m] = '\0';
    return -1;
}

const char *ar_last_error(void) { return last_msg[0] ? last_msg : "unknown error"; }
int ar_last_code(void) { return last_code; }

/* Newlines in a message would break the one-line promise: fold them. */
static void print_line(const char *msg)
{
    fprintf(stderr, "%s: ", prog);
    for (const char *p = msg; *p; p++)
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stderr);
    fputc('\n', stderr);
}

void ar_die_last(void)
{
    fflush(stdout);
    print_line(ar_last_error());
    exit(last_code);
}

void ar_die(int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fflush(stdout);
    print_line(msg);
    exit(code);
}

void ar_warn(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: warning: %s\n", prog, msg);
}

int ar_finish_stdout(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno == EPIPE)
            return code;
        fprintf(stderr, "%s: write error on stdout: %s\n", prog, strerror(errno));
        return AR_EFAIL;
    }
    return code;
}
