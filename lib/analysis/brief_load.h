/* The brief of a knowledge base, computed or taken from the saved one
 * (synthesis/brief-cache.json), as ar-brief and ar-mcp give it. The queue
 * section is not set here: the caller reads the queue afresh
 * (ar_brief_set_queue), since lib/analysis does not use lib/queue. */
#ifndef AR_BRIEF_LOAD_H
#define AR_BRIEF_LOAD_H
#include "analysis/brief.h"
#include "facts/kb.h"
#include "index/query.h"

enum {
    AR_BRIEF_CACHE_READ = 1,    /* use the saved brief when its key matches */
    AR_BRIEF_CACHE_WRITE = 2,   /* save what was computed (best effort) */
};

/* The brief of the cards passing filter (checked here), with recent
 * experiments; *out is the caller's (ar_brief_free). AR_EINPUT for a bad
 * filter, as ar_scope_load reports it. */
int ar_brief_load(const struct ar_kb *kb, const struct ar_filter *filter, int recent, int cache,
                  struct ar_brief **out);

/* The trainer's config keys (facts/config_keys.h), NULL-terminated,
 * malloc'd; free with ar_trainer_keys_free. */
char **ar_trainer_keys(void);
void ar_trainer_keys_free(char **keys);
#endif
