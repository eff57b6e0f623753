/* `ar-train prepare`: builds the dataset described in loader.h from the
 * default corpus (nlp-corpus from npm) or --input files. */
#ifndef AR_TRAINER_PREPARE_H
#define AR_TRAINER_PREPARE_H

#include <stddef.h>
#include <stdint.h>

#define PREPARE_DEFAULT_VOCAB 4096
#define PREPARE_DEFAULT_VAL_FRAC 0.1

/* argv[0] is "prepare". Returns the exit code (errors printed). */
int prepare_main(int argc, char **argv);

/* The token-file bytes (header and tokens) for n tokens of n_docs
 * documents; malloc'ed. */
uint8_t *prepare_token_file(const uint16_t *ids, size_t n, size_t n_docs, int vocab, int bos,
                            size_t *len);

#endif
