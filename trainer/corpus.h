/* Text corpora for `ar-train prepare`: documents read from .txt, .jsonl or
 * JSON files, or from the npm package nlp-corpus (fetched with `npm pack`
 * into the data directory), and a deterministic train/validation split by
 * document.
 *
 * Input formats:
 *   .txt    documents are paragraphs separated by blank lines; a file
 *           without blank lines has one document per line
 *   .jsonl  one JSON value per line: a string or an object with a string
 *           "text" field
 *   .json   an array of such values (nlp-corpus's builds/doc-N.json)
 * Empty documents are skipped. */
#ifndef AR_TRAINER_CORPUS_H
#define AR_TRAINER_CORPUS_H

#include <stddef.h>

/* Document i is data[off[i] .. off[i+1]); off has n + 1 entries. */
struct corpus {
    char *data;
    size_t len, cap;
    size_t *off;
    size_t n, cap_off;
};

void corpus_init(struct corpus *c);
void corpus_free(struct corpus *c);
int corpus_add(struct corpus *c, const void *text, size_t len);
static inline size_t corpus_doc_len(const struct corpus *c, size_t i)
{
    return c->off[i + 1] - c->off[i];
}

/* Reads one input file by its extension; bad content fails with AR_EINPUT
 * naming the file and line or index. */
int corpus_read_file(struct corpus *c, const char *path);

/* The data directory: $AR_DATA, else $HOME/.cache/ar (corpus_nlp.c). */
int corpus_data_dir(char *buf, size_t size);

/* Makes sure nlp-corpus@version is unpacked under data_dir (fetching it
 * with npm when needed) and reads its documents in file order. A failed
 * fetch says so in one line and suggests --input. */
int corpus_read_nlp(struct corpus *c, const char *data_dir, const char *version);

/* Splits docs into train and val: a document goes to val when the first 8
 * bytes of its SHA-256, as a fraction of 2^64, are below val_frac (so the
 * same text always lands on the same side). When that leaves val empty,
 * the document with the smallest hash moves there. Fails when either side
 * would be empty. */
int corpus_split(const struct corpus *all, double val_frac, struct corpus *train,
                 struct corpus *val);

/* mkdir -p. */
int corpus_mkdirs(const char *path);

/* Reads a whole file into a malloc'ed buffer (NUL-terminated). */
int corpus_slurp(const char *path, char **buf, size_t *len);

/* SHA-256 over every document (length as 8 bytes LE, then the bytes). */
void corpus_digest_hex(const struct corpus *c, char hex[65]);

#endif
