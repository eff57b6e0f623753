/* The resources: the brief, the findings, the meta-synthesis, each card
 * (a template) and the queue, computed when read, so they are never stale. */
#include <stdlib.h>
#include <string.h>

#include "analysis/coverage.h"
#include "analysis/findings.h"
#include "analysis/brief_load.h"
#include "analysis/stats.h"
#include "analysis/synth.h"
#include "base/err.h"
#include "base/json.h"
#include "mcp/mcp_int.h"

static const struct {
    const char *uri, *name, *title, *description, *mime;
} resources[] = {
    {"ar://brief", "brief", "Brief", "what is known before planning the next experiment (ar-brief)", "text/plain"},
    {"ar://findings", "findings", "Findings",
     "every claim with its tallies, effect, certainty, scope and links (synthesis/findings.json)",
     "application/json"},
    {"ar://synthesis/meta", "meta", "Meta-synthesis",
     "the rolling synthesis of all sessions (synthesis/meta.json)", "application/json"},
    {"ar://queue", "queue", "Queue", "every queue entry with the counts per status (ar-queue status --all --json)",
     "application/json"},
    {NULL, NULL, NULL, NULL, NULL},
};

#define CARD_PREFIX "ar://cards/"

static jv describe(const char *key, const char *uri, const char *name, const char *title, const char *desc,
                   const char *mime)
{
    jv o = jv_object();
    ar_jv_set(&o, key, jv_string(uri));
    ar_jv_set(&o, "name", jv_string(name));
    ar_jv_set(&o, "title", jv_string(title));
    ar_jv_set(&o, "description", jv_string(desc));
    ar_jv_set(&o, "mimeType", jv_string(mime));
    return o;
}

jv ar_mcp_resources(void)
{
    jv list = jv_array();
    for (int i = 0; resources[i].uri; i++)
        list = jv_array_append(list, describe("uri", resources[i].uri, resources[i].name, resources[i].title,
                                              resources[i].description, resources[i].mime));
    return list;
}

jv ar_mcp_resource_templates(void)
{
    return jv_array_append(jv_array(), describe("uriTemplate", CARD_PREFIX "{id}", "card", "Card",
                                                "a card's view: the card, its notes, its status after notes",
                                                "application/json"));
}

static jv contents(const char *uri, const char *mime, char *text)
{
    jv c = jv_object();
    ar_jv_set(&c, "uri", jv_string(uri));
    ar_jv_set(&c, "mimeType", jv_string(mime));
    ar_jv_set(&c, "text", jv_string(text));
    free(text);
    return c;
}

static jv json_contents(const char *uri, jv v)
{
    char *text = ar_json_dump(v, AR_JSON_PRETTY);
    jv_free(v);
    return contents(uri, "application/json", text);
}

int ar_mcp_resource_read(struct ar_mcp *s, const char *uri, jv *out)
{
    jv v;
    if (!strcmp(uri, "ar://brief")) {
        char *text;
        jv args = jv_object();
        int rc = ar_mcp_brief(s, args, &text, NULL);
        jv_free(args);
        if (rc != 0)
            return -1;
        *out = contents(uri, "text/plain", text);
        return 0;
    }
    if (!strcmp(uri, "ar://findings")) {
        if (ar_mcp_findings(s, NULL, NULL, -1, &v) != 0)
            return -1;
    } else if (!strcmp(uri, "ar://synthesis/meta")) {
        if (ar_mcp_meta(s, &v) != 0)
            return -1;
    } else if (!strcmp(uri, "ar://queue")) {
        if (ar_queue_status(ar_mcp_queue(s), 1, &v) != 0)
            return -1;
    } else if (!strncmp(uri, CARD_PREFIX, strlen(CARD_PREFIX))) {
        if (ar_mcp_card_view(s, uri + strlen(CARD_PREFIX), &v) != 0)
            return ar_fail_prefix("resource %.200s", uri);
    } else {
        return ar_fail(AR_EINPUT, "resource not found: %.200s", uri);
    }
    *out = json_contents(uri, v);
    return 0;
}
