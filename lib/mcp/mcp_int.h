/* Inside lib/mcp: the server's state, the tool table and the resources. */
#ifndef AR_MCP_INT_H
#define AR_MCP_INT_H
#include <jv.h>

#include "facts/kb.h"
#include "queue/queue.h"

struct ar_mcp {
    struct ar_kb kb;
    int read_only;
    struct ar_queue *queue;   /* opened on first use; keeps the parsed queue between calls */
    int initialized;          /* initialize answered: requests other than ping are served */
};

/* What a tool gives back: structured (an object, the structuredContent)
 * and text (malloc'd; NULL: the compact JSON of structured). */
struct ar_tool_out {
    jv structured;
    char *text;
};

struct ar_mcp_tool {
    const char *name, *title, *description;
    const char *input_schema, *output_schema;   /* JSON text */
    int writes;                                 /* hidden by --read-only */
    /* 0, or -1 with the error recorded (the message becomes the isError
     * result); args is borrowed and has passed the input schema */
    int (*run)(struct ar_mcp *s, jv args, struct ar_tool_out *out);
};

extern const struct ar_mcp_tool ar_mcp_tools[];   /* ends with name NULL */

struct ar_queue *ar_mcp_queue(struct ar_mcp *s);

/* Checks args (borrowed) against a JSON Schema of the subset the tools use
 * (type, properties, required, additionalProperties false, enum, minimum,
 * maximum, minLength, maxLength, items, minItems, maxItems): AR_EINPUT
 * "argument 'NAME': why". */
int ar_mcp_check_args(jv schema, jv args);

/* The resources: resources/list, resources/templates/list, and the
 * contents of one uri (0; -1 recorded with AR_EINPUT when there is no such
 * resource, AR_EFAIL when it cannot be read). */
jv ar_mcp_resources(void);
jv ar_mcp_resource_templates(void);
int ar_mcp_resource_read(struct ar_mcp *s, const char *uri, jv *contents);

/* Shared by tools and resources: the brief (text and JSON within
 * max_bytes), the findings (filtered; NULL/negative: no filter), a card's
 * view, the queue's status. */
int ar_mcp_brief(struct ar_mcp *s, jv args, char **text, jv *json);
int ar_mcp_findings(struct ar_mcp *s, const char *key, const char *cls, double min_certainty, jv *out);
int ar_mcp_card_view(struct ar_mcp *s, const char *id, jv *view);
int ar_mcp_meta(struct ar_mcp *s, jv *out);
#endif
