/* What the writer of a card may leave out and this machine can tell: the
 * platform, and the commit (and its parent) of the git repository around
 * the current directory. The only part of facts that uses host. */
#ifndef AR_CARD_DEFAULTS_H
#define AR_CARD_DEFAULTS_H

#include <jv.h>

/* Sets platform (ar_platform_detect_run: the GPU when there is one,
 * detected once per process) unless the card has one, and commit
 * and parent_commit (ar_git_info of ".") unless it has a commit. Fails
 * (AR_EINPUT, "field 'commit': not given, and WHY (use --commit HEX)")
 * when a commit is needed and "." is in no git repository; the card may
 * then have its platform set. */
int ar_card_fill_defaults(jv *card);

#endif
