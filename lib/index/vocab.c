/* The key vocabulary: the tables (keys with their categories, names and
 * phrases with the keys they mean), name lookup and value normalisation.
 * Reading descriptions is in vocab_describe.c. */
#include "index/vocab.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "facts/config_keys.h"
#include "index/pyexpr.h"
#include "index/vocab_table.h"

/* ------------------------------------------------------------------------ */
/* keys: every ar config key and the keys only other trainers have */

#define ARCH "architecture"
#define OPT "optimizer"
#define HYP "hyperparameter"
#define SCHED "schedule"
#define REG "regularization"
#define INIT "initialization"
#define EFF "efficiency"

const struct ar_vocab_keyinfo ar_vocab_keys[] = {
    /* ar config keys (kind from facts/config_keys.c) */
    { "depth", ARCH, VK_INT, 0 },
    { "aspect_ratio", ARCH, VK_INT, 0 },
    { "head_dim", ARCH, VK_INT, 0 },
    { "n_kv_head", ARCH, VK_INT, 0 },
    { "seq_len", HYP, VK_INT, VF_TOKENS },
    { "window_pattern", ARCH, VK_STR, 0 },
    { "short_window_frac", ARCH, VK_NUM, 0 },
    { "rope_base", ARCH, VK_NUM, 0 },
    { "qk_norm", ARCH, VK_BOOL, 0 },
    { "value_embeds", ARCH, VK_BOOL, 0 },
    { "ve_gate_channels", ARCH, VK_INT, 0 },
    { "mlp", ARCH, VK_STR, 0 },
    { "mlp_ratio", ARCH, VK_NUM, VF_SCALE },
    { "resid_lambda_init", INIT, VK_NUM, 0 },
    { "x0_lambda_init", INIT, VK_NUM, 0 },
    { "logit_softcap", ARCH, VK_NUM, 0 },
    { "tie_embeddings", ARCH, VK_BOOL, 0 },
    { "init_scale", INIT, VK_NUM, VF_SCALE },
    { "label_smoothing", REG, VK_NUM, 0 },
    { "z_loss", REG, VK_NUM, 0 },
    { "matrix_lr", OPT, VK_NUM, 0 },
    { "muon_momentum_start", OPT, VK_NUM, 0 },
    { "muon_momentum_end", OPT, VK_NUM, 0 },
    { "muon_momentum_warmup_steps", SCHED, VK_INT, 0 },
    { "muon_ns_steps", OPT, VK_INT, 0 },
    { "muon_ns", OPT, VK_STR, 0 },
    { "muon_normuon", OPT, VK_BOOL, 0 },
    { "muon_beta2", OPT, VK_NUM, 0 },
    { "muon_weight_decay", OPT, VK_NUM, 0 },
    { "embed_lr", OPT, VK_NUM, 0 },
    { "unembed_lr", OPT, VK_NUM, 0 },
    { "ve_lr", OPT, VK_NUM, 0 },
    { "resid_lambda_lr", OPT, VK_NUM, 0 },
    { "x0_lambda_lr", OPT, VK_NUM, 0 },
    { "adam_beta1", OPT, VK_NUM, 0 },
    { "adam_beta2", OPT, VK_NUM, 0 },
    { "adam_eps", OPT, VK_NUM, 0 },
    { "embed_wd", OPT, VK_NUM, 0 },
    { "unembed_wd", OPT, VK_NUM, 0 },
    { "ve_wd", OPT, VK_NUM, 0 },
    { "grad_clip", OPT, VK_NUM, 0 },
    { "warmup_frac", SCHED, VK_NUM, 0 },
    { "warmdown_frac", SCHED, VK_NUM, 0 },
    { "final_lr_frac", SCHED, VK_NUM, 0 },
    { "device_batch", EFF, VK_INT, VF_TOKENS },
    { "total_batch_tokens", HYP, VK_INT, VF_TOKENS },
    { "eval_tokens", "data", VK_INT, VF_TOKENS },
    { "warmup_steps_uncounted", EFF, VK_INT, 0 },
    { "threads", EFF, VK_INT, 0 },
    { "device", EFF, VK_STR, 0 },
    { "precision", EFF, VK_STR, 0 },
    /* keys of other trainers (autoresearch's train.py and its forks) */
    { "scalar_lr", OPT, VK_NUM, 0 },           /* train.py: x0_lambda_lr, resid 0.01x */
    { "adam_betas", OPT, VK_PAIR, 0 },         /* (adam_beta1, adam_beta2) */
    { "x0_lambda_beta1", OPT, VK_NUM, 0 },
    { "lr_scale_ref", OPT, VK_NUM, 0 },        /* width the AdamW lrs are tuned at */
    { "cautious_wd", OPT, VK_BOOL, VF_ON },
    { "muon_ns_coeffs", OPT, VK_NONE, 0 },
    { "wd_schedule", SCHED, VK_STR, 0 },
    { "lr_schedule", SCHED, VK_STR, 0 },
    { "warmdown_shape", SCHED, VK_STR, 0 },
    { "dropout", REG, VK_NUM, VF_OFF0 },
    { "model_dim", ARCH, VK_INT, 0 },
    { "n_head", ARCH, VK_INT, 0 },
    { "ve_gate_scale", ARCH, VK_NUM, 0 },
    { "ve_layers", ARCH, VK_NONE, 0 },
    { "parallel_block", ARCH, VK_BOOL, 0 },
    { "rotary_seq_mult", ARCH, VK_NUM, VF_SCALE },
    { "embed_init_std", INIT, VK_NUM, 0 },
    { "unembed_init_std", INIT, VK_NUM, 0 },
    { "ve_init_scale", INIT, VK_NUM, VF_SCALE },
    { "qk_init_scale", INIT, VK_NUM, VF_SCALE },
    { "proj_init", INIT, VK_NONE, 0 },
    { "vocab_size", "tokenizer", VK_INT, VF_TOKENS },
    { "budget_s", HYP, VK_NUM, 0 },
    { "seed", "other", VK_INT, VF_NOMINAL },
    { "window_schedule", SCHED, VK_NONE, 0 },
    { "peak_flops", EFF, VK_NUM, 0 },
    { "weight_avg", REG, VK_STR, 0 },          /* averaged weights for eval: swa, ema */
    { "ema_decay", REG, VK_NUM, 0 },
    { NULL, NULL, 0, 0 },
};

/* ------------------------------------------------------------------------ */
/* names and phrases, written normalised (lower case, one space between
 * words); the keys themselves are names too (matrix_lr: "matrix lr") */

const struct ar_vocab_phrase ar_vocab_phrases[] = {
    /* train.py's module-level constants, and prepare.py's */
    { "total batch size", "total_batch_tokens", NULL },
    { "depth", "depth", NULL },
    { "aspect ratio", "aspect_ratio", NULL },
    { "head dim", "head_dim", NULL },
    { "window pattern", "window_pattern", NULL },
    { "matrix lr", "matrix_lr", NULL },
    { "embedding lr", "embed_lr", NULL },
    { "unembedding lr", "unembed_lr", NULL },
    { "scalar lr", "scalar_lr", NULL },
    { "weight decay", "muon_weight_decay", NULL },
    { "adam betas", "adam_betas", NULL },
    { "warmup ratio", "warmup_frac", NULL },
    { "warmdown ratio", "warmdown_frac", NULL },
    { "final lr frac", "final_lr_frac", NULL },
    { "device batch size", "device_batch", NULL },
    { "max seq len", "seq_len", NULL },
    { "time budget", "budget_s", NULL },
    { "eval tokens", "eval_tokens", NULL },
    { "vocab size", "vocab_size", NULL },
    { "h100 bf16 peak flops", "peak_flops", NULL },
    { "polar express coeffs", "muon_ns_coeffs", NULL },
    /* GPTConfig's fields and the names forks give their constants */
    { "n layer", "depth", NULL },
    { "n layers", "depth", NULL },
    { "num layers", "depth", NULL },
    { "n embd", "model_dim", NULL },
    { "n head", "n_head", NULL },
    { "num heads", "n_head", NULL },
    { "num kv heads", "n_kv_head", NULL },
    { "n kv heads", "n_kv_head", NULL },
    { "sequence len", "seq_len", NULL },
    { "sequence length", "seq_len", NULL },
    { "context length", "seq_len", NULL },
    { "seq len", "seq_len", NULL },
    { "rope theta", "rope_base", NULL },
    { "rope base", "rope_base", NULL },
    { "rope base frequency", "rope_base", NULL },
    { "rope frequency", "rope_base", NULL },
    { "rotary base", "rope_base", NULL },
    { "logit softcap", "logit_softcap", NULL },
    { "logits softcap", "logit_softcap", NULL },
    { "softcap", "logit_softcap", NULL },
    { "soft cap", "logit_softcap", NULL },
    { "z loss", "z_loss", NULL },
    { "zloss", "z_loss", NULL },
    { "z loss weight", "z_loss", NULL },
    { "label smoothing", "label_smoothing", NULL },
    { "dropout", "dropout", NULL },
    { "init scale", "init_scale", NULL },
    { "transformer init scale", "init_scale", NULL },
    { "depth dependent init scale", "init_scale", NULL },
    { "x0 lambda", "x0_lambda_init", NULL },
    { "x0 lambda init", "x0_lambda_init", NULL },
    { "x0 lambdas init", "x0_lambda_init", NULL },
    { "x0 init", "x0_lambda_init", NULL },
    { "x0 lambda lr", "x0_lambda_lr", NULL },
    { "x0 lambda beta1", "x0_lambda_beta1", NULL },
    { "resid lambda", "resid_lambda_init", NULL },
    { "resid lambda init", "resid_lambda_init", NULL },
    { "resid lambdas init", "resid_lambda_init", NULL },
    { "resid lambda lr", "resid_lambda_lr", NULL },
    { "mlp ratio", "mlp_ratio", NULL },
    { "mlp hidden", "mlp_ratio", NULL },
    { "mlp expansion", "mlp_ratio", NULL },
    { "mlp mult", "mlp_ratio", NULL },
    { "mlp multiplier", "mlp_ratio", NULL },
    { "ffn mult", "mlp_ratio", NULL },
    { "ffn ratio", "mlp_ratio", NULL },
    { "ffn multiplier", "mlp_ratio", NULL },
    { "mlp activation", "mlp", NULL },
    { "activation", "mlp", NULL },
    { "activation function", "mlp", NULL },
    { "silu", "mlp", "silu" },
    { "swish", "mlp", "silu" },
    { "relu", "mlp", "relu" },
    { "swiglu", "mlp", "swiglu" },
    { "gelu", "mlp", "gelu" },
    { "relu2", "mlp", "relu2" },
    { "relu squared", "mlp", "relu2" },
    { "squared relu", "mlp", "relu2" },
    { "weight tying", "tie_embeddings", "true" },
    { "tied embeddings", "tie_embeddings", "true" },
    { "tie embeddings", "tie_embeddings", "true" },
    { "tie weights", "tie_embeddings", "true" },
    { "gqa", "n_kv_head", NULL },
    { "grouped query attention", "n_kv_head", NULL },
    { "kv heads", "n_kv_head", NULL },
    { "n kv head", "n_kv_head", NULL },
    { "mqa", "n_kv_head", "1" },
    { "multi query attention", "n_kv_head", "1" },
    { "value embeddings", "value_embeds", NULL },
    { "value embedding", "value_embeds", NULL },
    { "value embeds", "value_embeds", NULL },
    { "ve", "value_embeds", NULL },
    { "ve only", "ve_layers", NULL },
    { "ve every", "ve_layers", NULL },
    { "ve layers", "ve_layers", NULL },
    { "ve groups", "ve_layers", NULL },
    { "ve tables", "ve_layers", NULL },
    { "window warmup", "window_schedule", NULL },
    { "window schedule", "window_schedule", NULL },
    { "sliding window", "window_pattern", NULL },
    { "vocab", "vocab_size", NULL },
    { "vocabulary size", "vocab_size", NULL },
    { "ve on", "ve_layers", NULL },
    { "ve gate channels", "ve_gate_channels", NULL },
    { "ve gate scale", "ve_gate_scale", NULL },
    { "ve init scale", "ve_init_scale", NULL },
    { "ve init", "ve_init_scale", NULL },
    { "qk norm", "qk_norm", NULL },
    { "qk init", "qk_init_scale", NULL },
    { "qk init scale", "qk_init_scale", NULL },
    { "short window", "short_window_frac", NULL },
    { "short window frac", "short_window_frac", NULL },
    { "pattern", "window_pattern", NULL },
    { "sliding window pattern", "window_pattern", NULL },
    { "attention pattern", "window_pattern", NULL },
    { "aspect", "aspect_ratio", NULL },
    { "dim", "model_dim", NULL },
    { "width", "model_dim", NULL },
    { "model dim", "model_dim", NULL },
    { "parallel attn", "parallel_block", NULL },
    { "parallel attention", "parallel_block", NULL },
    { "parallel block", "parallel_block", NULL },
    { "rotary precompute", "rotary_seq_mult", NULL },
    { "init for c proj", "proj_init", NULL },
    { "c proj init", "proj_init", NULL },
    { "lm head init std", "unembed_init_std", NULL },
    { "lm head init", "unembed_init_std", NULL },
    { "embedding init std", "embed_init_std", NULL },
    { "embedding init", "embed_init_std", NULL },
    { "wte init std", "embed_init_std", NULL },
    /* optimizer */
    { "lr", "matrix_lr", NULL },
    { "learning rate", "matrix_lr", NULL },
    { "muon lr", "matrix_lr", NULL },
    { "matrix learning rate", "matrix_lr", NULL },
    { "embed lr", "embed_lr", NULL },
    { "embeddings lr", "embed_lr", NULL },
    { "embedding learning rate", "embed_lr", NULL },
    { "wte lr", "embed_lr", NULL },
    { "unembed lr", "unembed_lr", NULL },
    { "lm head lr", "unembed_lr", NULL },
    { "head lr", "unembed_lr", NULL },
    { "unembedding learning rate", "unembed_lr", NULL },
    { "ve lr", "ve_lr", NULL },
    { "value embedding lr", "ve_lr", NULL },
    { "value embeddings lr", "ve_lr", NULL },
    { "scalars lr", "scalar_lr", NULL },
    { "wd", "muon_weight_decay", NULL },
    { "muon wd", "muon_weight_decay", NULL },
    { "muon weight decay", "muon_weight_decay", NULL },
    { "matrix wd", "muon_weight_decay", NULL },
    { "cautious wd", "cautious_wd", NULL },
    { "cautious wd mask", "cautious_wd", NULL },
    { "cautious weight decay", "cautious_wd", NULL },
    { "embedding wd", "embed_wd", NULL },
    { "embeddings wd", "embed_wd", NULL },
    { "embedding weight decay", "embed_wd", NULL },
    { "lm head wd", "unembed_wd", NULL },
    { "lm head weight decay", "unembed_wd", NULL },
    { "head wd", "unembed_wd", NULL },
    { "ve wd", "ve_wd", NULL },
    { "value embedding wd", "ve_wd", NULL },
    { "value embeddings wd", "ve_wd", NULL },
    { "wd schedule", "wd_schedule", NULL },
    { "weight decay schedule", "wd_schedule", NULL },
    { "wd follows lr schedule", "wd_schedule", "follows_lr" },
    { "lr schedule", "lr_schedule", NULL },
    { "warmdown schedule", "warmdown_shape", NULL },
    { "warmdown shape", "warmdown_shape", NULL },
    { "adam beta1", "adam_beta1", NULL },
    { "adam beta2", "adam_beta2", NULL },
    { "beta1", "adam_beta1", NULL },
    { "beta2", "adam_beta2", NULL },
    { "adamb1", "adam_beta1", NULL },
    { "adam b1", "adam_beta1", NULL },
    { "adamb2", "adam_beta2", NULL },
    { "adam b2", "adam_beta2", NULL },
    { "betas", "adam_betas", NULL },
    { "adam eps", "adam_eps", NULL },
    { "adam epsilon", "adam_eps", NULL },
    { "muon beta2", "muon_beta2", NULL },
    { "muon normuon beta2", "muon_beta2", NULL },
    { "normuon beta2", "muon_beta2", NULL },
    { "normuon", "muon_normuon", NULL },
    { "muon momentum", "muon_momentum_end", NULL },
    { "muon final momentum", "muon_momentum_end", NULL },
    { "muon end momentum", "muon_momentum_end", NULL },
    { "muon start momentum", "muon_momentum_start", NULL },
    { "muon initial momentum", "muon_momentum_start", NULL },
    { "muon momentum warmup", "muon_momentum_warmup_steps", NULL },
    { "momentum warmup", "muon_momentum_warmup_steps", NULL },
    { "muon ns steps", "muon_ns_steps", NULL },
    { "ns steps", "muon_ns_steps", NULL },
    { "ns iterations", "muon_ns_steps", NULL },
    { "muon ns iterations", "muon_ns_steps", NULL },
    { "newton schulz iterations", "muon_ns_steps", NULL },
    { "newton schulz steps", "muon_ns_steps", NULL },
    { "polar express", "muon_ns", "polar_express" },
    { "gradient clipping", "grad_clip", NULL },
    { "grad clipping", "grad_clip", NULL },
    { "grad clip", "grad_clip", NULL },
    { "gradient clip", "grad_clip", NULL },
    { "max norm", "grad_clip", NULL },
    { "lr scale reference", "lr_scale_ref", NULL },
    { "lr scale ref", "lr_scale_ref", NULL },
    /* schedule */
    { "warmup", "warmup_frac", NULL },
    { "lr warmup", "warmup_frac", NULL },
    { "warmup frac", "warmup_frac", NULL },
    { "warmdown", "warmdown_frac", NULL },
    { "warm down", "warmdown_frac", NULL },
    { "lr warmdown", "warmdown_frac", NULL },
    { "cooldown", "warmdown_frac", NULL },
    { "lr cooldown", "warmdown_frac", NULL },
    { "lr warmdown ratio", "warmdown_frac", NULL },
    { "final lr", "final_lr_frac", NULL },
    { "final lr fraction", "final_lr_frac", NULL },
    /* batch and run */
    { "batch", "total_batch_tokens", NULL },
    { "batch size", "total_batch_tokens", NULL },
    { "total batch", "total_batch_tokens", NULL },
    { "tokens per step", "total_batch_tokens", NULL },
    { "device batch", "device_batch", NULL },
    { "micro batch", "device_batch", NULL },
    { "microbatch", "device_batch", NULL },
    { "seed", "seed", NULL },
    { "random seed", "seed", NULL },
    { "budget", "budget_s", NULL },
    /* averaged weights */
    { "swa", "weight_avg", "swa" },
    { "stochastic weight averaging", "weight_avg", "swa" },
    { "weight averaging", "weight_avg", NULL },
    { "ema", "weight_avg", "ema" },
    { "ema of weights", "weight_avg", "ema" },
    { "ema decay", "ema_decay", NULL },
    { NULL, NULL, NULL },
};

/* ------------------------------------------------------------------------ */
/* lookup */

void ar_vocab_normalise(const char *name, char *out, size_t n)
{
    size_t o = 0;
    int space = 0;
    for (const char *s = name; *s && o + 2 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '_' || c == '-' || isspace(c)) {
            space = o > 0;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = 0;
        }
        out[o++] = (char)tolower(c);
    }
    out[o] = '\0';
}

const struct ar_vocab_keyinfo *ar_vocab_keyinfo(const char *key)
{
    if (!key)
        return NULL;
    for (const struct ar_vocab_keyinfo *k = ar_vocab_keys; k->key; k++)
        if (strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

const struct ar_vocab_phrase *ar_vocab_phrase_find(const char *normalised)
{
    for (const struct ar_vocab_phrase *p = ar_vocab_phrases; p->phrase; p++)
        if (strcmp(p->phrase, normalised) == 0)
            return p;
    return NULL;
}

/* a key written as a name ("matrix lr" for matrix_lr) */
static const char *key_named(const char *normalised)
{
    for (const struct ar_vocab_keyinfo *k = ar_vocab_keys; k->key; k++) {
        char kn[64];
        ar_vocab_normalise(k->key, kn, sizeof kn);
        if (strcmp(kn, normalised) == 0)
            return k->key;
    }
    return NULL;
}

const char *ar_vocab_key_normalised(const char *normalised)
{
    const char *k = key_named(normalised);
    if (k)
        return k;
    const struct ar_vocab_phrase *p = ar_vocab_phrase_find(normalised);
    return p ? p->key : NULL;
}

const char *ar_vocab_key(const char *name)
{
    if (!name)
        return NULL;
    char n[128];
    ar_vocab_normalise(name, n, sizeof n);
    if (!n[0])
        return NULL;
    return ar_vocab_key_normalised(n);
}

jv ar_vocab_implied(const char *name)
{
    char n[128];
    ar_vocab_normalise(name ? name : "", n, sizeof n);
    const struct ar_vocab_phrase *p = key_named(n) ? NULL : ar_vocab_phrase_find(n);
    if (!p || !p->implied)
        return jv_invalid();
    return ar_vocab_value(p->key, p->implied);
}

const char *ar_vocab_category(const char *key)
{
    const struct ar_vocab_keyinfo *k = ar_vocab_keyinfo(key);
    return k ? k->category : "other";
}

int ar_vocab_is_config_key(const char *key)
{
    return key && ar_config_key_find(key) != NULL;
}

/* the kind of value a key takes: the config table's type for ar's keys */
enum ar_vocab_kind ar_vocab_kind(const char *key)
{
    const struct ar_config_key *ck = key ? ar_config_key_find(key) : NULL;
    if (ck) {
        switch (ck->type) {
        case AR_KEY_INT: return VK_INT;
        case AR_KEY_REAL: return VK_NUM;
        case AR_KEY_BOOL: return VK_BOOL;
        case AR_KEY_PATTERN:
        case AR_KEY_CHOICE: return VK_STR;
        }
    }
    const struct ar_vocab_keyinfo *k = ar_vocab_keyinfo(key);
    return k ? k->kind : VK_ANY;
}

const char *const *ar_vocab_pair_keys(const char *key)
{
    static const char *const betas[] = { "adam_beta1", "adam_beta2", NULL };
    return key && strcmp(key, "adam_betas") == 0 ? betas : NULL;
}

/* ------------------------------------------------------------------------ */
/* values */

static int is_pow2(double v)
{
    if (v < 1 || v != floor(v) || v > 9007199254740992.0)
        return 0;
    unsigned long long u = (unsigned long long)v;
    return (u & (u - 1)) == 0;
}

/* N with suffix K, M or G: decimal, or for token counts the power of two
 * it names (512K binary; 524K, 262K, 131K truncated or rounded decimal) */
static double suffixed(double n, char suffix, int tokens)
{
    int e = suffix == 'k' ? 1 : suffix == 'm' ? 2 : 3;
    double dec = n * pow(1000, e), bin = n * pow(1024, e);
    if (!tokens)
        return dec;
    if (is_pow2(bin))
        return bin;
    double p = pow(2, round(log2(dec)));
    double scaled = p / pow(1000, e);
    /* the text's precision: the number of decimals written */
    double q = 1;
    double t = n;
    for (int i = 0; i < 6 && fabs(t - round(t)) > 1e-9; i++) {
        t *= 10;
        q /= 10;
    }
    if (fabs(floor(scaled / q + 1e-9) * q - n) < q / 2 || fabs(round(scaled / q) * q - n) < q / 2)
        return p;
    return dec;
}

/* a single number with people's decorations: ~, K/M/G, %, x */
static jv decorated_number(const char *s, size_t len, int tokens)
{
    while (len && (*s == '~' || *s == '+'))
        s++, len--;
    if (!len)
        return jv_invalid();
    char c = (char)tolower((unsigned char)s[len - 1]);
    if (c == '%' || c == 'x' || c == 'k' || c == 'm' || c == 'g') {
        jv v = ar_pyexpr_eval(s, len - 1, 0);
        if (jv_get_kind(v) != JV_KIND_NUMBER) {
            jv_free(v);
            return jv_invalid();
        }
        double n = jv_number_value(v);
        jv_free(v);
        if (c == '%')
            return jv_number(n / 100);
        if (c == 'x')
            return jv_number(n);
        return jv_number(suffixed(n, c, tokens));
    }
    return jv_invalid();
}

static jv bool_word(const char *s, size_t len)
{
    static const char *yes[] = { "true", "yes", "on", NULL };
    static const char *no[] = { "false", "no", "off", NULL };
    for (int i = 0; yes[i]; i++) {
        if (strlen(yes[i]) == len && strncasecmp(s, yes[i], len) == 0)
            return jv_true();
        if (strlen(no[i]) == len && strncasecmp(s, no[i], len) == 0)
            return jv_false();
    }
    return jv_invalid();
}

static int bare_word(const char *s, size_t len)
{
    if (!len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return 0;
    return isalpha((unsigned char)s[0]) || s[0] == '_';
}

/* the text as a value of no particular type */
static jv any_value(const char *s, size_t len, int tokens)
{
    jv v = bool_word(s, len);
    if (jv_is_valid(v))
        return v;
    v = ar_pyexpr_eval(s, len, AR_PYEXPR_CARET_POW);
    if (jv_is_valid(v))
        return v;
    v = decorated_number(s, len, tokens);
    if (jv_is_valid(v))
        return v;
    if (bare_word(s, len))
        return jv_string_sized(s, (int)len);
    return jv_invalid();
}

static int all_numbers(jv a)
{
    if (jv_get_kind(a) != JV_KIND_ARRAY)
        return 0;
    int ok = 1;
    jv_array_foreach(a, i, e) {
        (void)i;
        if (jv_get_kind(e) != JV_KIND_NUMBER)
            ok = 0;
        jv_free(e);
    }
    return ok;
}

jv ar_vocab_value(const char *key, const char *text)
{
    if (!text)
        return jv_invalid();
    const char *s = text;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (!len)
        return jv_invalid();
    enum ar_vocab_kind kind = ar_vocab_kind(key);
    const struct ar_vocab_keyinfo *ki = ar_vocab_keyinfo(key);
    int tokens = ki && (ki->flags & VF_TOKENS);
    jv v = any_value(s, len, tokens);
    if (!jv_is_valid(v))
        return v;
    jv_kind k = jv_get_kind(v);
    switch (kind) {
    case VK_ANY:
        return v;
    case VK_NONE:
        break;
    case VK_NUM:
        if (k == JV_KIND_NUMBER)
            return v;
        break;
    case VK_INT:
        if (k == JV_KIND_NUMBER && jv_number_value(v) == floor(jv_number_value(v)))
            return v;
        break;
    case VK_BOOL:
        if (k == JV_KIND_TRUE || k == JV_KIND_FALSE)
            return v;
        if (k == JV_KIND_NUMBER && (jv_number_value(v) == 0 || jv_number_value(v) == 1)) {
            int on = jv_number_value(v) == 1;
            jv_free(v);
            return jv_bool(on);
        }
        break;
    case VK_STR:
        if (k == JV_KIND_STRING) {
            /* window patterns are upper case whatever people type */
            if (key && strcmp(key, "window_pattern") == 0) {
                const char *p = jv_string_value(v);
                char up[64];
                size_t n = strlen(p);
                if (n == 0 || n >= sizeof up)
                    break;
                for (size_t i = 0; i < n; i++) {
                    up[i] = (char)toupper((unsigned char)p[i]);
                    if (up[i] != 'S' && up[i] != 'L') {
                        jv_free(v);
                        return jv_invalid();
                    }
                }
                up[n] = '\0';
                jv_free(v);
                return jv_string(up);
            }
            return v;
        }
        break;
    case VK_PAIR:
        if (all_numbers(v))
            return v;
        break;
    }
    jv_free(v);
    return jv_invalid();
}
