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

/* Saved forward activations of one layer; N = B*T rows. */
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

    /* activations */
    float *acts;
    size_t acts_floats;
    float *x0, *rstd0;      /* (N,C) normed embedding (N) */
    float **resid;          /* L+1 of (N,C): resid[l] is layer l's input */
    struct layer_acts *la;
    float *lnf, *rstdf;     /* (N,C) (N) */
    float *logits;          /* (N,V), then dlogits */
    float *losses;          /* (N) */
    float *rope_cos, *rope_sin;   /* (T, D/2) */

    /* backward scratch */
    float *dres, *dres2, *dx0, *dln, *dq, *dk, *dv, *dtmp, *datt, *dgpre, *dve, *da, *du;

    float *muon_scratch;
    long adam_steps;
};

#endif
