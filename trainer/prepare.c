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

#include "atomic.h"
#include "corpus.h"
#include "err.h"
#include "json.h"
#include "loader.h"
#include "lock.h"
#include "opt.h"
#include "sha256.h"
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

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

struct prep {
    struct ar_strlist inputs;
    long vocab;
    double val_frac;
    const char *data_dir;
    int json;
};

static int write_all(const char *dir, struct out_file *files, int n, const char *manifest)
{
    char path[PATH_MAX];
    for (int i = 0; i <= n; i++) {
        const char *name = i < n ? files[i].name : "manifest.json";
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
            return ar_fail(AR_EINPUT, "%s: path too long", dir);
        if (i < n ? ar_write_atomic(path, files[i].data, files[i].len)
                  : ar_write_atomic(path, manifest, strlen(manifest)))
            return -1;
    }
    return 0;
}

static int pathf_lock(char *buf, size_t size, const char *dir)
{
    if (snprintf(buf, size, "%s/prepare.lock", dir) >= (int)size)
        return ar_fail(AR_EINPUT, "%s: path too long", dir);
    return 0;
}

static int prepare(const struct prep *o, const char *dir)
{
    int rc = -1;
    struct corpus all, train, val;
    struct tokenizer *tok = NULL;
    struct tokbuf ttrain = {0}, tval = {0};
    struct out_file files[3] = {{"tokenizer.bin", 0, 0, ""}, {"train.bin", 0, 0, ""},
                                {"val.bin", 0, 0, ""}};
    char *manifest_text = NULL;
    jv manifest = jv_null();
    corpus_init(&all);
    corpus_init(&train);
    corpus_init(&val);

    char corpus_name[512];
    progress("reading corpus");
    if (o->inputs.n == 0) {
        snprintf(corpus_name, sizeof corpus_name, "nlp-corpus@%s", NLP_CORPUS_VERSION);
        if (corpus_read_nlp(&all, dir, NLP_CORPUS_VERSION) < 0)
            goto out;
    } else {
        size_t at = (size_t)snprintf(corpus_name, sizeof corpus_name, "input:");
        for (int i = 0; i < o->inputs.n; i++) {
            if (corpus_read_file(&all, o->inputs.v[i]) < 0)
                goto out;
            at += (size_t)snprintf(corpus_name + at, at < sizeof corpus_name ? sizeof corpus_name - at : 0,
                                   "%s%s", i ? "," : "", base_name(o->inputs.v[i]));
        }
        if (at >= sizeof corpus_name)
            strcpy(corpus_name + sizeof corpus_name - 4, "...");
    }
    char corpus_sha[65];
    corpus_digest_hex(&all, corpus_sha);
    progress("splitting");
    if (corpus_split(&all, o->val_frac, &train, &val) < 0)
        goto out;
    progress("training tokenizer");
    tok = tokenizer_train(train.data, train.off, train.n, (int)o->vocab);
    if (!tok)
        goto out;
    progress("encoding");
    if (encode_docs(tok, &train, &ttrain) < 0 || encode_docs(tok, &val, &tval) < 0)
        goto out;
    int vocab = tokenizer_vocab_size(tok), bos = tokenizer_bos(tok);
    if (tokenizer_serialize(tok, &files[0].data, &files[0].len) < 0)
        goto out;
    files[1].data = prepare_token_file(ttrain.ids, ttrain.n, train.n, vocab, bos, &files[1].len);
    files[2].data = prepare_token_file(tval.ids, tval.n, val.n, vocab, bos, &files[2].len);
    if (!files[1].data || !files[2].data)
        goto out;
    for (int i = 0; i < 3; i++)
        ar_sha256_hex(files[i].data, files[i].len, files[i].sha);
    struct ar_sha256 s;
    uint8_t d[32];
    char fingerprint[65];
    ar_sha256_init(&s);
    ar_sha256_update(&s, files[0].data, files[0].len);
    ar_sha256_update(&s, files[2].data, files[2].len);
    ar_sha256_final(&s, d);
    ar_hex(d, 32, fingerprint);

    manifest = jv_object();
    ar_jv_set(&manifest, "schema", jv_string("ar.data/1"));
    ar_jv_set(&manifest, "corpus", jv_string(corpus_name));
    ar_jv_set(&manifest, "corpus_sha256", jv_string(corpus_sha));
    ar_jv_set(&manifest, "docs", jv_number((double)all.n));
    ar_jv_set(&manifest, "bytes", jv_number((double)all.len));
    ar_jv_set(&manifest, "val_frac", jv_number(o->val_frac));
    ar_jv_set(&manifest, "split", jv_string("sha256(document) < val_frac"));
    jv tj = jv_object();
    ar_jv_set(&tj, "file", jv_string(files[0].name));
    ar_jv_set(&tj, "sha256", jv_string(files[0].sha));
    ar_jv_set(&tj, "merges", jv_number(tokenizer_num_merges(tok)));
    ar_jv_set(&tj, "bos", jv_number(bos));
    ar_jv_set(&tj, "chunking", jv_string("gpt4-bytes-digits2"));
    ar_jv_set(&manifest, "tokenizer", tj);
    ar_jv_set(&manifest, "train", split_json(&train, &ttrain, &files[1]));
    ar_jv_set(&manifest, "val", split_json(&val, &tval, &files[2]));
    ar_jv_set(&manifest, "vocab", jv_number(vocab));
    ar_jv_set(&manifest, "tokenizer_hash", jv_string(files[0].sha));
    ar_jv_set(&manifest, "val_tokens", jv_number((double)tval.n));
    ar_jv_set(&manifest, "fingerprint", jv_string(fingerprint));
    manifest_text = ar_json_dump(manifest, AR_JSON_PRETTY);
    size_t mlen = strlen(manifest_text);
    manifest_text = realloc(manifest_text, mlen + 2);
    strcpy(manifest_text + mlen, "\n");

    progress("writing");
    char lockpath[PATH_MAX];
    if (corpus_mkdirs(dir) < 0 ||
        pathf_lock(lockpath, sizeof lockpath, dir) < 0)
        goto out;
    int lock = ar_lock(lockpath, 600, 1);
    if (lock < 0)
        goto out;
    int wrc = write_all(dir, files, 3, manifest_text);
    ar_unlock(lock);
    if (wrc < 0)
        goto out;
    if (progress_on)
        fputc('\n', stderr);
    if (o->json) {
        char *line = ar_json_dump(manifest, AR_JSON_COMPACT);
        printf("%s\n", line);
        free(line);
    } else {
        printf("corpus:       %s (%zu documents, %.1f MB)\n", corpus_name, all.n, all.len / 1e6);
        printf("tokenizer:    %d tokens (%d merges), %.2f bytes per token\n", vocab,
               tokenizer_num_merges(tok),
               (double)train.len / (double)(ttrain.n - train.n));
        printf("train:        %zu documents, %zu tokens\n", train.n, ttrain.n);
        printf("val:          %zu documents, %zu tokens\n", val.n, tval.n);
        printf("fingerprint:  %s\n", fingerprint);
        printf("data:         %s\n", dir);
        printf("seconds:      %.1f\n", now() - t_start);
    }
    rc = 0;
out:
    if (rc < 0 && progress_on)
        fputc('\n', stderr);
    jv_free(manifest);
    free(manifest_text);
    for (int i = 0; i < 3; i++)
        free(files[i].data);
    tokbuf_free(&ttrain);
    tokbuf_free(&tval);
    tokenizer_free(tok);
    corpus_free(&all);
    corpus_free(&train);
    corpus_free(&val);
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
