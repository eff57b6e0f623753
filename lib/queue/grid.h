/* Config overrides of queue entries from `--set KEY=VALUE` arguments, and
 * grids of them (`--set KEY=V1,V2,...`, the factorial product), every value
 * checked against the config key table (facts/config_keys.h) and stored
 * typed, so "0.040" and "0.04" are the same override. Errors are AR_EINPUT
 * and start "--set: " (or "grid: "). */
#ifndef AR_QUEUE_GRID_H
#define AR_QUEUE_GRID_H

#include <stddef.h>
#include <jv.h>

#define AR_GRID_MAX 10000

/* Splits "key=value": key into key[n], *value into s. */
int ar_set_split(const char *s, char *key, size_t n, const char **value);

/* The overrides object of n `--set key=value` arguments (a key at most once). */
int ar_set_overrides(const char *const *sets, int n, jv *out);

/* The entries of a grid: for each combination of the values of the n axes
 * "KEY=V1,V2,..." (the first varying slowest, at most AR_GRID_MAX in all),
 * a copy of base (borrowed) with "overrides" set. *entries is an array, *keys
 * the axes' keys in order. */
int ar_grid_entries(const char *const *sets, int n, jv base, jv *entries, jv *keys);

#endif
