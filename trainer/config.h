/* The trainer's configuration: every model, loss, optimizer, schedule and
 * run setting is a key of trainer/config.yaml, overridable with
 * `ar-train --set key=value`. This struct is the contract between the
 * config parser (config.c), the model (gpt.c), the optimizer and the loop.
 *
 * Adding a key: add the field here, a row to the key table in
 * lib/facts/config_keys.c (name, type, range, default, help), its binding
 * in config.c, and use it. The table drives parsing, validation, defaults,
 * the card's config snapshot and `ar-train --keys`; the tools check values
 * against the same table. */
#ifndef AR_TRAINER_CONFIG_H
#define AR_TRAINER_CONFIG_H

/* choice keys: the order of their names in lib/facts/config_keys.c */
enum mlp_kind { MLP_RELU2, MLP_GELU, MLP_SWIGLU };
enum muon_ns_kind { MUON_NS_POLAR_EXPRESS, MUON_NS_QUINTIC };
enum device_kind { DEVICE_AUTO, DEVICE_CPU, DEVICE_CUDA };
enum precision_kind { PRECISION_BF16, PRECISION_FP32 };

struct train_config {
    /* model */
    int depth;                 /* transformer blocks */
    int aspect_ratio;          /* width = round_up(depth * aspect_ratio, head_dim) */
    int head_dim;
    int n_kv_head;             /* 0: same as heads (no GQA) */
    int seq_len;               /* context length T */
    char window_pattern[33];   /* e.g. "SSSL", tiled over layers; last layer is L */
    double short_window_frac;  /* S window = seq_len * short_window_frac */
    double rope_base;
    int qk_norm;               /* bool: RMSNorm q and k after RoPE */
    int value_embeds;          /* bool: value embeddings on alternating layers */
    int ve_gate_channels;      /* input channels of the value-embedding gate */
    enum mlp_kind mlp;
    double mlp_ratio;          /* hidden = mlp_ratio * width */
    double resid_lambda_init;
    double x0_lambda_init;
    double logit_softcap;      /* 0: off */
    int tie_embeddings;        /* bool */
    double init_scale;         /* multiplies the matrix init bounds */

    /* loss */
    double label_smoothing;
    double z_loss;

    /* optimizer: Muon for block matrices */
    double matrix_lr;
    double muon_momentum_start, muon_momentum_end;
    int muon_momentum_warmup_steps;
    int muon_ns_steps;
    enum muon_ns_kind muon_ns;  /* the orthogonalisation's polynomials */
    int muon_normuon;          /* bool: NorMuon's per-row second-moment scaling */
    double muon_beta2;         /* NorMuon's second-moment EMA rate */
    double muon_weight_decay;
    /* AdamW for embeddings, head, value embeddings and scalars */
    double embed_lr, unembed_lr, ve_lr, resid_lambda_lr, x0_lambda_lr;
    double adam_beta1, adam_beta2, adam_eps;
    double embed_wd, unembed_wd, ve_wd;
    double grad_clip;          /* 0: off */

    /* schedule, as fractions of the time budget */
    double warmup_frac, warmdown_frac, final_lr_frac;

    /* batch */
    int device_batch;          /* sequences per micro-batch (B) */
    int total_batch_tokens;    /* tokens per optimizer step; multiple of B*T */

    /* run */
    int eval_tokens;           /* validation tokens for val_bpb */
    int warmup_steps_uncounted;/* first steps trained but not timed */
    int threads;               /* 0: all cores */
    enum device_kind device;   /* auto: a CUDA GPU when present and built in */
    enum precision_kind precision;   /* GPU matrix products: bf16 or fp32 (TF32) */
};

/* ---- the key table's interface (config.c) ---- */

#include <stdio.h>
#include <jv.h>

/* Fills every key with its default (the values trainer/config.yaml ships). */
void config_defaults(struct train_config *c);

/* Reads a flat YAML mapping `key: value` over c. Unknown keys, duplicate
 * keys, wrong types and out-of-range values fail with AR_EINPUT and a
 * message "FILE:LINE: KEY: why". */
int config_load_yaml(struct train_config *c, const char *path);

/* Applies one `key=value` override (the argument of --set). */
int config_set(struct train_config *c, const char *assignment);

/* Applies one key from its text form; origin ("--set", "FILE:LINE") goes in
 * front of any error message. */
int config_set_key(struct train_config *c, const char *key, const char *value,
                   const char *origin);

/* Checks the relations between keys (batch divisibility, head counts...);
 * messages name the key. Call after all sources are applied. */
int config_check(const struct train_config *c);

/* Derived sizes. */
int config_width(const struct train_config *c);     /* round_up(depth*aspect, head_dim) */
int config_heads(const struct train_config *c);     /* width / head_dim */
int config_kv_heads(const struct train_config *c);  /* n_kv_head or heads */
int config_grad_accum(const struct train_config *c);/* total_batch / (B*T) */
/* Attention window of layer i in tokens (pattern tiled, last layer long). */
int config_window(const struct train_config *c, int layer);

/* The full snapshot: an object with one member per key (numbers, booleans,
 * strings), for the card and checkpoints. */
jv config_to_json(const struct train_config *c);
/* Reads a snapshot back over c (every key in it must be valid). A key added
 * after old snapshots were written reads, when absent, as what the trainer
 * did before it: muon_ns quintic, muon_normuon false. */
int config_from_json(struct train_config *c, jv obj);
/* SHA-256 hex of the snapshot's canonical JSON (sorted keys, no spaces). */
void config_hash(const struct train_config *c, char hex[65]);
/* [{key, from, to}] for keys whose values differ between two snapshots;
 * keys absent on one side appear with null. Consumes neither argument. */
jv config_changes(jv from, jv to);

/* Writes the key table (name, type, default, range, help) for --keys. */
void config_print_keys(FILE *f);

#endif
