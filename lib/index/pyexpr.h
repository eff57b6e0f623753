/* A small evaluator of constant Python expressions: what train.py's
 * hyperparameters and people's numbers are written in.
 *
 *   numbers     42, 0.04, 1e-3, 989.5e12, 0x10, 1_000, True, False, None
 *   operators   + - * / // % ** (right-assoc, binds tighter than unary -),
 *               unary + -, parentheses
 *   containers  (a, b), [a, b], (a,) -> JSON arrays
 *   strings     "x", 'x' (simple escapes), adjacent strings joined
 *
 * Nothing else: names, calls, attributes and comparisons fail, so an
 * expression that is code is told apart from a constant. */
#ifndef AR_INDEX_PYEXPR_H
#define AR_INDEX_PYEXPR_H

#include <jv.h>
#include <stddef.h>

enum {
    AR_PYEXPR_CARET_POW = 1,   /* '^' is a power (people write 2^19), not xor */
};

/* Evaluates the whole of text[0..len) (white space, newlines inside
 * brackets and a trailing comment allowed); jv_invalid() when it is not
 * a constant expression. Integers stay integers while they fit 2^53. */
jv ar_pyexpr_eval(const char *text, size_t len, int flags);

#endif
