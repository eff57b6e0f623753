/* Byte-level BPE tokenizer: 256 byte tokens, then merges in the order they
 * were learned (merge i makes token 256 + i), then one BOS token, the last
 * id. Text is first split into chunks by a GPT-4-style pattern on bytes
 * (letters, 1-2 digit runs, punctuation, whitespace; bytes >= 0x80 count
 * as letters) and merges never cross chunks. Any byte string encodes and
 * decodes back exactly, invalid UTF-8 included.
 *
 * On disk (little-endian):
 *     char     magic[8]     "ARBPETOK"
 *     uint32   version      1
 *     uint32   vocab_size   256 + n_merges + 1
 *     uint32   n_merges
 *     uint32   bos_id       vocab_size - 1
 *     uint32   split        1 (the chunk pattern above)
 *     uint32   reserved     0
 *     uint32   merges[n_merges][2]   left and right token of merge i
 *     uint32   byte_len[vocab_size]  exact bytes of each token; BOS 0
 */
#ifndef AR_TRAINER_TOKENIZER_H
#define AR_TRAINER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#define TOKENIZER_MIN_VOCAB 257
#define TOKENIZER_MAX_VOCAB 65536
#define TOKENIZER_MAGIC "ARBPETOK"
#define TOKENIZER_VERSION 1

struct tokenizer;

/* A growable array of token ids. */
struct tokbuf {
    uint16_t *ids;
    size_t n, cap;
};
int tokbuf_push(struct tokbuf *b, uint16_t id);
void tokbuf_free(struct tokbuf *b);

/* Learns up to vocab_size - 257 merges from documents data[off[i]..off[i+1])
 * for i < n_docs, stopping early when no pair occurs twice; the vocabulary
 * is then smaller than asked. Deterministic: ties go to the smaller pair. */
struct tokenizer *tokenizer_train(const char *data, const size_t *off, size_t n_docs,
                                  int vocab_size);
/* Builds a tokenizer from its merges (pairs of earlier ids); NULL on error. */
struct tokenizer *tokenizer_from_merges(const uint32_t (*merges)[2], int n_merges);
void tokenizer_free(struct tokenizer *t);

/* The file format above, in memory (malloc'ed) or parsed back. name is used
 * in error messages. */
int tokenizer_serialize(const struct tokenizer *t, uint8_t **buf, size_t *len);
struct tokenizer *tokenizer_parse(const uint8_t *buf, size_t len, const char *name);
struct tokenizer *tokenizer_load(const char *path);

int tokenizer_vocab_size(const struct tokenizer *t);
int tokenizer_bos(const struct tokenizer *t);
int tokenizer_num_merges(const struct tokenizer *t);
/* Exact byte length of every token id, vocab_size entries; BOS is 0. */
const uint32_t *tokenizer_byte_lens(const struct tokenizer *t);
/* The bytes of one token (BOS: length 0). */
const uint8_t *tokenizer_token_bytes(const struct tokenizer *t, int id, size_t *len);

/* Appends the tokens of text to out (no BOS). Returns -1 on memory failure.
 * Keeps a cache of chunk encodings inside t, so t is not const. */
int tokenizer_encode(struct tokenizer *t, const void *text, size_t len, struct tokbuf *out);
/* Writes the bytes of ids to out, which has room for the sum of their byte
 * lengths (NULL: only count); returns that sum. Ids >= vocab are skipped. */
size_t tokenizer_decode(const struct tokenizer *t, const uint16_t *ids, size_t n, uint8_t *out);

/* Chunking: the end of the chunk that starts at i < n in s. */
size_t tokenizer_chunk_end(const uint8_t *s, size_t n, size_t i);

#endif
