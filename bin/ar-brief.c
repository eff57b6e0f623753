/* ar-brief: what an agent reads before planning its next experiment. A thin
 * front end over lib/analysis/brief_load.h (the brief, computed or saved)
 * and lib/analysis/brief.h: print it within --max-bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/brief.h"
#include "analysis/brief_load.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/kb.h"
#include "host/platform.h"
#include "base/opt.h"
#include "queue/queue.h"

static const char usage[] =
    "usage: ar-brief [--max-bytes N] [--json] [--recent N]\n"
    "                [--session TAG] [--platform CLASS] [--since TIME] [--kb DIR]\n"
    "\n"
    "Prints what is known before planning the next experiment: best so far per\n"
    "comparability key and how it differs from the baseline, the noise floor and\n"
    "warnings, top findings, contradictions across platform classes, dead ends,\n"
    "recent experiments, the queue, under-explored areas and open questions, in\n"
    "at most --max-bytes of plain text (or one JSON object). Sections that are\n"
    "empty are left out; when space runs short the least important give way.\n";

int main(int argc, char **argv)
{
    ar_set_prog(argv[0]);
    const char *kb_dir = NULL;
    long max_bytes = AR_BRIEF_MAX_BYTES, recent = AR_BRIEF_RECENT;
    int json = 0, no_cache = 0;
    struct ar_filter filter = {0};
    struct ar_opt opts[] = {
        AR_OPT_INT("max-bytes", &max_bytes, "N", "size of the brief (default 4096)"),
        AR_OPT_BOOL("json", &json, "print one JSON object instead of text"),
        AR_OPT_INT("recent", &recent, "N", "recent experiments listed (default 5)"),
        AR_OPT_STR("session", &filter.session, "TAG", "only this session's cards"),
        AR_OPT_STR("platform", &filter.platform, "CLASS", "only this platform class"),
        AR_OPT_STR("since", &filter.since, "TIME", "only cards created at or after TIME"),
        AR_OPT_BOOL("no-cache", &no_cache, "recompute, ignoring and keeping no saved brief"),
        AR_OPT_STR("kb", &kb_dir, "DIR", "knowledge base (default $AR_KB or ./knowledge)"),
        AR_OPT_END,
    };
    ar_opt_parse_none(opts, argc, argv, usage, NULL);
    if (max_bytes < AR_BRIEF_MIN_BYTES || max_bytes > (1L << 24))
        ar_die(AR_EINPUT, "option '--max-bytes': %ld is out of range (%d to %ld)", max_bytes,
               AR_BRIEF_MIN_BYTES, 1L << 24);
    if (recent < 0 || recent > 50)
        ar_die(AR_EINPUT, "option '--recent': %ld is out of range (0 to 50)", recent);

    static char cls[80];   /* --platform H100 is class h100 */
    if (filter.platform && ar_platform_class_arg(filter.platform, "--platform", cls, sizeof cls) != 0)
        ar_die_last();
    if (filter.platform)
        filter.platform = cls;
    struct ar_kb kb;
    struct ar_brief *b;
    jv queue;
    if (ar_kb_open(&kb, kb_dir, 0) != 0 ||
        ar_brief_load(&kb, &filter, (int)recent, no_cache ? 0 : AR_BRIEF_CACHE_READ | AR_BRIEF_CACHE_WRITE,
                      &b) != 0 ||
        ar_queue_entries(&kb, &queue) != 0)
        ar_die_last();
    ar_brief_set_queue(b, queue);
    if (json) {
        jv o = ar_brief_json(b, (size_t)max_bytes);
        char *text = ar_json_dump(o, AR_JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        jv_free(o);
    } else {
        char *text = ar_brief_text(b, (size_t)max_bytes);
        fputs(text, stdout);
        free(text);
    }
    ar_brief_free(b);
    jv_free(queue);
    return ar_finish_stdout(AR_OK);
}
