#include "checkpoint.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "kernels.h"

#define MAX_CONFIG_LEN (1u << 20)
#define MAX_NAME_LEN 256u

/* ------------------------------------------------------------------------ */
/* writing */

static void put_u32(struct ar_buf *b, uint32_t v) { ar_buf_add(b, &v, sizeof v); }
static void put_u64(struct ar_buf *b, uint64_t v) { ar_buf_add(b, &v, sizeof v); }

int checkpoint_save(const char *path, struct gpt *m, const struct train_config *cfg,
                    int vocab_size)
{
    struct ar_buf b = { 0 };
    ar_buf_add(&b, CHECKPOINT_MAGIC, 8);
    put_u32(&b, CHECKPOINT_VERSION);
    put_u32(&b, (uint32_t)vocab_size);
    jv conf = config_to_json(cfg);
    char *text = ar_json_dump(conf, AR_JSON_COMPACT);
    jv_free(conf);
    put_u32(&b, (uint32_t)strlen(text));
    ar_buf_puts(&b, text);
    free(text);
    int nt = gpt_num_tensors(m);
    put_u32(&b, (uint32_t)nt);
    uint64_t total = 0;
    for (int i = 0; i < nt; i++) {
        size_t off, count;
        const char *name = gpt_tensor_name(m, i, &off, &count);
        put_u32(&b, (uint32_t)strlen(name));
        ar_buf_puts(&b, name);
        put_u64(&b, count);
        total += count;
    }
    if (total != gpt_num_params(m)) {
        ar_buf_free(&b);
        return ar_fail(AR_EFAIL, "%s: tensors hold %llu values, the model %zu", path,
                       (unsigned long long)total, gpt_num_params(m));
    }
    put_u64(&b, total);
    float *host = malloc(total * sizeof *host + 1);
    if (!host) {
        ar_buf_free(&b);
        return ar_fail(AR_EFAIL, "%s: out of memory", path);
    }
    k_download(host, gpt_params(m), total);   /* parameters may live on a device */
    ar_buf_add(&b, host, total * sizeof *host);
    free(host);
    int rc = ar_write_atomic(path, b.data, b.len);
    ar_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* reading */

struct reader {
    FILE *f;
    const char *path;
};

static int get(struct reader *r, void *out, size_t n, const char *what)
{
    if (fread(out, 1, n, r->f) == n)
        return 0;
    return ar_fail(AR_EINPUT, "%s: truncated checkpoint (reading %s)", r->path, what);
}

/* Opens path and reads the header up to the config; leaves r->f after it. */
static int open_header(struct reader *r, const char *path, struct train_config *cfg,
                       int *vocab_size)
{
    r->path = path;
    r->f = fopen(path, "rb");
    if (!r->f)
        return ar_fail(errno == ENOENT ? AR_EINPUT : AR_EFAIL, "%s: %s", path, strerror(errno));
    char magic[8];
    uint32_t version, vocab, len;
    if (get(r, magic, 8, "magic") < 0)
        goto fail;
    if (memcmp(magic, CHECKPOINT_MAGIC, 8) != 0) {
        ar_fail(AR_EINPUT, "%s: not an ar-train checkpoint (bad magic)", path);
        goto fail;
    }
    if (get(r, &version, 4, "version") < 0)
        goto fail;
    if (version != CHECKPOINT_VERSION) {
        ar_fail(AR_EINPUT, "%s: checkpoint version %u, this ar-train reads %d", path, version,
                CHECKPOINT_VERSION);
        goto fail;
    }
    if (get(r, &vocab, 4, "vocab_size") < 0 || get(r, &len, 4, "config length") < 0)
        goto fail;
    if (len > MAX_CONFIG_LEN || vocab == 0 || vocab > 65536) {
        ar_fail(AR_EINPUT, "%s: corrupt checkpoint header", path);
        goto fail;
    }
    char *text = malloc(len + 1);
    if (!text || get(r, text, len, "config") < 0) {
        free(text);
        goto fail;
    }
    text[len] = '\0';
    jv obj;
    int rc = ar_json_parse(text, len, path, &obj);
    free(text);
    if (rc < 0)
        goto fail;
    struct train_config c;
    config_defaults(&c);   /* keys added after the file was written keep defaults */
    if (config_from_json(&c, obj) < 0) {
        ar_fail_prefix("%s", path);
        goto fail;
    }
    if (cfg)
        *cfg = c;
    if (vocab_size)
        *vocab_size = (int)vocab;
    return 0;
fail:
    fclose(r->f);
    r->f = NULL;
    return -1;
}

int checkpoint_read_config(const char *path, struct train_config *cfg, int *vocab_size)
{
    struct reader r;
    if (open_header(&r, path, cfg, vocab_size) < 0)
        return -1;
    fclose(r.f);
    return 0;
}

int checkpoint_load(const char *path, struct gpt *m)
{
    struct reader r;
    if (open_header(&r, path, NULL, NULL) < 0)
        return -1;
    int rc = -1;
    uint32_t nt;
    if (get(&r, &nt, 4, "tensor count") < 0)
        goto done;
    if ((int)nt != gpt_num_tensors(m)) {
        ar_fail(AR_EINPUT, "%s: %u tensors, the model has %d (a different config?)", path, nt,
                gpt_num_tensors(m));
        goto done;
    }
    for (uint32_t i = 0; i < nt; i++) {
        uint32_t len;
        uint64_t count;
        char name[MAX_NAME_LEN + 1];
        if (get(&r, &len, 4, "tensor name") < 0)
            goto done;
        if (len > MAX_NAME_LEN) {
            ar_fail(AR_EINPUT, "%s: corrupt tensor table", path);
            goto done;
        }
        if (get(&r, name, len, "tensor name") < 0 || get(&r, &count, 8, "tensor size") < 0)
            goto done;
        name[len] = '\0';
        size_t off, want;
        const char *mine = gpt_tensor_name(m, (int)i, &off, &want);
        if (strcmp(name, mine) != 0 || count != want) {
            ar_fail(AR_EINPUT, "%s: tensor %u is %s with %llu values, the model wants %s with %zu",
                    path, i, name, (unsigned long long)count, mine, want);
            goto done;
        }
    }
    uint64_t total;
    if (get(&r, &total, 8, "parameter count") < 0)
        goto done;
    if (total != gpt_num_params(m)) {
        ar_fail(AR_EINPUT, "%s: %llu parameters, the model has %zu", path,
                (unsigned long long)total, gpt_num_params(m));
        goto done;
    }
    float *p = malloc(total * sizeof *p);
    if (!p) {
        ar_fail(AR_EFAIL, "%s: out of memory", path);
        goto done;
    }
    if (get(&r, p, total * sizeof *p, "parameters") == 0) {
        if (fgetc(r.f) != EOF) {
            ar_fail(AR_EINPUT, "%s: trailing bytes after the parameters", path);
        } else {
            k_upload(gpt_params(m), p, total);
            rc = 0;
        }
    }
    free(p);
done:
    fclose(r.f);
    return rc;
}
