/* A growing byte buffer; aborts on out-of-memory like the rest of libar. */
#ifndef AR_BUF_H
#define AR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct ar_buf {
    char *data;   /* always NUL-terminated when non-NULL */
    size_t len, cap;
};

void ar_buf_add(struct ar_buf *b, const void *data, size_t len);
void ar_buf_puts(struct ar_buf *b, const char *s);
void ar_buf_putc(struct ar_buf *b, char c);
void ar_buf_printf(struct ar_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ar_buf_vprintf(struct ar_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the storage to the caller (never NULL) and resets b. */
char *ar_buf_take(struct ar_buf *b);
void ar_buf_free(struct ar_buf *b);

/* malloc/realloc/strdup that abort with a message when memory runs out. */
void *ar_xmalloc(size_t n);
void *ar_xrealloc(void *p, size_t n);
char *ar_xstrdup(const char *s);

#endif
