/* lib/patch: a card's diff of trainer/ and kernels/ against upstream, its
 * hash in the card, and rebuilding the code on a fresh clone. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/atomic.h"
#include "facts/card.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/patch.h"
#include "base/sha256.h"
#include "unit.h"

#define DIR_TEMPLATE "/tmp/ar-test-patch-XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static char repo[600], clone[600];
static struct ar_kb kb;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static char *slurp(const char *root, const char *rel)
{
    char path[1024], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (ar_read_file(path, 1 << 20, &text, &len) != 0)
        return NULL;
    return text;
}

#define GIT "git -c user.name=t -c user.email=t@t -C"

/* main: trainer/a.c, kernels/k.c, README; autoresearch/x changes a.c
 * (committed), adds trainer/new.c and edits README (not committed). */
static void setup(void)
{
    memcpy(dir, DIR_TEMPLATE, sizeof DIR_TEMPLATE);   /* fresh per test, also with CK_FORK=no */
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(repo, sizeof repo, "%s/proj", dir);
    snprintf(clone, sizeof clone, "%s/clone", dir);
    sh("mkdir -p %s/trainer %s/kernels && cd %s && echo one >trainer/a.c && echo k >kernels/k.c && "
       "echo r >README", repo, repo, repo);
    sh("cd %s && git init -q -b main && " GIT " . add -A && " GIT " . commit -qm base", repo);
    sh("cd %s && git checkout -qb autoresearch/x && echo two >trainer/a.c && " GIT " . commit -qam 'a: two'",
       repo);
    sh("cd %s && echo new >trainer/new.c && echo r2 >README", repo);
    sh("git clone -q -b main %s %s", repo, clone);
    char kbdir[700];
    snprintf(kbdir, sizeof kbdir, "%s/knowledge", dir);
    ck_assert_int_eq(ar_kb_open(&kb, kbdir, AR_KB_CREATE), 0);
    unsetenv("AR_UPSTREAM");
}

static void teardown(void)
{
    sh("rm -rf %s", dir);
}

static void store_card(const struct ar_patch *p, char id[AR_ID_LEN + 1])
{
    jv card = jv_object();
    ar_jv_set(&card, "hypothesis", jv_string("a returns two"));
    ar_jv_set(&card, "category", jv_string("other"));
    ar_jv_set(&card, "status", jv_string("keep"));
    ar_jv_set(&card, "commit", jv_string("abcdef0"));
    jv m = jv_object();
    ar_jv_set(&m, "val_bpb", jv_number(1.5));
    ar_jv_set(&card, "metrics", m);
    jv plat = jv_object();
    ar_jv_set(&plat, "class", jv_string("cpu-test"));
    ar_jv_set(&card, "platform", plat);
    jv extra = jv_object();
    ar_jv_set(&extra, "patch", ar_patch_info(p));
    ar_jv_set(&card, "extra", extra);
    ck_assert_int_eq(ar_card_complete(&card), 0);
    ck_assert_int_eq(ar_card_store(&kb, card, id), 0);
    ck_assert_int_eq(ar_patch_store(&kb, id, p), 0);
    jv_free(card);
}

START_TEST(diff_covers_trainer_and_kernels_only)
{
    struct ar_patch p;
    ck_assert_int_eq(ar_patch_make(repo, &p), 0);
    char main_oid[41];
    char cmd[800];
    snprintf(cmd, sizeof cmd, "git -C %s rev-parse main", repo);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(fgets(main_oid, sizeof main_oid, f));
    pclose(f);
    ck_assert_str_eq(p.upstream, main_oid);
    ck_assert_ptr_nonnull(strstr(p.text, "+++ b/trainer/a.c"));
    ck_assert_ptr_nonnull(strstr(p.text, "+two"));
    ck_assert_ptr_nonnull(strstr(p.text, "+++ b/trainer/new.c"));   /* not committed, but it ran */
    ck_assert_ptr_null(strstr(p.text, "README"));
    ck_assert_int_eq(p.too_large, 0);
    ar_patch_free(&p);
}
END_TEST

START_TEST(card_records_the_patch_hash)
{
    struct ar_patch p;
    char id[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_patch_make(repo, &p), 0);
    store_card(&p, id);
    jv card;
    ck_assert_int_eq(ar_card_load(&kb, id, &card), 0);
    ck_assert_int_eq(ar_patch_verify(card, p.text, p.len), 0);
    p.text[p.len - 2] ^= 1;   /* one changed byte */
    ck_assert_int_eq(ar_patch_verify(card, p.text, p.len), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "does not match the hash"));
    jv_free(card);
    ar_patch_free(&p);
}
END_TEST

START_TEST(checkout_rebuilds_the_code_on_a_clone)
{
    struct ar_patch p;
    char id[AR_ID_LEN + 1], branch[256];
    ck_assert_int_eq(ar_patch_make(repo, &p), 0);
    store_card(&p, id);
    ar_patch_free(&p);
    ck_assert_int_eq(ar_patch_checkout(clone, &kb, id, NULL, branch), 0);
    char want[300];
    snprintf(want, sizeof want, "reproduce/%s", id);
    ck_assert_str_eq(branch, want);
    char *a = slurp(clone, "trainer/a.c"), *n = slurp(clone, "trainer/new.c"), *r = slurp(clone, "README");
    ck_assert_str_eq(a, "two\n");
    ck_assert_str_eq(n, "new\n");
    ck_assert_str_eq(r, "r\n");   /* outside the patch: untouched */
    free(a);
    free(n);
    free(r);
    char cmd[2000], line[300];
    snprintf(cmd, sizeof cmd, "git -C %s log -1 --format=%%s%%n%%D && git -C %s status --porcelain", clone, clone);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_msg(strncmp(line, "reproduce ", 10) == 0, "subject: %s", line);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(strstr(line, want));
    ck_assert_ptr_null(fgets(line, sizeof line, f));   /* clean work tree */
    pclose(f);
    /* the same branch again is refused */
    ck_assert_int_eq(ar_patch_checkout(clone, &kb, id, NULL, branch), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "already exists"));
}
END_TEST

START_TEST(checkout_refuses_local_changes_and_missing_patches)
{
    struct ar_patch p;
    char id[AR_ID_LEN + 1], branch[256];
    ck_assert_int_eq(ar_patch_make(repo, &p), 0);
    store_card(&p, id);
    ar_patch_free(&p);
    sh("echo mine >%s/trainer/a.c", clone);
    ck_assert_int_eq(ar_patch_checkout(clone, &kb, id, "x", branch), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "work tree has changes"));
    sh("git -C %s checkout -q trainer/a.c", clone);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/patches/%s.patch", kb.root, id);
    unlink(path);
    ck_assert_int_eq(ar_patch_checkout(clone, &kb, id, "y", branch), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "is missing"));
}
END_TEST

START_TEST(upstream_from_the_environment)
{
    struct ar_patch p;
    setenv("AR_UPSTREAM", "no-such-ref", 1);
    ck_assert_int_eq(ar_patch_make(repo, &p), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "AR_UPSTREAM 'no-such-ref'"));
    setenv("AR_UPSTREAM", "autoresearch/x", 1);   /* upstream = HEAD: only uncommitted work */
    ck_assert_int_eq(ar_patch_make(repo, &p), 0);
    ck_assert_ptr_null(strstr(p.text, "trainer/a.c"));
    ck_assert_ptr_nonnull(strstr(p.text, "trainer/new.c"));
    ar_patch_free(&p);
    unsetenv("AR_UPSTREAM");
}
END_TEST

/* A patch of one file: path on both sides, with the given header lines. */
static int scope_of(const char *old, const char *new, const char *extra)
{
    char text[2048];
    snprintf(text, sizeof text,
             "diff --git a/%s b/%s\n%sindex 1111111..2222222 100644\n--- a/%s\n+++ b/%s\n@@ -1 +1 @@\n-one\n+two\n",
             old, new, extra, old, new);
    return ar_patch_scope_check(text, strlen(text));
}

START_TEST(scope_is_trainer_and_kernels)
{
    ck_assert_int_eq(scope_of("trainer/a.c", "trainer/a.c", ""), 0);
    ck_assert_int_eq(scope_of("kernels/cuda/k.cu", "kernels/cuda/k.cu", ""), 0);
    ck_assert_int_eq(ar_patch_scope_check("", 0), 0);   /* the upstream code as it is */
    ck_assert_int_eq(scope_of("Makefile", "Makefile", ""), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "touches Makefile: a patch may change only trainer/ and kernels/"));
    ck_assert_int_eq(scope_of("trainer/../Makefile", "trainer/../Makefile", ""), -1);
    ck_assert_int_eq(scope_of("trainer/./a.c", "trainer/./a.c", ""), -1);
    ck_assert_int_eq(scope_of("trainerx/a.c", "trainerx/a.c", ""), -1);
    ck_assert_int_eq(scope_of("trainer", "trainer", ""), -1);
    /* a rename out of the trainer, either way */
    const char *ren = "diff --git a/trainer/a.c b/Makefile\nsimilarity index 100%\nrename from trainer/a.c\n"
                      "rename to Makefile\n";
    ck_assert_int_eq(ar_patch_scope_check(ren, strlen(ren)), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "touches Makefile"));
    /* a new link in the trainer points anywhere: refused */
    const char *link = "diff --git a/trainer/l b/trainer/l\nnew file mode 120000\nindex 0000000..1111111\n"
                       "--- /dev/null\n+++ b/trainer/l\n@@ -0,0 +1 @@\n+../Makefile\n\\ No newline at end of file\n";
    ck_assert_int_eq(ar_patch_scope_check(link, strlen(link)), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "only regular files"));
    const char *junk = "rm -rf ~\n";
    ck_assert_int_eq(ar_patch_scope_check(junk, strlen(junk)), -1);
}
END_TEST

START_TEST(verify_checks_the_scope_too)
{
    /* a card that records the hash of a patch outside the scope */
    char text[2048];
    snprintf(text, sizeof text, "diff --git a/Makefile b/Makefile\nindex 1111111..2222222 100644\n--- a/Makefile\n"
                                "+++ b/Makefile\n@@ -1 +1 @@\n-all:\n+all: pwn\n");
    struct ar_patch p = {0};
    snprintf(p.upstream, sizeof p.upstream, "%040d", 0);
    p.len = strlen(text);
    ar_sha256_hex(text, p.len, p.sha256);
    jv card = jv_object();
    jv extra = jv_object();
    ar_jv_set(&extra, "patch", ar_patch_info(&p));
    ar_jv_set(&card, "extra", extra);
    ar_jv_set(&card, "id", jv_string("20260101T000000Z-000000000000"));
    ck_assert_int_eq(ar_patch_verify(card, text, p.len), -1);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "touches Makefile"));
    jv_free(card);
}
END_TEST

START_TEST(make_never_records_a_link)
{
    struct ar_patch p;
    sh("ln -s ../README %s/trainer/link", repo);
    ck_assert_int_eq(ar_patch_make(repo, &p), -1);
    ck_assert_msg(strstr(ar_last_error(), "trainer/link: a patch may hold only regular files") != NULL, "%s", ar_last_error());
}
END_TEST

START_TEST(a_peers_patch_needs_consent)
{
    struct ar_patch p;
    char id[AR_ID_LEN + 1];
    ck_assert_int_eq(ar_patch_make(repo, &p), 0);
    setenv("AR_AGENT", "alice", 1);
    store_card(&p, id);   /* alice's card */
    ar_patch_free(&p);
    jv card;
    char *text;
    size_t len;
    ck_assert_int_eq(ar_patch_load(&kb, id, &card, &text, &len), 0);
    ck_assert_int_eq(ar_patch_trusted(card), 1);
    ck_assert_int_eq(ar_patch_consent(card, text, len, 0, "checkout applies"), 0);
    setenv("AR_AGENT", "bob", 1);
    unsetenv("AR_TRUST_PATCHES");
    ck_assert_int_eq(ar_patch_trusted(card), 0);
    ck_assert_int_eq(ar_patch_consent(card, text, len, 0, "checkout applies"), -1);
    ck_assert_int_eq(ar_last_code(), AR_EINPUT);
    ck_assert_ptr_nonnull(strstr(ar_last_error(), "only with --yes (or AR_TRUST_PATCHES=1)"));
    ck_assert_int_eq(ar_patch_consent(card, text, len, 1, "checkout applies"), 0);
    setenv("AR_TRUST_PATCHES", "1", 1);
    ck_assert_int_eq(ar_patch_trusted(card), 1);
    setenv("AR_TRUST_PATCHES", "yes", 1);   /* only 1 means yes */
    ck_assert_int_eq(ar_patch_trusted(card), 0);
    unsetenv("AR_TRUST_PATCHES");
    char *stat = ar_patch_diffstat(text, len);
    ck_assert_ptr_nonnull(strstr(stat, "trainer/a.c"));
    ck_assert_ptr_nonnull(strstr(stat, "trainer/new.c"));
    free(stat);
    free(text);
    jv_free(card);
    unsetenv("AR_AGENT");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("patch");
    TCase *tc = tcase_create("patch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, diff_covers_trainer_and_kernels_only);
    tcase_add_test(tc, card_records_the_patch_hash);
    tcase_add_test(tc, checkout_rebuilds_the_code_on_a_clone);
    tcase_add_test(tc, checkout_refuses_local_changes_and_missing_patches);
    tcase_add_test(tc, upstream_from_the_environment);
    tcase_add_test(tc, scope_is_trainer_and_kernels);
    tcase_add_test(tc, verify_checks_the_scope_too);
    tcase_add_test(tc, make_never_records_a_link);
    tcase_add_test(tc, a_peers_patch_needs_consent);
    suite_add_tcase(s, tc);
    return s;
}
