/* The trainer's config keys: the one table of their names, types, ranges,
 * allowed values, defaults and meanings, and what it drives on config
 * snapshots (JSON objects with one member per key, as cards record them):
 * defaults, reading a value from its text, YAML files, the relations
 * between keys and `ar-train --keys`.
 *
 * trainer/config.c binds these keys to the fields of struct train_config;
 * the tools (ar-queue's --set, plan) check values here without the trainer.
 * It is in facts, not index, because the queue (which may use only base and
 * facts) checks its overrides against it.
 *
 * Adding a key: a row in config_keys.c, a field and its binding in
 * trainer/config.c, a line in trainer/config.yaml. */
#ifndef AR_FACTS_CONFIG_KEYS_H
#define AR_FACTS_CONFIG_KEYS_H

#include <stdio.h>
#include <jv.h>

enum ar_key_type { AR_KEY_INT, AR_KEY_REAL, AR_KEY_BOOL, AR_KEY_PATTERN, AR_KEY_CHOICE };

struct ar_config_key {
    const char *name;
    enum ar_key_type type;
    const char *def;             /* default, in the text form a user would write */
    double lo, hi;               /* range [lo, hi]; PATTERN: its length */
    int lo_open;                 /* lo itself is out of range */
    const char *help;
    const char *const *choices;  /* CHOICE: the values, NULL-terminated */
};

/* The table, in the order of trainer/config.yaml; ends with a NULL name. */
extern const struct ar_config_key ar_config_keys[];

const struct ar_config_key *ar_config_key_find(const char *name);

/* The value of key name read from text, typed as the snapshot holds it
 * (number, boolean, string). origin ("--set", "FILE:LINE") goes in front of
 * any error message: "origin: unknown key 'x' (see ar-train --keys)",
 * "origin: depth: '0' is out of range [1, 64]"; AR_EINPUT. */
int ar_config_parse(const char *name, const char *text, const char *origin, jv *out);

/* A scalar of a snapshot as its text: numbers as the shortest text that
 * reads back the same (whole ones as integers), booleans, strings; -1 for
 * anything else. */
int ar_config_value_text(jv v, char *buf, size_t n);

/* ar_config_parse of a scalar value (as ar_config_value_text writes it);
 * a value that is not a scalar fails too. */
int ar_config_typed(const char *name, jv v, const char *origin, jv *out);

/* The snapshot of the defaults (what trainer/config.yaml ships). */
jv ar_config_defaults(void);

/* Sets one key of *config from its text (ar_config_parse). */
int ar_config_set(jv *config, const char *name, const char *text, const char *origin);

/* Reads a flat YAML mapping `key: value` over *config. Unknown keys,
 * duplicate keys, wrong types and out-of-range values fail with AR_EINPUT
 * and "FILE:LINE: KEY: why", and leave *config as it was. */
int ar_config_load_yaml(jv *config, const char *path);

/* Checks the relations between the keys of a full snapshot (batch
 * divisibility, head counts...); messages name the key. */
int ar_config_check(jv config);

/* Writes the key table (name, type, default, range, help), `ar-train --keys`. */
void ar_config_print_keys(FILE *f);

#endif
