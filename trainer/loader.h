/* The prepared dataset, as `ar-train prepare` leaves it in the data
 * directory, and the batches the trainer reads from it.
 *
 *   manifest.json   corpus, tokenizer, split, token counts, SHA-256 of every
 *                   file, and fingerprint = SHA-256(tokenizer.bin || val.bin)
 *   tokenizer.bin   see tokenizer.h
 *   train.bin       token file of the training documents
 *   val.bin         token file of the validation documents
 *
 * Token file (little-endian):
 *     char     magic[8]    "ARTOKENS"
 *     uint32   version     1
 *     uint32   vocab_size
 *     uint32   bos_id
 *     uint32   reserved    0
 *     uint64   n_tokens
 *     uint64   n_docs
 *     uint16   tokens[n_tokens]    every document starts with bos_id
 *
 * Batches follow autoresearch: each row of T + 1 tokens starts at a
 * document's BOS; of a buffer of documents, the largest that fits the room
 * left goes next, and when none fits the shortest is cropped to fill the
 * row, so there is no padding. inputs = row[0..T), targets = row[1..T].
 * Training documents are shuffled per epoch from the seed; validation rows
 * are packed the same way from the validation documents in file order (the
 * last row padded with BOS), so they are the same for every run with the
 * same T. */
#ifndef AR_TRAINER_LOADER_H
#define AR_TRAINER_LOADER_H

#include <jv.h>
#include <stddef.h>
#include <stdint.h>

#define TOKFILE_MAGIC "ARTOKENS"
#define TOKFILE_VERSION 1
#define TOKFILE_HEADER 40
#define LOADER_BUFFER_DOCS 1000

struct loader;

/* Opens the dataset in dir for batches of B rows of T tokens. Checks every
 * file against the manifest; a missing dataset fails with AR_EFAIL telling
 * the user to run `ar-train prepare`. */
struct loader *loader_open(const char *dir, int B, int T, uint64_t seed);
void loader_free(struct loader *l);

/* The next training batch: inputs and targets, each B*T. */
void loader_next_batch(struct loader *l, uint16_t *inputs, uint16_t *targets);
/* Completed passes over the training documents (fractional). */
double loader_epoch(const struct loader *l);

/* Validation: the number of batches covering at least eval_tokens target
 * tokens (fewer when the validation set is smaller), and batch i of them. */
int loader_val_batches(const struct loader *l, long eval_tokens);
void loader_val_batch(const struct loader *l, int i, uint16_t *inputs, uint16_t *targets);

int loader_vocab_size(const struct loader *l);
int loader_bos(const struct loader *l);
/* Exact byte length of each token id (BOS 0), for val_bpb. */
const uint32_t *loader_byte_lens(const struct loader *l);
size_t loader_train_tokens(const struct loader *l);
size_t loader_val_tokens(const struct loader *l);

/* Adds a batch's cross-entropy (nats, n values) and its targets' byte
 * lengths to the sums for val_bpb = sum_nats / (ln 2 * sum_bytes); targets
 * with 0 bytes (BOS) add to neither. */
void loader_bpb_add(const struct loader *l, const uint16_t *targets, const double *nats,
                    size_t n, double *sum_nats, double *sum_bytes);

/* The card's `data` object: corpus, tokenizer_hash, vocab, val_tokens,
 * fingerprint (a new reference). */
jv loader_card_data(const struct loader *l);
/* The whole manifest (a new reference). */
jv loader_manifest(const struct loader *l);

#endif
