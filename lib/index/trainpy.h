/* autoresearch's train.py as data: its module-level constants, and the
 * changes between two versions of it mapped through the key vocabulary
 * (index/vocab.h). What `ar-card record` and `ar-card import --repo` use
 * to turn a commit's diff of train.py into a card's `changes`.
 *
 * A module-level constant is a top-level line `NAME = expr` or
 * `NAME: type = expr` (the expression may run over several lines inside
 * brackets); indented code, comments, strings and other statements are
 * not constants. Expressions are evaluated as index/pyexpr.h says:
 * numbers, + - * / // % ** with parentheses, tuples and lists, strings,
 * True/False/None; an assignment whose expression is not of that kind
 * (a call, a name) is code, not a constant. */
#ifndef AR_INDEX_TRAINPY_H
#define AR_INDEX_TRAINPY_H

#include <jv.h>

/* {NAME: value} of the constants of source (a name assigned twice keeps
 * its last value). Tuples are arrays, None is null. Loop state assigned at
 * the top level (`step = 0`) is a constant too: it is `NAME = expr`. */
jv ar_trainpy_constants(const char *source);

/* What changed from old_source to new_source:
 *
 *   {"changes": [{key, from, to}...], "code": [string...]}
 *
 * changes: constants whose value differs, keyed through ar_vocab_key (a
 * constant the vocabulary does not know keeps its lower-cased name); a
 * constant that is new has no "from", one that is gone no "to". A pair
 * key (ADAM_BETAS) gives one change per element that differs (adam_beta1,
 * adam_beta2). Ordered by key.
 * code: what else differs, one string per top-level statement: "def
 * NAME", "class NAME", "import", or the first line of a changed statement
 * (assignments whose expression is code included), in source order; empty
 * when only constants changed (comments and blank lines do not count). */
jv ar_trainpy_changes(const char *old_source, const char *new_source);

#endif
