#include "index/validate.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/card.h"
#include "facts/id.h"
#include "facts/note.h"
#include "index/index.h"

int ar_validate_file(const char *path)
{
    char *text;
    size_t len;
    jv v;
    if (ar_read_file(path, AR_CARD_MAX_BYTES + 4096, &text, &len) != 0)
        return -1;
    int rc = ar_json_parse(text, len, path, &v);
    free(text);
    if (rc)
        return -1;
    const char *schema = ar_jv_str(v, "schema");
    int stored = ar_jv_has(v, "id");
    if (schema && strcmp(schema, AR_NOTE_SCHEMA) == 0)
        rc = ar_note_validate(v, 1);
    else
        rc = ar_card_validate(v, stored ? AR_CARD_STORED : 0);
    if (rc == 0 && stored) {
        /* a stored fact's file name is its id */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        char want[AR_ID_LEN + 8];
        snprintf(want, sizeof want, "%s.json", ar_jv_str(v, "id"));
        if (strncmp(base, want, sizeof want) != 0 && (strstr(path, "/cards/") || strstr(path, "/notes/")))
            rc = ar_fail(AR_EINPUT, "file name does not match id %s", ar_jv_str(v, "id"));
    }
    jv_free(v);
    if (rc)
        ar_fail_prefix("%s", path);
    return rc;
}

static int check(const char *path, FILE *report)
{
    if (ar_validate_file(path) == 0)
        return 0;
    fprintf(report, "%s\n", ar_last_error());
    return 1;
}

int ar_validate_files(const struct ar_kb *kb, char **paths, int n, FILE *report, int *total)
{
    int bad = 0;
    *total = 0;
    for (int i = 0; i < n; i++, ++*total)
        bad += check(paths[i], report);
    if (n > 0)
        return bad;
    const char *dirs[] = {kb->cards, kb->notes};
    for (int d = 0; d < 2; d++) {
        size_t m;
        char **ids = ar_list_ids(dirs[d], &m);
        for (size_t i = 0; i < m; i++, ++*total) {
            char path[PATH_MAX + 64];
            snprintf(path, sizeof path, "%s/%s.json", dirs[d], ids[i]);
            bad += check(path, report);
        }
        ar_free_ids(ids, m);
    }
    return bad;
}
