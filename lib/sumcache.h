/* The summary cache: every card summary of a knowledge base's index
 * (lib/stats.h) in a flat binary file that a load maps instead of parsing
 * 230 MB of JSON. It is derived, local and outside the knowledge base (so
 * reading never changes the knowledge base): $AR_CACHE_DIR, else
 * $XDG_CACHE_HOME/ar, else ~/.cache/ar, one file per knowledge base,
 * index-<first 16 hex of SHA-256 of its real path>.sum. AR_CACHE_DIR=off
 * turns it off. It is valid only while index.jsonl is the very file it was
 * built from (the stamp: root hash, inode, size, modification and change
 * times) and is rebuilt otherwise; knowledge bases of fewer than
 * AR_SUMCACHE_MIN_CARDS cards ($AR_CACHE_MIN_CARDS), which parse in a few
 * tens of milliseconds, get none.
 *
 * Layout (native byte order; the header says which): a header, the records
 * (one per card, id order), the changes, the string references of tags and
 * prior_cards, then a blob of NUL-terminated strings, each distinct string
 * once, so that equal strings share a pointer as interned ones do. */
#ifndef AR_SUMCACHE_H
#define AR_SUMCACHE_H

#include "stats.h"

#define AR_SUMCACHE_STAMP 192
#define AR_SUMCACHE_MIN_CARDS 20000

/* The stamp of kb's index.jsonl into out; -1 when it cannot be read. */
int ar_sumcache_stamp(const struct ar_kb *kb, char out[AR_SUMCACHE_STAMP]);
/* Fills st (new, empty) from a cache whose stamp is stamp; returns 0, or -1
 * when the cache is missing, stale or malformed (nothing recorded). */
int ar_sumcache_load(const struct ar_kb *kb, const char *stamp, struct ar_kbstats *st);
/* Writes st's cards (all of the index) as the cache for stamp; does nothing
 * for a small knowledge base or without a cache directory. */
int ar_sumcache_write(const struct ar_kb *kb, const char *stamp, const struct ar_kbstats *st);

#endif
