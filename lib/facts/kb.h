/* The knowledge base on disk (DESIGN.md): which directory, and where each
 * fact and derived file lives in it. */
#ifndef AR_KB_H
#define AR_KB_H

#include <limits.h>

struct ar_kb {
    char root[PATH_MAX];
    char cards[PATH_MAX];
    char notes[PATH_MAX];
};

#define AR_KB_CREATE 1

/* Resolves the directory: dir if given (--kb), else $AR_KB, else
 * ./knowledge. Without AR_KB_CREATE a missing knowledge base is an error
 * (AR_EFAIL, naming the path); with it the root is created, with any
 * parents it lacks (like `git init a/b/c`), and cards/ and notes/ inside. */
int ar_kb_open(struct ar_kb *kb, const char *dir, int flags);

/* PATH of a file in the knowledge base root ("index.db", "queue.json",
 * "synthesis/meta.md"); aborts on overflow. */
const char *ar_kb_path(const struct ar_kb *kb, const char *name, char out[PATH_MAX]);
/* cards/<id>.json and notes/<id>.json */
const char *ar_kb_card_path(const struct ar_kb *kb, const char *id, char out[PATH_MAX]);
const char *ar_kb_note_path(const struct ar_kb *kb, const char *id, char out[PATH_MAX]);

#endif
