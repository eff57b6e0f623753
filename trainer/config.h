/* The trainer's configuration: every model, loss, optimizer, schedule and
 * run setting is a key of trainer/config.yaml, overridable with
 * `ar-train --set key=value`. This struct is the contract between the
 * config parser (config.c), the model (gpt.c), the optimizer and the loop.
 *
 * Adding a key: add the field here, a row to the key table in config.c
 * (name, type, range, default, help), and use it. The table drives parsing,
 * validation, defaults, the card's config snapshot and `ar-train --keys`. */
#ifndef AR_TRAINER_CONFIG_H
#define AR_TRAINER_CONFIG_H

enum mlp_kind { MLP_RELU2, MLP_GELU, MLP_SWIGLU };

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
};

#endif
