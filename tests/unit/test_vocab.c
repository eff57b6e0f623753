/* lib/index/vocab.c: names -> keys, values normalised, descriptions ->
 * changes (on Karpathy's real mar8 results.tsv). */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "facts/config_keys.h"
#include "index/vocab.h"
#include "index/vocab_table.h"
#include "unit.h"

#define KEY(name, want) ck_assert_str_eq(ar_vocab_key(name), want)

START_TEST(train_py_constants_map_to_keys)
{
    KEY("TOTAL_BATCH_SIZE", "total_batch_tokens");
    KEY("DEPTH", "depth");
    KEY("ASPECT_RATIO", "aspect_ratio");
    KEY("HEAD_DIM", "head_dim");
    KEY("WINDOW_PATTERN", "window_pattern");
    KEY("MATRIX_LR", "matrix_lr");
    KEY("EMBEDDING_LR", "embed_lr");
    KEY("UNEMBEDDING_LR", "unembed_lr");
    KEY("SCALAR_LR", "scalar_lr");
    KEY("WEIGHT_DECAY", "muon_weight_decay");
    KEY("ADAM_BETAS", "adam_betas");
    KEY("WARMUP_RATIO", "warmup_frac");
    KEY("WARMDOWN_RATIO", "warmdown_frac");
    KEY("FINAL_LR_FRAC", "final_lr_frac");
    KEY("DEVICE_BATCH_SIZE", "device_batch");
    KEY("MAX_SEQ_LEN", "seq_len");
    KEY("TIME_BUDGET", "budget_s");
    KEY("EVAL_TOKENS", "eval_tokens");
    KEY("VOCAB_SIZE", "vocab_size");
    KEY("H100_BF16_PEAK_FLOPS", "peak_flops");
    KEY("polar_express_coeffs", "muon_ns_coeffs");
    /* GPTConfig's fields */
    KEY("n_layer", "depth");
    KEY("n_kv_head", "n_kv_head");
    KEY("n_embd", "model_dim");
    KEY("sequence_len", "seq_len");
}
END_TEST

START_TEST(phrases_map_to_keys)
{
    KEY("batch size", "total_batch_tokens");
    KEY("RoPE base", "rope_base");
    KEY("rope theta", "rope_base");
    KEY("warmdown", "warmdown_frac");
    KEY("label smoothing", "label_smoothing");
    KEY("weight tying", "tie_embeddings");
    KEY("SwiGLU", "mlp");
    KEY("GQA", "n_kv_head");
    KEY("value embeddings", "value_embeds");
    KEY("softcap", "logit_softcap");
    KEY("z-loss", "z_loss");
    KEY("init scale", "init_scale");
    KEY("x0 lambda", "x0_lambda_init");
    KEY("matrix LR", "matrix_lr");
    KEY("embedding lr", "embed_lr");
    KEY("weight decay", "muon_weight_decay");
    KEY("window pattern", "window_pattern");
    KEY("depth", "depth");
    KEY("aspect ratio", "aspect_ratio");
    KEY("head dim", "head_dim");
    KEY("dropout", "dropout");
    /* case, spaces, underscores and hyphens do not matter */
    KEY("  Rope_Theta ", "rope_base");
    KEY("total-batch-size", "total_batch_tokens");
    KEY("Label__Smoothing", "label_smoothing");
    /* ar's keys are names of themselves */
    KEY("muon_momentum_warmup_steps", "muon_momentum_warmup_steps");
    KEY("tie_embeddings", "tie_embeddings");
    ck_assert_ptr_null(ar_vocab_key("flux capacitor"));
    ck_assert_ptr_null(ar_vocab_key(""));
    ck_assert_ptr_null(ar_vocab_key(NULL));
}
END_TEST

START_TEST(every_config_key_is_in_the_vocabulary)
{
    for (const struct ar_config_key *k = ar_config_keys; k->name; k++) {
        ck_assert_msg(ar_vocab_keyinfo(k->name) != NULL, "%s has no vocabulary row", k->name);
        ck_assert_str_eq(ar_vocab_key(k->name), k->name);
        ck_assert(ar_vocab_is_config_key(k->name));
    }
    /* and every phrase names a key of the table */
    for (const struct ar_vocab_phrase *p = ar_vocab_phrases; p->phrase; p++) {
        ck_assert_msg(ar_vocab_keyinfo(p->key) != NULL, "phrase '%s': key %s", p->phrase, p->key);
        char n[128];
        ar_vocab_normalise(p->phrase, n, sizeof n);
        ck_assert_msg(strcmp(n, p->phrase) == 0, "phrase '%s' is not normalised", p->phrase);
        if (p->implied) {
            jv v = ar_vocab_value(p->key, p->implied);
            ck_assert_msg(jv_is_valid(v), "phrase '%s': implied '%s'", p->phrase, p->implied);
            jv_free(v);
        }
    }
    ck_assert(!ar_vocab_is_config_key("scalar_lr"));
    ck_assert_str_eq(ar_vocab_category("matrix_lr"), "optimizer");
    ck_assert_str_eq(ar_vocab_category("muon_weight_decay"), "optimizer");
    ck_assert_str_eq(ar_vocab_category("adam_beta2"), "optimizer");
    ck_assert_str_eq(ar_vocab_category("depth"), "architecture");
    ck_assert_str_eq(ar_vocab_category("window_pattern"), "architecture");
    ck_assert_str_eq(ar_vocab_category("mlp"), "architecture");
    ck_assert_str_eq(ar_vocab_category("total_batch_tokens"), "hyperparameter");
    ck_assert_str_eq(ar_vocab_category("warmdown_frac"), "schedule");
    ck_assert_str_eq(ar_vocab_category("label_smoothing"), "regularization");
    ck_assert_str_eq(ar_vocab_category("dropout"), "regularization");
    ck_assert_str_eq(ar_vocab_category("init_scale"), "initialization");
    ck_assert_str_eq(ar_vocab_category("no_such_key"), "other");
}
END_TEST

START_TEST(implied_values)
{
    jv v = ar_vocab_implied("SwiGLU");
    ck_assert_str_eq(jv_string_value(v), "swiglu");
    jv_free(v);
    v = ar_vocab_implied("weight tying");
    ck_assert_int_eq(jv_get_kind(v), JV_KIND_TRUE);
    jv_free(v);
    v = ar_vocab_implied("multi-query attention");
    ck_assert(jv_number_value(v) == 1);
    jv_free(v);
    v = ar_vocab_implied("matrix lr");
    ck_assert(!jv_is_valid(v));
    jv_free(v);
}
END_TEST

/* the canonical JSON of ar_vocab_value(key, text) */
static void value_is(const char *key, const char *text, const char *want)
{
    jv v = ar_vocab_value(key, text);
    if (!want) {
        ck_assert_msg(!jv_is_valid(v), "%s '%s' should not parse", key ? key : "-", text);
        jv_free(v);
        return;
    }
    ck_assert_msg(jv_is_valid(v), "%s '%s' does not parse", key ? key : "-", text);
    char *s = ar_json_dump(v, AR_JSON_COMPACT);
    ck_assert_msg(strcmp(s, want) == 0, "%s '%s': %s, want %s", key ? key : "-", text, s, want);
    free(s);
    jv_free(v);
}

START_TEST(values_are_normalised)
{
    /* one batch, six spellings */
    value_is("total_batch_tokens", "524288", "524288");
    value_is("total_batch_tokens", "2**19", "524288");
    value_is("total_batch_tokens", "2^19", "524288");
    value_is("total_batch_tokens", "524K", "524288");
    value_is("total_batch_tokens", "512K", "524288");
    value_is("total_batch_tokens", "512 * 1024", "524288");
    value_is("total_batch_tokens", "0.5M", "524288");
    value_is("total_batch_tokens", "~524K", "524288");
    value_is("total_batch_tokens", "262K", "262144");
    value_is("total_batch_tokens", "131K", "131072");
    value_is("total_batch_tokens", "65k", "65536");
    value_is("total_batch_tokens", "200K", "200000");
    /* decimal everywhere else */
    value_is("rope_base", "200K", "200000");
    value_is("rope_base", "10K", "10000");
    value_is("rope_base", "1M", "1000000");
    value_is(NULL, "524K", "524000");
    value_is("matrix_lr", "1e-3", "0.001");
    value_is("matrix_lr", "0.04", "0.04");
    value_is("warmup_frac", "5%", "0.05");
    value_is("short_window_frac", "1/8", "0.125");
    value_is("init_scale", "0.7x", "0.7");
    value_is("depth", "9", "9");
    value_is("depth", "9.5", NULL);
    value_is("adam_betas", "(0.8, 0.95)", "[0.8,0.95]");
    value_is("adam_betas", "[0.9, 0.99]", "[0.9,0.99]");
    value_is(NULL, "(0.8, 0.95)", "[0.8,0.95]");
    value_is("window_pattern", "SSSL", "\"SSSL\"");
    value_is("window_pattern", "\"SSSL\"", "\"SSSL\"");
    value_is("window_pattern", "'sssl'", "\"SSSL\"");
    value_is("window_pattern", "SXL", NULL);
    value_is(NULL, "\"SSSL\"", "\"SSSL\"");
    value_is(NULL, "SSSL", "\"SSSL\"");
    value_is("tie_embeddings", "True", "true");
    value_is("tie_embeddings", "False", "false");
    value_is("tie_embeddings", "off", "false");
    value_is("tie_embeddings", "3", NULL);
    value_is(NULL, "True", "true");
    value_is("mlp", "swiglu", "\"swiglu\"");
    value_is("matrix_lr", "fast", NULL);
    value_is("matrix_lr", "", NULL);
    value_is("matrix_lr", "0.04 +", NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* descriptions */

static void describe_is(const char *text, const char *want)
{
    jv d = ar_vocab_describe(text);
    char *s = ar_json_dump(d, AR_JSON_COMPACT);
    ck_assert_msg(strcmp(s, want) == 0, "'%s':\n  %s\nwant\n  %s", text, s, want);
    free(s);
    jv_free(d);
}

START_TEST(the_issue_examples)
{
    describe_is("halve batch 524K to 262K",
                "{\"category\":\"hyperparameter\",\"changes\":[{\"direction\":\"down\",\"from\":524288,"
                "\"key\":\"total_batch_tokens\",\"to\":262144}]}");
    describe_is("MATRIX_LR 0.04 -> 0.05",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"up\",\"from\":0.04,"
                "\"key\":\"matrix_lr\",\"to\":0.05}]}");
    describe_is("increase matrix LR to 0.05",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"up\",\"key\":\"matrix_lr\",\"to\":0.05}]}");
    describe_is("RoPE base 200K",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"rope_base\",\"to\":200000}]}");
    describe_is("depth 9 aspect 57",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"depth\",\"to\":9},"
                "{\"key\":\"aspect_ratio\",\"to\":57}]}");
    describe_is("add label smoothing 0.1",
                "{\"category\":\"regularization\",\"changes\":[{\"direction\":\"on\",\"key\":\"label_smoothing\",\"to\":0.1}]}");
    describe_is("weight tying",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"on\",\"key\":\"tie_embeddings\",\"to\":true}]}");
    /* directions without numbers */
    describe_is("increase matrix LR",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"up\",\"key\":\"matrix_lr\"}]}");
    describe_is("halve batch",
                "{\"category\":\"hyperparameter\",\"changes\":[{\"direction\":\"down\",\"factor\":0.5,"
                "\"key\":\"total_batch_tokens\"}]}");
    describe_is("halve batch 524K",
                "{\"category\":\"hyperparameter\",\"changes\":[{\"direction\":\"down\",\"from\":524288,"
                "\"key\":\"total_batch_tokens\",\"to\":262144}]}");
    describe_is("double the batch size",
                "{\"category\":\"hyperparameter\",\"changes\":[{\"direction\":\"up\",\"factor\":2,"
                "\"key\":\"total_batch_tokens\"}]}");
    describe_is("reduce warmup",
                "{\"category\":\"schedule\",\"changes\":[{\"direction\":\"down\",\"key\":\"warmup_frac\"}]}");
    /* phrases and units */
    describe_is("batch 2**18 -> 2^17",
                "{\"category\":\"hyperparameter\",\"changes\":[{\"direction\":\"down\",\"from\":262144,"
                "\"key\":\"total_batch_tokens\",\"to\":131072}]}");
    describe_is("rope theta 10K to 500000",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"up\",\"from\":10000,"
                "\"key\":\"rope_base\",\"to\":500000}]}");
    describe_is("use SwiGLU",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"mlp\",\"to\":\"swiglu\"}]}");
    describe_is("GQA n_kv_head 2",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"n_kv_head\",\"to\":2}]}");
    describe_is("z-loss 1e-4",
                "{\"category\":\"regularization\",\"changes\":[{\"key\":\"z_loss\",\"to\":0.0001}]}");
    describe_is("no value embeddings",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"off\",\"key\":\"value_embeds\",\"to\":false}]}");
    describe_is("window pattern SSSL -> SSSSL",
                "{\"category\":\"architecture\",\"changes\":[{\"from\":\"SSSL\",\"key\":\"window_pattern\",\"to\":\"SSSSL\"}]}");
    describe_is("ADAM_BETAS (0.8, 0.95) -> (0.9, 0.95)",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"up\",\"from\":0.8,"
                "\"key\":\"adam_beta1\",\"to\":0.9}]}");
    describe_is("lower embedding lr from 0.6 to 0.4, warmdown 0.5→0.7",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"down\",\"from\":0.6,\"key\":\"embed_lr\",\"to\":0.4},"
                "{\"direction\":\"up\",\"from\":0.5,\"key\":\"warmdown_frac\",\"to\":0.7}]}");
    describe_is("label smoothing",
                "{\"category\":\"regularization\",\"changes\":[{\"direction\":\"on\",\"key\":\"label_smoothing\"}]}");
    describe_is("baseline DEPTH=12 on an RTX 4090",
                "{\"category\":\"baseline\",\"changes\":[]}");
    describe_is("conv mixer replaces attention", "{\"category\":null,\"changes\":[]}");
    describe_is("", "{\"category\":null,\"changes\":[]}");
    describe_is(NULL, "{\"category\":null,\"changes\":[]}");
}
END_TEST

/* rows of tests/fixtures/karpathy-mar8-results.tsv, exactly */
START_TEST(mar8_rows)
{
    describe_is("halve batch 524K to 262K (more steps in 5 min)",
                "{\"category\":\"hyperparameter\",\"changes\":[{\"direction\":\"down\",\"from\":524288,"
                "\"key\":\"total_batch_tokens\",\"to\":262144}]}");
    describe_is("depth 9 aspect_ratio 57 (extra layer dim ~512)",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"depth\",\"to\":9},"
                "{\"key\":\"aspect_ratio\",\"to\":57}]}");
    describe_is("RoPE base frequency 10K to 200K",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"up\",\"from\":10000,"
                "\"key\":\"rope_base\",\"to\":200000}]}");
    describe_is("SSSSL window pattern (5:1 short:long)",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"window_pattern\",\"to\":\"SSSSL\"}]}");
    describe_is("short window 1/8 context (256 tokens)",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"short_window_frac\",\"to\":0.125}]}");
    describe_is("add 5% warmup",
                "{\"category\":\"schedule\",\"changes\":[{\"direction\":\"on\",\"key\":\"warmup_frac\",\"to\":0.05}]}");
    describe_is("x0_lambda init 0.1 to 0.05",
                "{\"category\":\"initialization\",\"changes\":[{\"direction\":\"down\",\"from\":0.1,"
                "\"key\":\"x0_lambda_init\",\"to\":0.05}]}");
    describe_is("FINAL_LR_FRAC 0.0 to 0.05",
                "{\"category\":\"schedule\",\"changes\":[{\"direction\":\"up\",\"from\":0,"
                "\"key\":\"final_lr_frac\",\"to\":0.05}]}");
    describe_is("random seed 42 to 137",
                "{\"category\":\"other\",\"changes\":[{\"from\":42,\"key\":\"seed\",\"to\":137}]}");
    describe_is("batch 131K (assert fail: not divisible by device batch)",
                "{\"category\":\"hyperparameter\",\"changes\":[{\"key\":\"total_batch_tokens\",\"to\":131072}]}");
    describe_is("weight decay 0.2 to 0.15",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"down\",\"from\":0.2,"
                "\"key\":\"muon_weight_decay\",\"to\":0.15}]}");
    describe_is("muon momentum warmup 300 to 200 steps",
                "{\"category\":\"schedule\",\"changes\":[{\"direction\":\"down\",\"from\":300,"
                "\"key\":\"muon_momentum_warmup_steps\",\"to\":200}]}");
    describe_is("remove cautious WD mask (much worse)",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"off\",\"key\":\"cautious_wd\",\"to\":false}]}");
    describe_is("add WD 0.01 to lm_head",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"on\",\"key\":\"unembed_wd\",\"to\":0.01}]}");
    describe_is("constant WD at 0.1 (decaying better)",
                "{\"category\":\"optimizer\",\"changes\":[{\"key\":\"muon_weight_decay\",\"to\":0.1},"
                "{\"key\":\"wd_schedule\",\"to\":\"constant\"}]}");
    describe_is("halve value embedding LR",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"down\",\"factor\":0.5,\"key\":\"ve_lr\"}]}");
    describe_is("VE LR 1.5x with WD",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"up\",\"factor\":1.5,\"key\":\"ve_lr\"}]}");
    describe_is("reduce transformer init scale by 0.8x",
                "{\"category\":\"initialization\",\"changes\":[{\"direction\":\"down\",\"factor\":0.8,\"key\":\"init_scale\"}]}");
    describe_is("init scale 0.7x",
                "{\"category\":\"initialization\",\"changes\":[{\"key\":\"init_scale\",\"to\":0.7}]}");
    describe_is("MLP hidden 4x to 3.5x",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"down\",\"from\":4,"
                "\"key\":\"mlp_ratio\",\"to\":3.5}]}");
    describe_is("multi-query attention n_kv_head=1 (too few KV heads)",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"n_kv_head\",\"to\":1}]}");
    describe_is("weight tying (shared embed/unembed, broken)",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"on\",\"key\":\"tie_embeddings\",\"to\":true}]}");
    describe_is("parallel attn+MLP (much worse)",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"on\",\"key\":\"parallel_block\",\"to\":true}]}");
    describe_is("VE every 3rd layer (too few VEs)",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"change\",\"key\":\"ve_layers\"}]}");
    describe_is("depth-dependent init scale 1/sqrt(layer+1)",
                "{\"category\":\"initialization\",\"changes\":[{\"direction\":\"change\",\"key\":\"init_scale\"}]}");
    describe_is("sqrt WD schedule",
                "{\"category\":\"schedule\",\"changes\":[{\"key\":\"wd_schedule\",\"to\":\"sqrt\"}]}");
    describe_is("Muon NorMuon beta2 0.95 to 0.98",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"up\",\"from\":0.95,"
                "\"key\":\"muon_beta2\",\"to\":0.98}]}");
    describe_is("baseline", "{\"category\":\"baseline\",\"changes\":[]}");
}
END_TEST

/* rows of two other forks: an RTX 5070 (long prose) and a Mac */
START_TEST(other_forks_rows)
{
    describe_is("Hypothesis: smaller batch (2^18\xe2\x86\x92" "2^16) = more optimizer steps. Evidence: "
                "baseline uses large batch but we have only 180 steps.",
                "{\"category\":\"hyperparameter\",\"changes\":[{\"direction\":\"down\",\"from\":262144,"
                "\"key\":\"total_batch_tokens\",\"to\":65536}]}");
    describe_is("ReLU\xc2\xb2 MLP instead of SwiGLU (hypothesis: 2 larger matmuls): val_bpb 1.262\xe2\x86\x92" "1.319",
                "{\"category\":\"architecture\",\"changes\":[{\"from\":\"swiglu\",\"key\":\"mlp\",\"to\":\"relu2\"}]}");
    describe_is("cosine warmdown instead of linear (hypothesis: cosine keeps LR higher)",
                "{\"category\":\"schedule\",\"changes\":[{\"key\":\"warmdown_shape\",\"to\":\"cosine\"}]}");
    describe_is("AUTOTUNE_MAX_MEMORY_FRACTION 0.90\xe2\x86\x92" "0.95 (hypothesis: higher memory limit)",
                "{\"category\":\"other\",\"changes\":[{\"direction\":\"up\",\"from\":0.9,"
                "\"key\":\"autotune_max_memory_fraction\",\"to\":0.95}]}");
    describe_is("Force batch=4 (skip eager-mode autotune)",
                "{\"category\":\"efficiency\",\"changes\":[{\"key\":\"device_batch\",\"to\":4}]}");
    describe_is("SHORT_WINDOW 1024\xe2\x86\x92" "256 (hypothesis: smaller sliding window)",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"change\",\"key\":\"short_window_frac\"}]}");
    describe_is("exp5: MLP 6x->8x (near miss, +0.003)",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"up\",\"from\":6,"
                "\"key\":\"mlp_ratio\",\"to\":8}]}");
    describe_is("exp6: remove value embeds, use x0 (VE crucial, much worse)",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"off\",\"key\":\"value_embeds\",\"to\":false}]}");
    describe_is("exp7: batch 16K->8K (too noisy, quality dropped)",
                "{\"category\":\"hyperparameter\",\"changes\":[{\"direction\":\"down\",\"from\":16384,"
                "\"key\":\"total_batch_tokens\",\"to\":8192}]}");
    describe_is("exp8: [radical] conv mixer replaces 3/4 attention (2.3x more steps)",
                "{\"category\":null,\"changes\":[]}");
}
END_TEST

/* the description column of a results.tsv, by name: rows with changes,
 * and each row described twice the same */
static void tsv_coverage(const char *path, int *rows, int *with)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: cannot open (run from the repository root)", path);
    char line[16384];
    int col = -1;
    *rows = *with = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *fields[32];
        int nf = 0;
        for (char *p = line, *tab; nf < 32; p = tab + 1) {
            fields[nf++] = p;
            if (!(tab = strchr(p, '\t')))
                break;
            *tab = '\0';
        }
        if (col < 0) {
            for (int i = 0; i < nf; i++)
                if (strcmp(fields[i], "description") == 0)
                    col = i;
            ck_assert_msg(col >= 0, "%s: no description column", path);
            continue;
        }
        if (nf <= col)
            continue;
        jv d = ar_vocab_describe(fields[col]), again = ar_vocab_describe(fields[col]);
        ck_assert(jv_equal(jv_copy(d), again));
        jv ch = ar_jv_get(d, "changes");
        (*rows)++;
        *with += jv_array_length(ch) > 0;
        jv_free(d);
    }
    fclose(f);
}

START_TEST(mar8_coverage)
{
    int rows, with;
    tsv_coverage("tests/fixtures/karpathy-mar8-results.tsv", &rows, &with);
    ck_assert_int_eq(rows, 126);
    /* every row but the baseline states its change: 125 of 126 */
    ck_assert_msg(with >= 114, "%d of %d rows with changes (want >= 90%%)", with, rows);
    ck_assert_int_eq(with, 125);
    /* forks that write prose: figures as measured, held as floors */
    tsv_coverage("tests/fixtures/djordje-stojanovic-trainrtx5070-results.tsv", &rows, &with);
    ck_assert_int_eq(rows, 69);
    ck_assert_msg(with >= 50, "rtx5070: %d of %d", with, rows);
    tsv_coverage("tests/fixtures/bervaso-autoresearch-macos-results.tsv", &rows, &with);
    ck_assert_int_eq(rows, 25);
    ck_assert_msg(with >= 18, "macos: %d of %d", with, rows);
}
END_TEST

START_TEST(card_changes)
{
    jv d = ar_vocab_describe("halve value embedding LR");
    jv ch = ar_jv_get(d, "changes");
    jv c0 = jv_array_get(jv_copy(ch), 0);
    /* a factor needs the parent's value */
    jv cc = ar_vocab_card_change(c0, jv_invalid());
    ck_assert(!jv_is_valid(cc));
    jv_free(cc);
    cc = ar_vocab_card_change(c0, jv_number(0.6));
    char *s = ar_json_dump(cc, AR_JSON_COMPACT);
    ck_assert_str_eq(s, "{\"from\":0.6,\"key\":\"ve_lr\",\"to\":0.3}");
    free(s);
    jv_free(cc);
    jv_free(c0);
    jv_free(ch);
    jv_free(d);
    d = ar_vocab_describe("RoPE base 200K");
    ch = ar_jv_get(d, "changes");
    c0 = jv_array_get(ch, 0);
    cc = ar_vocab_card_change(c0, jv_invalid());
    s = ar_json_dump(cc, AR_JSON_COMPACT);
    ck_assert_str_eq(s, "{\"from\":null,\"key\":\"rope_base\",\"to\":200000}");
    free(s);
    jv_free(cc);
    /* a stated from wins over the parent's */
    jv_free(c0);
    jv_free(d);
    d = ar_vocab_describe("increase matrix LR");
    ch = ar_jv_get(d, "changes");
    c0 = jv_array_get(ch, 0);
    cc = ar_vocab_card_change(c0, jv_number(0.04));
    ck_assert(!jv_is_valid(cc));
    jv_free(cc);
    jv_free(c0);
    jv_free(d);
}
END_TEST

START_TEST(reruns)
{
    ck_assert(ar_vocab_is_rerun("random seed 42 to 137"));
    ck_assert(ar_vocab_is_rerun("[re-run] baseline"));
    ck_assert(ar_vocab_is_rerun("control rerun of the baseline"));
    ck_assert(ar_vocab_is_rerun("Replicate best config (seed 7)"));
    ck_assert(!ar_vocab_is_rerun("seed 42 to 137 and depth 9"));
    ck_assert(!ar_vocab_is_rerun("repeat with matrix LR 0.05"));
    ck_assert(!ar_vocab_is_rerun("halve batch 524K to 262K"));
    ck_assert(!ar_vocab_is_rerun("baseline"));
    ck_assert(!ar_vocab_is_rerun("prerunner idea"));
    ck_assert(!ar_vocab_is_rerun(NULL));
}
END_TEST

/* a fork that trains with SWA and an MLP multiplier
 * (tests/fixtures/blitzo125-autoresearch-results-results.tsv, from the
 * public Blitzo125/autoresearch-results at e837b42) */
START_TEST(swa_fork_rows)
{
    describe_is("9L int6 + mlp_mult=3 \xe2\x80\x94 int6 noise > capacity gain (1606 steps)",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"mlp_ratio\",\"to\":3}]}");
    describe_is("SWA over 150 warmdown steps \xe2\x80\x94 massive gain",
                "{\"category\":\"regularization\",\"changes\":[{\"key\":\"weight_avg\",\"to\":\"swa\"}]}");
    describe_is("EMA decay=0.99 \xe2\x80\x94 slightly worse than equal-weight SWA",
                "{\"category\":\"regularization\",\"changes\":[{\"key\":\"ema_decay\",\"to\":0.99}]}");
    describe_is("SiLU activation \xe2\x80\x94 worse than relu^2 (sparse activations better for quant)",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"mlp\",\"to\":\"silu\"}]}");
    int rows, with;
    tsv_coverage("tests/fixtures/blitzo125-autoresearch-results-results.tsv", &rows, &with);
    ck_assert_int_eq(rows, 22);
    ck_assert_int_eq(with, 12);   /* all but the baseline and the nine rows that name no key */
}
END_TEST

/* the MLX fork's short descriptions */
START_TEST(mlx_fork_rows)
{
    describe_is("halve total batch size to 2^16",
                "{\"category\":\"hyperparameter\",\"changes\":[{\"direction\":\"down\",\"from\":131072,"
                "\"key\":\"total_batch_tokens\",\"to\":65536}]}");
    describe_is("reduce depth from 8 to 4",
                "{\"category\":\"architecture\",\"changes\":[{\"direction\":\"down\",\"from\":8,"
                "\"key\":\"depth\",\"to\":4}]}");
    describe_is("lower weight decay to 0.1",
                "{\"category\":\"optimizer\",\"changes\":[{\"direction\":\"down\",\"key\":\"muon_weight_decay\",\"to\":0.1}]}");
    describe_is("SiLU activation (batch 2^13)",
                "{\"category\":\"architecture\",\"changes\":[{\"key\":\"mlp\",\"to\":\"silu\"}]}");
    int rows, with;
    tsv_coverage("tests/fixtures/dday-fg-autoresearch-mlx-results.tsv", &rows, &with);
    ck_assert_int_eq(rows, 11);
    ck_assert_int_eq(with, 9);   /* all but the two baselines */
}
END_TEST

/* man/ar-card.5 lists every key and phrase of the table */
START_TEST(the_man_page_lists_the_table)
{
    FILE *f = fopen("man/ar-card.5", "r");
    ck_assert_msg(f != NULL, "man/ar-card.5: cannot open (run from the repository root)");
    static char man[262144];
    size_t n = fread(man, 1, sizeof man - 1, f);
    man[n] = '\0';
    fclose(f);
    const char *sec = strstr(man, ".SH VOCABULARY");
    ck_assert_ptr_nonnull(sec);
    for (const struct ar_vocab_keyinfo *k = ar_vocab_keys; k->key; k++) {
        char want[96];
        snprintf(want, sizeof want, ".BR %s \"", k->key);
        ck_assert_msg(strstr(sec, want) != NULL, "ar-card.5 lacks key %s", k->key);
    }
    for (const struct ar_vocab_phrase *p = ar_vocab_phrases; p->phrase; p++) {
        char want[96];
        snprintf(want, sizeof want, "\"%s\"", p->phrase);
        ck_assert_msg(strstr(sec, want) != NULL, "ar-card.5 lacks phrase '%s'", p->phrase);
    }
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("vocab");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, train_py_constants_map_to_keys);
    tcase_add_test(tc, phrases_map_to_keys);
    tcase_add_test(tc, every_config_key_is_in_the_vocabulary);
    tcase_add_test(tc, implied_values);
    tcase_add_test(tc, values_are_normalised);
    tcase_add_test(tc, the_issue_examples);
    tcase_add_test(tc, mar8_rows);
    tcase_add_test(tc, other_forks_rows);
    tcase_add_test(tc, mar8_coverage);
    tcase_add_test(tc, card_changes);
    tcase_add_test(tc, reruns);
    tcase_add_test(tc, mlx_fork_rows);
    tcase_add_test(tc, swa_fork_rows);
    tcase_add_test(tc, the_man_page_lists_the_table);
    suite_add_tcase(s, tc);
    return s;
}
