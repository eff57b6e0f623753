#define _GNU_SOURCE   /* F_OFD_SETLK: open-file-description locks */
#include "base/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

#ifdef F_OFD_SETLK
#define LOCK_CMD F_OFD_SETLK
#else
#define LOCK_CMD F_SETLK
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ar_lock(const char *path, double timeout_s, int exclusive)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return ar_fail(AR_EFAIL, "lock %s: %s", path, strerror(errno));
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET;
    double deadline = now_s() + timeout_s;
    long sleep_us = 50;
    for (;;) {
        if (fcntl(fd, LOCK_CMD, &fl) == 0)
            return fd;
        if (errno != EACCES && errno != EAGAIN && errno != EINTR) {
            int e = errno;
            close(fd);
            return ar_fail(AR_EFAIL, "lock %s: %s", path, strerror(e));
        }
        if (now_s() >= deadline) {
            close(fd);
            return ar_fail(AR_EFAIL, "lock %s: timed out after %gs", path, timeout_s);
        }
        /* back off, with jitter so waiters do not wake in lockstep */
        usleep((useconds_t)(sleep_us / 2 + rand() % (sleep_us / 2 + 1)));
        if (sleep_us < 2000)
            sleep_us *= 2;
    }
}

void ar_unlock(int fd)
{
    if (fd >= 0)
        close(fd);   /* closing the description releases its lock */
}

double ar_lock_timeout_default(void)
{
    const char *s = getenv("AR_LOCK_TIMEOUT");
    char *end;
    double t = s ? strtod(s, &end) : 0;
    if (s && end != s && *end == '\0' && t >= 0)
        return t;
    return AR_LOCK_TIMEOUT_DEFAULT;
}
