/* libFuzzer entry point: the importer, through its public API only
 * (lib/index/import.h: ar_import_tsv, ar_import_path), on arbitrary file
 * contents. The first byte chooses the entry point: even, ar_import_tsv;
 * odd, ar_import_path with the format sniffed (a results.tsv when the file
 * starts with "commit<TAB>", else autoresearch-commons cards). The rest is
 * the file. Each input imports into a fresh knowledge base under a temp
 * directory, so inputs do not depend on each other and a crash reproduces
 * from its one input. */
#define _GNU_SOURCE   /* nftw's FTW_DEPTH, FTW_PHYS */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jv.h>
#include <sanitizer/lsan_interface.h>

#include "base/err.h"
#include "facts/kb.h"
#include "index/import.h"

static char dir[] = "/tmp/ar-fuzz-import.XXXXXX";
static char file[sizeof dir + 16];

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

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
    snprintf(file, sizeof file, "%s/in.dat", dir);
    setenv("AR_AGENT", "fuzz", 1);
    setenv("AR_NOW", "2026-11-23T10:00:00.000Z", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(data + 1, 1, size - 1, f) != size - 1 || fclose(f) != 0)
        abort();
    char kbdir[sizeof dir + 16];
    snprintf(kbdir, sizeof kbdir, "%s/kb", dir);
    struct ar_kb kb;
    if (ar_kb_open(&kb, kbdir, AR_KB_CREATE) != 0)
        abort();
    struct ar_import_opts o = {.platform = "cpu-avx512", .session = "fuzz"};
    struct ar_import_stats st = {0};
    if (data[0] % 2 == 0) {
        ar_import_tsv(&kb, file, &o, &st);
    } else {
        /* libjq 1.6 leaks a string inside jv_parse_sized on some malformed
         * JSON (see fuzz_card.c): a commons file that libjq calls malformed
         * is imported without the leak checker (ASan and UBSan still on) */
        __lsan_disable();
        jv probe = jv_parse_sized((const char *)data + 1, (int)(size - 1));
        int malformed = !jv_is_valid(probe);
        jv_free(probe);
        __lsan_enable();
        if (malformed)
            __lsan_disable();
        ar_import_path(&kb, file, &o, &st);
        if (malformed)
            __lsan_enable();
    }
    if (st.imported < 0 || st.skipped < 0 || st.existing < 0 || st.notes < 0)
        abort();
    /* a fresh knowledge base for the next input */
    if (nftw(kbdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        abort();
    return 0;
}
