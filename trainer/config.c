/* The config key table and everything it drives: defaults, YAML reading,
 * --set overrides, validation, the JSON snapshot for cards and checkpoints,
 * its hash, the changes between two snapshots and `ar-train --keys`.
 *
 * One row per key of struct train_config. Defaults are tuned for a 2-core
 * CPU and a 300 s budget (a model of a few million parameters); the GPU
 * values of autoresearch are in the comments of trainer/config.yaml. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/err.h"
#include "base/json.h"

/* ------------------------------------------------------------------------ */
/* the table */

enum key_type { K_INT, K_REAL, K_BOOL, K_PATTERN, K_MLP };

/* A range [lo, hi], with lo excluded when lo_open is set. */
struct key {
    const char *name;
    enum key_type type;
    size_t offset;
    const char *def;       /* default, in the text form a user would write */
    double lo, hi;
    int lo_open;
    const char *help;
};

#define OFF(f) offsetof(struct train_config, f)
#define I(f, d, lo, hi, h)       { #f, K_INT, OFF(f), d, lo, hi, 0, h }
#define R(f, d, lo, hi, h)       { #f, K_REAL, OFF(f), d, lo, hi, 0, h }
#define ROPEN(f, d, lo, hi, h)   { #f, K_REAL, OFF(f), d, lo, hi, 1, h }
#define B(f, d, h)               { #f, K_BOOL, OFF(f), d, 0, 1, 0, h }

static const struct key keys[] = {
    /* model */
    I(depth, "3", 1, 64, "transformer blocks"),
    I(aspect_ratio, "64", 1, 1024, "width = round_up(depth * aspect_ratio, head_dim)"),
    I(head_dim, "64", 2, 512, "channels per attention head (even, for RoPE)"),
    I(n_kv_head, "0", 0, 1024, "key/value heads (grouped-query attention); 0: as many as heads"),
    I(seq_len, "128", 2, 65536, "context length in tokens"),
    { "window_pattern", K_PATTERN, OFF(window_pattern), "SSSL", 1, 32, 0,
      "attention windows tiled over layers: S short, L long; the last layer is L" },
    ROPEN(short_window_frac, "0.5", 0, 1, "short window as a fraction of seq_len"),
    ROPEN(rope_base, "10000", 0, 1e9, "RoPE base frequency"),
    B(qk_norm, "true", "RMSNorm of q and k after RoPE"),
    B(value_embeds, "true", "value embeddings with gates on alternating layers (last included)"),
    I(ve_gate_channels, "32", 1, 65536, "input channels of each value-embedding gate"),
    { "mlp", K_MLP, OFF(mlp), "relu2", 0, 0, 0, "MLP activation: relu2, gelu or swiglu" },
    ROPEN(mlp_ratio, "4", 0, 64, "MLP hidden width as a multiple of width"),
    R(resid_lambda_init, "1.0", -100, 100, "initial residual scale per layer"),
    R(x0_lambda_init, "0.1", -100, 100, "initial scale of the x0 (embedding) skip per layer"),
    R(logit_softcap, "15", 0, 1e6, "logits = cap * tanh(logits / cap); 0: off"),
    B(tie_embeddings, "false", "share the token embedding and the output head"),
    ROPEN(init_scale, "1.0", 0, 100, "multiplies the init bounds of the block matrices"),
    /* loss */
    R(label_smoothing, "0", 0, 0.999, "label smoothing of the training loss"),
    R(z_loss, "0", 0, 1, "weight of the z-loss (logsumexp^2) in the training loss"),
    /* optimizer */
    R(matrix_lr, "0.04", 0, 100, "Muon learning rate of the block matrices"),
    R(muon_momentum_start, "0.85", 0, 0.9999, "Muon momentum at step 0"),
    R(muon_momentum_end, "0.95", 0, 0.9999, "Muon momentum after the warm-up"),
    I(muon_momentum_warmup_steps, "50", 0, 1000000, "steps of Muon momentum warm-up"),
    I(muon_ns_steps, "5", 0, 20, "Newton-Schulz orthogonalisation steps"),
    R(muon_weight_decay, "0.2", 0, 100, "cautious weight decay of Muon, decays to 0 with progress"),
    R(embed_lr, "0.6", 0, 100, "AdamW lr of the token embedding (times (width/768)^-0.5)"),
    R(unembed_lr, "0.004", 0, 100, "AdamW lr of the output head (times (width/768)^-0.5)"),
    R(ve_lr, "0.6", 0, 100, "AdamW lr of the value embeddings (times (width/768)^-0.5)"),
    R(resid_lambda_lr, "0.005", 0, 100, "AdamW lr of the residual scales"),
    R(x0_lambda_lr, "0.5", 0, 100, "AdamW lr of the x0 scales"),
    R(adam_beta1, "0.8", 0, 0.9999, "AdamW beta1"),
    R(adam_beta2, "0.95", 0, 0.99999, "AdamW beta2"),
    ROPEN(adam_eps, "1e-10", 0, 1, "AdamW epsilon"),
    R(embed_wd, "0", 0, 100, "weight decay of the token embedding"),
    R(unembed_wd, "0", 0, 100, "weight decay of the output head"),
    R(ve_wd, "0", 0, 100, "weight decay of the value embeddings"),
    R(grad_clip, "0", 0, 1e9, "clip the global gradient norm to this; 0: off"),
    /* schedule */
    R(warmup_frac, "0", 0, 1, "LR warm-up, as a fraction of the budget"),
    R(warmdown_frac, "0.5", 0, 1, "LR warm-down at the end, as a fraction of the budget"),
    R(final_lr_frac, "0", 0, 1, "LR at the end, as a fraction of the peak"),
    /* batch */
    I(device_batch, "16", 1, 65536, "sequences per micro-batch (B)"),
    I(total_batch_tokens, "8192", 1, 1 << 30, "tokens per optimizer step, a multiple of device_batch * seq_len"),
    /* run */
    I(eval_tokens, "131072", 1, 1 << 30, "validation tokens for val_bpb"),
    I(warmup_steps_uncounted, "2", 0, 1000000, "first steps trained but not counted in the budget"),
    I(threads, "0", 0, 4096, "compute threads; 0: all cores"),
};

#define NKEYS ((int)(sizeof keys / sizeof keys[0]))

static const char *mlp_names[] = { "relu2", "gelu", "swiglu" };

static const struct key *key_find(const char *name)
{
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static const char *type_name(enum key_type t)
{
    switch (t) {
    case K_INT: return "integer";
    case K_REAL: return "number";
    case K_BOOL: return "boolean";
    case K_PATTERN: return "pattern";
    case K_MLP: return "relu2|gelu|swiglu";
    }
    return "?";
}

/* "[1, 64]" or "(0, 1]" */
static void range_text(const struct key *k, char *buf, size_t n)
{
    if (k->type == K_INT || k->type == K_REAL)
        snprintf(buf, n, "%c%g, %g]", k->lo_open ? '(' : '[', k->lo, k->hi);
    else if (k->type == K_PATTERN)
        snprintf(buf, n, "[SL]{%g,%g}", k->lo, k->hi);
    else
        buf[0] = '\0';
}

/* ------------------------------------------------------------------------ */
/* setting one key from text */

static int bad_value(const struct key *k, const char *origin, const char *value,
                     const char *why)
{
    return ar_fail(AR_EINPUT, "%s%s%s: '%s' %s", origin ? origin : "",
                   origin ? ": " : "", k->name, value, why);
}

static int out_of_range(const struct key *k, const char *origin, const char *value)
{
    char r[64], why[96];
    range_text(k, r, sizeof r);
    snprintf(why, sizeof why, "is out of range %s", r);
    return bad_value(k, origin, value, why);
}

static int parse_bool(const char *s, int *out)
{
    static const char *yes[] = { "true", "yes", "on", "1" };
    static const char *no[] = { "false", "no", "off", "0" };
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = 1; return 0; }
        if (strcasecmp(s, no[i]) == 0) { *out = 0; return 0; }
    }
    return -1;
}

int config_set_key(struct train_config *c, const char *name, const char *value,
                   const char *origin)
{
    const struct key *k = key_find(name);
    if (!k)
        return ar_fail(AR_EINPUT, "%s%sunknown key '%s' (see ar-train --keys)",
                       origin ? origin : "", origin ? ": " : "", name);
    char *field = (char *)c + k->offset;
    char *end;
    switch (k->type) {
    case K_INT: {
        errno = 0;
        long v = strtol(value, &end, 10);
        if (end == value || *end || isspace((unsigned char)value[0]))
            return bad_value(k, origin, value, "is not an integer");
        if (errno || v < k->lo || v > k->hi || (k->lo_open && v == k->lo))
            return out_of_range(k, origin, value);
        *(int *)field = (int)v;
        return 0;
    }
    case K_REAL: {
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end || isspace((unsigned char)value[0]))
            return bad_value(k, origin, value, "is not a number");
        if (!isfinite(v))
            return bad_value(k, origin, value, "is not finite");
        if (v < k->lo || v > k->hi || (k->lo_open && v == k->lo))
            return out_of_range(k, origin, value);
        *(double *)field = v;
        return 0;
    }
    case K_BOOL: {
        int v;
        if (parse_bool(value, &v) < 0)
            return bad_value(k, origin, value, "is not a boolean (true or false)");
        *(int *)field = v;
        return 0;
    }
    case K_PATTERN: {
        size_t n = strlen(value);
        if (n < (size_t)k->lo || n > (size_t)k->hi || strspn(value, "SL") != n)
            return bad_value(k, origin, value, "is not a pattern of 1 to 32 letters S and L");
        memcpy(field, value, n + 1);
        return 0;
    }
    case K_MLP:
        for (int i = 0; i < 3; i++)
            if (strcmp(value, mlp_names[i]) == 0) {
                *(enum mlp_kind *)field = (enum mlp_kind)i;
                return 0;
            }
        return bad_value(k, origin, value, "is not one of relu2, gelu, swiglu");
    }
    return ar_fail(AR_EFAIL, "%s: unhandled key type", k->name);
}

void config_defaults(struct train_config *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < NKEYS; i++)
        if (config_set_key(c, keys[i].name, keys[i].def, "default") < 0)
            abort();   /* a bad default is a bug in the table above */
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

/* ------------------------------------------------------------------------ */
/* YAML: a flat mapping of scalars */

static int yaml_where(char *buf, size_t n, const char *path, const yaml_mark_t *m)
{
    return snprintf(buf, n, "%s:%zu", path, m->line + 1);
}

static int yaml_next(yaml_parser_t *p, yaml_event_t *ev, const char *path)
{
    if (yaml_parser_parse(p, ev))
        return 0;
    return ar_fail(AR_EINPUT, "%s:%zu: %s", path, p->problem_mark.line + 1,
                   p->problem ? p->problem : "invalid YAML");
}

static int yaml_pairs(struct train_config *c, yaml_parser_t *p, const char *path)
{
    int seen[NKEYS] = { 0 };
    yaml_event_t key, val;
    char where[512];
    for (;;) {
        if (yaml_next(p, &key, path) < 0)
            return -1;
        if (key.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&key);
            return 0;
        }
        if (key.type != YAML_SCALAR_EVENT) {
            yaml_where(where, sizeof where, path, &key.start_mark);
            yaml_event_delete(&key);
            return ar_fail(AR_EINPUT, "%s: expected a key", where);
        }
        const char *name = (const char *)key.data.scalar.value;
        yaml_where(where, sizeof where, path, &key.start_mark);
        const struct key *k = key_find(name);
        int rc = 0;
        if (!k)
            rc = ar_fail(AR_EINPUT, "%s: unknown key '%s' (see ar-train --keys)", where, name);
        else if (seen[k - keys])
            rc = ar_fail(AR_EINPUT, "%s: %s: duplicate key (first on line %d)", where,
                         name, seen[k - keys]);
        if (rc == 0 && yaml_next(p, &val, path) == 0) {
            yaml_where(where, sizeof where, path, &val.start_mark);
            if (val.type != YAML_SCALAR_EVENT)
                rc = ar_fail(AR_EINPUT, "%s: %s: expected a single value", where, name);
            else
                rc = config_set_key(c, name, (const char *)val.data.scalar.value, where);
            seen[k - keys] = (int)key.start_mark.line + 1;
            yaml_event_delete(&val);
        } else if (rc == 0) {
            rc = -1;
        }
        yaml_event_delete(&key);
        if (rc < 0)
            return -1;
    }
}

int config_load_yaml(struct train_config *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ar_fail(errno == ENOENT ? AR_EINPUT : AR_EFAIL, "%s: %s", path, strerror(errno));
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        return ar_fail(AR_EFAIL, "%s: cannot initialise the YAML parser", path);
    }
    yaml_parser_set_input_file(&p, f);
    struct train_config tmp = *c;   /* bad input changes nothing */
    int rc = 0, done = 0;
    while (rc == 0 && !done) {
        yaml_event_t ev;
        if (yaml_next(&p, &ev, path) < 0) {
            rc = -1;
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_MAPPING_START_EVENT:
            rc = yaml_pairs(&tmp, &p, path);
            break;
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.length == 0)   /* an empty document */
                break;
            /* fall through */
        default:
            rc = ar_fail(AR_EINPUT, "%s:%zu: expected a mapping of key: value lines", path,
                         ev.start_mark.line + 1);
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    fclose(f);
    if (rc == 0)
        *c = tmp;
    return rc;
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

int config_check(const struct train_config *c)
{
    if (c->head_dim % 2)
        return ar_fail(AR_EINPUT, "head_dim: %d must be even (RoPE rotates pairs)", c->head_dim);
    int heads = config_heads(c);
    if (c->n_kv_head > heads || (c->n_kv_head && heads % c->n_kv_head))
        return ar_fail(AR_EINPUT, "n_kv_head: %d does not divide the %d heads", c->n_kv_head,
                       heads);
    long micro = (long)c->device_batch * c->seq_len;
    if (micro > (1L << 30))
        return ar_fail(AR_EINPUT, "device_batch: %d sequences of seq_len %d is too many tokens",
                       c->device_batch, c->seq_len);
    if (c->total_batch_tokens % micro)
        return ar_fail(AR_EINPUT,
                       "total_batch_tokens: %d is not a multiple of device_batch * seq_len = %ld",
                       c->total_batch_tokens, micro);
    if (c->value_embeds && c->ve_gate_channels > config_width(c))
        return ar_fail(AR_EINPUT, "ve_gate_channels: %d exceeds the width %d",
                       c->ve_gate_channels, config_width(c));
    if (c->warmup_frac + c->warmdown_frac > 1)
        return ar_fail(AR_EINPUT, "warmdown_frac: warmup_frac + warmdown_frac = %g exceeds 1",
                       c->warmup_frac + c->warmdown_frac);
    if ((long)config_width(c) * c->mlp_ratio < 1)
        return ar_fail(AR_EINPUT, "mlp_ratio: %g gives an empty MLP", c->mlp_ratio);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* JSON snapshot */

jv config_to_json(const struct train_config *c)
{
    jv o = jv_object();
    for (int i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        const char *field = (const char *)c + k->offset;
        jv v;
        switch (k->type) {
        case K_INT: v = jv_number(*(const int *)field); break;
        case K_REAL: v = jv_number(*(const double *)field); break;
        case K_BOOL: v = jv_bool(*(const int *)field); break;
        case K_PATTERN: v = jv_string(field); break;
        case K_MLP: v = jv_string(mlp_names[*(const enum mlp_kind *)field]); break;
        default: v = jv_null();
        }
        o = jv_object_set(o, jv_string(k->name), v);
    }
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
        const struct key *k = key_find(s);
        if (rc == 0 && k && k->type == K_BOOL && jv_get_kind(val) == JV_KIND_NUMBER)
            rc = bad_value(k, "config", text, "is not a boolean (true or false)");
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
    fprintf(f, "%-27s %-9s %-8s %-16s %s\n", "key", "type", "default", "range", "meaning");
    for (int i = 0; i < NKEYS; i++) {
        char r[64];
        range_text(&keys[i], r, sizeof r);
        fprintf(f, "%-27s %-9s %-8s %-16s %s\n", keys[i].name,
                keys[i].type == K_MLP ? "choice" : type_name(keys[i].type), keys[i].def, r,
                keys[i].help);
    }
}
