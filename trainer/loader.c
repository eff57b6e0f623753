/* Reads the prepared dataset and packs documents into rows, BOS-aligned
 * best-fit as autoresearch's dataloader does (see loader.h). */
#include "loader.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/err.h"
#include "base/json.h"
#include "base/lock.h"
#include "base/sha256.h"
#include "tokenizer.h"

#define MAX_DATA_FILE ((size_t)1 << 34)

/* Documents of one token file: doc i is tok[start[i] .. start[i+1]). */
struct docs {
    uint16_t *tok;
    size_t n_tok;
    size_t *start;
    size_t n;
};

/* Best-fit packer state: a buffer of document ids fed by a source. */
struct packer {
    const struct docs *d;
    uint32_t buf[LOADER_BUFFER_DOCS];
    int n_buf;
};

struct loader {
    int B, T, vocab, bos;
    uint32_t *lens;
    struct docs train, val;
    jv manifest;
    /* training order: a permutation of train documents per epoch */
    uint64_t seed;
    uint32_t *order;
    size_t order_pos;
    long epoch;
    struct packer train_pack;
    /* validation rows of T + 1 tokens, packed once */
    uint16_t *val_rows;
    size_t n_val_rows;
};

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void shuffle_epoch(struct loader *l)
{
    uint64_t s = l->seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(l->epoch + 1));
    size_t n = l->train.n;
    for (size_t i = 0; i < n; i++)
        l->order[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(((unsigned __int128)splitmix64(&s) * i) >> 64);
        uint32_t t = l->order[i - 1];
        l->order[i - 1] = l->order[j];
        l->order[j] = t;
    }
    l->order_pos = 0;
}

static uint32_t next_train_doc(struct loader *l)
{
    if (l->order_pos == l->train.n) {
        l->epoch++;
        shuffle_epoch(l);
    }
    return l->order[l->order_pos++];
}

static size_t doc_len(const struct docs *d, uint32_t i)
{
    return d->start[i + 1] - d->start[i];
}

/* Fills row (cap tokens) from the packer; returns the tokens placed, less
 * than cap only when a finite source ran dry (next() returns UINT32_MAX at
 * its end). */
static size_t pack_row(struct packer *p, uint16_t *row, size_t cap,
                       uint32_t (*next)(void *), void *ctx)
{
    size_t pos = 0;
    while (pos < cap) {
        while (p->n_buf < LOADER_BUFFER_DOCS) {
            uint32_t id = next(ctx);
            if (id == UINT32_MAX)
                break;
            p->buf[p->n_buf++] = id;
        }
        if (p->n_buf == 0)
            return pos;
        size_t room = cap - pos, best_len = 0, short_len = SIZE_MAX;
        int best = -1, shortest = 0;
        for (int i = 0; i < p->n_buf; i++) {
            size_t n = doc_len(p->d, p->buf[i]);
            if (n <= room && n > best_len)
                best = i, best_len = n;
            if (n < short_len)
                shortest = i, short_len = n;
        }
        int pick = best >= 0 ? best : shortest;
        size_t take = best >= 0 ? best_len : room;
        memcpy(row + pos, p->d->tok + p->d->start[p->buf[pick]], take * sizeof *row);
        pos += take;
        memmove(p->buf + pick, p->buf + pick + 1, (size_t)(p->n_buf - pick - 1) * sizeof *p->buf);
        p->n_buf--;
    }
    return pos;
}

static uint32_t train_source(void *ctx) { return next_train_doc(ctx); }

struct val_source {
    size_t next, n;
};

static uint32_t val_source(void *ctx)
{
    struct val_source *v = ctx;
    return v->next < v->n ? (uint32_t)v->next++ : UINT32_MAX;
}

void loader_next_batch(struct loader *l, uint16_t *inputs, uint16_t *targets)
{
    size_t T = (size_t)l->T;
    uint16_t row[T + 1];
    for (int b = 0; b < l->B; b++) {
        pack_row(&l->train_pack, row, T + 1, train_source, l);
        memcpy(inputs + b * T, row, T * sizeof *row);
        memcpy(targets + b * T, row + 1, T * sizeof *row);
    }
}

double loader_epoch(const struct loader *l)
{
    return l->epoch + (double)l->order_pos / (double)l->train.n;
}

int loader_val_batches(const struct loader *l, long eval_tokens)
{
    size_t want = ((size_t)eval_tokens + l->T - 1) / l->T;
    if (want > l->n_val_rows)
        want = l->n_val_rows;
    return (int)((want + l->B - 1) / l->B);
}

/* Rows past the packed ones are all BOS: their targets have 0 bytes and
 * drop out of val_bpb. */
void loader_val_batch(const struct loader *l, int i, uint16_t *inputs, uint16_t *targets)
{
    size_t T = (size_t)l->T;
    for (int b = 0; b < l->B; b++) {
        size_t r = (size_t)i * l->B + b;
        if (r < l->n_val_rows) {
            const uint16_t *row = l->val_rows + r * (T + 1);
            memcpy(inputs + b * T, row, T * sizeof *row);
            memcpy(targets + b * T, row + 1, T * sizeof *row);
        } else {
            for (size_t t = 0; t < T; t++)
                inputs[b * T + t] = targets[b * T + t] = (uint16_t)l->bos;
        }
    }
}

void loader_bpb_add(const struct loader *l, const uint16_t *targets, const double *nats,
                    size_t n, double *sum_nats, double *sum_bytes)
{
    double sn = 0, sb = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b = targets[i] < l->vocab ? l->lens[targets[i]] : 0;
        if (b) {
            sn += nats[i];
            sb += b;
        }
    }
    *sum_nats += sn;
    *sum_bytes += sb;
}

int loader_vocab_size(const struct loader *l) { return l->vocab; }
int loader_bos(const struct loader *l) { return l->bos; }
const uint32_t *loader_byte_lens(const struct loader *l) { return l->lens; }
size_t loader_train_tokens(const struct loader *l) { return l->train.n_tok; }
size_t loader_val_tokens(const struct loader *l) { return l->val.n_tok; }
jv loader_manifest(const struct loader *l) { return jv_copy(l->manifest); }

jv loader_card_data(const struct loader *l)
{
    static const char *keys[] = {"corpus", "tokenizer_hash", "vocab", "val_tokens", "fingerprint"};
    jv o = jv_object();
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        ar_jv_set(&o, keys[i], ar_jv_get(l->manifest, keys[i]));
    return o;
}

/* ------------------------------------------------------------------------ */
/* opening */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Reads dir/name and checks its SHA-256 against the manifest entry. */
static int read_checked(const char *dir, const char *name, const char *want_sha, char **data,
                        size_t *len)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return ar_fail(AR_EINPUT, "%s: path too long", dir);
    if (ar_read_file(path, MAX_DATA_FILE, data, len) < 0)
        return ar_fail_prefix("dataset incomplete, run `ar-train prepare`");
    char sha[65];
    ar_sha256_hex(*data, *len, sha);
    if (!want_sha || strcmp(sha, want_sha) != 0) {
        free(*data);
        *data = NULL;
        return ar_fail(AR_EFAIL, "%s: does not match %s/manifest.json; run `ar-train prepare` "
                       "again", path, dir);
    }
    return 0;
}

static int parse_tokens(struct docs *d, const uint8_t *buf, size_t len, int vocab, int bos,
                        const char *name)
{
    if (len < TOKFILE_HEADER || memcmp(buf, TOKFILE_MAGIC, 8) != 0)
        return ar_fail(AR_EINPUT, "%s: not a token file (bad magic)", name);
    if (get32(buf + 8) != TOKFILE_VERSION)
        return ar_fail(AR_EINPUT, "%s: token file version %u, this build reads %d", name,
                       get32(buf + 8), TOKFILE_VERSION);
    uint64_t n = get64(buf + 24), n_docs = get64(buf + 32);
    if (get32(buf + 12) != (uint32_t)vocab || get32(buf + 16) != (uint32_t)bos)
        return ar_fail(AR_EINPUT, "%s: vocab or BOS differs from the tokenizer", name);
    if (n > (len - TOKFILE_HEADER) / 2 || len != TOKFILE_HEADER + 2 * n)
        return ar_fail(AR_EINPUT, "%s: %zu bytes do not hold %llu tokens", name, len,
                       (unsigned long long)n);
    d->n_tok = n;
    d->tok = malloc((n + 1) * sizeof *d->tok);
    d->start = malloc((n_docs + 1) * sizeof *d->start);
    if (!d->tok || !d->start)
        return ar_fail(AR_EFAIL, "%s: out of memory", name);
    size_t docs = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t t = (uint16_t)(buf[TOKFILE_HEADER + 2 * i] | buf[TOKFILE_HEADER + 2 * i + 1] << 8);
        if (t >= vocab)
            return ar_fail(AR_EINPUT, "%s: token %u at %zu is outside the vocabulary", name, t, i);
        if (i == 0 && t != bos)
            return ar_fail(AR_EINPUT, "%s: does not start with BOS", name);
        if (t == bos) {
            if (docs == n_docs)
                return ar_fail(AR_EINPUT, "%s: more documents than the header's %llu", name,
                               (unsigned long long)n_docs);
            d->start[docs++] = i;
        }
        d->tok[i] = t;
    }
    if (docs != n_docs || n_docs == 0)
        return ar_fail(AR_EINPUT, "%s: %zu documents, header says %llu", name, docs,
                       (unsigned long long)n_docs);
    d->start[docs] = n;
    d->n = docs;
    return 0;
}

static const char *manifest_sha(jv m, const char *part)
{
    jv p = ar_jv_get(m, part);
    const char *s = ar_jv_str(p, "sha256");
    jv_free(p);
    return s;       /* lives in m */
}

static int open_files(struct loader *l, const char *dir)
{
    char path[PATH_MAX], *text;
    size_t len;
    if (snprintf(path, sizeof path, "%s/manifest.json", dir) >= (int)sizeof path)
        return ar_fail(AR_EINPUT, "%s: path too long", dir);
    struct stat st;
    if (stat(path, &st) < 0)
        return ar_fail(AR_EFAIL, "no prepared data in %s; run `ar-train prepare` first", dir);
    if (ar_read_file(path, 1 << 20, &text, &len) < 0)
        return -1;
    int rc = ar_json_parse(text, len, path, &l->manifest);
    free(text);
    if (rc < 0)
        return -1;
    const char *schema = ar_jv_str(l->manifest, "schema");
    if (!schema || strcmp(schema, "ar.data/1") != 0)
        return ar_fail(AR_EINPUT, "%s: schema is not ar.data/1; run `ar-train prepare` again",
                       path);
    struct { const char *part, *file; } parts[] = {
        {"tokenizer", "tokenizer.bin"}, {"train", "train.bin"}, {"val", "val.bin"}};
    char *data[3] = {0};
    size_t lens[3];
    rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = read_checked(dir, parts[i].file, manifest_sha(l->manifest, parts[i].part), &data[i],
                          &lens[i]);
    struct tokenizer *tok = NULL;
    if (rc == 0 && !(tok = tokenizer_parse((uint8_t *)data[0], lens[0], "tokenizer.bin")))
        rc = -1;
    if (rc == 0) {
        l->vocab = tokenizer_vocab_size(tok);
        l->bos = tokenizer_bos(tok);
        l->lens = malloc(l->vocab * sizeof *l->lens);
        if (!l->lens)
            rc = ar_fail(AR_EFAIL, "loader: out of memory");
        else
            memcpy(l->lens, tokenizer_byte_lens(tok), l->vocab * sizeof *l->lens);
    }
    if (rc == 0)
        rc = parse_tokens(&l->train, (uint8_t *)data[1], lens[1], l->vocab, l->bos, "train.bin");
    if (rc == 0)
        rc = parse_tokens(&l->val, (uint8_t *)data[2], lens[2], l->vocab, l->bos, "val.bin");
    tokenizer_free(tok);
    for (int i = 0; i < 3; i++)
        free(data[i]);
    return rc;
}

/* Packs every validation document into rows once; the last row is padded
 * with BOS (0 bytes, so the padding drops out of val_bpb). */
static int pack_val(struct loader *l)
{
    size_t row = (size_t)l->T + 1, cap = l->val.n_tok / row + 2;
    l->val_rows = malloc(cap * row * sizeof *l->val_rows);
    if (!l->val_rows)
        return ar_fail(AR_EFAIL, "loader: out of memory");
    struct packer p = {.d = &l->val};
    struct val_source src = {0, l->val.n};
    while (l->n_val_rows < cap) {
        uint16_t *r = l->val_rows + l->n_val_rows * row;
        size_t got = pack_row(&p, r, row, val_source, &src);
        if (got == 0)
            break;
        for (size_t t = got; t < row; t++)
            r[t] = (uint16_t)l->bos;
        l->n_val_rows++;
        if (got < row)
            break;
    }
    return 0;
}

struct loader *loader_open(const char *dir, int B, int T, uint64_t seed)
{
    if (B < 1 || T < 1 || T > (1 << 20)) {
        ar_fail(AR_EINPUT, "loader: batch %d x %d is out of range", B, T);
        return NULL;
    }
    struct loader *l = calloc(1, sizeof *l);
    if (!l) {
        ar_fail(AR_EFAIL, "loader: out of memory");
        return NULL;
    }
    l->B = B;
    l->T = T;
    l->seed = seed;
    l->manifest = jv_null();
    /* a prepare that is writing holds prepare.lock: read after it is done
     * (best effort: a read-only data directory is read without the lock) */
    char lockpath[PATH_MAX];
    int lock = -1;
    if (snprintf(lockpath, sizeof lockpath, "%s/prepare.lock", dir) < (int)sizeof lockpath &&
        access(lockpath, W_OK) == 0)
        lock = ar_lock(lockpath, ar_lock_timeout_default() * 6, 0);
    int rc = open_files(l, dir);
    if (lock >= 0)
        ar_unlock(lock);
    if (rc < 0 || pack_val(l) < 0)
        goto fail;
    l->order = malloc(l->train.n * sizeof *l->order);
    if (!l->order) {
        ar_fail(AR_EFAIL, "loader: out of memory");
        goto fail;
    }
    shuffle_epoch(l);
    l->train_pack.d = &l->train;
    return l;
fail:
    loader_free(l);
    return NULL;
}

void loader_free(struct loader *l)
{
    if (!l)
        return;
    free(l->lens);
    free(l->train.tok);
    free(l->train.start);
    free(l->val.tok);
    free(l->val.start);
    jv_free(l->manifest);
    free(l->order);
    free(l->val_rows);
    free(l);
}
