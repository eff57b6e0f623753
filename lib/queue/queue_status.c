/* Reading the queue as ar-brief, ar-queue status and ar-mcp show it. */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "queue/queue.h"

int ar_queue_entries(const struct ar_kb *kb, jv *entries)
{
    char path[PATH_MAX];
    *entries = jv_invalid();
    if (access(ar_kb_path(kb, "queue.json", path), F_OK) != 0)
        return 0;
    struct ar_queue *q = ar_queue_open(kb, -1, 0);
    int rc = ar_queue_list(q, entries);
    ar_queue_close(q);
    return rc;
}

int ar_queue_status(struct ar_queue *q, int all, jv *out)
{
    jv entries;
    if (ar_queue_list(q, &entries) != 0)
        return -1;
    jv counts = jv_object(), shown = jv_array();
    for (int i = 0; ar_queue_statuses[i]; i++)
        ar_jv_set(&counts, ar_queue_statuses[i], jv_number(0));
    jv_array_foreach(entries, i, e) {
        (void)i;
        const char *st = ar_jv_str(e, "status");
        ar_jv_set(&counts, st, jv_number(ar_jv_num(counts, st, 0) + 1));
        if (all || !strcmp(st, "pending") || !strcmp(st, "claimed"))
            shown = jv_array_append(shown, e);
        else
            jv_free(e);
    }
    jv_free(entries);
    *out = jv_object();
    ar_jv_set(out, "counts", counts);
    ar_jv_set(out, "entries", shown);
    return 0;
}
