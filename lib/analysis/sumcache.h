/* The summary cache: every card summary of a knowledge base's index
 * (lib/analysis/stats.h) in a flat binary file that a load maps instead of parsing
 * 230 MB of JSON. It is derived, local and outside the knowledge base (so
 * reading never changes the knowledge base): $AR_CACHE_DIR, else
 * $XDG_CACHE_HOME/ar, else ~/.cache/ar, one file per knowledge base,
 * index-<first 16 hex of SHA-256 of its real path>.sum. AR_CACHE_DIR=off
 * turns it off. It holds one version of the index (lib/index/index.h: epoch,
 * generation, size). A cache of the index's version is used as it is; one
 * of an older generation of the same epoch is used with the lines the
 * index journal names read again (lib/analysis/stats.c), and written anew only once
 * many lines changed; any other is rebuilt from the index. Knowledge bases
 * of fewer than AR_SUMCACHE_MIN_CARDS cards ($AR_CACHE_MIN_CARDS), which
 * parse in a few tens of milliseconds, get none.
 *
 * Layout (native byte order; the header says which): a header, the records
 * (one per card, id order), the changes, the string references of tags and
 * prior_cards, a hash table of the strings (offsets, FNV-1a, linear
 * probing), then a blob of NUL-terminated strings, each distinct string
 * once, so that equal strings share a pointer as interned ones do; the
 * table lets lines read again share those pointers too. */
#ifndef AR_SUMCACHE_H
#define AR_SUMCACHE_H

#include "index/index.h"
#include "analysis/stats.h"

#define AR_SUMCACHE_MIN_CARDS 20000
/* a cache this many changes behind is written anew */
#define AR_SUMCACHE_REWRITE 256

/* Fills st (new, empty) from the cache: returns 0 when it holds version v,
 * 1 when it holds the older generation *gen of v's epoch, -1 when it is
 * missing, of another epoch or malformed (nothing recorded). */
int ar_sumcache_load(const struct ar_kb *kb, const struct ar_index_version *v, struct ar_kbstats *st, long *gen);
/* The cache's one copy of s when st was loaded from a cache holding that
 * string, else NULL. */
const char *ar_sumcache_string(const struct ar_kbstats *st, const char *s);
/* Brings st, loaded from a cache of generation gen, to version v of the
 * index: the lines the journal names are read again. -1 when the journal
 * or the index cannot say (the caller parses the whole index instead);
 * st is then unusable. */
int ar_sumcache_catch_up(const struct ar_kb *kb, const struct ar_index_version *v, long gen, struct ar_kbstats *st);
/* Writes st's cards (all of the index at version v) as the cache; does
 * nothing for a small knowledge base or without a cache directory. */
int ar_sumcache_write(const struct ar_kb *kb, const struct ar_index_version *v, const struct ar_kbstats *st);

#endif
