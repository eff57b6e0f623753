#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "corpus.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jv.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "sha256.h"

void corpus_init(struct corpus *c)
{
    memset(c, 0, sizeof *c);
}

void corpus_free(struct corpus *c)
{
    free(c->data);
    free(c->off);
    memset(c, 0, sizeof *c);
}

int corpus_add(struct corpus *c, const void *text, size_t len)
{
    if (len == 0)
        return 0;
    if (c->n + 2 > c->cap_off) {
        size_t nc = c->cap_off ? c->cap_off * 2 : 1024;
        size_t *off = realloc(c->off, nc * sizeof *off);
        if (!off)
            return ar_fail(AR_EFAIL, "corpus: out of memory");
        c->off = off;
        c->cap_off = nc;
        if (c->n == 0)
            c->off[0] = 0;
    }
    if (c->len + len > c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1 << 20;
        while (nc < c->len + len)
            nc *= 2;
        char *d = realloc(c->data, nc);
        if (!d)
            return ar_fail(AR_EFAIL, "corpus: out of memory");
        c->data = d;
        c->cap = nc;
    }
    memcpy(c->data + c->len, text, len);
    c->len += len;
    c->off[++c->n] = c->len;
    return 0;
}

int corpus_slurp(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ar_fail(errno == ENOENT || errno == EISDIR ? AR_EINPUT : AR_EFAIL, "%s: %s",
                       path, strerror(errno));
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 1 << 16;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                fclose(f);
                return ar_fail(AR_EFAIL, "%s: out of memory", path);
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return ar_fail(AR_EFAIL, "%s: read error", path);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* readers */

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
            return 0;
    return 1;
}

/* Line i of buf: [*start, *end) without its newline or a final '\r'. */
static size_t next_line(const char *buf, size_t len, size_t at, size_t *end)
{
    const char *nl = memchr(buf + at, '\n', len - at);
    size_t e = nl ? (size_t)(nl - buf) : len;
    *end = e > at && buf[e - 1] == '\r' ? e - 1 : e;
    return nl ? e + 1 : len;
}

static int read_txt(struct corpus *c, const char *buf, size_t len)
{
    int paragraphs = 0;
    for (size_t at = 0, end; at < len;) {
        size_t next = next_line(buf, len, at, &end);
        if (is_blank(buf + at, end - at))
            paragraphs = 1;
        at = next;
    }
    size_t para = SIZE_MAX, para_end = 0;
    for (size_t at = 0, end; at < len;) {
        size_t next = next_line(buf, len, at, &end);
        int blank = is_blank(buf + at, end - at);
        if (!paragraphs) {
            if (!blank && corpus_add(c, buf + at, end - at) < 0)
                return -1;
        } else if (blank) {
            if (para != SIZE_MAX && corpus_add(c, buf + para, para_end - para) < 0)
                return -1;
            para = SIZE_MAX;
        } else {
            if (para == SIZE_MAX)
                para = at;
            para_end = end;
        }
        at = next;
    }
    if (para != SIZE_MAX && corpus_add(c, buf + para, para_end - para) < 0)
        return -1;
    return 0;
}

/* A JSON string, or an object with a string "text" field, becomes one
 * document; where names it for the error. Consumes v. */
static int add_json_doc(struct corpus *c, jv v, const char *path, const char *what, size_t n)
{
    if (jv_get_kind(v) == JV_KIND_OBJECT)
        v = jv_object_get(v, jv_string("text"));
    if (jv_get_kind(v) != JV_KIND_STRING) {
        jv_free(v);
        return ar_fail(AR_EINPUT, "%s: %s %zu: not a string or an object with a string \"text\"",
                       path, what, n);
    }
    int rc = corpus_add(c, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
    jv_free(v);
    return rc;
}

static int parse_error(jv v, const char *path, const char *what, size_t n)
{
    jv msg = jv_invalid_get_msg(v);
    ar_fail(AR_EINPUT, "%s: %s %zu: invalid JSON (%s)", path, what, n,
            jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "empty");
    jv_free(msg);
    return -1;
}

static int read_jsonl(struct corpus *c, const char *path, const char *buf, size_t len)
{
    size_t line = 0;
    for (size_t at = 0, end; at < len;) {
        size_t next = next_line(buf, len, at, &end);
        line++;
        if (!is_blank(buf + at, end - at)) {
            if (end - at > INT_MAX)
                return ar_fail(AR_EINPUT, "%s: line %zu: too long", path, line);
            jv v = jv_parse_sized(buf + at, (int)(end - at));
            if (!jv_is_valid(v))
                return parse_error(v, path, "line", line);
            if (add_json_doc(c, v, path, "line", line) < 0)
                return -1;
        }
        at = next;
    }
    return 0;
}

static int read_json(struct corpus *c, const char *path, const char *buf, size_t len)
{
    if (len > INT_MAX)
        return ar_fail(AR_EINPUT, "%s: too large for a JSON file (use .jsonl)", path);
    jv v = jv_parse_sized(buf, (int)len);
    if (!jv_is_valid(v)) {
        jv msg = jv_invalid_get_msg(v);
        ar_fail(AR_EINPUT, "%s: invalid JSON (%s)", path,
                jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "empty");
        jv_free(msg);
        return -1;
    }
    if (jv_get_kind(v) != JV_KIND_ARRAY) {
        jv_free(v);
        return ar_fail(AR_EINPUT, "%s: not a JSON array of strings", path);
    }
    int n = jv_array_length(jv_copy(v));
    for (int i = 0; i < n; i++)
        if (add_json_doc(c, jv_array_get(jv_copy(v), i), path, "element", (size_t)i) < 0) {
            jv_free(v);
            return -1;
        }
    jv_free(v);
    return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int corpus_read_file(struct corpus *c, const char *path)
{
    int kind = has_suffix(path, ".txt") ? 't' : has_suffix(path, ".jsonl") ? 'l'
             : has_suffix(path, ".json") ? 'j' : 0;
    if (!kind)
        return ar_fail(AR_EINPUT, "%s: unknown input type (want .txt, .jsonl or .json)", path);
    char *buf;
    size_t len;
    if (corpus_slurp(path, &buf, &len) < 0)
        return -1;
    int rc = kind == 't' ? read_txt(c, buf, len)
           : kind == 'l' ? read_jsonl(c, path, buf, len) : read_json(c, path, buf, len);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* nlp-corpus from npm */

int corpus_data_dir(char *buf, size_t size)
{
    const char *env = getenv("AR_DATA");
    int n;
    if (env && *env) {
        n = snprintf(buf, size, "%s", env);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return ar_fail(AR_EINPUT, "data directory: neither AR_DATA nor HOME is set");
        n = snprintf(buf, size, "%s/.cache/ar", home);
    }
    if (n < 0 || (size_t)n >= size)
        return ar_fail(AR_EINPUT, "data directory: path too long");
    return 0;
}

/* snprintf for paths: fails (AR_EINPUT) instead of truncating. */
static int pathf(char *buf, size_t size, const char *fmt, ...) AR_PRINTF(3, 4);
static int pathf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        return ar_fail(AR_EINPUT, "path too long: %.60s...", buf);
    return 0;
}

int corpus_mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    if (pathf(tmp, sizeof tmp, "%s", path) < 0)
        return -1;
    for (char *p = tmp + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char keep = *p;
            *p = '\0';
            if (mkdir(tmp, 0777) < 0 && errno != EEXIST)
                return ar_fail(AR_EFAIL, "%s: cannot create directory: %s", tmp, strerror(errno));
            *p = keep;
            if (!keep)
                break;
        }
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs argv in cwd with stdout and stderr to log; returns the exit status,
 * 127 when the program cannot be run. */
static int run_logged(const char *cwd, char *const argv[], const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return ar_fail(AR_EFAIL, "fork: %s", strerror(errno));
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (in < 0 || out < 0 || chdir(cwd) < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return ar_fail(AR_EFAIL, "waitpid: %s", strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The first error line npm wrote, for a one-line message. */
static void npm_reason(const char *log, int status, char *out, size_t size)
{
    snprintf(out, size, "npm exited with status %d", status);
    if (status == 127) {
        snprintf(out, size, "npm not found");
        return;
    }
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "npm ERR!", 8) == 0 || strncmp(line, "npm error", 9) == 0) {
            line[strcspn(line, "\r\n")] = '\0';
            snprintf(out, size, "%s", line);
            break;
        }
    }
    fclose(f);
}

static int path_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int fetch_tgz(const char *data_dir, const char *version, const char *tgz)
{
    char tmp[PATH_MAX], log[PATH_MAX], got[PATH_MAX], spec[128];
    if (pathf(tmp, sizeof tmp, "%s/.fetch-XXXXXX", data_dir) < 0)
        return -1;
    if (!mkdtemp(tmp))
        return ar_fail(AR_EFAIL, "%s: cannot create a temporary directory: %s", data_dir,
                       strerror(errno));
    if (pathf(log, sizeof log, "%s/npm.log", tmp) < 0 ||
        pathf(got, sizeof got, "%s/nlp-corpus-%s.tgz", tmp, version) < 0 ||
        pathf(spec, sizeof spec, "nlp-corpus@%s", version) < 0) {
        remove_tree(tmp);
        return -1;
    }
    char *argv[] = {"npm", "pack", spec, NULL};
    int status = run_logged(tmp, argv, log);
    if (status != 0 || !path_exists(got)) {
        char why[400];
        if (status < 0)
            snprintf(why, sizeof why, "%s", ar_last_error());
        else
            npm_reason(log, status, why, sizeof why);
        remove_tree(tmp);
        return ar_fail(AR_EFAIL, "cannot fetch %s with npm (%s); use --input FILE to prepare "
                       "local text", spec, why);
    }
    int rc = rename(got, tgz);
    int err = errno;
    remove_tree(tmp);
    if (rc < 0)
        return ar_fail(AR_EFAIL, "%s: %s", tgz, strerror(err));
    return 0;
}

static int unpack_tgz(const char *data_dir, const char *tgz, const char *pkg)
{
    char tmp[PATH_MAX], log[PATH_MAX], builds[PATH_MAX];
    if (pathf(tmp, sizeof tmp, "%s/.unpack-XXXXXX", data_dir) < 0)
        return -1;
    if (!mkdtemp(tmp))
        return ar_fail(AR_EFAIL, "%s: cannot create a temporary directory: %s", data_dir,
                       strerror(errno));
    if (pathf(log, sizeof log, "%s.log", tmp) < 0 ||
        pathf(builds, sizeof builds, "%s/package/builds", tmp) < 0) {
        remove_tree(tmp);
        return -1;
    }
    char *argv[] = {"tar", "-xzf", (char *)tgz, "-C", tmp, NULL};
    int status = run_logged(data_dir, argv, log);
    remove(log);
    if (status != 0 || !path_exists(builds)) {
        remove_tree(tmp);
        return ar_fail(AR_EFAIL, "%s: cannot unpack (tar status %d); delete it to fetch again",
                       tgz, status);
    }
    if (rename(tmp, pkg) < 0) {
        int err = errno;
        remove_tree(tmp);
        if (path_exists(pkg))       /* another prepare unpacked it first */
            return 0;
        return ar_fail(AR_EFAIL, "%s: %s", pkg, strerror(err));
    }
    return 0;
}

int corpus_read_nlp(struct corpus *c, const char *data_dir, const char *version)
{
    char tgz[PATH_MAX], pkg[PATH_MAX];
    if (pathf(pkg, sizeof pkg, "%s/nlp-corpus-%s", data_dir, version) < 0 ||
        pathf(tgz, sizeof tgz, "%s.tgz", pkg) < 0)
        return -1;
    if (!path_exists(pkg)) {
        if (corpus_mkdirs(data_dir) < 0)
            return -1;
        if (!path_exists(tgz) && fetch_tgz(data_dir, version, tgz) < 0)
            return -1;
        if (unpack_tgz(data_dir, tgz, pkg) < 0)
            return -1;
    }
    /* builds/doc-0.json, doc-1.json, ... in numeric order */
    int n = 0;
    for (;; n++) {
        char path[PATH_MAX];
        if (pathf(path, sizeof path, "%s/package/builds/doc-%d.json", pkg, n) < 0)
            return -1;
        if (!path_exists(path))
            break;
        if (corpus_read_file(c, path) < 0)
            return -1;
    }
    if (n == 0)
        return ar_fail(AR_EFAIL, "%s: no builds/doc-0.json; delete it to fetch again", pkg);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* split */

static uint64_t doc_hash(const struct corpus *c, size_t i)
{
    uint8_t d[32];
    ar_sha256(c->data + c->off[i], corpus_doc_len(c, i), d);
    uint64_t h = 0;
    for (int k = 0; k < 8; k++)
        h = h << 8 | d[k];
    return h;
}

int corpus_split(const struct corpus *all, double val_frac, struct corpus *train,
                 struct corpus *val)
{
    corpus_init(train);
    corpus_init(val);
    if (all->n < 2)
        return ar_fail(AR_EINPUT, "corpus has %zu document%s; need at least 2 (one for "
                       "validation)", all->n, all->n == 1 ? "" : "s");
    /* val_frac of 2^64, computed without overflow at 1.0 */
    uint64_t cut = val_frac >= 1.0 ? UINT64_MAX : (uint64_t)(val_frac * 18446744073709551616.0);
    size_t smallest = 0, n_val = 0;
    uint64_t min_h = UINT64_MAX;
    char *in_val = calloc(all->n, 1);
    if (!in_val)
        return ar_fail(AR_EFAIL, "corpus: out of memory");
    for (size_t i = 0; i < all->n; i++) {
        uint64_t h = doc_hash(all, i);
        if (h < cut) {
            in_val[i] = 1;
            n_val++;
        }
        if (h < min_h) {
            min_h = h;
            smallest = i;
        }
    }
    if (n_val == 0)
        in_val[smallest] = 1, n_val = 1;
    int rc = 0;
    if (n_val == all->n)
        rc = ar_fail(AR_EINPUT, "validation split takes every document; lower --val-frac");
    for (size_t i = 0; i < all->n && rc == 0; i++)
        rc = corpus_add(in_val[i] ? val : train, all->data + all->off[i], corpus_doc_len(all, i));
    free(in_val);
    if (rc < 0) {
        corpus_free(train);
        corpus_free(val);
    }
    return rc;
}

void corpus_digest_hex(const struct corpus *c, char hex[65])
{
    struct ar_sha256 s;
    uint8_t d[32];
    ar_sha256_init(&s);
    for (size_t i = 0; i < c->n; i++) {
        uint64_t n = corpus_doc_len(c, i);
        uint8_t le[8];
        for (int k = 0; k < 8; k++)
            le[k] = (uint8_t)(n >> (8 * k));
        ar_sha256_update(&s, le, 8);
        ar_sha256_update(&s, c->data + c->off[i], n);
    }
    ar_sha256_final(&s, d);
    ar_hex(d, 32, hex);
}
