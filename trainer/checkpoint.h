/* Model weights on disk, for `ar-train --save FILE`, `--init-from FILE` and
 * `ar-train eval --init-from FILE`.
 *
 * Format, version 1 (all integers little-endian):
 *
 *     char     magic[8]        "ARGPTCKP"
 *     uint32   version         1
 *     uint32   vocab_size
 *     uint32   config_len
 *     char     config[config_len]   the config snapshot as canonical JSON
 *                                   (the card's "config" object)
 *     uint32   n_tensors
 *     n_tensors times:
 *         uint32  name_len
 *         char    name[name_len]    gpt_tensor_name(), e.g. "blocks.0.attn.q"
 *         uint64  count             float32 values in the tensor
 *     uint64   n_params        sum of the counts
 *     float32  params[n_params]     the tensors in that order (gpt_params())
 *
 * The file is written atomically (a crash leaves the old file or none). */
#ifndef AR_TRAINER_CHECKPOINT_H
#define AR_TRAINER_CHECKPOINT_H

#include "config.h"
#include "gpt.h"

#define CHECKPOINT_MAGIC "ARGPTCKP"
#define CHECKPOINT_VERSION 1

int checkpoint_save(const char *path, struct gpt *m, const struct train_config *cfg,
                    int vocab_size);

/* Reads the config and vocabulary size stored in a checkpoint. */
int checkpoint_read_config(const char *path, struct train_config *cfg, int *vocab_size);

/* Loads the weights into m, whose tensors must match the file's in order,
 * name and size (the message names the first that differs). */
int checkpoint_load(const char *path, struct gpt *m);

#endif
