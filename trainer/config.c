/* struct train_config over the key table of lib/facts/config_keys.c (names,
 * types, ranges, defaults, help: the one table, which the tools use too):
 * defaults, YAML reading, --set overrides, validation, the JSON snapshot for
 * cards and checkpoints, its hash, the changes between two snapshots and
 * `ar-train --keys`. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "base/err.h"
#include "base/json.h"
#include "facts/config_keys.h"

/* ------------------------------------------------------------------------ */
/* the fields of struct train_config that the keys of lib/facts/config_keys.c
 * (names, types, ranges, defaults, help) are bound to */

#define F(f) { #f, offsetof(struct train_config, f) }

static const struct field {
    const char *name;
    size_t offset;
} fields[] = {
    F(depth), F(aspect_ratio), F(head_dim), F(n_kv_head), F(seq_len), F(window_pattern),
    F(short_window_frac), F(rope_base), F(qk_norm), F(value_embeds), F(ve_gate_channels),
    F(mlp), F(mlp_ratio), F(resid_lambda_init), F(x0_lambda_init), F(logit_softcap),
    F(tie_embeddings), F(init_scale),
    F(label_smoothing), F(z_loss),
    F(matrix_lr), F(muon_momentum_start), F(muon_momentum_end), F(muon_momentum_warmup_steps),
    F(muon_ns_steps), F(muon_ns), F(muon_normuon), F(muon_beta2), F(muon_weight_decay), F(embed_lr), F(unembed_lr), F(ve_lr),
    F(resid_lambda_lr), F(x0_lambda_lr), F(adam_beta1), F(adam_beta2), F(adam_eps),
    F(embed_wd), F(unembed_wd), F(ve_wd), F(grad_clip),
    F(warmup_frac), F(warmdown_frac), F(final_lr_frac),
    F(device_batch), F(total_batch_tokens),
    F(eval_tokens), F(warmup_steps_uncounted), F(threads), F(device), F(precision),
};

#define NFIELDS ((int)(sizeof fields / sizeof fields[0]))

/* a choice key's field is an enum, stored as the int of its index */
_Static_assert(sizeof(enum mlp_kind) == sizeof(int), "enum mlp_kind is an int");
_Static_assert(sizeof(enum muon_ns_kind) == sizeof(int), "enum muon_ns_kind is an int");
_Static_assert(sizeof(enum device_kind) == sizeof(int), "enum device_kind is an int");
_Static_assert(sizeof(enum precision_kind) == sizeof(int), "enum precision_kind is an int");

/* The field of key k in c; a key without a field is a bug (every key of the
 * table must be bound, see config_defaults). */
static char *field_of(const struct train_config *c, const struct ar_config_key *k)
{
    for (int i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].name, k->name) == 0)
            return (char *)c + fields[i].offset;
    return NULL;
}

/* Stores a typed value (as ar_config_parse returns it) into its field. */
static void store(struct train_config *c, const struct ar_config_key *k, jv v)
{
    char *field = field_of(c, k);
    if (!field)
        abort();
    switch (k->type) {
    case AR_KEY_INT: *(int *)field = (int)jv_number_value(v); break;
    case AR_KEY_REAL: *(double *)field = jv_number_value(v); break;
    case AR_KEY_BOOL: *(int *)field = jv_get_kind(v) == JV_KIND_TRUE; break;
    case AR_KEY_PATTERN: snprintf(field, sizeof c->window_pattern, "%s", jv_string_value(v)); break;
    case AR_KEY_CHOICE:
        for (int i = 0; k->choices[i]; i++)
            if (strcmp(jv_string_value(v), k->choices[i]) == 0)
                *(int *)field = i;
        break;
    }
    jv_free(v);
}

static jv load(const struct train_config *c, const struct ar_config_key *k)
{
    const char *field = field_of(c, k);
    switch (k->type) {
    case AR_KEY_INT: return jv_number(*(const int *)field);
    case AR_KEY_REAL: return jv_number(*(const double *)field);
    case AR_KEY_BOOL: return jv_bool(*(const int *)field);
    case AR_KEY_PATTERN: return jv_string(field);
    case AR_KEY_CHOICE: return jv_string(k->choices[*(const int *)field]);
    }
    return jv_null();
}

int config_set_key(struct train_config *c, const char *name, const char *value,
                   const char *origin)
{
    jv v;
    if (ar_config_parse(name, value, origin, &v) != 0)
        return -1;
    store(c, ar_config_key_find(name), v);
    return 0;
}

void config_defaults(struct train_config *c)
{
    memset(c, 0, sizeof *c);
    int n = 0;
    for (const struct ar_config_key *k = ar_config_keys; k->name; k++, n++)
        if (!field_of(c, k) || config_set_key(c, k->name, k->def, "default") < 0)
            abort();   /* a key without a field, or a bad default */
    if (n != NFIELDS)
        abort();       /* a field without a key */
}

int config_set(struct train_config *c, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return ar_fail(AR_EINPUT, "--set: '%s' is not of the form key=value", assignment);
    char name[64];
    size_t n = (size_t)(eq - assignment);
    if (n >= sizeof name)
        return ar_fail(AR_EINPUT, "--set: unknown key '%.*s'", (int)n, assignment);
    memcpy(name, assignment, n);
    name[n] = '\0';
    return config_set_key(c, name, eq + 1, "--set");
}

/* A config is one YAML document: a second one (after a "---") would give
 * its keys again, past the duplicate-key check of each mapping. Refused
 * here, before the file is read for its keys; a file that does not parse
 * is left to ar_config_load_yaml, which says where. */
static int one_document(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        return 0;
    }
    yaml_parser_set_input_file(&p, f);
    int docs = 0, rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev))
            break;
        int type = ev.type;
        if (type == YAML_DOCUMENT_START_EVENT && ++docs == 2)
            rc = ar_fail(AR_EINPUT, "%s:%zu: a second YAML document ('---'): the config is one mapping of "
                         "key: value lines", path, ev.start_mark.line + 1);
        yaml_event_delete(&ev);
        if (rc != 0 || type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    fclose(f);
    return rc;
}

int config_load_yaml(struct train_config *c, const char *path)
{
    if (one_document(path) != 0)
        return -1;
    jv snap = config_to_json(c);
    if (ar_config_load_yaml(&snap, path) != 0) {
        jv_free(snap);
        return -1;
    }
    struct train_config tmp = *c;
    jv_object_foreach(snap, name, val) {
        store(&tmp, ar_config_key_find(jv_string_value(name)), val);
        jv_free(name);
    }
    jv_free(snap);
    *c = tmp;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* relations between keys and derived sizes */

int config_width(const struct train_config *c)
{
    int w = c->depth * c->aspect_ratio;
    return (w + c->head_dim - 1) / c->head_dim * c->head_dim;
}

int config_heads(const struct train_config *c) { return config_width(c) / c->head_dim; }

int config_kv_heads(const struct train_config *c)
{
    return c->n_kv_head ? c->n_kv_head : config_heads(c);
}

int config_grad_accum(const struct train_config *c)
{
    return c->total_batch_tokens / (c->device_batch * c->seq_len);
}

int config_window(const struct train_config *c, int layer)
{
    size_t n = strlen(c->window_pattern);
    char kind = layer == c->depth - 1 || n == 0 ? 'L' : c->window_pattern[layer % n];
    if (kind == 'L')
        return c->seq_len;
    int w = (int)lround(c->seq_len * c->short_window_frac);
    return w < 1 ? 1 : w;
}

/* More threads than this many per online CPU gain nothing and fail where
 * threads are limited (libgomp then aborts with its own message). */
#define THREADS_PER_CPU 8
#define THREADS_FLOOR 64

int config_check(const struct train_config *c)
{
    jv snap = config_to_json(c);
    int rc = ar_config_check(snap);
    jv_free(snap);
    if (rc != 0)
        return rc;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long most = cpus > 0 && cpus * THREADS_PER_CPU > THREADS_FLOOR ? cpus * THREADS_PER_CPU : THREADS_FLOOR;
    if (c->threads > most)
        return ar_fail(AR_EINPUT, "threads: %d is more than this machine can use (%ld CPUs online: at most %ld; "
                       "0 takes every core)", c->threads, cpus, most);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* JSON snapshot */

jv config_to_json(const struct train_config *c)
{
    jv o = jv_object();
    for (const struct ar_config_key *k = ar_config_keys; k->name; k++)
        o = jv_object_set(o, jv_string(k->name), load(c, k));
    return o;
}

int config_from_json(struct train_config *c, jv obj)
{
    if (jv_get_kind(obj) != JV_KIND_OBJECT) {
        jv_free(obj);
        return ar_fail(AR_EINPUT, "config: not an object");
    }
    struct train_config tmp = *c;
    int rc = 0;
    /* keys added after cards were recorded without them: their absence
     * means what the trainer did before the key (a card's config must run
     * again as it ran) */
    static const struct { const char *name, *absent; } later[] = {
        { "muon_ns", "quintic" }, { "muon_normuon", "false" }, { "device", "cpu" },
    };
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
        if (!jv_object_has(jv_copy(obj), jv_string(later[i].name)) &&
            config_set_key(&tmp, later[i].name, later[i].absent, "config") < 0)
            abort();   /* a bad value in the table */
    }
    jv_object_foreach(obj, name, val) {
        char text[64];
        const char *s = jv_string_value(name);
        switch (jv_get_kind(val)) {
        case JV_KIND_NUMBER: snprintf(text, sizeof text, "%.17g", jv_number_value(val)); break;
        case JV_KIND_TRUE: strcpy(text, "true"); break;
        case JV_KIND_FALSE: strcpy(text, "false"); break;
        case JV_KIND_STRING: snprintf(text, sizeof text, "%s", jv_string_value(val)); break;
        default: strcpy(text, "?"); break;
        }
        const struct ar_config_key *k = ar_config_key_find(s);
        if (rc == 0 && k && k->type == AR_KEY_BOOL && jv_get_kind(val) == JV_KIND_NUMBER)
            rc = ar_fail(AR_EINPUT, "config: %s: '%s' is not a boolean (true or false)", s, text);
        if (rc == 0)
            rc = config_set_key(&tmp, s, text, "config");
        jv_free(name);
        jv_free(val);
    }
    jv_free(obj);
    if (rc == 0)
        *c = tmp;
    return rc;
}

void config_hash(const struct train_config *c, char hex[65])
{
    jv o = config_to_json(c);
    ar_json_hash(o, hex);
    jv_free(o);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

jv config_changes(jv from, jv to)
{
    jv out = jv_array();
    jv names = jv_array();
    jv fk = jv_copy(from), tk = jv_copy(to);
    if (jv_get_kind(fk) == JV_KIND_OBJECT)
        names = jv_array_concat(names, jv_keys(fk));
    else
        jv_free(fk);
    if (jv_get_kind(tk) == JV_KIND_OBJECT)
        names = jv_array_concat(names, jv_keys(tk));
    else
        jv_free(tk);
    int n = jv_array_length(jv_copy(names));
    char **list = calloc((size_t)n + 1, sizeof *list);
    int m = 0;
    for (int i = 0; i < n; i++) {
        jv s = jv_array_get(jv_copy(names), i);
        list[m++] = strdup(jv_string_value(s));
        jv_free(s);
    }
    jv_free(names);
    qsort(list, (size_t)m, sizeof *list, cmp_str);
    for (int i = 0; i < m; i++) {
        if (i > 0 && strcmp(list[i], list[i - 1]) == 0)
            continue;
        jv a = jv_get_kind(from) == JV_KIND_OBJECT
                   ? jv_object_get(jv_copy(from), jv_string(list[i])) : jv_invalid();
        jv b = jv_get_kind(to) == JV_KIND_OBJECT
                   ? jv_object_get(jv_copy(to), jv_string(list[i])) : jv_invalid();
        if (!jv_is_valid(a)) { jv_free(a); a = jv_null(); }
        if (!jv_is_valid(b)) { jv_free(b); b = jv_null(); }
        if (jv_equal(jv_copy(a), jv_copy(b))) {
            jv_free(a);
            jv_free(b);
            continue;
        }
        jv ch = jv_object();
        ch = jv_object_set(ch, jv_string("key"), jv_string(list[i]));
        ch = jv_object_set(ch, jv_string("from"), a);
        ch = jv_object_set(ch, jv_string("to"), b);
        out = jv_array_append(out, ch);
    }
    for (int i = 0; i < m; i++)
        free(list[i]);
    free(list);
    return out;
}

void config_print_keys(FILE *f)
{
    ar_config_print_keys(f);
}
