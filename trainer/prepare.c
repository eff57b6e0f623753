/* The data of ar-train prepare: corpus -> split -> BPE -> token files -> manifest.
 * Everything is computed in memory first and written only at the end, the
 * manifest last, each file atomically: bad input changes nothing on disk,
 * and the loader checks each file's hash against the manifest. */
#include "prepare.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "corpus.h"
#include "base/err.h"
#include "base/json.h"
#include "loader.h"
#include "base/lock.h"
#include "base/sha256.h"
#include "tokenizer.h"

#ifndef NLP_CORPUS_VERSION
#define NLP_CORPUS_VERSION "4.4.0"
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint8_t *prepare_token_file(const uint16_t *ids, size_t n, size_t n_docs, int vocab, int bos,
                            size_t *len)
{
    *len = TOKFILE_HEADER + 2 * n;
    uint8_t *p = calloc(1, *len);
    if (!p) {
        ar_fail(AR_EFAIL, "prepare: out of memory");
        return NULL;
    }
    memcpy(p, TOKFILE_MAGIC, 8);
    put32(p + 8, TOKFILE_VERSION);
    put32(p + 12, (uint32_t)vocab);
    put32(p + 16, (uint32_t)bos);
    put64(p + 24, n);
    put64(p + 32, n_docs);
    for (size_t i = 0; i < n; i++) {
        p[TOKFILE_HEADER + 2 * i] = (uint8_t)ids[i];
        p[TOKFILE_HEADER + 2 * i + 1] = (uint8_t)(ids[i] >> 8);
    }
    return p;
}

/* Each document as BOS + its tokens. */
static int encode_docs(struct tokenizer *t, const struct corpus *c, struct tokbuf *out)
{
    uint16_t bos = (uint16_t)tokenizer_bos(t);
    for (size_t i = 0; i < c->n; i++)
        if (tokbuf_push(out, bos) < 0 ||
            tokenizer_encode(t, c->data + c->off[i], corpus_doc_len(c, i), out) < 0)
            return -1;
    return 0;
}

struct out_file {
    const char *name;
    uint8_t *data;
    size_t len;
    char sha[65];
};

/* Everything prepare computes before it writes. */
struct dataset {
    const struct prepare_options *o;
    double t_start;
    char corpus_name[512], corpus_sha[65], fingerprint[65];
    struct corpus all, train, val;
    struct tokenizer *tok;
    struct tokbuf ttrain, tval;     /* BOS + tokens of each document */
    struct out_file files[3];       /* tokenizer.bin, train.bin, val.bin */
};

static void progress(const struct dataset *ds, const char *what)
{
    if (ds->o->progress)
        fprintf(stderr, "\rprepare: %-40s %6.1fs", what, now() - ds->t_start);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int read_corpus(struct dataset *ds)
{
    const struct prepare_options *o = ds->o;
    char *name = ds->corpus_name;
    size_t size = sizeof ds->corpus_name;
    if (o->n_inputs == 0) {
        snprintf(name, size, "nlp-corpus@%s", NLP_CORPUS_VERSION);
        return corpus_read_nlp(&ds->all, o->data_dir, NLP_CORPUS_VERSION);
    }
    size_t at = (size_t)snprintf(name, size, "input:");
    for (int i = 0; i < o->n_inputs; i++) {
        if (corpus_read_file(&ds->all, o->inputs[i]) < 0)
            return -1;
        at += (size_t)snprintf(name + at, at < size ? size - at : 0, "%s%s", i ? "," : "",
                               base_name(o->inputs[i]));
    }
    if (at >= size)
        strcpy(name + size - 4, "...");
    return 0;
}

/* Split, tokenizer, token files, hashes. */
static int build(struct dataset *ds)
{
    corpus_digest_hex(&ds->all, ds->corpus_sha);
    progress(ds, "splitting");
    if (corpus_split(&ds->all, ds->o->val_frac, &ds->train, &ds->val) < 0)
        return -1;
    progress(ds, "training tokenizer");
    ds->tok = tokenizer_train(ds->train.data, ds->train.off, ds->train.n, ds->o->vocab);
    if (!ds->tok)
        return -1;
    progress(ds, "encoding");
    if (encode_docs(ds->tok, &ds->train, &ds->ttrain) < 0 ||
        encode_docs(ds->tok, &ds->val, &ds->tval) < 0)
        return -1;
    int vocab = tokenizer_vocab_size(ds->tok), bos = tokenizer_bos(ds->tok);
    struct out_file *f = ds->files;
    if (tokenizer_serialize(ds->tok, &f[0].data, &f[0].len) < 0)
        return -1;
    f[1].data = prepare_token_file(ds->ttrain.ids, ds->ttrain.n, ds->train.n, vocab, bos,
                                   &f[1].len);
    f[2].data = prepare_token_file(ds->tval.ids, ds->tval.n, ds->val.n, vocab, bos, &f[2].len);
    if (!f[1].data || !f[2].data)
        return -1;
    for (int i = 0; i < 3; i++)
        ar_sha256_hex(f[i].data, f[i].len, f[i].sha);
    struct ar_sha256 s;
    uint8_t d[32];
    ar_sha256_init(&s);
    ar_sha256_update(&s, f[0].data, f[0].len);
    ar_sha256_update(&s, f[2].data, f[2].len);
    ar_sha256_final(&s, d);
    ar_hex(d, 32, ds->fingerprint);
    return 0;
}

static jv split_json(const struct corpus *c, const struct tokbuf *tb, const struct out_file *f)
{
    jv o = jv_object();
    ar_jv_set(&o, "file", jv_string(f->name));
    ar_jv_set(&o, "sha256", jv_string(f->sha));
    ar_jv_set(&o, "docs", jv_number((double)c->n));
    ar_jv_set(&o, "bytes", jv_number((double)c->len));
    ar_jv_set(&o, "tokens", jv_number((double)tb->n));
    return o;
}

static jv manifest_json(const struct dataset *ds)
{
    const struct prepare_options *o = ds->o;
    jv m = jv_object(), t = jv_object();
    ar_jv_set(&m, "schema", jv_string("ar.data/1"));
    ar_jv_set(&m, "corpus", jv_string(ds->corpus_name));
    ar_jv_set(&m, "corpus_sha256", jv_string(ds->corpus_sha));
    ar_jv_set(&m, "docs", jv_number((double)ds->all.n));
    ar_jv_set(&m, "bytes", jv_number((double)ds->all.len));
    ar_jv_set(&m, "val_frac", jv_number(o->val_frac));
    ar_jv_set(&m, "split", jv_string("sha256(document) < val_frac"));
    ar_jv_set(&t, "file", jv_string(ds->files[0].name));
    ar_jv_set(&t, "sha256", jv_string(ds->files[0].sha));
    ar_jv_set(&t, "merges", jv_number(tokenizer_num_merges(ds->tok)));
    ar_jv_set(&t, "bos", jv_number(tokenizer_bos(ds->tok)));
    ar_jv_set(&t, "chunking", jv_string("gpt4-bytes-digits2"));
    ar_jv_set(&m, "tokenizer", t);
    ar_jv_set(&m, "train", split_json(&ds->train, &ds->ttrain, &ds->files[1]));
    ar_jv_set(&m, "val", split_json(&ds->val, &ds->tval, &ds->files[2]));
    /* the card's data object */
    ar_jv_set(&m, "vocab", jv_number(tokenizer_vocab_size(ds->tok)));
    ar_jv_set(&m, "tokenizer_hash", jv_string(ds->files[0].sha));
    ar_jv_set(&m, "val_tokens", jv_number((double)ds->tval.n));
    ar_jv_set(&m, "fingerprint", jv_string(ds->fingerprint));
    return m;
}

/* The three files, then the manifest, each atomically, under prepare.lock
 * (the loader reads under a shared lock). */
static int write_dataset(const char *dir, const struct dataset *ds, const char *manifest)
{
    char path[PATH_MAX];
    if (corpus_mkdirs(dir) < 0)
        return -1;
    if (snprintf(path, sizeof path, "%s/prepare.lock", dir) >= (int)sizeof path)
        return ar_fail(AR_EINPUT, "%s: path too long", dir);
    int lock = ar_lock(path, 600, 1);
    if (lock < 0)
        return -1;
    /* what a prepare killed mid-write left (.NAME.tmp.PID.N of a process
     * that is gone): no other writer is at work under the lock */
    ar_clean_temps(dir);
    int rc = 0;
    for (int i = 0; i <= 3 && rc == 0; i++) {
        const char *name = i < 3 ? ds->files[i].name : "manifest.json";
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
            rc = ar_fail(AR_EINPUT, "%s: path too long", dir);
        else if (i < 3)
            rc = ar_write_atomic(path, ds->files[i].data, ds->files[i].len);
        else
            rc = ar_write_atomic(path, manifest, strlen(manifest));
    }
    ar_unlock(lock);
    return rc;
}

static void print_summary(FILE *f, const struct dataset *ds)
{
    fprintf(f, "corpus:       %s (%zu documents, %.1f MB)\n", ds->corpus_name, ds->all.n,
            ds->all.len / 1e6);
    fprintf(f, "tokenizer:    %d tokens (%d merges), %.2f bytes per token\n",
            tokenizer_vocab_size(ds->tok), tokenizer_num_merges(ds->tok),
            (double)ds->train.len / (double)(ds->ttrain.n - ds->train.n));
    fprintf(f, "train:        %zu documents, %zu tokens\n", ds->train.n, ds->ttrain.n);
    fprintf(f, "val:          %zu documents, %zu tokens\n", ds->val.n, ds->tval.n);
    fprintf(f, "fingerprint:  %s\n", ds->fingerprint);
    fprintf(f, "data:         %s\n", ds->o->data_dir);
    fprintf(f, "seconds:      %.1f\n", now() - ds->t_start);
}

static void dataset_free(struct dataset *ds)
{
    for (int i = 0; i < 3; i++)
        free(ds->files[i].data);
    tokbuf_free(&ds->ttrain);
    tokbuf_free(&ds->tval);
    tokenizer_free(ds->tok);
    corpus_free(&ds->all);
    corpus_free(&ds->train);
    corpus_free(&ds->val);
}

int prepare_run(const struct prepare_options *o)
{
    /* inputs are read before anything is created, so bad input leaves no trace */
    for (int i = 0; i < o->n_inputs; i++)
        if (access(o->inputs[i], R_OK) < 0)
            return ar_fail(AR_EINPUT, "%s: cannot read input", o->inputs[i]);
    struct dataset ds = {.o = o,
                         .t_start = now(),
                         .files = {{.name = "tokenizer.bin"}, {.name = "train.bin"},
                                   {.name = "val.bin"}}};
    jv manifest = jv_invalid();
    char *text = NULL;
    int rc = -1;
    progress(&ds, "reading corpus");
    if (read_corpus(&ds) < 0 || build(&ds) < 0)
        goto out;
    manifest = manifest_json(&ds);
    struct ar_buf b = {0};
    ar_json_dump_buf(&b, manifest, AR_JSON_PRETTY);
    ar_buf_putc(&b, '\n');
    text = ar_buf_take(&b);
    progress(&ds, "writing");
    if (write_dataset(o->data_dir, &ds, text) < 0)
        goto out;
    if (o->progress)
        fputc('\n', stderr);
    if (o->report && o->json) {
        char *line = ar_json_dump(manifest, AR_JSON_COMPACT);
        fprintf(o->report, "%s\n", line);
        free(line);
    } else if (o->report) {
        print_summary(o->report, &ds);
    }
    rc = 0;
out:
    if (rc < 0 && o->progress)
        fputc('\n', stderr);
    jv_free(manifest);
    free(text);
    dataset_free(&ds);
    return rc;
}
