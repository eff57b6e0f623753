/* The data of `ar-train prepare` (bin/ar-train.c parses its options):
 * builds the dataset described in loader.h from the default corpus
 * (nlp-corpus from npm) or input files. */
#ifndef AR_TRAINER_PREPARE_H
#define AR_TRAINER_PREPARE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PREPARE_DEFAULT_VOCAB 4096
#define PREPARE_DEFAULT_VAL_FRAC 0.1

struct prepare_options {
    const char *const *inputs;  /* files to read (.txt, .jsonl, .json); none: nlp-corpus */
    int n_inputs;
    int vocab;                  /* TOKENIZER_MIN_VOCAB..TOKENIZER_MAX_VOCAB */
    double val_frac;            /* in (0, 1) */
    const char *data_dir;       /* where the files go (corpus_data_dir: the default) */
    int json;                   /* report the manifest as one JSON line, not a summary */
    FILE *report;               /* the summary or the JSON line; NULL: none */
    int progress;               /* progress on stderr */
};

/* Builds the dataset of o in memory (inputs are checked before anything
 * is created, so bad input leaves no trace), then writes it to
 * o->data_dir. Returns 0, or -1 with an error recorded (lib/base/err.h):
 * AR_EINPUT for bad input or options, AR_EFAIL at run time. */
int prepare_run(const struct prepare_options *o);

/* The token-file bytes (header and tokens) for n tokens of n_docs
 * documents; malloc'ed. */
uint8_t *prepare_token_file(const uint16_t *ids, size_t n, size_t n_docs, int vocab, int bos,
                            size_t *len);

#endif
