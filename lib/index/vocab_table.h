/* The vocabulary's tables, for vocab.c, vocab_describe.c, trainpy.c and
 * the tests (the man page's table is checked against them). */
#ifndef AR_INDEX_VOCAB_TABLE_H
#define AR_INDEX_VOCAB_TABLE_H

#include <stddef.h>

enum ar_vocab_kind {
    VK_ANY,    /* unknown key: typed by the text */
    VK_NUM,
    VK_INT,
    VK_BOOL,
    VK_STR,
    VK_PAIR,   /* a tuple of two numbers */
    VK_NONE,   /* changes are named, never valued ("VE every 3rd layer") */
};

enum {
    VF_TOKENS = 1,   /* counted in tokens or sequences: 524K is 2^19 */
    VF_SCALE = 2,    /* a multiplier itself: "init scale 0.7x" is 0.7, not a factor */
    VF_ON = 4,       /* a boolean that is on unless changed (keys outside ar) */
    VF_NOMINAL = 8,  /* numbers without an order: a seed goes neither up nor down */
    VF_OFF0 = 16,    /* 0 turns it off (keys outside ar; ar's own: a default of 0) */
};

struct ar_vocab_keyinfo {
    const char *key, *category;
    enum ar_vocab_kind kind;
    int flags;
};

struct ar_vocab_phrase {
    const char *phrase;    /* normalised: lower case, single spaces */
    const char *key;
    const char *implied;   /* the value the phrase names, or NULL */
};

extern const struct ar_vocab_keyinfo ar_vocab_keys[];
extern const struct ar_vocab_phrase ar_vocab_phrases[];

/* lower case; runs of '_', '-' and white space become one space */
void ar_vocab_normalise(const char *name, char *out, size_t n);
const struct ar_vocab_keyinfo *ar_vocab_keyinfo(const char *key);
const struct ar_vocab_phrase *ar_vocab_phrase_find(const char *normalised);
const char *ar_vocab_key_normalised(const char *normalised);
enum ar_vocab_kind ar_vocab_kind(const char *key);
/* the two keys a pair key stands for (adam_betas: adam_beta1, adam_beta2),
 * or NULL */
const char *const *ar_vocab_pair_keys(const char *key);

#endif
