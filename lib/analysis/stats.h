/* Statistics over the knowledge base (DESIGN.md, "Findings and certainty").
 *
 * struct ar_kbstats is built once from the index's card views: one parsed
 * summary per card, in id order, then per comparability key (data
 * fingerprint + budget + platform class) the best card and the baseline,
 * and per platform class the noise floor. Every other statistic (findings,
 * coverage, briefs, plots) is a function over it.
 *
 *     struct ar_kbstats *st;
 *     if (ar_kbstats_load(&kb, &filter, &st) != 0) ar_die_last();
 *     for (size_t i = 0; i < st->n; i++) if (st->cards[i].counts) ...
 *     double z = ar_stats_z(st, &st->cards[i]);
 *     ar_kbstats_free(st);
 *
 * What counts: a card enters the statistics (counts = 1) unless it is
 * retracted, its effective status is crash, or it has no val_bpb. Retracted
 * and crash cards stay in cards[] (briefs list crashes as dead ends) but are
 * never a val_bpb, a best, a baseline or a replicate. */
#ifndef AR_STATS_H
#define AR_STATS_H

#include <jv.h>
#include <stddef.h>
#include <stdint.h>

#include "facts/kb.h"
#include "base/pool.h"
#include "index/query.h"

#define AR_SIGMA_DEFAULT 0.002   /* noise floor of a class without replicates */
#define AR_SIGMA_MIN 0.0001      /* floor under a pooled estimate (identical reruns) */
/* The prior's weight in degrees of freedom: the literature's 0.002 counts
 * as this many replicate degrees of freedom, so one pair of reruns that
 * happen to agree to 0.0005 cannot make every 0.001 win look real. */
#define AR_SIGMA_PRIOR_DOF 4
/* A run that trained less than this fraction of its budget (ar-train
 * --max-steps, a stopped run) is truncated: not a replicate. */
#define AR_FULL_BUDGET_FRAC 0.9

/* One entry of a card's changes: config key, and the values as canonical
 * JSON text ("null" when absent). numeric: both values are numbers. */
struct ar_change {
    const char *key, *from, *to;
    double from_num, to_num;
    int numeric;
};

struct ar_cardsum {
    uint64_t idk[2];           /* the id as numbers (ar_stats_id_key) */
    const char *id, *created, *agent, *session, *commit, *category, *hypothesis;
    const char *status;        /* effective (after status notes), "revert" read as discard */
    const char *platform;      /* platform class, "" when absent */
    const char *fingerprint;   /* data.fingerprint, "" when absent */
    const char *key;           /* comparability key "FINGERPRINT|BUDGET|CLASS" */
    const char *config_hash;   /* NULL when absent */
    const char *baseline;      /* the card's baseline id, NULL when absent */
    const char *verifies;      /* NULL when absent */
    const char *lesson;        /* the text of the last lesson note, NULL when none */
    double budget_s;           /* 0 when absent */
    double val_bpb;            /* valid when has_bpb */
    double delta;              /* valid when has_delta: the card's own, or
                                  val_bpb minus its baseline card's in the same key */
    double training_seconds;   /* metrics.training_seconds, 0 when absent */
    int has_bpb, has_delta;
    int retracted, crash;
    int truncated;             /* ar_stats_truncated: never a replicate */
    int counts;                /* enters the statistics (see above) */
    int group;                 /* replicate group (index into groups), -1 when none */
    const char **tags;
    int ntags;
    const char **prior;        /* prior_cards */
    int nprior;
    long prior_at;             /* the index of prior[0] (ar_kbstats_finish), -1 when none */
    struct ar_change *changes;
    int nchanges;
};

/* One comparability key: the best counted card (lowest val_bpb, earliest id
 * on ties) and the baseline (the first counted card with status baseline,
 * by id); -1 when there is none. */
struct ar_keystat {
    const char *key, *platform, *fingerprint;
    double budget_s;
    int runs;                  /* counted cards */
    int best, baseline;        /* indices into cards */
    int baselines;             /* counted baseline cards */
    double baseline_mean;      /* their mean val_bpb */
};

/* Replicates: counted cards with the same config_hash, data fingerprint,
 * budget and platform class that trained their whole budget (not
 * truncated). */
struct ar_group {
    const char *platform;
    int runs;
    double mean, m2;           /* mean and sum of squared deviations */
};

/* The noise floor of a platform class: the pooled variance of val_bpb over
 * its replicate groups of two or more runs, shrunk towards the prior
 * AR_SIGMA_DEFAULT with the weight of AR_SIGMA_PRIOR_DOF degrees of
 * freedom (a scaled inverse chi-squared prior):
 *     sigma = sqrt((d0 * 0.002^2 + sum of squared deviations) / (d0 + dof))
 * with dof = sum of (runs - 1), at least AR_SIGMA_MIN; the prior alone
 * (is_default) when no group has two runs. pooled is the replicates'
 * own estimate sqrt(ss / dof) (0 when dof is 0). */
struct ar_noise {
    const char *platform;
    double sigma;
    double pooled;             /* the replicates alone */
    int groups, runs;          /* replicate groups of 2+ runs, and their runs */
    int dof;                   /* sum of (runs - 1) */
    int is_default;
};

struct ar_idslot {
    uint64_t hi, lo;           /* the id as numbers (lib/analysis/stats.c) */
    long card;                 /* -1: empty */
};

struct ar_kbstats {
    struct ar_cardsum *cards;  /* id order; every card that passed the filter */
    size_t n;
    struct ar_keystat *keys;   /* sorted by key */
    size_t nkeys;
    struct ar_noise *noise;    /* sorted by class; every class of a counted card */
    size_t nnoise;
    struct ar_group *groups;
    size_t ngroups;
    struct ar_pool pool;       /* owns every string above */
    size_t cap, gcap;
    struct ar_idslot *idmap;   /* open-addressing table: id -> index */
    size_t idmap_size;
    struct ar_kbstats *owner;  /* freed with this one (a filtered load's full set) */
};

/* An id as two numbers: for the id form (YYYYMMDDTHHMMSSZ-<12 hex>) its
 * time digits and its hex digits, which say exactly which id it is; for
 * anything else a hash with the top bit set, which only says it may be. */
void ar_stats_id_key(const char *id, uint64_t *hi, uint64_t *lo);

/* Builds the statistics from the fresh index, keeping the cards that pass
 * the filter (NULL: all). The summaries are the index's rows (the columns
 * of index.db's cards table, lib/index/index.h: ar_index_rows), so a load
 * parses no JSON. */
int ar_kbstats_load(const struct ar_kb *kb, const struct ar_filter *f, struct ar_kbstats **out);

/* Building by hand (tests, tools with their own source of views): new, add
 * views (borrowed, any order), then finish, which sorts by id and computes
 * deltas, keys, groups and noise. Returns -1 (AR_EINPUT) for a view
 * without an id. */
struct ar_kbstats *ar_kbstats_new(void);
int ar_kbstats_add_view(struct ar_kbstats *st, jv view);
int ar_kbstats_add_text(struct ar_kbstats *st, const char *json, size_t len);
void ar_kbstats_finish(struct ar_kbstats *st);
void ar_kbstats_free(struct ar_kbstats *st);

/* The statistics of a subset of st's cards (indices idx[0..n), id order):
 * keys, best, baselines and replicate groups over the subset, but the
 * noise floor of st (all cards estimate it best). The subset borrows
 * st's strings: free it before st. */
struct ar_kbstats *ar_kbstats_subset(const struct ar_kbstats *st, const size_t *idx, size_t n);

/* Parses one view (JSON text of len bytes; a number must not end the text) into *c,
 * strings in pool, as the index computes its row (lib/index/cardrow.h).
 * Returns -1 (AR_EINPUT) for malformed JSON or a view without id. */
int ar_cardsum_parse(struct ar_pool *pool, const char *text, size_t len, struct ar_cardsum *c);

/* The index of card id, or -1. */
long ar_stats_find(const struct ar_kbstats *st, const char *id);
/* The same through a memo of the ids last looked up, by their address
 * (the strings of st's cards: equal ids often share one, see stats.c);
 * zero-initialised, valid while st is. */
#define AR_FIND_MEMO 64
struct ar_find_memo {
    const char *id[AR_FIND_MEMO];
    long at[AR_FIND_MEMO];
};
long ar_stats_find_memo(const struct ar_kbstats *st, struct ar_find_memo *m, const char *id);
const struct ar_keystat *ar_stats_key(const struct ar_kbstats *st, const char *key);
/* The noise floor σ of a class (AR_SIGMA_DEFAULT for an unknown one). */
double ar_stats_sigma(const struct ar_kbstats *st, const char *platform);
const struct ar_noise *ar_stats_noise(const struct ar_kbstats *st, const char *platform);
/* z = -delta / σ(class): positive when the card improved on its baseline.
 * 0 when the card has no delta. */
double ar_stats_z(const struct ar_kbstats *st, const struct ar_cardsum *c);
/* Counted runs in card i's replicate group (1 for a card without one, 0
 * for a card that does not count). */
int ar_stats_replicates(const struct ar_kbstats *st, size_t i);

/* 1 when a run trained for less than AR_FULL_BUDGET_FRAC of its budget:
 * metrics.training_seconds below that share of budget_s (a --max-steps
 * run). A card without training_seconds or budget is taken as full. */
int ar_stats_truncated(double training_seconds, double budget_s);

/* The comparability key of a fingerprint, budget and class, written into
 * out: "FINGERPRINT|BUDGET|CLASS" with the budget as %g and "-" for an
 * absent fingerprint or class. */
const char *ar_stats_keyname(const char *fingerprint, double budget_s, const char *platform,
                             char *out, size_t size);

#endif
