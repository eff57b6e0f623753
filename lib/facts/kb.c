#include "facts/kb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/err.h"

static void join(char out[PATH_MAX], const char *a, const char *b)
{
    if (snprintf(out, PATH_MAX, "%s/%s", a, b) >= PATH_MAX)
        ar_die(AR_EINPUT, "%s/%s: path too long", a, b);
}

/* mkdir -p: the root and every missing parent (like `git init a/b/c`). */
static int mkdir_parents(const char *root)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", root);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (!ar_is_dir(path) && mkdir(path, 0755) != 0 && errno != EEXIST)
            return ar_fail(AR_EFAIL, "knowledge base %s: cannot create %s: %s", root, path, strerror(errno));
        *p = '/';
    }
    if (!ar_is_dir(path) && mkdir(path, 0755) != 0 && errno != EEXIST)
        return ar_fail(AR_EFAIL, "knowledge base %s: cannot create: %s", root, strerror(errno));
    return 0;
}

int ar_kb_open(struct ar_kb *kb, const char *dir, int flags)
{
    if (!dir || !*dir)
        dir = getenv("AR_KB");
    if (!dir || !*dir)
        dir = "knowledge";
    if (strlen(dir) >= PATH_MAX - 64)
        return ar_fail(AR_EINPUT, "%.64s...: knowledge base path too long", dir);
    snprintf(kb->root, sizeof kb->root, "%s", dir);
    size_t n = strlen(kb->root);
    while (n > 1 && kb->root[n - 1] == '/')
        kb->root[--n] = '\0';
    join(kb->cards, kb->root, "cards");
    join(kb->notes, kb->root, "notes");

    struct stat st;
    if (stat(kb->root, &st) == 0 && !S_ISDIR(st.st_mode))
        return ar_fail(AR_EFAIL, "knowledge base %s: not a directory", kb->root);
    if (!(flags & AR_KB_CREATE)) {
        if (!ar_is_dir(kb->root))
            return ar_fail(AR_EFAIL, "knowledge base %s: not found (record a card first, or use --kb)",
                           kb->root);
        return 0;
    }
    if (mkdir_parents(kb->root) != 0)
        return -1;
    if (ar_mkdir(kb->cards) != 0 || ar_mkdir(kb->notes) != 0)
        return ar_fail_prefix("knowledge base %s", kb->root);
    if (access(kb->cards, W_OK) != 0 || access(kb->notes, W_OK) != 0)
        return ar_fail(AR_EFAIL, "knowledge base %s: not writable", kb->root);
    return 0;
}

const char *ar_kb_path(const struct ar_kb *kb, const char *name, char out[PATH_MAX])
{
    join(out, kb->root, name);
    return out;
}

const char *ar_kb_card_path(const struct ar_kb *kb, const char *id, char out[PATH_MAX])
{
    if (snprintf(out, PATH_MAX, "%s/%s.json", kb->cards, id) >= PATH_MAX)
        ar_die(AR_EINPUT, "%s: path too long", id);
    return out;
}

const char *ar_kb_note_path(const struct ar_kb *kb, const char *id, char out[PATH_MAX])
{
    if (snprintf(out, PATH_MAX, "%s/%s.json", kb->notes, id) >= PATH_MAX)
        ar_die(AR_EINPUT, "%s: path too long", id);
    return out;
}
