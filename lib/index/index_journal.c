#include "index/index_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/buf.h"
#include "base/err.h"

#define JOURNAL_FILE "index.journal"
#define HEADER_FMT "ar.index.journal/1 %s\n"
#define HEADER_LEN (19 + AR_EPOCH_LEN + 1)
#define ENTRY_LEN (12 + 1 + AR_ID_LEN + 1)

void ar_ijournal_new_epoch(char out[AR_EPOCH_LEN + 1])
{
    unsigned long long r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        /* no entropy yet: time and pid still differ from the last epoch */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = ((unsigned long long)ts.tv_sec * 1000000007ULL) ^ (unsigned long long)ts.tv_nsec ^
            ((unsigned long long)getpid() << 40);
    }
    snprintf(out, AR_EPOCH_LEN + 1, "%016llx", r);
}

int ar_ijournal_reset(const struct ar_kb *kb, const char *epoch)
{
    char path[PATH_MAX], head[HEADER_LEN + 1];
    snprintf(head, sizeof head, HEADER_FMT, epoch);
    return ar_write_atomic(ar_kb_path(kb, JOURNAL_FILE, path), head, HEADER_LEN);
}

int ar_ijournal_put(const struct ar_kb *kb, const char *epoch, long gen, const char *id)
{
    char path[PATH_MAX], head[HEADER_LEN + 1], entry[ENTRY_LEN + 1];
    if (gen < 1 || gen > 999999999999L || strlen(id) != AR_ID_LEN)
        return ar_fail(AR_EFAIL, "index journal: bad entry %ld %s", gen, id);
    int fd = open(ar_kb_path(kb, JOURNAL_FILE, path), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return ar_fail(AR_EFAIL, "%s: %s", path, strerror(errno));
    snprintf(head, sizeof head, HEADER_FMT, epoch);
    char have[HEADER_LEN];
    int rc = 0;
    if (pread(fd, have, HEADER_LEN, 0) != HEADER_LEN || memcmp(have, head, HEADER_LEN) != 0) {
        rc = ar_fail(AR_EFAIL, "%s: not the journal of epoch %s", path, epoch);
    } else {
        /* at the entry's own place, over whatever a failed write left */
        snprintf(entry, sizeof entry, "%012ld %s\n", gen, id);
        off_t at = HEADER_LEN + (off_t)(gen - 1) * ENTRY_LEN;
        if (pwrite(fd, entry, ENTRY_LEN, at) != ENTRY_LEN)
            rc = ar_fail(AR_EFAIL, "%s: cannot write: %s", path, strerror(errno));
    }
    close(fd);
    return rc;
}

int ar_ijournal_read(const struct ar_kb *kb, const char *epoch, long from, long to, ar_card_id **ids, size_t *n)
{
    char path[PATH_MAX], head[HEADER_LEN + 1];
    *ids = NULL;
    *n = 0;
    if (from < 0 || to < from || !epoch || strlen(epoch) != AR_EPOCH_LEN)
        return -1;
    int fd = open(ar_kb_path(kb, JOURNAL_FILE, path), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t count = (size_t)(to - from), bytes = count * ENTRY_LEN;
    char have[HEADER_LEN], *text = ar_xmalloc(bytes + 1);
    snprintf(head, sizeof head, HEADER_FMT, epoch);
    int ok = pread(fd, have, HEADER_LEN, 0) == HEADER_LEN && memcmp(have, head, HEADER_LEN) == 0 &&
             (bytes == 0 || pread(fd, text, bytes, HEADER_LEN + (off_t)from * ENTRY_LEN) == (ssize_t)bytes);
    close(fd);
    ar_card_id *out = ar_xmalloc((count ? count : 1) * sizeof *out);
    for (size_t i = 0; ok && i < count; i++) {
        const char *e = text + i * ENTRY_LEN;
        char num[13];
        snprintf(num, sizeof num, "%012ld", from + 1 + (long)i);
        memcpy(out[i], e + 13, AR_ID_LEN);
        out[i][AR_ID_LEN] = '\0';
        ok = memcmp(e, num, 12) == 0 && e[12] == ' ' && e[ENTRY_LEN - 1] == '\n' && ar_id_valid(out[i]);
    }
    free(text);
    if (!ok) {
        free(out);
        return -1;
    }
    *ids = out;
    *n = count;
    return 0;
}
