#include "facts/card_defaults.h"

#include <stdio.h>

#include "base/err.h"
#include "base/json.h"
#include "host/gitinfo.h"
#include "host/platform.h"

/* This machine's platform, detected once per process: a batch of cards
 * (write --jsonl) would otherwise run nvidia-smi once per card. */
static jv this_platform(void)
{
    static jv cached;
    static int have;
    if (!have) {
        cached = ar_platform_detect_run();
        have = 1;
    }
    return jv_copy(cached);
}

int ar_card_fill_defaults(jv *card)
{
    if (!ar_jv_has(*card, "platform"))
        ar_jv_set(card, "platform", this_platform());
    if (ar_jv_has(*card, "commit"))
        return 0;
    struct ar_gitinfo git;
    if (ar_git_info(".", &git) != 0) {
        char why[1024];   /* ar_fail writes over the message it would read */
        snprintf(why, sizeof why, "%s", ar_last_error());
        return ar_fail(AR_EINPUT, "field 'commit': not given, and %s (use --commit HEX)", why);
    }
    ar_jv_set(card, "commit", jv_string(git.commit));
    if (git.parent[0] && !ar_jv_has(*card, "parent_commit"))
        ar_jv_set(card, "parent_commit", jv_string(git.parent));
    return 0;
}
