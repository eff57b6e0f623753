#include "queue/skypilot.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "facts/config_keys.h"
#include "queue/queue.h"

int ar_skypilot_gpu_valid(const char *gpu)
{
    size_t name = strspn(gpu, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    if (name == 0 || name > 32)
        return 0;
    if (gpu[name] == '\0')
        return 1;
    const char *count = gpu + name + 1;
    size_t digits = strspn(count, "0123456789");
    return gpu[name] == ':' && digits >= 1 && digits <= 3 && count[digits] == '\0' &&
           count[0] != '0';
}

void ar_skypilot_name(const char *id, char *out, size_t n)
{
    snprintf(out, n, "ar-%s", id);
    for (char *p = out; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

/* 'text' for the shell: single quotes, each ' as '\'' */
static void shell_quote(struct ar_buf *b, const char *s)
{
    ar_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            ar_buf_puts(b, "'\\''");
        else
            ar_buf_putc(b, *s);
    }
    ar_buf_putc(b, '\'');
}

static int write_out(void *data, unsigned char *buffer, size_t size)
{
    ar_buf_add(data, buffer, size);
    return 1;
}

static int scalar(yaml_emitter_t *em, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
    return yaml_emitter_emit(em, &ev);
}

static int pair(yaml_emitter_t *em, const char *key, const char *value, yaml_scalar_style_t style)
{
    return scalar(em, key, YAML_ANY_SCALAR_STYLE) && scalar(em, value, style);
}

static int mapping(yaml_emitter_t *em, int start)
{
    yaml_event_t ev;
    if (start)
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    else
        yaml_mapping_end_event_initialize(&ev);
    return yaml_emitter_emit(em, &ev);
}

/* The run script: the knowledge base from its remote, train, the card back
 * through the remote. knowledge/ is gitignored, and SkyPilot does not upload
 * gitignored files: the task's knowledge base is a clone of the remote
 * (ar-sync init --remote, then ar-sync), and its card returns by ar-sync's
 * push. Without a remote the task stops before it trains: its card could not
 * come back. ar-train's status is the task's, after the last sync. On a GPU
 * task ar-train trains on the GPU (--device cuda: an error, not a silent CPU
 * run, if it cannot). */
static void run_script(jv entry, const char *gpu, struct ar_buf *b)
{
    ar_buf_puts(b, "set -e\n"
                   "export AR_KB=\"${AR_KB:-$PWD/knowledge}\"\n"
                   "if [ ! -d \"$AR_KB/.git\" ]; then\n"
                   "    if [ -z \"${AR_KB_REMOTE:-}\" ]; then\n"
                   "        echo \"ar: $AR_KB is not a git repository and AR_KB_REMOTE is not set:"
                   " the card could not return (ar-sync init --remote URL, then export again)\" >&2\n"
                   "        exit 2\n"
                   "    fi\n"
                   "    bin/ar-sync init --remote \"$AR_KB_REMOTE\"\n"
                   "fi\n"
                   "bin/ar-sync\n"
                   "rc=0\n"
                   "bin/ar-train");
    if (gpu)
        ar_buf_puts(b, " --device cuda");
    const char *verifies = ar_jv_str(entry, "verifies");
    if (verifies) {
        ar_buf_printf(b, " --verify %s", verifies);
        if (ar_jv_has(entry, "seed") && ar_jv_num(entry, "seed", -1) >= 0)
            ar_buf_printf(b, " --seed %.0f", ar_jv_num(entry, "seed", 0));
    } else {
        jv ov = ar_jv_get(entry, "overrides");
        if (jv_get_kind(ov) == JV_KIND_OBJECT) {
            jv_object_foreach(ov, k, v) {
                char text[256], assign[512];
                if (ar_config_value_text(v, text, sizeof text) == 0) {
                    snprintf(assign, sizeof assign, "%s=%s", jv_string_value(k), text);
                    ar_buf_puts(b, " \\\n    --set ");
                    shell_quote(b, assign);
                }
                jv_free(k);
                jv_free(v);
            }
        }
        jv_free(ov);
    }
    const char *hyp = ar_jv_str(entry, "hypothesis"), *cat = ar_jv_str(entry, "category");
    if (hyp) {
        ar_buf_puts(b, " \\\n    --hypothesis ");
        shell_quote(b, hyp);
    }
    if (cat)
        ar_buf_printf(b, " --category %s", cat);
    ar_buf_puts(b, " || rc=$?\n"
                   "bin/ar-sync\n"
                   "exit $rc\n");
}

int ar_skypilot_task(jv entry, const char *gpu, struct ar_buf *out)
{
    return ar_skypilot_task_remote(entry, gpu, NULL, out);
}

int ar_skypilot_task_remote(jv entry, const char *gpu, const char *remote, struct ar_buf *out)
{
    const char *id = ar_jv_str(entry, "id");
    char name[64];
    ar_skypilot_name(id ? id : "entry", name, sizeof name);
    struct ar_buf script = {0};
    run_script(entry, gpu, &script);
    yaml_emitter_t em;
    yaml_event_t ev;
    yaml_emitter_initialize(&em);
    yaml_emitter_set_output(&em, write_out, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, 100);
    int ok = 1;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    ok = ok && yaml_emitter_emit(&em, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    ok = ok && yaml_emitter_emit(&em, &ev);
    ok = ok && mapping(&em, 1);
    ok = ok && pair(&em, "name", name, YAML_ANY_SCALAR_STYLE);
    ok = ok && scalar(&em, "resources", YAML_ANY_SCALAR_STYLE) && mapping(&em, 1);
    if (gpu)
        ok = ok && pair(&em, "accelerators", gpu, YAML_ANY_SCALAR_STYLE);
    else
        ok = ok && pair(&em, "cpus", "8+", YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    ok = ok && mapping(&em, 0);
    ok = ok && pair(&em, "workdir", ".", YAML_ANY_SCALAR_STYLE);
    ok = ok && scalar(&em, "envs", YAML_ANY_SCALAR_STYLE) && mapping(&em, 1);
    ok = ok && pair(&em, "AR_QUEUE_ENTRY", id ? id : "", YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    ok = ok && pair(&em, "AR_KB_REMOTE", remote ? remote : "", YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    ok = ok && mapping(&em, 0);
    ok = ok && pair(&em, "setup",
                    "set -e\n"
                    "make deps\n"
                    "make\n"
                    "[ -f \"${AR_DATA:-$HOME/.cache/ar}/manifest.json\" ] || bin/ar-train prepare\n",
                    YAML_LITERAL_SCALAR_STYLE);
    ok = ok && pair(&em, "run", script.data, YAML_LITERAL_SCALAR_STYLE);
    ok = ok && mapping(&em, 0);
    yaml_document_end_event_initialize(&ev, 1);
    ok = ok && yaml_emitter_emit(&em, &ev);
    yaml_stream_end_event_initialize(&ev);
    ok = ok && yaml_emitter_emit(&em, &ev);
    ok = ok && yaml_emitter_flush(&em);
    const char *problem = em.problem;
    yaml_emitter_delete(&em);
    ar_buf_free(&script);
    if (!ok)
        return ar_fail(AR_EFAIL, "skypilot task %s: yaml: %s", name, problem ? problem : "emitter failed");
    return 0;
}
