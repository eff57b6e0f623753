/* The GPT of autoresearch's train.py in C: parameter-free RMSNorm, RoPE,
 * QK-norm, sliding-window attention by pattern, value embeddings with gates
 * on alternating layers, ReLU^2 / GELU / SwiGLU MLP, residual and x0
 * lambdas, logit soft-cap, tied or untied head. All arithmetic goes
 * through kernels/kernels.h; this file only arranges buffers and calls.
 *
 * Reads top to bottom: sizes and tensor table, initialisation, creation,
 * forward, backward, the public entry points. */
#include "gpt_internal.h"
#include "kernels.h"
#include "base/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Shapes */

static int layer_has_ve(const struct gpt *m, int l)
{
    /* alternating layers, the last one included */
    return m->cfg.value_embeds && (m->L - 1 - l) % 2 == 0;
}

static int fc_rows(const struct gpt *m)
{
    return m->cfg.mlp == MLP_SWIGLU ? 2 * m->F : m->F;
}

static enum k_act act_kind(const struct gpt *m)
{
    return m->cfg.mlp == MLP_SWIGLU ? K_ACT_SWIGLU : m->cfg.mlp == MLP_GELU ? K_ACT_GELU
                                                                             : K_ACT_RELU2;
}

/* ---------------------------------------------------------------------------
 * Tensor table: the fixed order of parameters (and of checkpoints):
 *   wte, lm_head (untied only), resid_lambdas, x0_lambdas,
 *   per block l: attn.q, attn.k, attn.v, attn.o, [attn.ve_gate],
 *                mlp.fc, mlp.proj,
 *   per value-embedding layer l: value_embeds.l */

static void add_tensor(struct gpt *m, const char *name, int rows, int cols,
                       enum param_group group)
{
    struct tensor *t = &m->tensors[m->num_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->offset = m->num_params;
    t->rows = rows;
    t->cols = cols;
    t->count = (size_t)rows * cols;
    t->group = group;
    m->num_params += t->count;
}

static void build_table(struct gpt *m)
{
    char name[48];
    int qd = m->H * m->D, kd = m->Hk * m->D;
    add_tensor(m, "wte", m->V, m->C, GROUP_EMBED);
    if (!m->cfg.tie_embeddings)
        add_tensor(m, "lm_head", m->V, m->C, GROUP_UNEMBED);
    add_tensor(m, "resid_lambdas", 1, m->L, GROUP_RESID);
    add_tensor(m, "x0_lambdas", 1, m->L, GROUP_X0);
    for (int l = 0; l < m->L; l++) {
        static const char *const part[] = {"attn.q", "attn.k", "attn.v", "attn.o"};
        int rows[] = {qd, kd, kd, m->C}, cols[] = {m->C, m->C, m->C, qd};
        for (int i = 0; i < 4; i++) {
            snprintf(name, sizeof name, "blocks.%d.%s", l, part[i]);
            add_tensor(m, name, rows[i], cols[i], GROUP_MATRIX);
        }
        if (layer_has_ve(m, l)) {
            snprintf(name, sizeof name, "blocks.%d.attn.ve_gate", l);
            add_tensor(m, name, m->Hk, m->G, GROUP_MATRIX);
        }
        snprintf(name, sizeof name, "blocks.%d.mlp.fc", l);
        add_tensor(m, name, fc_rows(m), m->C, GROUP_MATRIX);
        snprintf(name, sizeof name, "blocks.%d.mlp.proj", l);
        add_tensor(m, name, m->C, m->F, GROUP_MATRIX);
    }
    for (int l = 0; l < m->L; l++)
        if (layer_has_ve(m, l)) {
            snprintf(name, sizeof name, "value_embeds.%d", l);
            add_tensor(m, name, m->V, kd, GROUP_VE);
        }
}

static float *tensor_ptr(struct gpt *m, float *base, const char *name)
{
    for (int i = 0; i < m->num_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return base + m->tensors[i].offset;
    return NULL;
}

static void point_params(struct gpt *m)
{
    char name[48];
    m->wte = tensor_ptr(m, m->params, "wte");
    m->lm_head = m->cfg.tie_embeddings ? m->wte : tensor_ptr(m, m->params, "lm_head");
    m->resid_lambda = tensor_ptr(m, m->params, "resid_lambdas");
    m->x0_lambda = tensor_ptr(m, m->params, "x0_lambdas");
    for (int l = 0; l < m->L; l++) {
        struct layer_params *p = &m->layer[l];
#define P(field, suffix) \
        snprintf(name, sizeof name, "blocks.%d.%s", l, suffix); \
        p->field = tensor_ptr(m, m->params, name)
        P(q, "attn.q");
        P(k, "attn.k");
        P(v, "attn.v");
        P(o, "attn.o");
        P(gate, "attn.ve_gate");
        P(fc, "mlp.fc");
        P(proj, "mlp.proj");
#undef P
        snprintf(name, sizeof name, "value_embeds.%d", l);
        p->ve = tensor_ptr(m, m->params, name);
    }
}

/* The same tensor's gradient. */
static float *grad_of(struct gpt *m, const float *param)
{
    return param ? m->grads + (param - m->params) : NULL;
}

/* ---------------------------------------------------------------------------
 * Initialisation (autoresearch's init_weights) */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);   /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_uniform(struct rng *r)   /* (0, 1) */
{
    return ((rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double rng_normal(struct rng *r)
{
    double u = rng_uniform(r), v = rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static int init_params(struct gpt *m, uint64_t seed)
{
    struct rng r = {seed * 0x2545F4914F6CDD1Dull + 1};
    float *host = malloc(sizeof(float) * m->num_params);
    if (!host)
        return ar_fail(AR_EFAIL, "gpt: out of memory for %zu parameters", m->num_params);
    double bound = sqrt(3.0) / sqrt((double)m->C) * m->cfg.init_scale;
    for (int i = 0; i < m->num_tensors; i++) {
        const struct tensor *t = &m->tensors[i];
        float *p = host + t->offset;
        const char *dot = strrchr(t->name, '.');
        const char *leaf = dot ? dot + 1 : t->name;
        for (size_t j = 0; j < t->count; j++) {
            double x = 0.0;
            if (t->group == GROUP_EMBED)
                x = rng_normal(&r);
            else if (t->group == GROUP_UNEMBED)
                x = 0.001 * rng_normal(&r);
            else if (t->group == GROUP_RESID)
                x = m->cfg.resid_lambda_init;
            else if (t->group == GROUP_X0)
                x = m->cfg.x0_lambda_init;
            else if (t->group == GROUP_VE || !strcmp(leaf, "q") || !strcmp(leaf, "k") ||
                     !strcmp(leaf, "v") || !strcmp(leaf, "fc"))
                x = bound * (2.0 * rng_uniform(&r) - 1.0);
            /* attn.o, mlp.proj and the gates start at zero */
            p[j] = (float)x;
        }
    }
    k_upload(m->params, host, m->num_params);
    free(host);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Creation */

static int check_config(const struct train_config *c, int V)
{
    if (V < 2 || V > 65536)
        return ar_fail(AR_EINPUT, "vocab_size: %d out of range 2..65536", V);
    if (c->depth < 1 || c->head_dim < 2 || c->seq_len < 1 || c->device_batch < 1 ||
        c->aspect_ratio < 1)
        return ar_fail(AR_EINPUT, "depth, head_dim, seq_len, device_batch and aspect_ratio "
                       "must be positive");
    return config_check(c);
}

static size_t muon_scratch_floats(const struct gpt *m)
{
    size_t scratch = 0;
    for (int i = 0; i < m->num_tensors; i++)
        if (m->tensors[i].group == GROUP_MATRIX) {
            size_t s = k_muon_scratch(m->tensors[i].rows, m->tensors[i].cols);
            scratch = s > scratch ? s : scratch;
        }
    return scratch;
}

/* Attention scratch for the widest window and the threads kernels use now. */
static size_t att_scratch_floats(const struct gpt *m)
{
    int widest = 0;
    for (int l = 0; l < m->L; l++)
        widest = m->window[l] > widest ? m->window[l] : widest;
    return k_attention_scratch(m->T, widest, kernels_threads());
}

/* Cuts consecutive buffers from base; with base NULL it only counts. */
struct carve {
    float *base;
    size_t used;
};

static float *take(struct carve *c, size_t n)
{
    float *p = c->base ? c->base + c->used : NULL;
    c->used += n;
    return p;
}

static float *take_if(struct carve *c, int cond, size_t n)
{
    return cond ? take(c, n) : NULL;
}

/* The activation table: every buffer of the activation allocation and its
 * size, in memory order. alloc_acts walks it twice, once to size the
 * allocation (c->base NULL) and once to point the buffers into it. */
static void act_table(struct gpt *m, struct carve *c)
{
    size_t N = m->N, C = m->C, NC = N * C, qd = (size_t)m->H * m->D, kd = (size_t)m->Hk * m->D;
    size_t F = m->F, fc = fc_rows(m), H = m->H, Hk = m->Hk;
    int qk = m->cfg.qk_norm;

    /* forward activations */
    for (int l = 0; l <= m->L; l++)
        m->resid[l] = take(c, NC);
    m->x0 = m->resid[0];
    m->rstd0 = take(c, N);
    for (int l = 0; l < m->L; l++) {
        struct layer_acts *a = &m->la[l];
        int ve = layer_has_ve(m, l);
        a->xmix = take(c, NC);
        a->ln1 = take(c, NC);
        a->rstd1 = take(c, N);
        a->q = take(c, N * qd);
        a->k = take(c, N * kd);
        a->v = take(c, N * kd);
        a->rstdq = take_if(c, qk, N * H);
        a->rstdk = take_if(c, qk, N * Hk);
        a->gpre = take_if(c, ve, N * Hk);
        a->ve_rows = take_if(c, ve, N * kd);
        a->att = take(c, N * qd);
        a->lse = take(c, (size_t)m->B * H * m->T);
        a->xattn = take(c, NC);
        a->ln2 = take(c, NC);
        a->rstd2 = take(c, N);
        a->u = take(c, N * fc);
        a->a = take(c, N * F);
    }
    m->lnf = take(c, NC);
    m->rstdf = take(c, N);
    m->logits = take(c, N * m->V);
    m->losses = take(c, N);
    m->rope_cos = take(c, (size_t)m->T * m->D / 2);
    m->rope_sin = take(c, (size_t)m->T * m->D / 2);

    /* activation gradients, zeroed together */
    size_t grads_at = c->used;
    m->dgrads = take(c, 0);
    for (int l = 0; l <= m->L; l++)
        m->dresid[l] = take(c, NC);
    m->dx0 = take(c, NC);
    m->demb = take(c, NC);
    m->dlnf = take(c, NC);
    for (int l = 0; l < m->L; l++) {
        struct layer_grads *g = &m->lg[l];
        int ve = layer_has_ve(m, l);
        g->da = take(c, N * F);
        g->du = take(c, N * fc);
        g->dln2 = take(c, NC);
        g->datt = take(c, N * qd);
        g->dq_att = take(c, N * qd);
        g->dk_att = take(c, N * kd);
        g->dv = take(c, N * kd);
        g->dq_rope = qk ? take(c, N * qd) : g->dq_att;
        g->dk_rope = qk ? take(c, N * kd) : g->dk_att;
        g->dq = take(c, N * qd);
        g->dk = take(c, N * kd);
        g->dgpre = take_if(c, ve, N * Hk);
        g->dve = take_if(c, ve, N * kd);
        g->dln1 = take(c, NC);
    }
    m->dgrads_floats = c->used - grads_at;

    /* kernel scratch */
    m->att_scratch_floats = att_scratch_floats(m);
    m->att_scratch = take(c, m->att_scratch_floats);
}

static int alloc_acts(struct gpt *m)
{
    m->resid = calloc(m->L + 1, sizeof *m->resid);
    m->dresid = calloc(m->L + 1, sizeof *m->dresid);
    m->la = calloc(m->L, sizeof *m->la);
    m->lg = calloc(m->L, sizeof *m->lg);
    if (!m->resid || !m->dresid || !m->la || !m->lg)
        return ar_fail(AR_EFAIL, "gpt: out of memory");
    struct carve size = {NULL, 0};
    act_table(m, &size);
    m->acts_floats = size.used;
    m->acts = k_alloc(m->acts_floats);
    if (!m->acts)
        return ar_fail(AR_EFAIL, "gpt: out of memory for %zu MB of activations",
                       m->acts_floats * 4 >> 20);
    struct carve cut = {m->acts, 0};
    act_table(m, &cut);
    if (cut.used != m->acts_floats)   /* the table must not depend on anything it sets */
        return ar_fail(AR_EFAIL, "gpt: activation table carved %zu floats of %zu", cut.used,
                       m->acts_floats);
    m->host_losses = malloc(sizeof(float) * m->N);
    if (!m->host_losses)
        return ar_fail(AR_EFAIL, "gpt: out of memory");
    return 0;
}

static int init_rope(struct gpt *m)
{
    int h2 = m->D / 2;
    size_t n = (size_t)m->T * h2;
    float *c = malloc(sizeof(float) * n), *s = malloc(sizeof(float) * n);
    if (!c || !s) {
        free(c);
        free(s);
        return ar_fail(AR_EFAIL, "gpt: out of memory");
    }
    for (int t = 0; t < m->T; t++)
        for (int i = 0; i < h2; i++) {
            double freq = pow(m->cfg.rope_base, -2.0 * i / m->D);
            c[t * h2 + i] = (float)cos(t * freq);
            s[t * h2 + i] = (float)sin(t * freq);
        }
    k_upload(m->rope_cos, c, n);
    k_upload(m->rope_sin, s, n);
    free(c);
    free(s);
    return 0;
}

struct gpt *gpt_create(const struct train_config *cfg, int vocab_size, uint64_t seed)
{
    if (check_config(cfg, vocab_size) < 0)
        return NULL;
    struct gpt *m = calloc(1, sizeof *m);
    if (!m) {
        ar_fail(AR_EFAIL, "gpt: out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    m->V = vocab_size;
    m->L = cfg->depth;
    m->D = cfg->head_dim;
    m->C = config_width(cfg);
    m->H = config_heads(cfg);
    m->Hk = config_kv_heads(cfg);
    m->F = (int)(cfg->mlp_ratio * m->C + 0.5);
    m->G = cfg->value_embeds ? cfg->ve_gate_channels : 0;
    m->B = cfg->device_batch;
    m->T = cfg->seq_len;
    m->N = m->B * m->T;
    if (cfg->threads > 0)
        kernels_set_threads(cfg->threads);
    m->window = calloc(m->L, sizeof *m->window);
    m->layer = calloc(m->L, sizeof *m->layer);
    if (!m->window || !m->layer) {
        gpt_free(m);
        ar_fail(AR_EFAIL, "gpt: out of memory");
        return NULL;
    }
    for (int l = 0; l < m->L; l++)
        m->window[l] = config_window(cfg, l);
    build_table(m);
    m->params = k_alloc(m->num_params);
    m->grads = k_alloc(m->num_params);
    m->m = k_alloc(m->num_params);
    m->v = k_alloc(m->num_params);
    m->muon_scratch = k_alloc(muon_scratch_floats(m));
    if (!m->params || !m->grads || !m->m || !m->v || !m->muon_scratch) {
        gpt_free(m);
        ar_fail(AR_EFAIL, "gpt: out of memory for %zu parameters", m->num_params);
        return NULL;
    }
    point_params(m);
    if (alloc_acts(m) < 0 || init_params(m, seed) < 0 || init_rope(m) < 0) {
        gpt_free(m);
        return NULL;
    }
    return m;
}

void gpt_free(struct gpt *m)
{
    if (!m)
        return;
    k_free(m->params);
    k_free(m->grads);
    k_free(m->m);
    k_free(m->v);
    k_free(m->muon_scratch);
    k_free(m->acts);
    free(m->host_losses);
    free(m->resid);
    free(m->dresid);
    free(m->la);
    free(m->lg);
    free(m->window);
    free(m->layer);
    free(m);
}

/* ---------------------------------------------------------------------------
 * Forward */

static void block_forward(struct gpt *m, int l, const uint16_t *inputs)
{
    const struct layer_params *p = &m->layer[l];
    struct layer_acts *a = &m->la[l];
    int N = m->N, C = m->C, qd = m->H * m->D, kd = m->Hk * m->D;

    k_residual_mix_forward(a->xmix, m->resid[l], m->x0, m->resid_lambda, m->x0_lambda, l, N, C);
    /* attention */
    k_rmsnorm_forward(a->ln1, a->rstd1, a->xmix, N, C);
    k_matmul_forward(a->q, a->ln1, p->q, N, C, qd, 0);
    k_matmul_forward(a->k, a->ln1, p->k, N, C, kd, 0);
    k_matmul_forward(a->v, a->ln1, p->v, N, C, kd, 0);
    if (p->ve) {
        /* gate input: the first G channels of the normed x */
        k_gemm(0, 1, N, m->Hk, m->G, 1.0f, a->ln1, C, p->gate, m->G, 0.0f, a->gpre, m->Hk);
        k_embedding_forward(a->ve_rows, inputs, p->ve, N, kd);
        k_ve_gate_forward(a->v, a->gpre, a->ve_rows, N, m->Hk, m->D);
    }
    k_rope_forward(a->q, m->rope_cos, m->rope_sin, m->B, m->T, m->H, m->D);
    k_rope_forward(a->k, m->rope_cos, m->rope_sin, m->B, m->T, m->Hk, m->D);
    if (m->cfg.qk_norm) {
        k_rmsnorm_forward(a->q, a->rstdq, a->q, N * m->H, m->D);
        k_rmsnorm_forward(a->k, a->rstdk, a->k, N * m->Hk, m->D);
    }
    k_attention_forward(a->att, a->lse, a->q, a->k, a->v, m->att_scratch, m->att_scratch_floats,
                        m->B, m->T, m->H, m->Hk, m->D, m->window[l]);
    k_copy(a->xattn, a->xmix, (size_t)N * C);
    k_matmul_forward(a->xattn, a->att, p->o, N, qd, C, 1);
    /* MLP */
    k_rmsnorm_forward(a->ln2, a->rstd2, a->xattn, N, C);
    k_matmul_forward(a->u, a->ln2, p->fc, N, C, fc_rows(m), 0);
    k_act_forward(a->a, a->u, N, m->F, act_kind(m));
    k_copy(m->resid[l + 1], a->xattn, (size_t)N * C);
    k_matmul_forward(m->resid[l + 1], a->a, p->proj, N, m->F, C, 1);
}

/* Runs the model to the logits and the per-position losses; with dscale
 * != 0 the logits buffer then holds dloss/dlogits * dscale. */
static double forward(struct gpt *m, const uint16_t *inputs, const uint16_t *targets,
                      float label_smoothing, float z_loss, float dscale)
{
    int N = m->N, C = m->C;
    k_embedding_forward(m->x0, inputs, m->wte, N, C);
    k_rmsnorm_forward(m->x0, m->rstd0, m->x0, N, C);
    for (int l = 0; l < m->L; l++)
        block_forward(m, l, inputs);
    k_rmsnorm_forward(m->lnf, m->rstdf, m->resid[m->L], N, C);
    k_matmul_forward(m->logits, m->lnf, m->lm_head, N, C, m->V, 0);
    k_crossentropy(m->losses, m->logits, targets, N, m->V, (float)m->cfg.logit_softcap,
                   label_smoothing, z_loss, dscale);
    k_download(m->host_losses, m->losses, N);
    double sum = 0;
    for (int n = 0; n < N; n++)
        sum += m->host_losses[n];
    return sum / N;
}

/* ---------------------------------------------------------------------------
 * Backward. Every kernel adds into its gradient outputs, all of which
 * backward() zeroes first (struct layer_grads); see gpt_internal.h for
 * dresid. */

static void block_backward(struct gpt *m, int l, const uint16_t *inputs)
{
    const struct layer_params *p = &m->layer[l];
    const struct layer_acts *a = &m->la[l];
    const struct layer_grads *g = &m->lg[l];
    int N = m->N, C = m->C, qd = m->H * m->D, kd = m->Hk * m->D, F = m->F;
    float *dres = m->dresid[l + 1];

    /* MLP: resid[l+1] = xattn + act(ln2 fc^T) proj^T */
    k_matmul_backward(g->da, grad_of(m, p->proj), dres, a->a, p->proj, N, F, C);
    k_act_backward(g->du, g->da, a->u, N, F, act_kind(m));
    k_matmul_backward(g->dln2, grad_of(m, p->fc), g->du, a->ln2, p->fc, N, C, fc_rows(m));
    k_rmsnorm_backward(dres, g->dln2, a->ln2, a->rstd2, N, C);   /* dres: d xattn */

    /* attention: xattn = xmix + att o^T */
    k_matmul_backward(g->datt, grad_of(m, p->o), dres, a->att, p->o, N, qd, C);
    k_attention_backward(g->dq_att, g->dk_att, g->dv, g->datt, a->att, a->lse, a->q, a->k, a->v,
                         m->att_scratch, m->att_scratch_floats, m->B, m->T, m->H, m->Hk, m->D,
                         m->window[l]);
    if (m->cfg.qk_norm) {
        k_rmsnorm_backward(g->dq_rope, g->dq_att, a->q, a->rstdq, N * m->H, m->D);
        k_rmsnorm_backward(g->dk_rope, g->dk_att, a->k, a->rstdk, N * m->Hk, m->D);
    }
    k_rope_backward(g->dq, g->dq_rope, m->rope_cos, m->rope_sin, m->B, m->T, m->H, m->D);
    k_rope_backward(g->dk, g->dk_rope, m->rope_cos, m->rope_sin, m->B, m->T, m->Hk, m->D);
    if (p->ve) {
        k_ve_gate_backward(g->dgpre, g->dve, g->dv, a->gpre, a->ve_rows, N, m->Hk, m->D);
        k_embedding_backward(grad_of(m, p->ve), g->dve, inputs, N, kd, m->V);
        k_gemm(0, 0, N, m->G, m->Hk, 1.0f, g->dgpre, m->Hk, p->gate, m->G, 1.0f, g->dln1, C);
        k_gemm(1, 0, m->Hk, m->G, N, 1.0f, g->dgpre, m->Hk, a->ln1, C, 1.0f,
               grad_of(m, p->gate), m->G);
    }
    k_matmul_backward(g->dln1, grad_of(m, p->q), g->dq, a->ln1, p->q, N, C, qd);
    k_matmul_backward(g->dln1, grad_of(m, p->k), g->dk, a->ln1, p->k, N, C, kd);
    k_matmul_backward(g->dln1, grad_of(m, p->v), g->dv, a->ln1, p->v, N, C, kd);
    k_rmsnorm_backward(dres, g->dln1, a->ln1, a->rstd1, N, C);   /* dres: d xmix */

    /* xmix = lambda resid[l] + x0_lambda x0 */
    k_residual_mix_backward(m->dresid[l], m->dx0, grad_of(m, m->resid_lambda),
                            grad_of(m, m->x0_lambda), dres, m->resid[l], m->x0,
                            m->resid_lambda, m->x0_lambda, l, N, C);
}

static void backward(struct gpt *m, const uint16_t *inputs)
{
    int N = m->N, C = m->C;
    k_zero(m->dgrads, m->dgrads_floats);
    k_matmul_backward(m->dlnf, grad_of(m, m->lm_head), m->logits, m->lnf, m->lm_head, N, C, m->V);
    k_rmsnorm_backward(m->dresid[m->L], m->dlnf, m->lnf, m->rstdf, N, C);
    for (int l = m->L - 1; l >= 0; l--)
        block_backward(m, l, inputs);
    /* resid[0] is x0 itself: its gradient is the sum of both paths */
    k_add(m->dx0, m->dresid[0], (size_t)N * C);
    k_rmsnorm_backward(m->demb, m->dx0, m->x0, m->rstd0, N, C);
    k_embedding_backward(grad_of(m, m->wte), m->demb, inputs, N, C, m->V);
}

/* ---------------------------------------------------------------------------
 * Entry points */

float gpt_step_loss(struct gpt *m, const uint16_t *inputs, const uint16_t *targets,
                    int backward_pass, float grad_scale)
{
    float dscale = backward_pass ? grad_scale / m->N : 0.0f;
    double loss = forward(m, inputs, targets, (float)m->cfg.label_smoothing,
                          (float)m->cfg.z_loss, dscale);
    if (backward_pass)
        backward(m, inputs);
    return (float)loss;
}

void gpt_eval_nats(struct gpt *m, const uint16_t *inputs, const uint16_t *targets,
                   double *nats)
{
    forward(m, inputs, targets, 0.0f, 0.0f, 0.0f);   /* leaves host_losses */
    for (int n = 0; n < m->N; n++)
        nats[n] = m->host_losses[n];
}

void gpt_zero_grad(struct gpt *m) { k_zero(m->grads, m->num_params); }

size_t gpt_num_params(const struct gpt *m) { return m->num_params; }

/* 6 flops per parameter per token for every matrix product (blocks and
 * head; embeddings are lookups), plus attention: per layer and head,
 * 2 D flops per visible key for q.k and again for p.v, times 3 for the
 * backward pass; keys visible to a query are averaged over positions. */
double gpt_flops_per_token(const struct gpt *m)
{
    double matrix = 0;
    for (int i = 0; i < m->num_tensors; i++)
        if (m->tensors[i].group == GROUP_MATRIX || m->tensors[i].group == GROUP_UNEMBED)
            matrix += m->tensors[i].count;
    if (m->cfg.tie_embeddings)
        matrix += (double)m->V * m->C;
    double attn = 0;
    for (int l = 0; l < m->L; l++) {
        double keys = 0;
        for (int t = 0; t < m->T; t++)
            keys += t + 1 < m->window[l] ? t + 1 : m->window[l];
        attn += 12.0 * m->H * m->D * keys / m->T;
    }
    return 6.0 * matrix + attn;
}

size_t gpt_bytes(const struct gpt *m)
{
    return sizeof(float) * (4 * m->num_params + m->acts_floats + muon_scratch_floats(m) + m->N);
}

float *gpt_params(struct gpt *m) { return m->params; }
float *gpt_grads(struct gpt *m) { return m->grads; }
int gpt_num_tensors(const struct gpt *m) { return m->num_tensors; }

const char *gpt_tensor_name(const struct gpt *m, int i, size_t *offset, size_t *count)
{
    if (i < 0 || i >= m->num_tensors)
        return NULL;
    if (offset)
        *offset = m->tensors[i].offset;
    if (count)
        *count = m->tensors[i].count;
    return m->tensors[i].name;
}
