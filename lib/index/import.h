/* Importing results from the Python autoresearch world, and exporting them
 * back:
 *
 * - results.tsv of autoresearch: a header "commit val_bpb memory_gb status
 *   description" (tab-separated) and one row per experiment;
 * - cards of autoresearch-commons (knowledge/cards/NAME.json): {id, timestamp,
 *   platform {gpu, ram_gb, framework}, parent_commit, hypothesis,
 *   config_diff, results {val_bpb, delta, ...}, status, lesson, tags,
 *   prior_knowledge_used, retraction_reason?}.
 *
 * Every row or card is converted and validated before anything is stored;
 * one that does not convert is reported ("FILE:LINE: why" on stderr) and
 * skipped, never guessed. Re-importing is harmless: a commit already in the
 * knowledge base (results.tsv) or an identical card (commons) is skipped. */
#ifndef AR_IMPORT_H
#define AR_IMPORT_H

#include <stdio.h>

#include "facts/kb.h"
#include "index/query.h"

struct ar_import_opts {
    const char *platform;   /* platform class; required for results.tsv */
    const char *session;    /* session tag of the imported cards */
    const char *category;   /* category when the source has none (default other) */
    const char *format;     /* "tsv" or "commons"; NULL: from each file (ar_import_path) */
};

struct ar_import_stats {
    int imported, existing, skipped, notes;
};

/* Imports one results.tsv. A file that is not a results.tsv at all (no
 * header) is AR_EINPUT and imports nothing. */
int ar_import_tsv(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                  struct ar_import_stats *st);

/* Imports autoresearch-commons cards: a file, or every *.json in a
 * directory. Lessons become lesson notes and retractions retract notes. */
int ar_import_commons(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                      struct ar_import_stats *st);

/* The checks before an import stores anything (lib/index/import_files.c):
 * the format is tsv or commons, the category one of the card categories,
 * the session a valid session tag, and every path readable. AR_EINPUT
 * naming the option or path otherwise. */
int ar_import_check(const struct ar_import_opts *o, char **paths, int n);

/* Imports one path as o->format says, or when that is NULL as results.tsv
 * when it is a file named *.tsv or starting with "commit<TAB>", else as
 * autoresearch-commons cards. */
int ar_import_path(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                   struct ar_import_stats *st);

/* Writes the cards that pass f (retracted ones left out) as results.tsv,
 * in id order: commit (7 hex), val_bpb (%.6f, 0 on crash), memory_gb,
 * status (keep, discard or crash) and the hypothesis' first line. */
int ar_export_tsv(const struct ar_kb *kb, const struct ar_filter *f, FILE *out);

#endif
