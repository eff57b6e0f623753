#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void *ar_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        ar_die(AR_EFAIL, "out of memory allocating %zu bytes", n);
    return p;
}

void *ar_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        ar_die(AR_EFAIL, "out of memory allocating %zu bytes", n);
    return p;
}

char *ar_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(ar_xmalloc(n), s, n);
}

static void reserve(struct ar_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = ar_xrealloc(b->data, cap);
    b->cap = cap;
}

void ar_buf_add(struct ar_buf *b, const void *data, size_t len)
{
    reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void ar_buf_puts(struct ar_buf *b, const char *s) { ar_buf_add(b, s, strlen(s)); }

void ar_buf_putc(struct ar_buf *b, char c)
{
    reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

/* Formats into the free room first, so most calls format once; a result
 * that does not fit is formatted again after growing.  (A first pass with a
 * NULL destination trips gcc's -Wformat-truncation under -fsanitize=undefined.) */
void ar_buf_vprintf(struct ar_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    reserve(b, 0);
    size_t room = b->cap - b->len;
    int n = vsnprintf(b->data + b->len, room, fmt, ap);
    if (n >= 0 && (size_t)n >= room) {
        reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    if (n >= 0)
        b->len += (size_t)n;
    b->data[b->len] = '\0';
}

void ar_buf_printf(struct ar_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ar_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *ar_buf_take(struct ar_buf *b)
{
    char *p = b->data ? b->data : ar_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void ar_buf_free(struct ar_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
