/* ar-train prepare: corpus -> split -> BPE -> token files -> manifest.
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
#include "base/opt.h"
#include "base/sha256.h"
#include "tokenizer.h"

#ifndef NLP_CORPUS_VERSION
#define NLP_CORPUS_VERSION "4.4.0"
#endif

static const char usage[] =
    "usage: ar-train prepare [--input FILE]... [--vocab N] [--val-frac F] [--data DIR] [--json]\n"
    "\n"
    "Builds the training data once: reads the corpus (default: the npm package\n"
    "nlp-corpus@" NLP_CORPUS_VERSION ", fetched with `npm pack`; or --input files: .txt\n"
    "paragraphs (lines, when a file has no blank line), .jsonl lines (strings\n"
    "or objects with a \"text\" field), JSON arrays of the same),\n"
    "splits documents into train and a fixed validation set by content hash,\n"
    "trains a byte-level BPE tokenizer on train, and writes tokenizer.bin,\n"
    "train.bin, val.bin and manifest.json to the data directory ($AR_DATA,\n"
    "default ~/.cache/ar). The same input gives the same bytes.\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int progress_on;
static double t_start;

static void progress(const char *what)
{
    if (progress_on)
        fprintf(stderr, "\rprepare: %-40s %6.1fs", what, now() - t_start);
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

struct prep {
    struct ar_strlist inputs;
    long vocab;
    double val_frac;
    const char *data_dir;
    int json;
};

/* Everything prepare computes before it writes. */
struct dataset {
    char corpus_name[512], corpus_sha[65], fingerprint[65];
    struct corpus all, train, val;
    struct tokenizer *tok;
    struct tokbuf ttrain, tval;     /* BOS + tokens of each document */
    struct out_file files[3];       /* tokenizer.bin, train.bin, val.bin */
};

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int read_corpus(const struct prep *o, const char *dir, struct dataset *ds)
{
    char *name = ds->corpus_name;
    size_t size = sizeof ds->corpus_name;
    if (o->inputs.n == 0) {
        snprintf(name, size, "nlp-corpus@%s", NLP_CORPUS_VERSION);
        return corpus_read_nlp(&ds->all, dir, NLP_CORPUS_VERSION);
    }
    size_t at = (size_t)snprintf(name, size, "input:");
    for (int i = 0; i < o->inputs.n; i++) {
        if (corpus_read_file(&ds->all, o->inputs.v[i]) < 0)
            return -1;
        at += (size_t)snprintf(name + at, at < size ? size - at : 0, "%s%s", i ? "," : "",
                               base_name(o->inputs.v[i]));
    }
    if (at >= size)
        strcpy(name + size - 4, "...");
    return 0;
}

/* Split, tokenizer, token files, hashes. */
static int build(const struct prep *o, struct dataset *ds)
{
    corpus_digest_hex(&ds->all, ds->corpus_sha);
    progress("splitting");
    if (corpus_split(&ds->all, o->val_frac, &ds->train, &ds->val) < 0)
        return -1;
    progress("training tokenizer");
    ds->tok = tokenizer_train(ds->train.data, ds->train.off, ds->train.n, (int)o->vocab);
    if (!ds->tok)
        return -1;
    progress("encoding");
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

static jv manifest_json(const struct prep *o, const struct dataset *ds)
{
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

static void print_summary(const struct dataset *ds, const char *dir)
{
    printf("corpus:       %s (%zu documents, %.1f MB)\n", ds->corpus_name, ds->all.n,
           ds->all.len / 1e6);
    printf("tokenizer:    %d tokens (%d merges), %.2f bytes per token\n",
           tokenizer_vocab_size(ds->tok), tokenizer_num_merges(ds->tok),
           (double)ds->train.len / (double)(ds->ttrain.n - ds->train.n));
    printf("train:        %zu documents, %zu tokens\n", ds->train.n, ds->ttrain.n);
    printf("val:          %zu documents, %zu tokens\n", ds->val.n, ds->tval.n);
    printf("fingerprint:  %s\n", ds->fingerprint);
    printf("data:         %s\n", dir);
    printf("seconds:      %.1f\n", now() - t_start);
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

static int prepare(const struct prep *o, const char *dir)
{
    struct dataset ds = {.files = {{.name = "tokenizer.bin"}, {.name = "train.bin"},
                                   {.name = "val.bin"}}};
    jv manifest = jv_invalid();
    char *text = NULL;
    int rc = -1;
    progress("reading corpus");
    if (read_corpus(o, dir, &ds) < 0 || build(o, &ds) < 0)
        goto out;
    manifest = manifest_json(o, &ds);
    struct ar_buf b = {0};
    ar_json_dump_buf(&b, manifest, AR_JSON_PRETTY);
    ar_buf_putc(&b, '\n');
    text = ar_buf_take(&b);
    progress("writing");
    if (write_dataset(dir, &ds, text) < 0)
        goto out;
    if (progress_on)
        fputc('\n', stderr);
    if (o->json) {
        char *line = ar_json_dump(manifest, AR_JSON_COMPACT);
        printf("%s\n", line);
        free(line);
    } else {
        print_summary(&ds, dir);
    }
    rc = 0;
out:
    if (rc < 0 && progress_on)
        fputc('\n', stderr);
    jv_free(manifest);
    free(text);
    dataset_free(&ds);
    return rc;
}

int prepare_main(int argc, char **argv)
{
    struct prep o = {.vocab = PREPARE_DEFAULT_VOCAB, .val_frac = PREPARE_DEFAULT_VAL_FRAC};
    struct ar_opt opts[] = {
        AR_OPT_LIST("input", &o.inputs, "FILE", "read FILE (.txt, .jsonl, .json) instead of nlp-corpus"),
        AR_OPT_INT("vocab", &o.vocab, "N", "vocabulary size with 256 bytes and BOS (default 4096, 257-65536)"),
        AR_OPT_NUM("val-frac", &o.val_frac, "F", "fraction of documents for validation (default 0.1)"),
        AR_OPT_STR("data", &o.data_dir, "DIR", "data directory (default $AR_DATA or ~/.cache/ar)"),
        AR_OPT_BOOL("json", &o.json, "print the manifest as one JSON line"),
        AR_OPT_END,
    };
    int npos = ar_opt_parse(opts, argc, argv, usage);
    if (npos > 0)       /* positionals are moved to argv[0..npos) */
        ar_die(AR_EINPUT, "prepare: unexpected argument '%s' (see --help)", argv[0]);
    if (o.vocab < TOKENIZER_MIN_VOCAB || o.vocab > TOKENIZER_MAX_VOCAB)
        ar_die(AR_EINPUT, "prepare: --vocab %ld is out of range [%d, %d]", o.vocab,
               TOKENIZER_MIN_VOCAB, TOKENIZER_MAX_VOCAB);
    if (!(o.val_frac > 0 && o.val_frac < 1))
        ar_die(AR_EINPUT, "prepare: --val-frac %g is out of range (0, 1)", o.val_frac);
    char dir[PATH_MAX];
    if (o.data_dir) {
        if (snprintf(dir, sizeof dir, "%s", o.data_dir) >= (int)sizeof dir)
            ar_die(AR_EINPUT, "prepare: --data: path too long");
    } else if (corpus_data_dir(dir, sizeof dir) < 0) {
        ar_die_last();
    }
    progress_on = isatty(2);
    t_start = now();
    /* inputs are read before anything is created, so bad input leaves no trace */
    for (int i = 0; i < o.inputs.n; i++)
        if (access(o.inputs.v[i], R_OK) < 0)
            ar_die(AR_EINPUT, "prepare: %s: cannot read input", o.inputs.v[i]);
    int rc = prepare(&o, dir);
    ar_strlist_free(&o.inputs);
    if (rc < 0) {
        ar_fail_prefix("prepare");
        ar_die_last();
    }
    return AR_OK;
}
