#include "base/jtext.h"

#include <string.h>

size_t ar_jtext_string_end(const char *s, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return len;
}

size_t ar_jtext_value_end(const char *s, size_t len, size_t i)
{
    if (i >= len)
        return len;
    if (s[i] == '"')
        return ar_jtext_string_end(s, len, i);
    if (s[i] != '{' && s[i] != '[') {
        while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']')
            i++;
        return i;
    }
    int depth = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '"') {
            i = ar_jtext_string_end(s, len, i) - 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return len;
}

int ar_jtext_members(const char *s, size_t len, struct ar_jmember *out, int max)
{
    if (len < 2 || s[0] != '{')
        return -1;
    int n = 0;
    size_t i = 1;
    while (i < len && s[i] == '"') {
        size_t kend = ar_jtext_string_end(s, len, i);
        if (kend >= len || s[kend] != ':')
            return -1;
        size_t vend = ar_jtext_value_end(s, len, kend + 1);
        if (n < max) {
            out[n].key = i + 1;
            out[n].keylen = kend - i - 2;
            out[n].val = kend + 1;
            out[n].vallen = vend - kend - 1;
        }
        n++;
        i = vend;
        if (i < len && s[i] == ',')
            i++;
    }
    return n;
}

int ar_jtext_find(const char *s, const struct ar_jmember *m, int n, const char *key)
{
    size_t kl = strlen(key);
    for (int i = 0; i < n; i++)
        if (m[i].keylen == kl && memcmp(s + m[i].key, key, kl) == 0)
            return i;
    return -1;
}

size_t ar_jtext_pretty_len(const char *s, size_t len)
{
    /* pretty = compact + a newline and 2*depth spaces before each element
     * of a non-empty container and before its closing bracket, + one space
     * after each ':' */
    size_t extra = 0;
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '"') {
            i = ar_jtext_string_end(s, len, i) - 1;
        } else if (c == '{' || c == '[') {
            depth++;
            if (i + 1 < len && s[i + 1] != '}' && s[i + 1] != ']')
                extra += 1 + 2 * (size_t)depth;
        } else if (c == '}' || c == ']') {
            depth--;
            if (s[i - 1] != '{' && s[i - 1] != '[')
                extra += 1 + 2 * (size_t)depth;
        } else if (c == ',') {
            extra += 1 + 2 * (size_t)depth;
        } else if (c == ':') {
            extra++;
        }
    }
    return len + extra;
}

size_t ar_jtext_compact(char *dst, const char *src, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '"') {
            size_t end = ar_jtext_string_end(src, len, i);
            memmove(dst + o, src + i, end - i);
            o += end - i;
            i = end - 1;
        } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
            dst[o++] = c;
        }
    }
    return o;
}
