/* The GPT as a whole: its gradients against central finite differences of
 * an independent double-precision implementation of the same model (written
 * here from the description in gpt.h and TRAINER-REFERENCE.md), memorising
 * a short text, bit-identical reruns, the tensor table and FLOP count. */
#include "unit.h"
#include "gradcheck.h"
#include "config.h"
#include "gpt.h"
#include "kernels.h"
#include "base/err.h"

#include <string.h>

/* ---------------------------------------------------------------------------
 * Tiny configurations */

static void tiny_config(struct train_config *c, int variant)
{
    config_defaults(c);
    c->depth = 3;
    c->aspect_ratio = 5;       /* width 15 -> 16 with head_dim 8: 2 heads */
    c->head_dim = 8;
    c->seq_len = 7;
    c->device_batch = 2;
    c->total_batch_tokens = 14;
    snprintf(c->window_pattern, sizeof c->window_pattern, "SL");
    c->short_window_frac = 0.43;   /* window 3 */
    c->ve_gate_channels = 5;
    c->mlp_ratio = 2;
    c->logit_softcap = 2;
    c->threads = 1;
    if (variant == 1) {            /* grouped kv heads, tied, SwiGLU, soft losses */
        c->n_kv_head = 1;
        c->tie_embeddings = 1;
        c->mlp = MLP_SWIGLU;
        c->qk_norm = 0;
        c->label_smoothing = 0.1;
        c->z_loss = 1e-3;
    } else if (variant == 2) {     /* GELU, no value embeddings, no cap */
        c->mlp = MLP_GELU;
        c->value_embeds = 0;
        c->logit_softcap = 0;
        c->head_dim = 4;
        c->aspect_ratio = 4;       /* width 12: 3 heads */
    }
}

/* ---------------------------------------------------------------------------
 * Reference model in double */

struct ref {
    struct train_config cfg;
    struct gpt *m;
    double *p;                  /* parameters, same layout as gpt_params() */
    const uint16_t *in, *tg;
    int V, L, C, H, Hk, D, F, G, B, T, N;
};

static double *ref_tensor(struct ref *r, const char *name)
{
    for (int i = 0; i < gpt_num_tensors(r->m); i++) {
        size_t off;
        if (strcmp(gpt_tensor_name(r->m, i, &off, NULL), name) == 0)
            return r->p + off;
    }
    return NULL;
}

static void r_rmsnorm(double *x, int n, int c)
{
    for (int i = 0; i < n; i++) {
        double ss = 0;
        for (int j = 0; j < c; j++)
            ss += x[i * c + j] * x[i * c + j];
        double s = 1 / sqrt(ss / c + 1e-6);
        for (int j = 0; j < c; j++)
            x[i * c + j] *= s;
    }
}

/* out (n, rows) = x (n, cols; row stride ldx) . w (rows, cols)^T */
static void r_linear(double *out, const double *x, int ldx, const double *w, int n, int cols,
                     int rows)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < rows; o++) {
            double s = 0;
            for (int k = 0; k < cols; k++)
                s += x[i * ldx + k] * w[o * cols + k];
            out[i * rows + o] = s;
        }
}

static void r_rope(struct ref *r, double *x, int heads)
{
    int h2 = r->D / 2;
    for (int n = 0; n < r->N; n++)
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < h2; i++) {
                double f = pow(r->cfg.rope_base, -2.0 * i / r->D), a = (n % r->T) * f;
                /* the model's tables are float */
                double cs = (float)cos(a), sn = (float)sin(a);
                double *v = x + ((size_t)n * heads + h) * r->D;
                double x1 = v[i], x2 = v[i + h2];
                v[i] = x1 * cs + x2 * sn;
                v[i + h2] = -x1 * sn + x2 * cs;
            }
}

static void r_attention(struct ref *r, double *out, const double *q, const double *k,
                        const double *v, int window)
{
    int g = r->H / r->Hk, D = r->D;
    for (int b = 0; b < r->B; b++)
        for (int h = 0; h < r->H; h++)
            for (int i = 0; i < r->T; i++) {
                int kh = h / g, j0 = i - window + 1 > 0 ? i - window + 1 : 0;
                const double *qi = q + (((size_t)b * r->T + i) * r->H + h) * D;
                double s[64], mx = -INFINITY, sum = 0;
                for (int j = j0; j <= i; j++) {
                    const double *kj = k + (((size_t)b * r->T + j) * r->Hk + kh) * D;
                    double d = 0;
                    for (int e = 0; e < D; e++)
                        d += qi[e] * kj[e];
                    s[j] = d / sqrt(D);
                    mx = fmax(mx, s[j]);
                }
                for (int j = j0; j <= i; j++)
                    sum += exp(s[j] - mx);
                double *o = out + (((size_t)b * r->T + i) * r->H + h) * D;
                for (int e = 0; e < D; e++)
                    o[e] = 0;
                for (int j = j0; j <= i; j++)
                    for (int e = 0; e < D; e++)
                        o[e] += exp(s[j] - mx) / sum *
                                v[(((size_t)b * r->T + j) * r->Hk + kh) * D + e];
            }
}

static double r_act(const struct ref *r, double u, double up)
{
    if (r->cfg.mlp == MLP_RELU2)
        return u > 0 ? u * u : 0;
    if (r->cfg.mlp == MLP_GELU)
        return 0.5 * u * (1 + tanh(sqrt(2 / M_PI) * (u + 0.044715 * u * u * u)));
    return u / (1 + exp(-u)) * up;
}

static int r_window(const struct ref *r, int l)
{
    size_t n = strlen(r->cfg.window_pattern);
    if (l == r->L - 1 || r->cfg.window_pattern[l % n] == 'L')
        return r->T;
    return (int)lround(r->T * r->cfg.short_window_frac);
}

static double ref_loss(void *ctx)
{
    struct ref *r = ctx;
    int N = r->N, C = r->C, qd = r->H * r->D, kd = r->Hk * r->D, F = r->F;
    int fw = r->cfg.mlp == MLP_SWIGLU ? 2 * F : F;
    size_t NC = (size_t)N * C;
    double *x0 = malloc(sizeof(double) * NC), *x = malloc(sizeof(double) * NC);
    double *xm = malloc(sizeof(double) * NC), *h = malloc(sizeof(double) * NC);
    double *q = malloc(sizeof(double) * N * qd), *k = malloc(sizeof(double) * N * kd);
    double *v = malloc(sizeof(double) * N * kd), *att = malloc(sizeof(double) * N * qd);
    double *tmp = malloc(sizeof(double) * NC), *u = malloc(sizeof(double) * N * fw);
    double *a = malloc(sizeof(double) * N * F), *gp = malloc(sizeof(double) * N * r->Hk);
    double *logits = malloc(sizeof(double) * N * r->V);
    char name[64];
    const double *wte = ref_tensor(r, "wte");
    const double *head = r->cfg.tie_embeddings ? wte : ref_tensor(r, "lm_head");
    const double *lam = ref_tensor(r, "resid_lambdas"), *lam0 = ref_tensor(r, "x0_lambdas");
    for (int n = 0; n < N; n++)
        memcpy(x0 + (size_t)n * C, wte + (size_t)r->in[n] * C, sizeof(double) * C);
    r_rmsnorm(x0, N, C);
    memcpy(x, x0, sizeof(double) * NC);
    for (int l = 0; l < r->L; l++) {
#define T_(s) (snprintf(name, sizeof name, "blocks.%d.%s", l, s), ref_tensor(r, name))
        for (size_t i = 0; i < NC; i++)
            xm[i] = lam[l] * x[i] + lam0[l] * x0[i];
        memcpy(h, xm, sizeof(double) * NC);
        r_rmsnorm(h, N, C);
        r_linear(q, h, C, T_("attn.q"), N, C, qd);
        r_linear(k, h, C, T_("attn.k"), N, C, kd);
        r_linear(v, h, C, T_("attn.v"), N, C, kd);
        const double *gate = T_("attn.ve_gate");
        if (gate) {
            snprintf(name, sizeof name, "value_embeds.%d", l);
            const double *ve = ref_tensor(r, name);
            r_linear(gp, h, C, gate, N, r->G, r->Hk);
            for (int n = 0; n < N; n++)
                for (int j = 0; j < kd; j++)
                    v[(size_t)n * kd + j] += 2 / (1 + exp(-gp[n * r->Hk + j / r->D])) *
                                             ve[(size_t)r->in[n] * kd + j];
        }
        r_rope(r, q, r->H);
        r_rope(r, k, r->Hk);
        if (r->cfg.qk_norm) {
            r_rmsnorm(q, N * r->H, r->D);
            r_rmsnorm(k, N * r->Hk, r->D);
        }
        r_attention(r, att, q, k, v, r_window(r, l));
        r_linear(tmp, att, qd, T_("attn.o"), N, qd, C);
        for (size_t i = 0; i < NC; i++)
            xm[i] += tmp[i];                       /* xm is now xattn */
        memcpy(h, xm, sizeof(double) * NC);
        r_rmsnorm(h, N, C);
        r_linear(u, h, C, T_("mlp.fc"), N, C, fw);
        for (int n = 0; n < N; n++)
            for (int j = 0; j < F; j++)
                a[(size_t)n * F + j] = r_act(r, u[(size_t)n * fw + j],
                                             fw > F ? u[(size_t)n * fw + F + j] : 0);
        r_linear(tmp, a, F, T_("mlp.proj"), N, F, C);
        for (size_t i = 0; i < NC; i++)
            x[i] = xm[i] + tmp[i];
#undef T_
    }
    r_rmsnorm(x, N, C);
    r_linear(logits, x, C, head, N, C, r->V);
    double total = 0, cap = r->cfg.logit_softcap, ls = r->cfg.label_smoothing;
    for (int n = 0; n < N; n++) {
        double *z = logits + (size_t)n * r->V, mx = -INFINITY, sum = 0, zs = 0;
        for (int j = 0; j < r->V; j++) {
            if (cap > 0)
                z[j] = cap * tanh(z[j] / cap);
            mx = fmax(mx, z[j]);
        }
        for (int j = 0; j < r->V; j++) {
            sum += exp(z[j] - mx);
            zs += z[j];
        }
        double lse = mx + log(sum);
        total += (1 - ls) * (lse - z[r->tg[n]]) + ls * (lse - zs / r->V) +
                 r->cfg.z_loss * lse * lse;
    }
    free(x0), free(x), free(xm), free(h), free(q), free(k), free(v), free(att), free(tmp);
    free(u), free(a), free(gp), free(logits);
    return total / N;
}

static void ref_init(struct ref *r, struct gpt *m, const struct train_config *c, int V)
{
    r->cfg = *c;
    r->m = m;
    r->V = V;
    r->L = c->depth;
    r->C = config_width(c);
    r->H = config_heads(c);
    r->Hk = config_kv_heads(c);
    r->D = c->head_dim;
    r->F = (int)(c->mlp_ratio * r->C + 0.5);
    r->G = c->ve_gate_channels;
    r->B = c->device_batch;
    r->T = c->seq_len;
    r->N = r->B * r->T;
    size_t n = gpt_num_params(m);
    r->p = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++)
        r->p[i] = gpt_params(m)[i];
}

static void random_tokens(uint16_t *t, int n, int V)
{
    for (int i = 0; i < n; i++)
        t[i] = (uint16_t)((gc_uniform() + 1) * 0.5 * V) % V;
}

/* Every parameter is made non-zero (outputs and gates start at zero, which
 * would hide gradients upstream of them). */
static void randomise(struct gpt *m)
{
    float *p = gpt_params(m);
    for (int i = 0; i < gpt_num_tensors(m); i++) {
        size_t off, cnt;
        const char *name = gpt_tensor_name(m, i, &off, &cnt);
        double scale = strstr(name, "lambdas") ? 0.5 : strcmp(name, "wte") == 0 ? 1.0 : 0.4;
        for (size_t j = 0; j < cnt; j++)
            p[off + j] = (float)((strstr(name, "lambdas") ? 1.0 : 0.0) + scale * gc_uniform());
    }
}

/* _i: the variant of tiny_config */
START_TEST(model_gradients_match_finite_differences)
{
    struct train_config c;
    tiny_config(&c, _i);
    int V = 11;
    struct gpt *m = gpt_create(&c, V, 7);
    ck_assert_msg(m != NULL, "%s", ar_last_error());
    randomise(m);
    uint16_t in[14], tg[14];
    random_tokens(in, 14, V);
    random_tokens(tg, 14, V);
    struct ref r;
    ref_init(&r, m, &c, V);
    r.in = in;
    r.tg = tg;
    gpt_zero_grad(m);
    float loss = gpt_step_loss(m, in, tg, 1, 1.0f);
    double want = ref_loss(&r);
    ck_assert_msg(fabs(loss - want) < 1e-5 * (1 + fabs(want)), "loss %.8f, reference %.8f",
                  loss, want);
    for (int i = 0; i < gpt_num_tensors(m); i++) {
        size_t off, cnt;
        const char *name = gpt_tensor_name(m, i, &off, &cnt);
        /* large tensors: every third entry, to stay fast */
        size_t step = cnt > 64 ? 3 : 1, k = 0;
        double *g = malloc(sizeof(double) * cnt);
        float *got = malloc(sizeof(float) * cnt);
        for (size_t j = 0; j < cnt; j += step, k++) {
            gc_numeric(g + k, r.p + off + j, 1, ref_loss, &r);
            got[k] = gpt_grads(m)[off + j];
        }
        gc_assert_close(got, g, k, 2e-4, name);
        free(g), free(got);
    }
    free(r.p);
    gpt_free(m);
}
END_TEST

/* gradient scale and accumulation: two backward passes at scale 0.5 equal
 * one at scale 1 */
START_TEST(backward_accumulates_scaled)
{
    struct train_config c;
    tiny_config(&c, 0);
    struct gpt *m = gpt_create(&c, 11, 3);
    randomise(m);
    uint16_t in[14], tg[14];
    random_tokens(in, 14, 11);
    random_tokens(tg, 14, 11);
    size_t n = gpt_num_params(m);
    gpt_zero_grad(m);
    gpt_step_loss(m, in, tg, 1, 1.0f);
    float *once = malloc(sizeof(float) * n);
    memcpy(once, gpt_grads(m), sizeof(float) * n);
    gpt_zero_grad(m);
    gpt_step_loss(m, in, tg, 1, 0.5f);
    gpt_step_loss(m, in, tg, 1, 0.5f);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(once[i] - gpt_grads(m)[i]) <= 1e-6f * (1 + fabsf(once[i])),
                      "grad %zu: %g vs %g", i, once[i], gpt_grads(m)[i]);
    free(once);
    gpt_free(m);
}
END_TEST

/* backward adds to whatever the parameter gradients hold (here random
 * values), in every variant: grads - start equals a pass from zero */
START_TEST(backward_adds_to_parameter_gradients)
{
    struct train_config c;
    tiny_config(&c, _i);
    struct gpt *m = gpt_create(&c, 11, 4);
    randomise(m);
    uint16_t in[14], tg[14];
    random_tokens(in, 14, 11);
    random_tokens(tg, 14, 11);
    size_t n = gpt_num_params(m);
    gpt_zero_grad(m);
    gpt_step_loss(m, in, tg, 1, 1.0f);
    float *once = malloc(sizeof(float) * n), *start = malloc(sizeof(float) * n);
    memcpy(once, gpt_grads(m), sizeof(float) * n);
    for (size_t i = 0; i < n; i++)
        start[i] = gpt_grads(m)[i] = (float)(0.5 * gc_uniform());
    gpt_step_loss(m, in, tg, 1, 1.0f);
    for (int t = 0; t < gpt_num_tensors(m); t++) {
        size_t off, cnt;
        const char *name = gpt_tensor_name(m, t, &off, &cnt);
        for (size_t i = off; i < off + cnt; i++) {
            float added = gpt_grads(m)[i] - start[i];
            ck_assert_msg(fabsf(added - once[i]) <= 1e-6f * (1 + fabsf(once[i])),
                          "%s[%zu]: added %g, a pass from zero gives %g", name, i - off, added,
                          once[i]);
        }
    }
    free(once), free(start);
    gpt_free(m);
}
END_TEST

/* a pass leaves nothing behind in the activation gradients: batch B after
 * batch A gives, bit for bit, the gradients of B alone on a fresh model */
START_TEST(backward_starts_from_clean_activation_gradients)
{
    struct train_config c;
    tiny_config(&c, _i);
    uint16_t a_in[14], a_tg[14], b_in[14], b_tg[14];
    random_tokens(a_in, 14, 11);
    random_tokens(a_tg, 14, 11);
    random_tokens(b_in, 14, 11);
    random_tokens(b_tg, 14, 11);
    struct gpt *m = gpt_create(&c, 11, 6), *fresh = gpt_create(&c, 11, 6);
    uint64_t seed = gc_state;
    randomise(m);
    gc_state = seed;
    randomise(fresh);
    size_t n = gpt_num_params(m);
    ck_assert_mem_eq(gpt_params(m), gpt_params(fresh), n * sizeof(float));
    gpt_zero_grad(m);
    gpt_step_loss(m, a_in, a_tg, 1, 1.0f);
    gpt_zero_grad(m);
    float lm = gpt_step_loss(m, b_in, b_tg, 1, 1.0f);
    gpt_zero_grad(fresh);
    float lf = gpt_step_loss(fresh, b_in, b_tg, 1, 1.0f);
    ck_assert_float_eq(lm, lf);
    ck_assert_mem_eq(gpt_grads(m), gpt_grads(fresh), n * sizeof(float));
    gpt_free(m);
    gpt_free(fresh);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Training behaviour */

static const char text[] = "the quick brown fox jumps over the lazy dog. ";

static void text_batch(uint16_t *in, uint16_t *tg, int B, int T, int V, int offset)
{
    int n = (int)strlen(text);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int i = (offset + b * 5 + t) % n;
            in[b * T + t] = (uint16_t)((unsigned char)text[i] % V);
            tg[b * T + t] = (uint16_t)((unsigned char)text[(i + 1) % n] % V);
        }
}

static void small_config(struct train_config *c)
{
    config_defaults(c);
    c->depth = 2;
    c->aspect_ratio = 32;
    c->head_dim = 16;
    c->seq_len = 32;
    c->device_batch = 4;
    c->total_batch_tokens = 128;
    c->threads = 1;
}

/* Runs steps of training on the text; losses (steps) are filled. */
static void train_steps(struct gpt *m, const struct train_config *c, int steps, float *losses)
{
    int N = c->device_batch * c->seq_len;
    uint16_t *in = malloc(2 * N), *tg = malloc(2 * N);
    for (int s = 0; s < steps; s++) {
        text_batch(in, tg, c->device_batch, c->seq_len, 64, s * 3);
        gpt_zero_grad(m);
        losses[s] = gpt_step_loss(m, in, tg, 1, 1.0f);
        gpt_optimizer_step(m, 1.0, (double)s / steps, s);
    }
    free(in), free(tg);
}

START_TEST(loss_falls_memorising_text)
{
    struct train_config c;
    small_config(&c);
    struct gpt *m = gpt_create(&c, 64, 1);
    ck_assert_msg(m != NULL, "%s", ar_last_error());
    float losses[60];
    train_steps(m, &c, 60, losses);
    ck_assert_msg(losses[0] > 3.5f, "first loss %g, want about ln 64 = 4.16", losses[0]);
    ck_assert_msg(losses[59] < 0.5f, "loss after 60 steps %g (first %g)", losses[59], losses[0]);
    ck_assert(isfinite(losses[59]));
    gpt_free(m);
}
END_TEST

START_TEST(same_seed_one_thread_is_bit_identical)
{
    struct train_config c;
    small_config(&c);
    c.mlp = MLP_SWIGLU;
    float a[8], b[8], d[8];
    struct gpt *m = gpt_create(&c, 64, 42);
    train_steps(m, &c, 8, a);
    gpt_free(m);
    m = gpt_create(&c, 64, 42);
    train_steps(m, &c, 8, b);
    gpt_free(m);
    ck_assert_mem_eq(a, b, sizeof a);
    m = gpt_create(&c, 64, 43);
    train_steps(m, &c, 8, d);
    gpt_free(m);
    ck_assert_msg(memcmp(a, d, sizeof a) != 0, "another seed gave the same losses");
    kernels_set_threads(0);
}
END_TEST

START_TEST(eval_nats_is_plain_cross_entropy)
{
    struct train_config c;
    tiny_config(&c, 1);   /* label smoothing and z-loss on: eval ignores them */
    struct gpt *m = gpt_create(&c, 11, 5);
    randomise(m);
    uint16_t in[14], tg[14];
    random_tokens(in, 14, 11);
    random_tokens(tg, 14, 11);
    double nats[14], sum = 0;
    gpt_eval_nats(m, in, tg, nats);
    for (int i = 0; i < 14; i++) {
        ck_assert(nats[i] > 0);
        sum += nats[i];
    }
    struct ref r;
    ref_init(&r, m, &c, 11);
    r.in = in;
    r.tg = tg;
    r.cfg.label_smoothing = 0;
    r.cfg.z_loss = 0;
    double want = ref_loss(&r);
    ck_assert_msg(fabs(sum / 14 - want) < 1e-5 * (1 + want), "mean nats %g, want %g", sum / 14,
                  want);
    free(r.p);
    gpt_free(m);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Shapes and bookkeeping */

START_TEST(tensor_table_is_contiguous_and_named)
{
    struct train_config c;
    tiny_config(&c, 0);
    struct gpt *m = gpt_create(&c, 11, 1);
    size_t off, cnt, next = 0;
    ck_assert_str_eq(gpt_tensor_name(m, 0, &off, &cnt), "wte");
    ck_assert_uint_eq(cnt, 11 * 16);
    ck_assert_str_eq(gpt_tensor_name(m, 1, NULL, NULL), "lm_head");
    for (int i = 0; i < gpt_num_tensors(m); i++) {
        gpt_tensor_name(m, i, &off, &cnt);
        ck_assert_uint_eq(off, next);
        next += cnt;
    }
    ck_assert_uint_eq(next, gpt_num_params(m));
    ck_assert_ptr_null(gpt_tensor_name(m, gpt_num_tensors(m), NULL, NULL));
    /* value embeddings on alternating layers, the last included: 0 and 2 */
    int ve = 0;
    for (int i = 0; i < gpt_num_tensors(m); i++) {
        const char *n = gpt_tensor_name(m, i, NULL, NULL);
        if (strncmp(n, "value_embeds.", 13) == 0) {
            ck_assert(strcmp(n, "value_embeds.0") == 0 || strcmp(n, "value_embeds.2") == 0);
            ve++;
        }
    }
    ck_assert_int_eq(ve, 2);
    gpt_free(m);
}
END_TEST

START_TEST(init_follows_reference)
{
    struct train_config c;
    small_config(&c);
    struct gpt *m = gpt_create(&c, 64, 9);
    float *p = gpt_params(m);
    for (int i = 0; i < gpt_num_tensors(m); i++) {
        size_t off, cnt;
        const char *n = gpt_tensor_name(m, i, &off, &cnt);
        double ss = 0, mx = 0;
        for (size_t j = 0; j < cnt; j++) {
            ss += (double)p[off + j] * p[off + j];
            mx = fmax(mx, fabs(p[off + j]));
        }
        double rms = sqrt(ss / cnt), bound = sqrt(3.0 / 64);
        if (strstr(n, "attn.o") || strstr(n, "mlp.proj") || strstr(n, "ve_gate"))
            ck_assert_msg(mx == 0, "%s starts non-zero", n);
        else if (strcmp(n, "wte") == 0)
            ck_assert_msg(rms > 0.9 && rms < 1.1, "wte rms %g", rms);
        else if (strcmp(n, "lm_head") == 0)
            ck_assert_msg(rms > 0.0009 && rms < 0.0011, "lm_head rms %g", rms);
        else if (strcmp(n, "resid_lambdas") == 0)
            ck_assert_msg(mx == 1.0, "%s", n);
        else if (strcmp(n, "x0_lambdas") == 0)
            ck_assert_msg(fabs(mx - 0.1) < 1e-7, "%s", n);
        else
            ck_assert_msg(mx <= bound && rms > 0.5 * bound, "%s: max %g rms %g", n, mx, rms);
    }
    gpt_free(m);
}
END_TEST

START_TEST(flops_per_token_by_hand)
{
    struct train_config c;
    small_config(&c);   /* width 64, 4 heads of 16, T 32, windows 16 and 32, V 64 */
    c.value_embeds = 0;
    snprintf(c.window_pattern, sizeof c.window_pattern, "SL");
    struct gpt *m = gpt_create(&c, 64, 1);
    double matrix = 2 * (4.0 * 64 * 64 + 2 * 256.0 * 64) + 64.0 * 64;
    double keys_s = 0, keys_l = 0;
    for (int t = 0; t < 32; t++) {
        keys_s += t + 1 < 16 ? t + 1 : 16;
        keys_l += t + 1;
    }
    double want = 6 * matrix + 12.0 * 64 * (keys_s + keys_l) / 32;
    ck_assert_double_eq_tol(gpt_flops_per_token(m), want, 1e-6 * want);
    ck_assert(gpt_bytes(m) > 4 * gpt_num_params(m) * sizeof(float));
    gpt_free(m);
}
END_TEST

START_TEST(create_rejects_bad_shapes)
{
    struct train_config c;
    small_config(&c);
    c.n_kv_head = 3;   /* 4 heads */
    ck_assert_ptr_null(gpt_create(&c, 64, 1));
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_msg(strstr(ar_last_error(), "n_kv_head") != NULL, "%s", ar_last_error());
    small_config(&c);
    ck_assert_ptr_null(gpt_create(&c, 70000, 1));
    ck_assert_msg(strstr(ar_last_error(), "vocab") != NULL, "%s", ar_last_error());
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("gpt");
    TCase *tc = tcase_create("gradients");
    tcase_add_loop_test(tc, model_gradients_match_finite_differences, 0, 3);
    tcase_add_test(tc, backward_accumulates_scaled);
    tcase_add_loop_test(tc, backward_adds_to_parameter_gradients, 0, 3);
    tcase_add_loop_test(tc, backward_starts_from_clean_activation_gradients, 0, 3);
    suite_add_tcase(s, tc);
    tc = tcase_create("training");
    tcase_add_test(tc, loss_falls_memorising_text);
    tcase_add_test(tc, same_seed_one_thread_is_bit_identical);
    tcase_add_test(tc, eval_nats_is_plain_cross_entropy);
    suite_add_tcase(s, tc);
    tc = tcase_create("shapes");
    tcase_add_test(tc, tensor_table_is_contiguous_and_named);
    tcase_add_test(tc, init_follows_reference);
    tcase_add_test(tc, flops_per_token_by_hand);
    tcase_add_test(tc, create_rejects_bad_shapes);
    suite_add_tcase(s, tc);
    return s;
}
