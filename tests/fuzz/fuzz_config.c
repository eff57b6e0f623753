/* libFuzzer entry point: the trainer's config loader (trainer/config.c over
 * lib/facts/config_keys.c) on arbitrary config.yaml contents. A file that
 * loads must give a config that the key table accepts key by key: its JSON
 * snapshot loads back (config_from_json) to the same snapshot. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "config.h"

static char dir[] = "/tmp/ar-fuzz-config.XXXXXX";
static char file[sizeof dir + 16];

static void remove_dir(void)
{
    unlink(file);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!mkdtemp(dir))
        abort();
    atexit(remove_dir);
    snprintf(file, sizeof file, "%s/config.yaml", dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    struct train_config c, before;
    config_defaults(&c);
    before = c;
    if (config_load_yaml(&c, file) != 0) {
        if (memcmp(&c, &before, sizeof c) != 0) {
            fprintf(stderr, "a config that did not load changed the config\n");
            abort();
        }
        return 0;
    }
    config_check(&c);
    jv snap = config_to_json(&c);
    struct train_config d;
    config_defaults(&d);
    if (config_from_json(&d, jv_copy(snap)) != 0) {
        fprintf(stderr, "a loaded config's snapshot does not load: %s\n", ar_last_error());
        abort();
    }
    jv again = config_to_json(&d);
    if (!jv_equal(jv_copy(snap), jv_copy(again))) {
        fprintf(stderr, "a loaded config's snapshot loads to another config\n");
        abort();
    }
    jv_free(snap);
    jv_free(again);
    return 0;
}
