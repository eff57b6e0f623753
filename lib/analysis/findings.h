/* Findings: claims about config changes, with evidence, certainty, scope
 * and links (DESIGN.md, "Findings and certainty"; man/ar-synth.1 has the
 * rule in full).
 *
 * Claims. A card whose changes touch exactly one config key is evidence for
 * "KEY:up" or "KEY:down" (both values numbers) or "KEY=VALUE" (VALUE is the
 * string, or the JSON text of any other value); a card that changes several
 * keys is evidence for the combined claim, the single claims sorted and
 * joined with "+". Entries whose from and to are equal are ignored.
 *
 * Evidence. A counted card (not retracted, not a crash, has val_bpb) with a
 * delta and a status other than baseline is scored against the noise floor
 * σ of its class: z = -delta/σ; z >= 2 confirms, z <= -2 refutes, anything
 * else is null evidence. Crash cards are tallied (crashes) but move no
 * certainty.
 *
 * Certainty starts at AR_CERTAINTY_START and each piece of evidence, in id
 * order, moves it with the adaptive rate η(c) = 1/(1+e^{10(c-0.5)}) times
 * the step AR_CERTAINTY_STEP and a weight w, r = min(1, step·η(c)·w). The
 * step keeps one run from settling a claim: a single confirmation takes a
 * new claim from 0.3 to 0.546, a second from another agent to 0.616, while
 * without it one replication-weighted confirmation reached 1.0:
 *     confirm  c += r·(1 - c)
 *     refute   c -= r·c
 *     null     c -= r·AR_NULL_PULL·c
 * w is AR_W_RERUN when an earlier piece of evidence for the claim came from
 * the same agent on the same class, else AR_W_REPLICATION when earlier
 * evidence exists and none of it is on this card's class (independent
 * replication on other hardware), else 1.
 *
 * Each class keeps its own tallies and certainty (the same rule over that
 * class's evidence only). Verdicts, for the claim and for each class:
 * confirmed (certainty >= 0.5 and more confirmations than refutations),
 * refuted (certainty < AR_CERTAINTY_START and more refutations), null (only
 * null evidence), mixed, crashed (only crashes). Scope: platform-specific
 * when one class is confirmed and another refuted (with a CONTRADICTS
 * link), universal when two or more classes are confirmed and nothing was
 * refuted, single-platform when all evidence is from one class, else open. */
#ifndef AR_FINDINGS_H
#define AR_FINDINGS_H

#include <jv.h>

#include "analysis/stats.h"

#define AR_CERTAINTY_START 0.3
#define AR_CERTAINTY_STEP 0.4
#define AR_Z_CONFIRM 2.0
#define AR_NULL_PULL 0.25
#define AR_W_RERUN 0.5
#define AR_W_REPLICATION 1.5
#define AR_W_CRASH 0.5
#define AR_STRENGTH_MAX 3.0
/* The most a weight times a strength may be: r stays <= 0.4 * 2 = 0.8, so
 * no single run, however strong, settles a claim at certainty 0 or 1 (a
 * 30-sigma result may be a bug or a confound: replicate it). */
#define AR_WEIGHT_MAX 2.0

enum ar_outcome { AR_CONFIRM, AR_REFUTE, AR_NULL };

/* One scored card. before/after: the claim's certainty around it.
 * strength: how far the result is from the threshold (1 for |z| <= 4,
 * log2(|z|/2) above, at most AR_STRENGTH_MAX), so one 1000-sigma result
 * moves certainty further than one 2-sigma result. crash: a crash of a
 * run that made the claim's change, taken as a refutation of weight
 * AR_W_CRASH (z is 0 then). */
struct ar_evidence {
    int card;                  /* index into the stats' cards */
    enum ar_outcome outcome;
    double z, weight, before, after;
    double strength;
    int crash;
};

/* The values a numeric single-key claim was tested over: lo..hi spans the
 * from and to values of the evidence of one kind. */
struct ar_range {
    double lo, hi;
    int n;                     /* 0: no such evidence */
};

struct ar_tally {
    const char *platform;      /* NULL for the claim as a whole */
    int confirms, refutes, nulls, crashes;
    int runs;                  /* scored evidence */
    double effect;             /* mean delta over scored evidence */
    double zsum, zmin, zmax;   /* sum, least and greatest z of scored evidence */
    double certainty;
    const char *verdict;       /* confirmed, refuted, null, mixed, crashed */
    struct ar_range won, lost; /* confirming; refuting or crashed (numeric claims) */
};

/* CONTRADICTS: from the strongest confirmation on one class to the
 * strongest refutation on another. BUILDS_ON: the claim's cards name, in
 * prior_cards, cards of another claim (to_claim); from/to are the first such
 * pair, count how many pairs there are. VERIFIES: a card of the claim to the
 * card it replicates; agrees says whether both cards' outcomes are the same
 * (-1 when either is not scored). */
struct ar_link {
    const char *type, *from, *to;
    const char *from_class, *to_class;   /* CONTRADICTS only */
    const char *to_claim;                /* BUILDS_ON only */
    int count;                           /* BUILDS_ON only */
    int agrees;                          /* VERIFIES only */
};

struct ar_claim {
    const char *name;
    const char **keys;         /* the config keys involved, sorted */
    int nkeys;
    const char *category;      /* of the claim's first card */
    struct ar_tally all;
    struct ar_tally *classes;  /* sorted by class */
    int nclasses;
    const char *scope;         /* universal, platform-specific, single-platform, open */
    struct ar_evidence *ev;    /* id order */
    int nev;
    int *cards;                /* every card of the claim (crashes too), id order */
    int ncards;
    struct ar_link *links;
    int nlinks;
    int agents;                /* distinct agents behind the scored evidence */
    int numeric;               /* one key with numbers: ranges and sweeps apply */
    /* a sweep of the key on one class that bracketed its best value: the
     * value kept last (or never left) with worse results tried on both
     * sides; optimum_class NULL when there is none */
    const char *optimum_class;
    double optimum;
    int optimum_tries;
};

/* A sweep: one key tried at three or more values on one class (cards
 * that change only that key). best is the value kept last (by created:
 * the run order within a session), or when nothing was kept the value
 * most often started from; bracketed when values on both sides of a
 * numeric best were tried (they did worse: the chain kept best), for a
 * categorical key when two or more other values were tried. */
struct ar_sweep {
    const char *key, *platform;
    int numeric;
    double best;               /* numeric */
    const char *best_text;     /* the value as JSON text */
    int tries, values;         /* cards, distinct values (from and to) */
    double lo, hi;             /* numeric: the range tried */
    int bracketed;
};

struct ar_findings {
    struct ar_claim *claims;   /* sorted by name */
    size_t n;
    struct ar_sweep *sweeps;   /* bracketed ones, sorted by key then class */
    size_t nsweeps;
    struct ar_pool pool;
};

/* How much a claim matters, for ranking: the sum of its evidence's z
 * (positive for a claim that helps, negative for one that hurts), crashes
 * counting -2 each. Sections list claims by |importance|, not by
 * certainty: the 1000-sigma dead end first. */
double ar_claim_importance(const struct ar_claim *c);
double ar_evidence_strength(double z);

/* The rule, exposed for tests and tools. */
double ar_certainty_rate(double c);
double ar_certainty_update(double c, enum ar_outcome o, double weight);
enum ar_outcome ar_outcome_of(double z);
/* The claim a list of changes supports, into out (pool-owned); NULL when no
 * entry changes anything. */
const char *ar_claim_name(struct ar_pool *p, const struct ar_change *ch, int n);

/* Builds every claim from st (borrowed; it must outlive the findings). */
struct ar_findings *ar_findings_build(const struct ar_kbstats *st);
void ar_findings_free(struct ar_findings *f);
const struct ar_claim *ar_findings_get(const struct ar_findings *f, const char *name);

/* findings.json: {"schema":"ar.findings/1", "cards", "claims":[...],
 * "noise":{class:{sigma, groups, runs, default}}, "rule":{...}}. */
jv ar_findings_json(const struct ar_findings *f, const struct ar_kbstats *st);
jv ar_sweep_json(const struct ar_sweep *w);
/* Members of a claim's JSON shared by findings.json and the brief: the
 * ranges a tally won and lost over (won_over, lost_over: [lo, hi], only
 * when there are some), and the optimum of its key's sweep
 * ({class, value, tries}, only when there is one). */
void ar_tally_ranges_json(jv *o, const struct ar_tally *t);
void ar_claim_optimum_json(jv *o, const struct ar_claim *c);
jv ar_claim_json(const struct ar_claim *c, const struct ar_kbstats *st);

#endif
