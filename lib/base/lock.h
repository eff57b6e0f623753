/* fcntl locks with a timeout. Uses open-file-description locks where the
 * system has them (per open file, not per process, so threads and several
 * locks in one process behave), plain POSIX record locks otherwise. */
#ifndef AR_LOCK_H
#define AR_LOCK_H

#define AR_LOCK_TIMEOUT_DEFAULT 10.0

/* Opens (creating) path and takes an exclusive (or shared) lock on it,
 * waiting at most timeout_s seconds. Returns the fd to pass to
 * ar_unlock, or -1 with AR_EFAIL "lock PATH: timed out after Ns". */
int ar_lock(const char *path, double timeout_s, int exclusive);
void ar_unlock(int fd);

/* The timeout from AR_LOCK_TIMEOUT when set, else the default. */
double ar_lock_timeout_default(void);

#endif
