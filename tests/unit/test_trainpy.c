/* lib/index/trainpy.c and pyexpr.c: autoresearch's real train.py read as
 * constants, and the changes between two versions of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "index/pyexpr.h"
#include "index/trainpy.h"
#include "unit.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: cannot open (run from the repository root)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

static void json_is(jv v, const char *want)
{
    char *s = ar_json_dump(v, AR_JSON_COMPACT);
    ck_assert_msg(strcmp(s, want) == 0, "%s, want %s", s, want);
    free(s);
}

static void expr_is(const char *text, int flags, const char *want)
{
    jv v = ar_pyexpr_eval(text, strlen(text), flags);
    if (!want) {
        ck_assert_msg(!jv_is_valid(v), "'%s' should not evaluate", text);
        jv_free(v);
        return;
    }
    ck_assert_msg(jv_is_valid(v), "'%s' does not evaluate", text);
    json_is(v, want);
    jv_free(v);
}

START_TEST(expressions)
{
    expr_is("2**19", 0, "524288");
    expr_is("512 * 1024", 0, "524288");
    expr_is("2 ** 3 ** 2", 0, "512");          /* right-associative */
    expr_is("-2**2", 0, "-4");                 /* ** binds tighter than unary - */
    expr_is("(1 + 2) * 3 - 4 / 8", 0, "8.5");
    expr_is("7 // 2 + 7 % 3", 0, "4");
    expr_is("-7 % 3", 0, "2");                 /* Python's sign */
    expr_is("40 * 524288", 0, "20971520");
    expr_is("989.5e12", 0, "989500000000000");
    expr_is("1_000_000", 0, "1000000");
    expr_is("0x10", 0, "16");
    expr_is("(0.8, 0.95)", 0, "[0.8,0.95]");
    expr_is("0.8, 0.95", 0, "[0.8,0.95]");
    expr_is("(5,)", 0, "[5]");
    expr_is("(5)", 0, "5");
    expr_is("[1, [2, 3]]", 0, "[1,[2,3]]");
    expr_is("(\n  0.9,  # beta1\n  0.95,\n)", 0, "[0.9,0.95]");
    expr_is("\"SSSL\"", 0, "\"SSSL\"");
    expr_is("'a' 'b'", 0, "\"ab\"");
    expr_is("True", 0, "true");
    expr_is("None", 0, "null");
    expr_is("2^19", AR_PYEXPR_CARET_POW, "524288");
    expr_is("2^19", 0, NULL);                  /* xor in Python: not ours */
    expr_is("int(3)", 0, NULL);
    expr_is("DEPTH * 64", 0, NULL);
    expr_is("1 / 0", 0, NULL);
    expr_is("10 ** 400", 0, NULL);
    expr_is("\"x\" if a else \"y\"", 0, NULL);
    expr_is("2x", 0, NULL);
    expr_is("(1, 2", 0, NULL);
    expr_is("", 0, NULL);
}
END_TEST

START_TEST(constants_of_the_real_train_py)
{
    char *src = slurp("tests/fixtures/autoresearch-train.py");
    jv c = ar_trainpy_constants(src);
    /* every hyperparameter of train.py, evaluated */
    const char *want[][2] = {
        { "ASPECT_RATIO", "64" }, { "HEAD_DIM", "128" }, { "WINDOW_PATTERN", "\"SSSL\"" },
        { "TOTAL_BATCH_SIZE", "524288" }, { "EMBEDDING_LR", "0.6" }, { "UNEMBEDDING_LR", "0.004" },
        { "MATRIX_LR", "0.04" }, { "SCALAR_LR", "0.5" }, { "WEIGHT_DECAY", "0.2" },
        { "ADAM_BETAS", "[0.8,0.95]" }, { "WARMUP_RATIO", "0" }, { "WARMDOWN_RATIO", "0.5" },
        { "FINAL_LR_FRAC", "0" }, { "DEPTH", "8" }, { "DEVICE_BATCH_SIZE", "128" },
        { "H100_BF16_PEAK_FLOPS", "989500000000000" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        jv v = ar_jv_get(c, want[i][0]);
        ck_assert_msg(jv_is_valid(v), "%s missing", want[i][0]);
        json_is(v, want[i][1]);
        jv_free(v);
    }
    /* a list of tuples over six lines */
    jv pe = ar_jv_get(c, "polar_express_coeffs");
    ck_assert_int_eq(jv_array_length(jv_copy(pe)), 5);
    jv_free(pe);
    /* code is no constant: calls, conditionals, names, indented lines */
    const char *code[] = { "cap", "repo", "fa3", "t_start", "device", "tokenizer", "vocab_size",
                           "config", "model", "optimizer", "grad_accum_steps", "n_layer",
                           "sequence_len", "softcap", "s", "base_dim", NULL };
    for (int i = 0; code[i]; i++)
        ck_assert_msg(!ar_jv_has(c, code[i]), "%s is code, not a constant", code[i]);
    /* loop state at the top level is NAME = expr too */
    ck_assert(ar_jv_has(c, "step"));
    jv keys = jv_keys(c);
    ck_assert_int_eq(jv_array_length(keys), 20);
    free(src);
}
END_TEST

START_TEST(constants_in_small_sources)
{
    const char *src =
        "\"\"\"A docstring\n"
        "X = 1 inside it is no constant\n"
        "\"\"\"\n"
        "import os\n"
        "A = 3  # a comment\n"
        "B: int = 2**10\n"
        "C: tuple[float, float] = (0.9,\n"
        "    0.99)\n"
        "D = \\\n"
        "    4\n"
        "E = 'x#not a comment'\n"
        "if True:\n"
        "    F = 5\n"
        "def f():\n"
        "    G = 6\n"
        "H = f()\n"
        "A = 7\n"
        "I += 1\n"
        "J == 2\n"
        "K: int\n";
    jv c = ar_trainpy_constants(src);
    json_is(c, "{\"A\":7,\"B\":1024,\"C\":[0.9,0.99],\"D\":4,\"E\":\"x#not a comment\"}");
    jv_free(c);
    c = ar_trainpy_constants("");
    json_is(c, "{}");
    jv_free(c);
}
END_TEST

START_TEST(changed_constants_are_changes)
{
    char *a = slurp("tests/fixtures/autoresearch-train.py");
    char *b = slurp("tests/fixtures/autoresearch-train-constants.py");
    jv d = ar_trainpy_changes(a, b);
    /* DEPTH 8 -> 9, ASPECT_RATIO annotated 64 -> 57, TOTAL_BATCH_SIZE
     * 2**19 -> 2**18, ADAM_BETAS over four lines (beta1 only changed);
     * comments edited: no code */
    json_is(d, "{\"changes\":["
               "{\"from\":0.8,\"key\":\"adam_beta1\",\"to\":0.9},"
               "{\"from\":64,\"key\":\"aspect_ratio\",\"to\":57},"
               "{\"from\":8,\"key\":\"depth\",\"to\":9},"
               "{\"from\":524288,\"key\":\"total_batch_tokens\",\"to\":262144}],"
               "\"code\":[]}");
    jv_free(d);
    /* the same file: nothing */
    d = ar_trainpy_changes(a, a);
    json_is(d, "{\"changes\":[],\"code\":[]}");
    jv_free(d);
    free(a);
    free(b);
}
END_TEST

START_TEST(changed_code_is_named)
{
    char *a = slurp("tests/fixtures/autoresearch-train.py");
    char *b = slurp("tests/fixtures/autoresearch-train-code.py");
    jv d = ar_trainpy_changes(a, b);
    jv code = ar_jv_get(d, "code");
    json_is(code, "[\"def get_lr_multiplier\"]");
    jv ch = ar_jv_get(d, "changes");
    ck_assert_int_eq(jv_array_length(ch), 4);
    jv_free(code);
    jv_free(d);
    free(a);
    free(b);
}
END_TEST

START_TEST(small_diffs)
{
    const char *old_src =
        "import torch\n"
        "DEPTH = 8\n"
        "MY_KNOB = 3\n"
        "ADAM_BETAS = (0.8, 0.95)\n"
        "@dataclass\n"
        "class Config:\n"
        "    n_layer: int = 12\n"
        "def gone():\n"
        "    pass\n"
        "torch.manual_seed(42)\n";
    const char *new_src =
        "import torch\n"
        "import math\n"
        "DEPTH = int(os.environ.get('DEPTH', 8))\n"
        "MY_KNOB = 4\n"
        "NEW_KNOB = True\n"
        "ADAM_BETAS = (0.8, 0.99)\n"
        "@dataclass\n"
        "class Config:\n"
        "    n_layer: int = 14\n"
        "torch.manual_seed(42)\n";
    jv d = ar_trainpy_changes(old_src, new_src);
    /* unknown constants keep a lower-cased name; a constant that became
     * code is code; new ones have no from */
    json_is(d, "{\"changes\":["
               "{\"from\":0.95,\"key\":\"adam_beta2\",\"to\":0.99},"
               "{\"from\":3,\"key\":\"my_knob\",\"to\":4},"
               "{\"key\":\"new_knob\",\"to\":true}],"
               "\"code\":[\"import math\",\"DEPTH = ...\",\"class Config\",\"def gone (removed)\"]}");
    jv_free(d);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("trainpy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, expressions);
    tcase_add_test(tc, constants_of_the_real_train_py);
    tcase_add_test(tc, constants_in_small_sources);
    tcase_add_test(tc, changed_constants_are_changes);
    tcase_add_test(tc, changed_code_is_named);
    tcase_add_test(tc, small_diffs);
    suite_add_tcase(s, tc);
    return s;
}
