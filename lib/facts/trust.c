#include "facts/trust.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/lock.h"

#define TRUST_MAX (1 << 20)

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t list_hash(char **v, size_t n)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        for (const char *p = v[i];; p++) {
            h = (h ^ (unsigned char)(*p ? *p : '\n')) * 1099511628211ULL;
            if (!*p)
                break;
        }
    return h;
}

/* The agents of a list's text, sorted and distinct. */
static void parse(const char *text, size_t len, struct ar_trust *t)
{
    size_t cap = 0;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        size_t a = i, b = e;
        while (a < b && (text[a] == ' ' || text[a] == '\t'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (b > a && text[a] != '#') {
            if (t->n == cap)
                t->agents = ar_xrealloc(t->agents, (cap = cap ? 2 * cap : 8) * sizeof *t->agents);
            t->agents[t->n] = ar_xmalloc(b - a + 1);
            memcpy(t->agents[t->n], text + a, b - a);
            t->agents[t->n++][b - a] = '\0';
        }
        i = e + 1;
    }
    if (t->n)
        qsort(t->agents, t->n, sizeof *t->agents, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (k && strcmp(t->agents[k - 1], t->agents[i]) == 0)
            free(t->agents[i]);
        else
            t->agents[k++] = t->agents[i];
    }
    t->n = k;
    t->hash = list_hash(t->agents, t->n);
}

int ar_trust_load(const struct ar_kb *kb, struct ar_trust *t)
{
    char path[PATH_MAX];
    memset(t, 0, sizeof *t);
    t->hash = list_hash(NULL, 0);
    ar_kb_path(kb, AR_TRUST_FILE, path);
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0;
    char *text;
    size_t len;
    if (ar_read_file(path, TRUST_MAX, &text, &len) != 0)
        return -1;
    parse(text, len, t);
    free(text);
    return 0;
}

void ar_trust_free(struct ar_trust *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->agents[i]);
    free(t->agents);
    memset(t, 0, sizeof *t);
}

static struct {
    char path[PATH_MAX];
    struct stat st;
    int have;
    struct ar_trust t;
} cache;

const struct ar_trust *ar_trust_of(const struct ar_kb *kb)
{
    char path[PATH_MAX];
    struct stat st;
    ar_kb_path(kb, AR_TRUST_FILE, path);
    memset(&st, 0, sizeof st);
    int exists = stat(path, &st) == 0;
    if (cache.have && strcmp(cache.path, path) == 0 && cache.st.st_ino == st.st_ino &&
        cache.st.st_size == st.st_size && cache.st.st_mtim.tv_sec == st.st_mtim.tv_sec &&
        cache.st.st_mtim.tv_nsec == st.st_mtim.tv_nsec && (exists || cache.st.st_ino == 0))
        return &cache.t;
    ar_trust_free(&cache.t);
    if (ar_trust_load(kb, &cache.t) != 0) {
        ar_warn("%s: %s (trusting no other agent)", path, ar_last_error());
        ar_trust_free(&cache.t);
        cache.t.hash = list_hash(NULL, 0);
    }
    snprintf(cache.path, sizeof cache.path, "%s", path);
    cache.st = st;
    cache.have = 1;
    return &cache.t;
}

int ar_trust_has(const struct ar_trust *t, const char *agent)
{
    if (!t || !agent)
        return 0;
    return t->n && bsearch(&agent, t->agents, t->n, sizeof *t->agents, cmp_str) != NULL;
}

int ar_trust_authority(const struct ar_trust *t, const char *card_agent, const char *note_agent)
{
    if (!note_agent)
        return 0;
    return (card_agent && strcmp(card_agent, note_agent) == 0) || ar_trust_has(t, note_agent);
}

int ar_trust_edit(const struct ar_kb *kb, const char *agent, int remove)
{
    if (!agent || !*agent || strlen(agent) > 128 || strpbrk(agent, "\n\r\t") || agent[0] == '#' ||
        agent[0] == ' ' || agent[strlen(agent) - 1] == ' ')
        return ar_fail(AR_EINPUT, "trust: '%.128s': not an agent name", agent ? agent : "");
    char lp[PATH_MAX], path[PATH_MAX];
    int fd = ar_lock(ar_kb_path(kb, "trust.lock", lp), ar_lock_timeout_default(), 1);
    if (fd < 0)
        return -1;
    struct ar_trust t;
    int rc = ar_trust_load(kb, &t);
    int had = rc == 0 && ar_trust_has(&t, agent);
    if (rc == 0 && had == !remove) {
        rc = 1;
    } else if (rc == 0) {
        struct ar_buf b = {0};
        ar_buf_puts(&b, "# Agents whose status and retract notes count here on any card\n"
                        "# (besides each card's own agent). Local: never synced. See ar-sync(1).\n");
        for (size_t i = 0; i < t.n; i++)
            if (!remove || strcmp(t.agents[i], agent) != 0)
                ar_buf_printf(&b, "%s\n", t.agents[i]);
        if (!remove)
            ar_buf_printf(&b, "%s\n", agent);
        /* sorted on the next read; written sorted too, for people */
        struct ar_trust sorted = {0};
        parse(b.data, b.len, &sorted);
        b.len = 0;
        ar_buf_puts(&b, "# Agents whose status and retract notes count here on any card\n"
                        "# (besides each card's own agent). Local: never synced. See ar-sync(1).\n");
        for (size_t i = 0; i < sorted.n; i++)
            ar_buf_printf(&b, "%s\n", sorted.agents[i]);
        ar_trust_free(&sorted);
        rc = ar_write_atomic(ar_kb_path(kb, AR_TRUST_FILE, path), b.data, b.len) == 0 ? 0 : -1;
        ar_buf_free(&b);
    }
    ar_trust_free(&t);
    ar_unlock(fd);
    return rc;
}
