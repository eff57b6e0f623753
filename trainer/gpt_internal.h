/* The GPT's insides, shared by gpt.c (model) and optim.c (optimizer) only.
 * Everything else uses gpt.h. */
#ifndef AR_TRAINER_GPT_INTERNAL_H
#define AR_TRAINER_GPT_INTERNAL_H

#include "gpt.h"

/* Which optimizer group a tensor belongs to. */
enum param_group {
    GROUP_MATRIX,       /* Muon: every matrix inside the blocks */
    GROUP_EMBED,        /* AdamW: token embedding */
    GROUP_UNEMBED,      /* AdamW: head */
    GROUP_VE,           /* AdamW: value embeddings */
    GROUP_RESID,        /* AdamW: residual lambdas */
    GROUP_X0,           /* AdamW: x0 lambdas */
};

struct tensor {
    char name[48];
    size_t offset, count;
    int rows, cols;
    enum param_group group;
};

#define GPT_MAX_TENSORS 512

struct layer_params {
    float *q, *k, *v, *o;   /* (H*D, C) (Hk*D, C) (Hk*D, C) (C, H*D) */
    float *gate;            /* (Hk, G) value-embedding gate, NULL without */
    float *fc, *proj;       /* (F or 2F, C) (C, F) */
    float *ve;              /* (V, Hk*D) value embedding, NULL without */
};

/* Saved forward activations of one layer; N = B*T rows. Buffers a layer
 * does not use (the gate's without value embeddings, QK-norm's without
 * it) are NULL and take no memory. */
struct layer_acts {
    float *xmix;            /* (N,C) lambda x + x0_lambda x0 */
    float *ln1, *rstd1;     /* (N,C) (N) */
    float *q, *k, *v;       /* (N,H*D) (N,Hk*D) (N,Hk*D): attention inputs */
    float *rstdq, *rstdk;   /* (N*H) (N*Hk) QK-norm */
    float *gpre, *ve_rows;  /* (N,Hk) (N,Hk*D) value-embedding gate input */
    float *att, *lse;       /* (N,H*D) (B*H*T) */
    float *xattn;           /* (N,C) after the attention residual */
    float *ln2, *rstd2;     /* (N,C) (N) */
    float *u, *a;           /* (N,F or 2F) (N,F) MLP pre- and post-activation */
};

/* Gradients of one layer's activations, each its own buffer: all of them
 * are zeroed together once per backward pass and every kernel adds into
 * them, so no buffer is reused or re-zeroed within a pass. q and k run
 * projection -> RoPE -> QK-norm -> attention: dq is d(projection out),
 * dq_rope d(RoPE out), dq_att d(attention's input); without QK-norm
 * dq_rope is dq_att. */
struct layer_grads {
    float *da, *du;                 /* (N,F) (N,F or 2F) */
    float *dln2;                    /* (N,C) */
    float *datt;                    /* (N,H*D) */
    float *dq_att, *dk_att, *dv;    /* (N,H*D) (N,Hk*D) (N,Hk*D) */
    float *dq_rope, *dk_rope;       /* (N,H*D) (N,Hk*D) */
    float *dq, *dk;                 /* (N,H*D) (N,Hk*D) */
    float *dgpre, *dve;             /* (N,Hk) (N,Hk*D) value-embedding layers */
    float *dln1;                    /* (N,C) */
};

struct gpt {
    struct train_config cfg;
    int V, L, C, H, Hk, D, F, G, B, T, N;
    int *window;            /* (L) keys each query sees */

    /* parameters, gradients, optimizer state: one allocation each */
    size_t num_params;
    float *params, *grads, *m, *v;
    int num_tensors;
    struct tensor tensors[GPT_MAX_TENSORS];
    float *wte, *lm_head, *resid_lambda, *x0_lambda;   /* lm_head == wte when tied */
    struct layer_params *layer;

    /* activations, their gradients and kernel scratch: one allocation,
     * laid out by act_table() in gpt.c */
    float *acts;
    size_t acts_floats;
    float *x0, *rstd0;      /* (N,C) normed embedding (N) */
    float **resid;          /* L+1 of (N,C): resid[l] is layer l's input */
    struct layer_acts *la;
    float *lnf, *rstdf;     /* (N,C) (N) */
    float *logits;          /* (N,V), then dlogits */
    float *losses;          /* (N) */
    float *rope_cos, *rope_sin;   /* (T, D/2) */

    /* activation gradients: dgrads_floats from dgrads, zeroed once per
     * backward pass. dresid[l] (N,C) is d resid[l]: block l's backward adds
     * its branches into dresid[l + 1] in place (it then holds d xattn, then
     * d xmix) and lambda[l] d xmix into dresid[l]. */
    float *dgrads;
    size_t dgrads_floats;
    float **dresid;         /* L+1 of (N,C) */
    float *dx0;             /* (N,C) d x0 through the x0 lambdas, then in all */
    float *demb;            /* (N,C) d of the embedding rows, before their norm */
    float *dlnf;            /* (N,C) */
    struct layer_grads *lg;

    float *att_scratch;     /* k_attention_scratch floats */
    size_t att_scratch_floats;
    float *host_losses;     /* (N) host copy of losses */

    float *muon_scratch;
    long adam_steps;
};

#endif
