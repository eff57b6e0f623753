/* autoresearch-commons cards (lib/index/import.h ar_import_commons): each
 * card converted and checked, a file's or directory's cards stored as one
 * batch, then their lesson and retraction notes. */
#include "index/import_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/card.h"
#include "facts/id.h"
#include "facts/note.h"
#include "facts/schema.h"
#include "host/gpu.h"
#include "index/index.h"
#include "index/store.h"
#include "index/vocab.h"

/* ---------------------------------------------------- autoresearch-commons */

static const char *const metric_names[] = {
    "val_bpb", "training_seconds", "total_seconds", "peak_mem_mb", "mfu_percent", "total_tokens_M",
    "num_steps", "num_params_M", "depth", "flops_per_token", NULL,
};

/* config_diff {key: value}, {key: [from, to]} or {key: {from, to}} (also
 * old/new) -> changes */
static int commons_changes(jv diff, jv *out)
{
    *out = jv_array();
    if (jv_get_kind(diff) == JV_KIND_NULL || !jv_is_valid(diff))
        return 0;
    if (jv_get_kind(diff) != JV_KIND_OBJECT)
        return ar_fail(AR_EINPUT, "field 'config_diff': must be an object, not %s", ar_kind_name(diff));
    jv keys = jv_keys(jv_copy(diff));
    jv_array_foreach(keys, i, k) {
        jv v = jv_object_get(jv_copy(diff), jv_copy(k));
        jv c = jv_object();
        /* the community's names (MATRIX_LR, "rope theta") through the vocabulary */
        const char *canon = ar_vocab_key(jv_string_value(k));
        if (canon) {
            ar_jv_set(&c, "key", jv_string(canon));
        } else {
            char low[129];
            snprintf(low, sizeof low, "%s", jv_string_value(k));
            for (char *p = low; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            ar_jv_set(&c, "key", jv_string(low));
        }
        if (jv_get_kind(v) == JV_KIND_ARRAY && jv_array_length(jv_copy(v)) == 2) {
            ar_jv_set(&c, "from", jv_array_get(jv_copy(v), 0));
            ar_jv_set(&c, "to", jv_array_get(jv_copy(v), 1));
        } else if (jv_get_kind(v) == JV_KIND_OBJECT && (ar_jv_has(v, "to") || ar_jv_has(v, "new"))) {
            const char *from = ar_jv_has(v, "from") ? "from" : "old", *to = ar_jv_has(v, "to") ? "to" : "new";
            if (ar_jv_has(v, from))
                ar_jv_set(&c, "from", ar_jv_get(v, from));
            ar_jv_set(&c, "to", ar_jv_get(v, to));
        } else {
            ar_jv_set(&c, "to", jv_copy(v));
        }
        *out = jv_array_append(*out, c);
        jv_free(v);
        jv_free(k);
    }
    jv_free(keys);
    return 0;
}

/* "2026-03-05T12:00:00Z" or with milliseconds -> the created form */
static int commons_created(const char *ts, char out[AR_CREATED_LEN + 1])
{
    if (!ts)
        return ar_fail(AR_EINPUT, "field 'timestamp': required");
    if (strlen(ts) == 20 && ts[19] == 'Z')
        snprintf(out, AR_CREATED_LEN + 1, "%.19s.000Z", ts);
    else
        snprintf(out, AR_CREATED_LEN + 1, "%s", ts);
    if (!ar_created_valid(out))
        return ar_fail(AR_EINPUT, "field 'timestamp': '%.40s' is not like 2026-03-05T12:00:00Z", ts);
    return 0;
}

static void slug(const char *s, char *out, size_t max)
{
    size_t n = 0;
    int dash = 0;
    for (; *s && n + 1 < max; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c)) {
            if (dash && n)
                out[n++] = '-';
            out[n++] = (char)tolower(c);
            dash = 0;
        } else {
            dash = 1;
        }
    }
    out[n] = '\0';
}

/* platform {gpu, ram_gb, framework} -> ours; the class is --platform, else
 * the GPU's class (host/gpu.h: "NVIDIA H100 80GB HBM3" -> h100), an Apple
 * chip's ("Apple M2 Pro" -> apple-m2-pro), or "unknown": never a made-up
 * CPU class, and no device the card does not state. */
static jv commons_platform(jv p, const struct ar_import_opts *o)
{
    const char *gpu = ar_jv_str(p, "gpu"), *fw = ar_jv_str(p, "framework");
    char cls[65];
    if (o->platform)
        ar_import_platform(o->platform, cls);   /* checked before */
    else if (gpu && strncasecmp(gpu, "apple", 5) == 0)
        slug(gpu, cls, sizeof cls);
    else if (gpu && *gpu)
        ar_gpu_class(gpu, cls, sizeof cls);
    else
        snprintf(cls, sizeof cls, "unknown");
    jv out = ix_platform_of_class(cls[0] ? cls : "unknown");
    if (gpu)
        ar_jv_set(&out, "name", jv_string(gpu));
    int cuda = fw && strstr(fw, "cuda"), mps = fw && strstr(fw, "mps");
    if (cuda || (!mps && gpu && strncasecmp(gpu, "nvidia", 6) == 0))
        ar_jv_set(&out, "device", jv_string("cuda"));
    else if (mps)
        ar_jv_set(&out, "device", jv_string("mps"));
    double ram = ar_jv_num(p, "ram_gb", -1);
    if (ram >= 0)
        ar_jv_set(&out, cuda ? "gpu_mem_gb" : "mem_gb", jv_number(ram));
    return out;
}

/* The category of a card: --category, else the first tag that names a
 * category ("optimizer"), else other. */
static const char *commons_category(jv tags, const struct ar_import_opts *o)
{
    if (o->category)
        return o->category;
    if (jv_get_kind(tags) == JV_KIND_ARRAY) {
        int n = jv_array_length(jv_copy(tags));
        for (int i = 0; i < n; i++) {
            jv t = jv_array_get(jv_copy(tags), i);
            for (int k = 0; jv_get_kind(t) == JV_KIND_STRING && ar_card_categories[k]; k++)
                if (strcasecmp(jv_string_value(t), ar_card_categories[k]) == 0 &&
                    strcmp(ar_card_categories[k], "baseline") != 0) {
                    jv_free(t);
                    return ar_card_categories[k];
                }
            jv_free(t);
        }
    }
    return "other";
}

/* Converts a commons card; *notes gets the lesson and retraction. */
static int commons_card(jv in, const struct ar_import_opts *o, jv *out, jv *notes)
{
    *notes = jv_array();
    if (jv_get_kind(in) != JV_KIND_OBJECT)
        return ar_fail(AR_EINPUT, "card: must be a JSON object, not %s", ar_kind_name(in));
    char created[AR_CREATED_LEN + 1];
    if (commons_created(ar_jv_str(in, "timestamp"), created) != 0)
        return -1;
    const char *status = ar_jv_str(in, "status");
    if (!status)
        return ar_fail(AR_EINPUT, "field 'status': required");
    int retracted = strcmp(status, "retracted") == 0;
    jv card = jv_object();
    ar_jv_set(&card, "created", jv_string(created));
    /* commons records the experiment's commit as parent_commit */
    jv commit = ar_jv_get(in, "parent_commit");
    if (jv_is_valid(commit))
        ar_jv_set(&card, "commit", commit);
    else
        jv_free(commit);
    jv hyp = ar_jv_get(in, "hypothesis");
    if (jv_is_valid(hyp))
        ar_jv_set(&card, "hypothesis", hyp);
    else
        jv_free(hyp);
    ar_jv_set(&card, "status", jv_string(retracted ? "inconclusive" : status));
    jv tags = ar_jv_get(in, "tags");
    ar_jv_set(&card, "category", jv_string(commons_category(tags, o)));
    if (o->session)
        ar_jv_set(&card, "session", jv_string(o->session));
    if (o->agent)
        ar_jv_set(&card, "agent", jv_string(o->agent));
    if (jv_is_valid(tags) && jv_get_kind(tags) != JV_KIND_NULL)
        ar_jv_set(&card, "tags", tags);
    else
        jv_free(tags);
    jv changes;
    jv diff = ar_jv_get(in, "config_diff");
    int rc = commons_changes(diff, &changes);
    jv_free(diff);
    if (rc) {
        jv_free(changes);
        jv_free(card);
        return -1;
    }
    ar_jv_set(&card, "changes", changes);
    jv results = ar_jv_get(in, "results");
    jv m = jv_object();
    if (jv_get_kind(results) == JV_KIND_OBJECT) {
        for (int i = 0; metric_names[i]; i++) {
            jv v = ar_jv_get(results, metric_names[i]);
            if (jv_get_kind(v) == JV_KIND_NULL || !jv_is_valid(v))
                jv_free(v);
            else
                ar_jv_set(&m, metric_names[i], v);
        }
        jv vram = ar_jv_get(results, "peak_vram_mb");
        if (jv_get_kind(vram) == JV_KIND_NUMBER && !ar_jv_has(m, "peak_mem_mb"))
            ar_jv_set(&m, "peak_mem_mb", vram);
        else
            jv_free(vram);
        jv delta = ar_jv_get(results, "delta");
        if (jv_get_kind(delta) == JV_KIND_NUMBER)
            ar_jv_set(&card, "delta", delta);
        else
            jv_free(delta);
    }
    jv_free(results);
    if (strcmp(status, "crash") == 0)
        m = jv_object_delete(m, jv_string("val_bpb"));
    ar_jv_set(&card, "metrics", m);
    jv plat = ar_jv_get(in, "platform");
    ar_jv_set(&card, "platform", commons_platform(plat, o));
    if (o->data) {
        jv d = jv_object();
        ar_jv_set(&d, "corpus", jv_string(o->data));
        ar_jv_set(&d, "fingerprint", jv_string(o->data));
        ar_jv_set(&card, "data", d);
    }
    jv_free(plat);
    jv extra = jv_object();
    ar_jv_set(&extra, "imported_from", jv_string("autoresearch-commons"));
    jv cid = ar_jv_get(in, "id");
    if (jv_get_kind(cid) == JV_KIND_STRING)
        ar_jv_set(&extra, "commons_id", cid);
    else
        jv_free(cid);
    jv prior = ar_jv_get(in, "prior_knowledge_used");
    if (jv_get_kind(prior) == JV_KIND_ARRAY && jv_array_length(jv_copy(prior)) > 0)
        ar_jv_set(&extra, "prior_knowledge_used", prior);
    else
        jv_free(prior);
    ar_jv_set(&card, "extra", extra);

    const char *lesson = ar_jv_str(in, "lesson");
    if (lesson && *lesson) {
        jv n = jv_object();
        ar_jv_set(&n, "kind", jv_string("lesson"));
        ar_jv_set(&n, "text", jv_string(lesson));
        *notes = jv_array_append(*notes, n);
    }
    if (retracted) {
        const char *why = ar_jv_str(in, "retraction_reason");
        jv n = jv_object();
        ar_jv_set(&n, "kind", jv_string("retract"));
        ar_jv_set(&n, "text", jv_string(why && *why ? why : "retracted in autoresearch-commons"));
        *notes = jv_array_append(*notes, n);
    }
    if (ar_card_complete(&card) != 0) {
        jv_free(card);
        return -1;
    }
    /* the notes must be valid too, before anything is stored */
    jv_array_foreach(*notes, i, n) {
        jv t = ar_jv_get(n, "text");
        if (rc == 0)
            rc = ar_check_text(t, "lesson", 1, AR_NOTE_TEXT_MAX, AR_TEXT_MULTILINE);
        jv_free(t);
        jv_free(n);
    }
    if (rc) {
        jv_free(card);
        return -1;
    }
    *out = card;
    return 0;
}

/* A card and its notes, converted, waiting for the batch. */
struct pending_card {
    jv card, notes;
};

/* Reads and converts one card file into *pc; a file that does not convert
 * is AR_EINPUT naming it. */
static int convert_file(const char *path, const struct ar_import_opts *o, struct pending_card *pc)
{
    char *text;
    size_t len;
    jv in;
    pc->card = pc->notes = jv_invalid();
    if (ar_read_file(path, AR_CARD_MAX_BYTES * 4, &text, &len) != 0)
        return -1;
    size_t k = 0;
    while (k < len && isspace((unsigned char)text[k]))
        k++;
    if (k == len || text[k] != '{') {
        int csv = memchr(text, ',', len) != NULL && memchr(text, '\n', len) != NULL;
        free(text);
        return ar_fail(AR_EINPUT, "%s: not an autoresearch-commons card (a JSON object)%s", path,
                       csv ? "; a CSV? results.tsv is tab-separated with a header line" : "");
    }
    int rc = ar_json_parse(text, len, path, &in);
    free(text);
    if (rc != 0)
        return -1;
    rc = commons_card(in, o, &pc->card, &pc->notes);
    jv_free(in);
    if (rc) {
        jv_free(pc->notes);
        pc->notes = jv_invalid();
        return ar_fail_prefix("%s", path);
    }
    return 0;
}

/* Stores the converted cards as one batch, then their notes (created with
 * the card, so a re-import gives the same ids). Consumes them. */
static int store_all(const struct ar_kb *kb, struct pending_card *pc, size_t n, struct ar_import_stats *st)
{
    jv cards = jv_array();
    for (size_t i = 0; i < n; i++)
        cards = jv_array_append(cards, jv_copy(pc[i].card));
    int rc = ix_store_batch(kb, cards, st);
    for (size_t i = 0; i < n; i++) {
        jv_array_foreach(pc[i].notes, j, note) {
            char nid[AR_ID_LEN + 1];
            int r = rc == 0 ? ar_store_note_at(kb, ar_jv_str(pc[i].card, "id"), ar_jv_str(note, "kind"),
                                               ar_jv_str(note, "text"), NULL, ar_jv_str(pc[i].card, "created"),
                                               nid)
                            : 0;
            if (r < 0)
                rc = -1;
            else if (rc == 0)
                st->notes += r == 0;
            jv_free(note);
        }
        jv_free(pc[i].card);
        jv_free(pc[i].notes);
    }
    return rc;
}

int ar_import_commons(const struct ar_kb *kb, const char *path, const struct ar_import_opts *o,
                      struct ar_import_stats *st)
{
    char cls[65];
    if (o->platform && ar_import_platform(o->platform, cls) != 0)
        return -1;
    if (!ar_is_dir(path)) {
        struct pending_card pc;
        if (convert_file(path, o, &pc) != 0)
            return -1;
        return store_all(kb, &pc, 1, st);
    }
    size_t n;
    char **names = ar_list_ids(path, &n);
    if (!names)
        return ar_fail(AR_EFAIL, "%s: cannot read directory", path);
    struct pending_card *pc = ar_xmalloc((n ? n : 1) * sizeof *pc);
    size_t got = 0;
    int skipped = 0;
    for (size_t i = 0; i < n; i++) {
        char file[PATH_MAX];
        if (snprintf(file, sizeof file, "%s/%s.json", path, names[i]) >= (int)sizeof file)
            continue;
        if (access(file, F_OK) != 0)
            continue;   /* not a card file */
        if (convert_file(file, o, &pc[got]) == 0) {
            got++;
        } else {
            ar_warn("%s; card skipped", ar_last_error());
            skipped++;
        }
    }
    ar_free_ids(names, n);
    st->skipped += skipped;
    int rc = store_all(kb, pc, got, st);
    free(pc);
    if (rc == 0 && got == 0 && skipped > 0)
        return ar_fail(AR_EINPUT, "%s: every card was rejected (%d); nothing imported", path, skipped);
    return rc;
}
