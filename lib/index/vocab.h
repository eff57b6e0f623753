/* The key vocabulary: one table that maps the names the community uses for
 * experiment settings to ar's canonical keys, normalises their values, and
 * reads the changes out of a run's one-line description.
 *
 * Canonical keys are ar's config keys (`ar-train --keys`,
 * facts/config_keys.h). Settings that only another trainer has are keys too
 * (autoresearch's SCALAR_LR is `scalar_lr`, its lm_head init std is
 * `unembed_init_std`, a fork's dropout is `dropout`); ar-card(5),
 * "Vocabulary", lists every key, its category and the names and phrases
 * that map to it.
 *
 * Names are matched case-, space-, underscore- and hyphen-insensitively:
 * "TOTAL_BATCH_SIZE", "total batch size" and "total-batch-size" are one
 * name. */
#ifndef AR_INDEX_VOCAB_H
#define AR_INDEX_VOCAB_H

#include <jv.h>

/* The canonical key of a name: a train.py constant ("TOTAL_BATCH_SIZE" ->
 * "total_batch_tokens", "EMBEDDING_LR" -> "embed_lr"), an ar key itself
 * ("matrix_lr"), a vocabulary key ("scalar_lr") or a phrase people write
 * ("rope theta" -> "rope_base", "batch size" -> "total_batch_tokens",
 * "weight tying" -> "tie_embeddings", "SwiGLU" -> "mlp"); NULL when
 * unknown. The string is static. */
const char *ar_vocab_key(const char *name);

/* The value a phrase implies for its key, or jv_invalid() when it implies
 * none: "swiglu" -> "swiglu" (key mlp), "weight tying" -> true,
 * "multi-query attention" -> 1 (key n_kv_head). */
jv ar_vocab_implied(const char *name);

/* The category of a key: "architecture", "optimizer", "hyperparameter",
 * "schedule", "regularization", "initialization", "data", "tokenizer",
 * "efficiency" or "other"; "other" for keys the vocabulary does not know. */
const char *ar_vocab_category(const char *key);

/* 1 when key is one of ar-train's config keys, 0 for a key that only the
 * vocabulary knows (or none at all). */
int ar_vocab_is_config_key(const char *key);

/* The normalised value of text for key (key may be NULL: typed by the text
 * alone). Numbers: "524288", "2**19", "2^19", "512 * 1024", "1e-3", "5%"
 * (0.05), "1/8" (0.125), "0.7x" (0.7), and suffixes K, M, G: decimal
 * ("200K" -> 200000, "10K" -> 10000), except for keys counted in tokens
 * or sequences (total_batch_tokens, device_batch, seq_len, eval_tokens,
 * vocab_size), where a suffixed number is the power of two it names:
 * "512K", "524K", "0.5M" -> 524288, "262K" -> 262144 (a power of two
 * whose truncated or rounded decimal reads as the text). Tuples and lists
 * "(0.8, 0.95)" -> [0.8, 0.95]. True/False, true/false, on/off, yes/no ->
 * booleans. "SSSL", '"SSSL"', 'SSSL' -> the string "SSSL". A key of a
 * known type takes only values of that type (an integer key refuses 2.5, a
 * boolean key refuses 3). jv_invalid() when the text does not parse. */
jv ar_vocab_value(const char *key, const char *text);

/* The changes a run's description states, deterministically:
 *
 *   {"changes": [CHANGE...], "category": "optimizer" | ... | null}
 *
 * CHANGE is an object with "key" (canonical) and what the text says of it:
 *   "from", "to"   normalised values, when stated ("0.04 to 0.05",
 *                  "0.04 -> 0.05", "to 0.05", "depth 9", "batch 131K");
 *   "factor"       a multiplier stated without both ends: "halve" 0.5,
 *                  "double" 2, "VE LR 1.5x", "by 0.8x" (with one value,
 *                  the other end is derived: "halve batch 524K" is 524288
 *                  to 262144, "halve batch to 262K" 524288 to 262144, and
 *                  there is no factor);
 *   "direction"    "up" or "down" for numbers (from from/to, a factor, or
 *                  a word: increase, raise, larger, more, ... / decrease,
 *                  reduce, lower, smaller, fewer, ...; a seed has none);
 *                  "on" or "off" for features (add, enable, use / remove,
 *                  disable, no, without); "change" when the key changed in
 *                  a way no value says ("VE every 3rd layer", a formula, a
 *                  value out of the key's range). Absent when "to" is a
 *                  string.
 * A change always has "to", "factor" or "direction". A feature named
 * alone is turned on when it is off by default ("weight tying" -> to
 * true); a setting that 0 turns off, named alone, is "on" ("label
 * smoothing"). Only the first clause is read (up to ". ", "; ", ": ", a
 * dash), after one-word labels ("exp3:", "Hypothesis:"); remarks in
 * parentheses are ignored ("(more steps in 5 min)") unless they hold only
 * numbers and arrows ("(2^18->2^16)") or a tuple. A description that
 * starts with "baseline" has no changes and category "baseline". ar-card(5)
 * "Vocabulary" has all the rules.
 *
 * The category is that of the keys: the most frequent among the changes,
 * the first of them on a tie; null when there are no changes. */
jv ar_vocab_describe(const char *description);

/* 1 when a description says the run repeats an earlier one: its only
 * changes are of the seed ("random seed 42 to 137"), or it changes
 * nothing and calls itself a rerun, re-run, replicate, replication,
 * repeat or reproduction ("[re-run]", "control rerun of the baseline",
 * "replicate best config"); else 0. */
int ar_vocab_is_rerun(const char *description);

/* A change of ar_vocab_describe resolved against the parent's value of its
 * key (from_value consumed; jv_invalid() when unknown) into the card form
 * {key, from, to}: "to" from "factor" when needed. Returns jv_invalid()
 * when the change cannot be written that way (a direction alone, or a
 * factor with no known from). change is borrowed. */
jv ar_vocab_card_change(jv change, jv from_value);

#endif
