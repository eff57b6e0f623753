/* Every row of the fresh index for the statistics (ar_index_rows).
 *
 * Reading 100,000 rows costs SQLite about as much as the caller spends on
 * them, so the two run side by side: a thread steps the statements and
 * copies rows into batches, the caller's thread hands each row of a full
 * batch to fn. */
#include "index/index_db.h"

#include <pthread.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/bigmem.h"
#include "base/buf.h"
#include "base/pool.h"
#include "base/err.h"
#include "base/json.h"

#define BATCH_ROWS 1024
#define NBATCH 4
#define NO_STR ((size_t)-1)

/* the text columns, in the statement's order, then the strings' numbers
 * (of the strings table), then the numbers */
enum { S_ID, S_CREATED, S_COMMIT, S_HYPOTHESIS, S_VERIFIES, S_LESSON, S_TAGS, S_PRIOR, NSTR };
enum { D_AGENT, D_SESSION, D_CATEGORY, D_STATUS, D_CARD_STATUS, D_PLATFORM, D_FINGERPRINT, D_BASELINE,
       D_CONFIG_HASH, NDICT };
enum { N_BUDGET, N_SEED, N_BPB, N_TRAINING, N_DELTA, NNUM };

static const char rows_sql[] =
    "SELECT id, created, \"commit\", hypothesis, verifies, lesson, tags, prior_cards,"
    " agent, session, category, status, card_status, platform, fingerprint, baseline, config_hash,"
    " budget_s, seed, val_bpb, training_seconds, delta, retracted FROM card_rows ORDER BY id";

/* a row in a batch: this head (copied in and out, so unaligned is fine),
 * then its strings; then its changes, three string numbers each */
struct rowhead {
    size_t str[NSTR];   /* offsets into the batch, NO_STR for NULL */
    unsigned dict[NDICT];
    double num[NNUM];
    int has[NNUM];
    int retracted, nchanges;
    size_t changes;     /* offset of the first change */
};

struct batch {
    struct ar_buf data;
    size_t *heads;      /* offsets of the rows' heads */
    size_t n;
};

struct pipe {
    struct db *d;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch b[NBATCH];
    size_t produced, consumed;   /* batches; batch k lives in b[k % NBATCH] */
    int done, stop;              /* the producer ended; the consumer wants no more */
    int rc, code;                /* the producer's result, and its error */
    char msg[1024];
    int bad;                     /* the consumer met a string number not there */
    size_t rows_hint;            /* the cards meta counts: no more rows than that */
    /* the strings table, read as far as each batch needs before it is
     * handed over (a rebuild numbers strings in card order, so the rows
     * need them in about the order they come): the consumer only reads
     * entries a handed-over batch needed, the producer only writes others */
    sqlite3_stmt *dict_st;
    int dict_rc;                 /* of the last step of dict_st */
    struct ar_pool dict_pool;    /* the strings: they never move */
    const char **dict;           /* by number, NULL when none; ndict of them */
    size_t ndict;
};

static void put_col(struct ar_buf *b, sqlite3_stmt *st, int i, size_t *off)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    if (!t) {
        *off = NO_STR;
        return;
    }
    *off = b->len;
    ar_buf_add(b, t, (size_t)sqlite3_column_bytes(st, i) + 1);   /* with its NUL */
}

/* Sizes the strings table (numbers up to its largest) and starts reading
 * it in number order. */
static int dict_open(struct pipe *p)
{
    struct db *d = p->d;
    sqlite3_stmt *st;
    if (ix_prepare(d, "SELECT max(id) FROM strings", &st) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_int64 max = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return ix_db_fail(d, "cannot read");
    if (max < 0 || max > (1 << 30))
        return ar_fail(AR_EFAIL, "%s: malformed strings table", d->path);
    p->ndict = (size_t)max + 1;
    p->dict = memset(ar_big_realloc(NULL, p->ndict * sizeof *p->dict), 0, p->ndict * sizeof *p->dict);
    if (ix_prepare(d, "SELECT id, s FROM strings ORDER BY id", &p->dict_st) != SQLITE_OK)
        return -1;
    p->dict_rc = sqlite3_step(p->dict_st);
    return 0;
}

/* Reads the strings table up to number upto (or its end). */
static int dict_upto(struct pipe *p, unsigned upto)
{
    while (p->dict_rc == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(p->dict_st, 0);
        if (id > (sqlite3_int64)upto)
            return 0;
        const char *t = (const char *)sqlite3_column_text(p->dict_st, 1);
        if (id < 1 || (size_t)id >= p->ndict || p->dict[id])
            return ar_fail(AR_EFAIL, "%s: malformed strings table", p->d->path);
        if (t)
            p->dict[id] = ar_pool_strndup(&p->dict_pool, t, (size_t)sqlite3_column_bytes(p->dict_st, 1));
        p->dict_rc = sqlite3_step(p->dict_st);
    }
    return p->dict_rc == SQLITE_DONE ? 0 : ix_db_fail(p->d, "cannot read");
}

static unsigned col_sid(sqlite3_stmt *st, int i)
{
    sqlite3_int64 v = sqlite3_column_int64(st, i);   /* 0 for NULL */
    return v > 0 && v < (1 << 30) ? (unsigned)v : 0;
}

static int produce(struct pipe *p)
{
    struct db *d = p->d;
    sqlite3_stmt *st = NULL, *ch = NULL;
    if (dict_open(p) != 0)
        return -1;
    if (ix_prepare(d, rows_sql, &st) != SQLITE_OK ||
        ix_prepare(d, "SELECT card, key, from_value, to_value FROM change_rows ORDER BY card, pos", &ch) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    int rc = 0, s = SQLITE_ROW, cs = sqlite3_step(ch);
    while (rc == 0 && s == SQLITE_ROW) {
        pthread_mutex_lock(&p->mu);
        while (p->produced - p->consumed == NBATCH && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        int stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        struct batch *b = &p->b[p->produced % NBATCH];
        b->data.len = 0;
        b->n = 0;
        unsigned need = 0;   /* the largest string number of the batch */
        while (b->n < BATCH_ROWS && (s = sqlite3_step(st)) == SQLITE_ROW) {
            struct rowhead h;
            memset(&h, 0, sizeof h);
            size_t at = b->data.len;
            ar_buf_add(&b->data, &h, sizeof h);
            for (int i = 0; i < NSTR; i++)
                put_col(&b->data, st, i, &h.str[i]);
            if (h.str[S_ID] == NO_STR) {
                rc = ar_fail(AR_EFAIL, "%s: a card without an id", d->path);
                break;
            }
            for (int i = 0; i < NDICT; i++)
                if ((h.dict[i] = col_sid(st, NSTR + i)) > need)
                    need = h.dict[i];
            for (int i = 0; i < NNUM; i++)
                if ((h.has[i] = sqlite3_column_type(st, NSTR + NDICT + i) != SQLITE_NULL))
                    h.num[i] = sqlite3_column_double(st, NSTR + NDICT + i);
            h.retracted = sqlite3_column_int(st, NSTR + NDICT + NNUM);
            /* changes are in card order too: a merge */
            const char *id = b->data.data + h.str[S_ID];
            int cmp = -1;
            while (cs == SQLITE_ROW && (cmp = strcmp((const char *)sqlite3_column_text(ch, 0), id)) < 0)
                cs = sqlite3_step(ch);
            h.changes = b->data.len;
            while (cs == SQLITE_ROW && cmp == 0) {
                unsigned v[3] = {col_sid(ch, 1), col_sid(ch, 2), col_sid(ch, 3)};
                for (int k = 0; k < 3; k++)
                    need = v[k] > need ? v[k] : need;
                ar_buf_add(&b->data, v, sizeof v);
                h.nchanges++;
                cs = sqlite3_step(ch);
                id = b->data.data + h.str[S_ID];
                cmp = cs == SQLITE_ROW ? strcmp((const char *)sqlite3_column_text(ch, 0), id) : 1;
            }
            memcpy(b->data.data + at, &h, sizeof h);
            b->heads[b->n++] = at;
        }
        if (s != SQLITE_ROW && s != SQLITE_DONE)
            rc = ix_db_fail(d, "cannot read");
        else if (cs != SQLITE_ROW && cs != SQLITE_DONE)
            rc = ix_db_fail(d, "cannot read");
        if (rc == 0)
            rc = dict_upto(p, need);
        if (rc == 0 && b->n > 0) {
            pthread_mutex_lock(&p->mu);
            p->produced++;
            pthread_cond_broadcast(&p->cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ch);
    return rc;
}

static void *producer(void *arg)
{
    struct pipe *p = arg;
    int rc = produce(p);
    pthread_mutex_lock(&p->mu);
    p->rc = rc;
    if (rc != 0) {
        p->code = ar_last_code();
        snprintf(p->msg, sizeof p->msg, "%s", ar_last_error());
    }
    p->done = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* The strings of a JSON array of strings (as put_json_list writes them) at
 * text, split in place (the quotes become NULs), into *v (capacity *cap).
 * Returns the count, -1 when malformed. Escapes are decoded into a copy. */
static int split_list(char *text, const char ***v, int *cap, struct ar_buf *esc)
{
    int n = 0;
    if (!text || !strchr(text, '"'))
        return 0;
    if (!strchr(text, '\\')) {
        for (char *p = text; (p = strchr(p, '"'));) {
            char *e = strchr(p + 1, '"');
            if (!e)
                return -1;
            *e = '\0';
            if (n == *cap)
                *v = ar_xrealloc(*v, (size_t)(*cap = *cap ? 2 * *cap : 8) * sizeof **v);
            (*v)[n++] = p + 1;
            p = e + 1;
        }
        return n;
    }
    jv a;
    if (ar_json_parse(text, strlen(text), "index list", &a) != 0)
        return -1;
    size_t start = esc->len;
    int first = n;
    jv_array_foreach(a, i, s) {
        if (jv_get_kind(s) == JV_KIND_STRING) {
            if (n == *cap)
                *v = ar_xrealloc(*v, (size_t)(*cap = *cap ? 2 * *cap : 8) * sizeof **v);
            (*v)[n++] = (const char *)(uintptr_t)(esc->len - start);   /* offsets until esc stops growing */
            ar_buf_add(esc, jv_string_value(s), strlen(jv_string_value(s)) + 1);
        }
        jv_free(s);
    }
    jv_free(a);
    for (int k = first; k < n; k++)
        (*v)[k] = esc->data + start + (size_t)(uintptr_t)(*v)[k];
    return n;
}

struct rows_job {
    ar_index_row_fn fn;
    void *ctx;
};

/* The text of string number id of the pipe's table; NULL for 0. *bad is
 * set for a number the table lacks. */
static const char *dict_str(const struct pipe *p, unsigned id, int *bad)
{
    if (!id)
        return NULL;
    if (id >= p->ndict || !p->dict[id]) {
        *bad = 1;
        return NULL;
    }
    return p->dict[id];
}

static int consume(struct pipe *p, struct rows_job *j, int *delivered)
{
    const char **tags = NULL, **prior = NULL;
    int tcap = 0, pcap = 0, chcap = 0, rc = 0;
    struct ar_rowchange *changes = NULL;
    struct ar_buf esc = {0};
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->consumed == p->produced && !p->done)
            pthread_cond_wait(&p->cv, &p->mu);
        int have = p->consumed < p->produced;
        pthread_mutex_unlock(&p->mu);
        if (!have)
            break;
        struct batch *b = &p->b[p->consumed % NBATCH];
        for (size_t i = 0; i < b->n && rc == 0; i++) {
            struct rowhead h;
            memcpy(&h, b->data.data + b->heads[i], sizeof h);
            const char *str[NSTR], *ds[NDICT];
            int bad = 0;
            for (int k = 0; k < NSTR; k++)
                str[k] = h.str[k] == NO_STR ? NULL : b->data.data + h.str[k];
            for (int k = 0; k < NDICT; k++)
                ds[k] = dict_str(p, h.dict[k], &bad);
            struct ar_cardrow r = {
                .id = str[S_ID], .created = str[S_CREATED], .agent = ds[D_AGENT], .session = ds[D_SESSION],
                .commit = str[S_COMMIT], .category = ds[D_CATEGORY], .hypothesis = str[S_HYPOTHESIS],
                .status = ds[D_STATUS], .card_status = ds[D_CARD_STATUS], .platform = ds[D_PLATFORM],
                .fingerprint = ds[D_FINGERPRINT], .config_hash = ds[D_CONFIG_HASH],
                .baseline = ds[D_BASELINE], .verifies = str[S_VERIFIES], .lesson = str[S_LESSON],
                .budget_s = h.num[N_BUDGET], .seed = h.num[N_SEED], .val_bpb = h.num[N_BPB],
                .delta = h.num[N_DELTA], .training_seconds = h.num[N_TRAINING],
                .has_budget = h.has[N_BUDGET], .has_seed = h.has[N_SEED], .has_bpb = h.has[N_BPB],
                .has_delta = h.has[N_DELTA], .has_training = h.has[N_TRAINING], .retracted = h.retracted,
                .sid = {[AR_SID_AGENT] = h.dict[D_AGENT], [AR_SID_SESSION] = h.dict[D_SESSION],
                        [AR_SID_CATEGORY] = h.dict[D_CATEGORY], [AR_SID_STATUS] = h.dict[D_STATUS],
                        [AR_SID_PLATFORM] = h.dict[D_PLATFORM], [AR_SID_FINGERPRINT] = h.dict[D_FINGERPRINT],
                        [AR_SID_CONFIG_HASH] = h.dict[D_CONFIG_HASH], [AR_SID_BASELINE] = h.dict[D_BASELINE]},
                .rows_hint = p->rows_hint,
            };
            esc.len = 0;
            r.ntags = split_list(b->data.data + (h.str[S_TAGS] == NO_STR ? 0 : h.str[S_TAGS]), &tags, &tcap, &esc);
            r.nprior = split_list(b->data.data + (h.str[S_PRIOR] == NO_STR ? 0 : h.str[S_PRIOR]), &prior, &pcap, &esc);
            if (h.str[S_TAGS] == NO_STR || h.str[S_PRIOR] == NO_STR || r.ntags < 0 || r.nprior < 0) {
                rc = ar_fail(AR_EFAIL, "%s: card %s: unreadable tags or prior_cards", p->d->path, r.id);
                break;
            }
            if (h.nchanges > chcap)
                changes = ar_xrealloc(changes, (size_t)(chcap = 2 * h.nchanges) * sizeof *changes);
            const char *c = b->data.data + h.changes;
            for (int k = 0; k < h.nchanges; k++, c += 3 * sizeof(unsigned)) {
                unsigned v[3];
                memcpy(v, c, sizeof v);
                changes[k] = (struct ar_rowchange){dict_str(p, v[0], &bad), dict_str(p, v[1], &bad),
                                                   dict_str(p, v[2], &bad), v[0], v[1], v[2]};
                if (!changes[k].key || !changes[k].from || !changes[k].to)
                    bad = 1;
            }
            if (bad) {
                rc = ar_fail(AR_EFAIL, "%s: card %s: a string number the strings table lacks", p->d->path, r.id);
                p->bad = 1;
                break;
            }
            r.nchanges = h.nchanges;
            r.tags = tags;
            r.prior = prior;
            r.changes = changes;
            *delivered = 1;
            rc = j->fn(&r, j->ctx);
        }
        pthread_mutex_lock(&p->mu);
        p->consumed++;
        if (rc != 0)
            p->stop = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (rc != 0)
            break;
    }
    free(tags);
    free(prior);
    free(changes);
    ar_buf_free(&esc);
    return rc;
}

static int rows_job(struct db *d, void *arg, int *delivered)
{
    if (ix_exec(d, "BEGIN") != 0)   /* one snapshot for both statements */
        return -1;
    struct pipe p;
    memset(&p, 0, sizeof p);
    p.d = d;
    struct held held;
    if (ix_read_held(d, &held) == 0 && held.cards > 0)
        p.rows_hint = (size_t)held.cards;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    for (int i = 0; i < NBATCH; i++)
        p.b[i].heads = ar_xmalloc(BATCH_ROWS * sizeof *p.b[i].heads);
    pthread_t t;
    int rc;
    if (pthread_create(&t, NULL, producer, &p) != 0) {
        rc = ar_fail(AR_EFAIL, "%s: cannot start a thread", d->path);
    } else {
        rc = consume(&p, arg, delivered);
        pthread_join(t, NULL);
        if (rc == 0 && p.rc != 0) {
            rc = ar_fail(p.code ? p.code : AR_EFAIL, "%s", p.msg);
            if (strstr(p.msg, "malformed") || strstr(p.msg, "not a database"))
                d->corrupt = 1;
        }
    }
    for (int i = 0; i < NBATCH; i++) {
        ar_buf_free(&p.b[i].data);
        free(p.b[i].heads);
    }
    if (p.bad)
        d->corrupt = 1;   /* rebuilt, and read again when nothing was handed out */
    sqlite3_finalize(p.dict_st);
    ar_pool_free(&p.dict_pool);
    ar_big_free(p.dict);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    ix_rollback(d);
    return rc;
}

int ar_index_rows(const struct ar_kb *kb, ar_index_row_fn fn, void *ctx)
{
    struct rows_job j = {fn, ctx};
    return ix_run_fresh(kb, rows_job, &j);
}
