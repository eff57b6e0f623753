/* Untrusted facts. Files that arrive from a peer (or that appear in the
 * local knowledge base by hand) enter only when they are what they claim:
 * a regular file at cards/<id>.json, notes/<id>.json or patches/<id>.patch,
 * within the size limit, that parses and validates, whose id matches its
 * content hash and whose file name is its id (a patch: whose card records
 * its hash). Anything else is kept aside in quarantine/ with the reason, so
 * a forged or edited card never reaches the index or any statistics. */
#ifndef AR_QUARANTINE_H
#define AR_QUARANTINE_H

#include <jv.h>
#include <stddef.h>

#include "facts/kb.h"

enum ar_fact_kind { AR_FACT_NONE, AR_FACT_CARD, AR_FACT_NOTE, AR_FACT_PATCH };

/* The kind of fact a path (relative to the knowledge base root) names, and
 * its id; AR_FACT_NONE for anything else. id may be NULL. */
enum ar_fact_kind ar_fact_kind(const char *path, char id[30]);

/* Git file modes as they appear in trees. */
#define AR_MODE_FILE 0100644

/* Checks one incoming file: path relative to the root, its git mode, its
 * bytes. card_of_patch is the card a patch belongs to (borrowed;
 * jv_invalid() when that card is not known). Returns 0 when the file may
 * enter; else -1 with the reason recorded (AR_EINPUT). */
int ar_fact_check(const char *path, unsigned mode, const char *data, size_t len, jv card_of_patch);

/* Keeps a rejected file in quarantine/: <key>.data holds its first kept
 * bytes (at most AR_QUARANTINE_KEEP: enough to read what a peer sent, never
 * a copy of a flood) and <key>.json {path, reason, origin, bytes, sha256,
 * created, kept} the whole file's size and hash, where key is derived from
 * path and content. The folder holds at most ar_quarantine_cap() bytes:
 * past it a record keeps no bytes, and when not even the record fits,
 * nothing is kept. Returns 1 when that exact file was already there
 * (reported before), 0 when it is new, 2 when it is new but could not be
 * kept (over the cap), -1 on I/O failure. */
#define AR_QUARANTINE_KEEP 65536
#define AR_QUARANTINE_CAP (64LL * 1024 * 1024)
/* The cap: AR_QUARANTINE_MAX_BYTES when set to a number, else AR_QUARANTINE_CAP. */
long long ar_quarantine_cap(void);
int ar_quarantine_add(const struct ar_kb *kb, const char *path, const char *data, size_t len,
                      const char *reason, const char *origin);

/* Number of files held in quarantine/ (0 when there is none). */
long ar_quarantine_count(const struct ar_kb *kb);

/* The reason of a note whose card is not here: such a note waits in
 * quarantine and enters when its card does (lib/sync). */
#define AR_ORPHAN_REASON "orphan: no card "

/* Calls fn for every record in quarantine/, in key order, with its key,
 * the record (borrowed) and the bytes kept beside it (borrowed; len is
 * what was kept, the record's "bytes" what came). A non-zero return from
 * fn stops the walk and is returned. */
typedef int (*ar_quarantine_fn)(const char *key, jv rec, const char *data, size_t len, void *ctx);
int ar_quarantine_foreach(const struct ar_kb *kb, ar_quarantine_fn fn, void *ctx);
/* Removes record key (its .json, then its .data). */
int ar_quarantine_remove(const struct ar_kb *kb, const char *key);

/* The canonical bytes of a JSON fact (what ar itself writes: the
 * canonical pretty form and a newline), into *out (malloc'd). 1 when they
 * differ from data, 0 when data is canonical already, -1 when it does not
 * parse. Two peers then hold the same bytes for the same id. */
int ar_fact_canonical(const char *data, size_t len, char **out, size_t *olen);

#endif
