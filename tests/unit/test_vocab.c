/* lib/index/vocab.c: names -> keys, values normalised, descriptions ->
 * changes (on Karpathy's real mar8 results.tsv). */
#include <math.h>
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

Suite *make_suite(void)
{
    Suite *s = suite_create("vocab");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, train_py_constants_map_to_keys);
    tcase_add_test(tc, phrases_map_to_keys);
    tcase_add_test(tc, every_config_key_is_in_the_vocabulary);
    tcase_add_test(tc, implied_values);
    tcase_add_test(tc, values_are_normalised);
    suite_add_tcase(s, tc);
    return s;
}
