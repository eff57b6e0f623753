/* The optimizer of autoresearch's train.py: Muon for every matrix inside
 * the blocks, AdamW for the embedding, head, value embeddings and the
 * residual scalars, each group with its own learning rate and decay.
 *
 * Learning rates of the embedding-like groups scale with
 * (width / 768)^-0.5 as there, so the GPU defaults carry over to other
 * widths. Muon's rate grows with sqrt(max(1, rows / cols)) for tall
 * matrices; its momentum warms from muon_momentum_start to _end over
 * muon_momentum_warmup_steps; it orthogonalises with the Polar Express
 * polynomials (muon_ns) and rescales with NorMuon (muon_normuon,
 * muon_beta2) as train.py does, or with the fixed quintic and no rescaling;
 * its cautious weight decay fades to zero with progress. Every rate is multiplied by the schedule's lr_mult. */
#include "gpt_internal.h"
#include "kernels.h"

#include <math.h>

/* beta1 of the x0 lambdas, as in train.py (its other groups use the
 * configured betas) */
#define X0_BETA1 0.96

static double muon_momentum(const struct train_config *c, long step)
{
    double f = c->muon_momentum_warmup_steps > 0
                   ? (double)step / c->muon_momentum_warmup_steps : 1.0;
    if (f > 1.0)
        f = 1.0;
    return (1.0 - f) * c->muon_momentum_start + f * c->muon_momentum_end;
}

double gpt_optimizer_step(struct gpt *m, double lr_mult, double progress, long step)
{
    const struct train_config *c = &m->cfg;
    double norm = sqrt(k_sum_squares(m->grads, m->num_params));
    if (c->grad_clip > 0 && norm > c->grad_clip)
        k_scale(m->grads, (float)(c->grad_clip / (norm + 1e-6)), m->num_params);

    long t = ++m->adam_steps;
    double width_scale = pow(m->C / 768.0, -0.5);
    float mu = (float)muon_momentum(c, step);
    float muon_wd = (float)(c->muon_weight_decay * (1.0 - progress));
    float b1 = (float)c->adam_beta1, b2 = (float)c->adam_beta2, eps = (float)c->adam_eps;
    struct k_muon_opts muon = { c->muon_ns_steps, c->muon_ns == MUON_NS_POLAR_EXPRESS,
                                c->muon_normuon, (float)c->muon_beta2 };

    for (int i = 0; i < m->num_tensors; i++) {
        const struct tensor *tn = &m->tensors[i];
        float *p = m->params + tn->offset, *g = m->grads + tn->offset;
        float *m1 = m->m + tn->offset, *m2 = m->v + tn->offset;
        switch (tn->group) {
        case GROUP_MATRIX: {
            double aspect = (double)tn->rows / tn->cols;
            float lr = (float)(c->matrix_lr * lr_mult * sqrt(aspect > 1.0 ? aspect : 1.0));
            /* NorMuon's second moments: the first floats of the tensor's
             * AdamW v, which Muon does not otherwise use */
            k_muon(p, g, m1, m2, m->muon_scratch, tn->rows, tn->cols, lr, mu, muon_wd, &muon);
            break;
        }
        case GROUP_EMBED:
            k_adamw(p, g, m1, m2, tn->count, (float)(c->embed_lr * width_scale * lr_mult), b1,
                    b2, eps, (float)c->embed_wd, t);
            break;
        case GROUP_UNEMBED:
            k_adamw(p, g, m1, m2, tn->count, (float)(c->unembed_lr * width_scale * lr_mult),
                    b1, b2, eps, (float)c->unembed_wd, t);
            break;
        case GROUP_VE:
            k_adamw(p, g, m1, m2, tn->count, (float)(c->ve_lr * width_scale * lr_mult), b1, b2,
                    eps, (float)c->ve_wd, t);
            break;
        case GROUP_RESID:
            k_adamw(p, g, m1, m2, tn->count, (float)(c->resid_lambda_lr * lr_mult), b1, b2, eps,
                    0.0f, t);
            break;
        case GROUP_X0:
            k_adamw(p, g, m1, m2, tn->count, (float)(c->x0_lambda_lr * lr_mult),
                    (float)X0_BETA1, b2, eps, 0.0f, t);
            break;
        }
    }
    return norm;
}
