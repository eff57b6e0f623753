/* `ar-card show`: card views printed (lib/index/query.h). */
#include "index/query.h"

#include <stdlib.h>

#include "base/json.h"

int ar_query_show(const struct ar_kb *kb, char **ids, int n, int json, FILE *out)
{
    for (int i = 0; i < n; i++) {
        jv view;
        if (ar_query_view(kb, ids[i], &view) != 0)
            return -1;
        char *s = ar_json_dump(view, json ? AR_JSON_COMPACT : AR_JSON_PRETTY);
        fprintf(out, "%s\n", s);
        free(s);
        jv_free(view);
    }
    return 0;
}
