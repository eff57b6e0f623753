/* The config key table and what it drives on snapshots: defaults, values
 * from text, YAML files, the relations between keys, `ar-train --keys`.
 *
 * Defaults are tuned for a 2-core CPU and a 300 s budget (a model of a few
 * million parameters); the GPU values of autoresearch are in the comments
 * of trainer/config.yaml. */
#include "facts/config_keys.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "base/err.h"
#include "base/json.h"

/* ------------------------------------------------------------------------ */
/* the table */

static const char *const mlp_names[] = { "relu2", "gelu", "swiglu", NULL };
static const char *const muon_ns_names[] = { "polar_express", "quintic", NULL };
static const char *const device_names[] = { "auto", "cpu", "cuda", NULL };
static const char *const precision_names[] = { "bf16", "fp32", NULL };

#define I(f, d, lo, hi, h)       { #f, AR_KEY_INT, d, lo, hi, 0, h, NULL }
#define R(f, d, lo, hi, h)       { #f, AR_KEY_REAL, d, lo, hi, 0, h, NULL }
#define ROPEN(f, d, lo, hi, h)   { #f, AR_KEY_REAL, d, lo, hi, 1, h, NULL }
#define B(f, d, h)               { #f, AR_KEY_BOOL, d, 0, 1, 0, h, NULL }

const struct ar_config_key ar_config_keys[] = {
    /* model */
    I(depth, "3", 1, 64, "transformer blocks"),
    I(aspect_ratio, "64", 1, 1024, "width = round_up(depth * aspect_ratio, head_dim)"),
    I(head_dim, "64", 2, 512, "channels per attention head (even, for RoPE)"),
    I(n_kv_head, "0", 0, 1024, "key/value heads (grouped-query attention); 0: as many as heads"),
    I(seq_len, "128", 2, 65536, "context length in tokens"),
    { "window_pattern", AR_KEY_PATTERN, "SSSL", 1, 32, 0,
      "attention windows tiled over layers: S short, L long; the last layer is L", NULL },
    ROPEN(short_window_frac, "0.5", 0, 1, "short window as a fraction of seq_len"),
    ROPEN(rope_base, "10000", 0, 1e9, "RoPE base frequency"),
    B(qk_norm, "true", "RMSNorm of q and k after RoPE"),
    B(value_embeds, "true", "value embeddings with gates on alternating layers (last included)"),
    I(ve_gate_channels, "32", 1, 65536, "input channels of each value-embedding gate"),
    { "mlp", AR_KEY_CHOICE, "relu2", 0, 0, 0, "MLP activation: relu2, gelu or swiglu", mlp_names },
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
    { "muon_ns", AR_KEY_CHOICE, "polar_express", 0, 0, 0,
      "Muon's orthogonalisation: polar_express (a quintic per step, as train.py) or quintic "
      "(one fixed quintic)", muon_ns_names },
    B(muon_normuon, "true", "NorMuon: scale Muon's update per row (column) by second moments"),
    R(muon_beta2, "0.95", 0, 0.99999, "NorMuon's second-moment EMA rate"),
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
    { "device", AR_KEY_CHOICE, "auto", 0, 0, 0,
      "where to train: auto (a CUDA GPU when present and ar-train was built with CUDA), cpu "
      "or cuda", device_names },
    { "precision", AR_KEY_CHOICE, "bf16", 0, 0, 0,
      "GPU matrix products: bf16 (fp32 accumulation and master weights) or fp32 (TF32); "
      "the CPU computes in fp32", precision_names },
    { NULL, AR_KEY_INT, NULL, 0, 0, 0, NULL, NULL },
};

const struct ar_config_key *ar_config_key_find(const char *name)
{
    for (const struct ar_config_key *k = ar_config_keys; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static const char *type_name(const struct ar_config_key *k)
{
    switch (k->type) {
    case AR_KEY_INT: return "integer";
    case AR_KEY_REAL: return "number";
    case AR_KEY_BOOL: return "boolean";
    case AR_KEY_PATTERN: return "pattern";
    case AR_KEY_CHOICE: return "choice";
    }
    return "?";
}

/* "[1, 64]" or "(0, 1]" */
static void range_text(const struct ar_config_key *k, char *buf, size_t n)
{
    if (k->type == AR_KEY_INT || k->type == AR_KEY_REAL)
        snprintf(buf, n, "%c%g, %g]", k->lo_open ? '(' : '[', k->lo, k->hi);
    else if (k->type == AR_KEY_PATTERN)
        snprintf(buf, n, "[SL]{%g,%g}", k->lo, k->hi);
    else
        buf[0] = '\0';
}

/* ------------------------------------------------------------------------ */
/* one value from text */

static int bad_value(const struct ar_config_key *k, const char *origin, const char *value,
                     const char *why)
{
    return ar_fail(AR_EINPUT, "%s%s%s: '%s' %s", origin ? origin : "",
                   origin ? ": " : "", k->name, value, why);
}

static int out_of_range(const struct ar_config_key *k, const char *origin, const char *value)
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

int ar_config_parse(const char *name, const char *value, const char *origin, jv *out)
{
    const struct ar_config_key *k = ar_config_key_find(name);
    if (!k)
        return ar_fail(AR_EINPUT, "%s%sunknown key '%s' (see ar-train --keys)",
                       origin ? origin : "", origin ? ": " : "", name);
    char *end;
    switch (k->type) {
    case AR_KEY_INT: {
        errno = 0;
        long v = strtol(value, &end, 10);
        if (end == value || *end || isspace((unsigned char)value[0]))
            return bad_value(k, origin, value, "is not an integer");
        if (errno || v < k->lo || v > k->hi || (k->lo_open && v == k->lo))
            return out_of_range(k, origin, value);
        *out = jv_number((double)v);
        return 0;
    }
    case AR_KEY_REAL: {
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end || isspace((unsigned char)value[0]))
            return bad_value(k, origin, value, "is not a number");
        if (!isfinite(v))
            return bad_value(k, origin, value, "is not finite");
        if (v < k->lo || v > k->hi || (k->lo_open && v == k->lo))
            return out_of_range(k, origin, value);
        *out = jv_number(v);
        return 0;
    }
    case AR_KEY_BOOL: {
        int v;
        if (parse_bool(value, &v) < 0)
            return bad_value(k, origin, value, "is not a boolean (true or false)");
        *out = jv_bool(v);
        return 0;
    }
    case AR_KEY_PATTERN: {
        size_t n = strlen(value);
        if (n < (size_t)k->lo || n > (size_t)k->hi || strspn(value, "SL") != n)
            return bad_value(k, origin, value, "is not a pattern of 1 to 32 letters S and L");
        *out = jv_string(value);
        return 0;
    }
    case AR_KEY_CHOICE:
        for (int i = 0; k->choices[i]; i++)
            if (strcmp(value, k->choices[i]) == 0) {
                *out = jv_string(value);
                return 0;
            }
    {
        char why[160] = "is not one of ";
        for (int i = 0; k->choices[i]; i++) {
            size_t len = strlen(why);
            snprintf(why + len, sizeof why - len, "%s%s", i ? ", " : "", k->choices[i]);
        }
        return bad_value(k, origin, value, why);
    }
    }
    return ar_fail(AR_EFAIL, "%s: unhandled key type", k->name);
}

int ar_config_value_text(jv v, char *buf, size_t n)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_NUMBER: {
        /* the shortest text that reads back as the same double; whole
         * numbers as integers ("50", not "5e+01", which integer keys reject) */
        double x = jv_number_value(v);
        if (x == floor(x) && fabs(x) < 1e15) {
            snprintf(buf, n, "%.0f", x);
            return 0;
        }
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, n, "%.*g", prec, x);
            if (strtod(buf, NULL) == x)
                break;
        }
        return 0;
    }
    case JV_KIND_TRUE:
        snprintf(buf, n, "true");
        return 0;
    case JV_KIND_FALSE:
        snprintf(buf, n, "false");
        return 0;
    case JV_KIND_STRING:
        snprintf(buf, n, "%s", jv_string_value(v));
        return 0;
    default:
        return -1;
    }
}

int ar_config_typed(const char *name, jv v, const char *origin, jv *out)
{
    char text[256];
    if (ar_config_value_text(v, text, sizeof text) != 0)
        return ar_fail(AR_EINPUT, "%s%s%s: not a number, boolean or string", origin ? origin : "",
                       origin ? ": " : "", name);
    return ar_config_parse(name, text, origin, out);
}

jv ar_config_defaults(void)
{
    jv c = jv_object();
    for (const struct ar_config_key *k = ar_config_keys; k->name; k++)
        if (ar_config_set(&c, k->name, k->def, "default") != 0)
            abort();   /* a bad default is a bug in the table above */
    return c;
}

int ar_config_set(jv *config, const char *name, const char *text, const char *origin)
{
    jv v;
    if (ar_config_parse(name, text, origin, &v) != 0)
        return -1;
    ar_jv_set(config, name, v);
    return 0;
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

static int yaml_pairs(jv *c, yaml_parser_t *p, const char *path)
{
    jv seen = jv_object();   /* key -> its line */
    yaml_event_t key, val;
    char where[512];
    for (;;) {
        if (yaml_next(p, &key, path) < 0)
            break;
        if (key.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&key);
            jv_free(seen);
            return 0;
        }
        if (key.type != YAML_SCALAR_EVENT) {
            yaml_where(where, sizeof where, path, &key.start_mark);
            yaml_event_delete(&key);
            ar_fail(AR_EINPUT, "%s: expected a key", where);
            break;
        }
        const char *name = (const char *)key.data.scalar.value;
        yaml_where(where, sizeof where, path, &key.start_mark);
        const struct ar_config_key *k = ar_config_key_find(name);
        int rc = 0;
        if (!k)
            rc = ar_fail(AR_EINPUT, "%s: unknown key '%s' (see ar-train --keys)", where, name);
        else if (ar_jv_has(seen, name))
            rc = ar_fail(AR_EINPUT, "%s: %s: duplicate key (first on line %g)", where,
                         name, ar_jv_num(seen, name, 0));
        if (rc == 0 && yaml_next(p, &val, path) == 0) {
            yaml_where(where, sizeof where, path, &val.start_mark);
            if (val.type != YAML_SCALAR_EVENT)
                rc = ar_fail(AR_EINPUT, "%s: %s: expected a single value", where, name);
            else
                rc = ar_config_set(c, name, (const char *)val.data.scalar.value, where);
            ar_jv_set(&seen, name, jv_number((double)key.start_mark.line + 1));
            yaml_event_delete(&val);
        } else if (rc == 0) {
            rc = -1;
        }
        yaml_event_delete(&key);
        if (rc < 0)
            break;
    }
    jv_free(seen);
    return -1;
}

int ar_config_load_yaml(jv *config, const char *path)
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
    jv tmp = jv_copy(*config);   /* bad input changes nothing */
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
    if (rc == 0) {
        jv_free(*config);
        *config = tmp;
    } else {
        jv_free(tmp);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* relations between keys */

static int num(jv c, const char *key)
{
    return (int)ar_jv_num(c, key, 0);
}

int ar_config_check(jv c)
{
    int depth = num(c, "depth"), head_dim = num(c, "head_dim"), n_kv = num(c, "n_kv_head");
    int seq_len = num(c, "seq_len"), batch = num(c, "device_batch");
    int total = num(c, "total_batch_tokens"), gate = num(c, "ve_gate_channels");
    double warmup = ar_jv_num(c, "warmup_frac", 0), warmdown = ar_jv_num(c, "warmdown_frac", 0);
    double mlp_ratio = ar_jv_num(c, "mlp_ratio", 0);
    jv ve = ar_jv_get(c, "value_embeds");
    int value_embeds = jv_get_kind(ve) == JV_KIND_TRUE;
    jv_free(ve);
    if (head_dim < 1)
        return ar_fail(AR_EINPUT, "head_dim: %d is out of range", head_dim);
    if (head_dim % 2)
        return ar_fail(AR_EINPUT, "head_dim: %d must be even (RoPE rotates pairs)", head_dim);
    int w = depth * num(c, "aspect_ratio");
    int width = (w + head_dim - 1) / head_dim * head_dim;
    int heads = width / head_dim;
    if (n_kv > heads || (n_kv && heads % n_kv))
        return ar_fail(AR_EINPUT, "n_kv_head: %d does not divide the %d heads", n_kv, heads);
    long micro = (long)batch * seq_len;
    if (micro > (1L << 30))
        return ar_fail(AR_EINPUT, "device_batch: %d sequences of seq_len %d is too many tokens",
                       batch, seq_len);
    if (micro < 1 || total % micro)
        return ar_fail(AR_EINPUT,
                       "total_batch_tokens: %d is not a multiple of device_batch * seq_len = %ld",
                       total, micro);
    if (value_embeds && gate > width)
        return ar_fail(AR_EINPUT, "ve_gate_channels: %d exceeds the width %d", gate, width);
    if (warmup + warmdown > 1)
        return ar_fail(AR_EINPUT, "warmdown_frac: warmup_frac + warmdown_frac = %g exceeds 1",
                       warmup + warmdown);
    if ((long)width * mlp_ratio < 1)
        return ar_fail(AR_EINPUT, "mlp_ratio: %g gives an empty MLP", mlp_ratio);
    return 0;
}

/* ------------------------------------------------------------------------ */

void ar_config_print_keys(FILE *f)
{
    fprintf(f, "%-27s %-9s %-8s %-16s %s\n", "key", "type", "default", "range", "meaning");
    for (const struct ar_config_key *k = ar_config_keys; k->name; k++) {
        char r[64];
        range_text(k, r, sizeof r);
        fprintf(f, "%-27s %-9s %-8s %-16s %s\n", k->name, type_name(k), k->def, r, k->help);
    }
}
