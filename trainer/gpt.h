/* The GPT: parameters, forward, backward, evaluation. Follows
 * autoresearch's train.py (see ../shared/TRAINER-REFERENCE.md); every
 * choice is a key of struct train_config.
 *
 * Parameters, gradients and optimizer state each live in one allocation;
 * tensors are views into it, in a fixed order that the checkpoint format
 * (trainer/checkpoint.c) also uses. Activations, their gradients and
 * kernel scratch live in one more, sized at creation, so training and
 * evaluation allocate nothing. Backward accumulates into gradients. */
#ifndef AR_TRAINER_GPT_H
#define AR_TRAINER_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct gpt;

/* Builds a model for cfg and vocab_size, initialised from seed, with
 * activation buffers for micro-batches of B x T. Returns NULL and records
 * an error (lib/base/err.h) on failure. */
struct gpt *gpt_create(const struct train_config *cfg, int vocab_size, uint64_t seed);
void gpt_free(struct gpt *m);

/* Forward pass over inputs/targets (B, T) with B = cfg->device_batch and
 * T = cfg->seq_len; returns the mean training loss (with label smoothing and
 * z-loss as configured). With backward set, accumulates gradients scaled by
 * grad_scale (1 / accumulation steps). */
float gpt_step_loss(struct gpt *m, const uint16_t *inputs, const uint16_t *targets,
                    int backward, float grad_scale);

/* Evaluation: plain cross-entropy in nats per target position, written to
 * nats (B*T), no soft training losses. */
void gpt_eval_nats(struct gpt *m, const uint16_t *inputs, const uint16_t *targets,
                   double *nats);

void gpt_zero_grad(struct gpt *m);

/* One optimizer step: Muon for block matrices, AdamW for the rest, learning
 * rates multiplied by lr_mult (the schedule), progress in [0,1] for the
 * decays, step counting from 0 for momentum warm-up. Applies grad clip.
 * Returns the global gradient norm before clipping. */
double gpt_optimizer_step(struct gpt *m, double lr_mult, double progress, long step);

size_t gpt_num_params(const struct gpt *m);
double gpt_flops_per_token(const struct gpt *m);   /* fwd + bwd, 6N + attention */
size_t gpt_bytes(const struct gpt *m);   /* parameters, gradients, state, activations, scratch */

/* Flat parameter access for checkpoints and gradient checks, in the fixed
 * tensor order; names describe each tensor ("blocks.0.attn.q", ...). */
float *gpt_params(struct gpt *m);
float *gpt_grads(struct gpt *m);
int gpt_num_tensors(const struct gpt *m);
const char *gpt_tensor_name(const struct gpt *m, int i, size_t *offset, size_t *count);

#endif
